"""The limits of the one decoder (chestxray.preparation.images): which image sizes a model may ask
for, which files are too large to be radiographs, and the model's [0, 1] scale."""

import re

import numpy as np
import pytest
import yaml
from PIL import Image

from chestxray.preparation.images import (
    MAX_SIZE,
    MIN_SIZE,
    ImageReadError,
    ImageSizeError,
    check_image_size,
    load_grey,
    to_model_input,
)

from conftest import ROOT, flat_png


@pytest.mark.parametrize("size", [MIN_SIZE, 64, MAX_SIZE, np.int64(128)])
def test_whole_sizes_of_the_report_parameters_range_are_accepted(size):
    assert check_image_size(size) == int(size) and type(check_image_size(size)) is int
    declared = yaml.safe_load((ROOT / "python" / "chestxray" / "support" / "report_params.yml").read_text())[
        "image_size"
    ]
    assert (MIN_SIZE, MAX_SIZE) == (declared["min"], declared["max"]) == (32, 512)  # one range for every entry point


@pytest.mark.parametrize("size", [MIN_SIZE - 1, MAX_SIZE + 1, 0, -64, True, 64.0, "64", None])
def test_other_sizes_are_refused_with_the_range(size):
    message = f"image size must be a whole number of pixels from 32 to 512, not {size!r}"
    with pytest.raises(ImageSizeError, match=re.escape(message)):
        check_image_size(size)


def test_an_image_of_exactly_the_pixel_limit_is_read_and_one_row_more_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 64 * 64)
    assert load_grey(flat_png(tmp_path / "limit.png", 0, 64, 64), 8).shape == (8, 8)
    over = flat_png(tmp_path / "over.png", 0, 64, 65)
    message = (f"cannot read image '{over}': header claims 64 x 65 pixels, more than the 4,096 a radiograph may have "
               "(a damaged or forged file)")
    with pytest.warns(Image.DecompressionBombWarning), pytest.raises(ImageReadError, match=re.escape(message)):
        load_grey(over, 32)


def test_a_missing_file_is_named_as_missing(tmp_path):
    missing = tmp_path / "gone.png"
    with pytest.raises(ImageReadError, match=re.escape(f"cannot read image '{missing}': no such file")):
        load_grey(missing, 32)


def test_model_input_is_grey_over_255_with_a_channel_axis():
    batch = np.array([[[0, 51, 255]]], dtype=np.uint8)
    out = to_model_input(batch)
    assert out.dtype == np.float32 and out.shape == (1, 1, 3, 1)
    assert out[0, 0, :, 0].tolist() == [0.0, pytest.approx(0.2), 1.0]


def test_a_truncated_file_is_named_with_the_decoders_error(tmp_path):
    whole = flat_png(tmp_path / "whole.png", 0, 64, 64).read_bytes()
    cut = tmp_path / "cut.png"
    cut.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(
        ImageReadError, match=re.escape(f"cannot read image '{cut}': ") + r"(OSError|SyntaxError|ValueError): \S"
    ):
        load_grey(cut, 32)


def test_a_file_that_is_not_png_or_jpeg_is_named_so(tmp_path):
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    with pytest.raises(
        ImageReadError, match=re.escape(f"cannot read image '{text}': not a PNG or JPEG file (or a damaged one)")
    ):
        load_grey(text, 32)
