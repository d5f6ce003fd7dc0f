"""Every image mode a radiograph file may come in decodes to the grey the model expects.

Each test writes a small image with varied content in one mode and compares ``load_grey``
(the one decoder behind `prepare`'s cache and `predict`) with a decoding done here by hand in
numpy: ITU-R 601-2 luma for colour, palette look-up, alpha compositing onto black, and the
16-bit stretch from the image's own range. Images are decoded at their own size (no
resampling) so each pixel is checked; Pillow rounds its fixed-point luma and compositing
to within 1 grey level of the exact value.
"""

import warnings

import numpy as np
import pytest
from PIL import Image

from chestxray.preparation.images import load_grey, to_grey8

from decode import LUMA

SIDE = 16


def rng(seed=0):
    return np.random.default_rng(seed)


def decode(image: Image.Image, tmp_path, side=SIDE, **save) -> np.ndarray:
    path = tmp_path / "image.png"
    image.save(path, **save)
    return load_grey(path, side).astype(int)


def assert_close(decoded, expected, tolerance=1):
    expected = np.asarray(expected, dtype=float)
    assert decoded.shape == expected.shape
    assert np.abs(decoded - expected).max() <= tolerance, np.abs(decoded - expected).max()


def random_rgb(seed=0):
    return rng(seed).integers(0, 256, (SIDE, SIDE, 3), dtype=np.uint8)


def test_grey_image_decodes_to_its_own_pixels(tmp_path):
    grey = rng().integers(0, 256, (SIDE, SIDE), dtype=np.uint8)
    assert np.array_equal(decode(Image.fromarray(grey, "L"), tmp_path), grey)


def test_rgb_image_decodes_to_itu_601_luma(tmp_path):
    rgb = random_rgb()
    assert_close(decode(Image.fromarray(rgb, "RGB"), tmp_path), rgb @ LUMA)


def test_pure_colours_weigh_as_luma_not_as_a_channel_mean(tmp_path):
    colours = np.zeros((SIDE, SIDE, 3), dtype=np.uint8)
    colours[:, :5, 0] = 255  # red
    colours[:, 5:10, 1] = 255  # green
    colours[:, 10:, 2] = 255  # blue
    decoded = decode(Image.fromarray(colours, "RGB"), tmp_path)
    assert (decoded[0, 0], decoded[0, 7], decoded[0, 12]) == (76, 150, 29)  # 255 x 0.299, 0.587, 0.114


def test_16_bit_grey_is_stretched_from_its_own_range(tmp_path):
    values = rng().integers(300, 3801, (SIDE, SIDE)).astype(np.uint16)  # 12-bit data in a 16-bit file
    values[0, 0], values[-1, -1] = 300, 3800
    image = Image.fromarray(values)
    assert image.mode == "I;16"
    expected = np.round((values - 300) / (3800 - 300) * 255)
    assert np.array_equal(decode(image, tmp_path), expected)


def test_32_bit_grey_is_stretched_from_its_own_range():
    values = rng().integers(-2000, 70_000, (SIDE, SIDE)).astype(np.int32)
    low, high = values.min(), values.max()
    decoded = np.asarray(to_grey8(Image.fromarray(values, "I"))).astype(int)
    assert np.array_equal(decoded, np.round((values - low) / (high - low) * 255))


def palette_image(seed=0, colours=16):
    palette = rng(seed).integers(0, 256, (colours, 3), dtype=np.uint8)
    indices = rng(seed + 1).integers(0, colours, (SIDE, SIDE), dtype=np.uint8)
    image = Image.fromarray(indices, "P")
    image.putpalette(palette.tobytes())
    return image, palette, indices


def test_palette_image_decodes_to_the_luma_of_its_colours(tmp_path):
    image, palette, indices = palette_image()
    assert_close(decode(image, tmp_path), palette[indices] @ LUMA)


def test_palette_transparent_entry_is_composited_on_black(tmp_path):
    image, palette, indices = palette_image()
    indices[0, :] = 3  # the transparent entry is surely used
    image = Image.fromarray(indices, "P")
    image.putpalette(palette.tobytes())
    expected = palette[indices] @ LUMA
    expected[indices == 3] = 0
    assert_close(decode(image, tmp_path, transparency=3), expected)


def test_palette_partial_alphas_are_composited_on_black(tmp_path):
    image, palette, indices = palette_image()
    alphas = rng(5).integers(0, 256, 16, dtype=np.uint8)
    expected = (palette[indices] @ LUMA) * alphas[indices] / 255
    assert_close(decode(image, tmp_path, transparency=alphas.tobytes()), expected)


def test_rgba_partial_transparency_is_composited_on_black(tmp_path):
    rgba = np.dstack([random_rgb(), rng(2).integers(0, 256, (SIDE, SIDE), dtype=np.uint8)])
    rgba[0, :, 3] = 0  # fully transparent: black whatever the colour
    rgba[1, :, :] = (255, 255, 255, 128)  # half-transparent white: mid-grey
    expected = (rgba[..., :3] @ LUMA) * rgba[..., 3] / 255
    decoded = decode(Image.fromarray(rgba, "RGBA"), tmp_path)
    assert_close(decoded, expected)
    assert (decoded[0] == 0).all() and (decoded[1] == 128).all()


def test_grey_with_alpha_is_composited_on_black(tmp_path):
    grey_alpha = rng().integers(0, 256, (SIDE, SIDE, 2), dtype=np.uint8)
    expected = grey_alpha[..., 0] * grey_alpha[..., 1].astype(float) / 255
    assert_close(decode(Image.fromarray(grey_alpha, "LA"), tmp_path), expected)


def test_grey_with_a_transparent_key_value_is_composited_on_black(tmp_path):
    grey = rng().integers(0, 256, (SIDE, SIDE), dtype=np.uint8)
    grey[0, :] = 77
    expected = np.where(grey == 77, 0, grey)
    assert np.array_equal(decode(Image.fromarray(grey, "L"), tmp_path, transparency=77), expected)


def test_one_bit_image_decodes_to_black_and_white(tmp_path):
    bits = rng().integers(0, 2, (SIDE, SIDE)).astype(bool)
    assert np.array_equal(decode(Image.fromarray(bits), tmp_path), bits * 255)


def test_the_same_grey_picture_decodes_identically_in_every_mode(tmp_path):
    """A grey radiograph saved as L, RGB, opaque RGBA or LA, a grey palette or 16 bits is one picture."""
    grey = rng().integers(0, 256, (SIDE, SIDE), dtype=np.uint8)
    grey[0, 0], grey[-1, -1] = 0, 255  # full range: the 16-bit stretch is then the identity
    opaque = np.full_like(grey, 255)
    palette = Image.fromarray(grey, "P")
    palette.putpalette(np.repeat(np.arange(256, dtype=np.uint8), 3).tobytes())
    forms = {
        "L": Image.fromarray(grey, "L"),
        "RGB": Image.fromarray(np.dstack([grey] * 3), "RGB"),
        "RGBA": Image.fromarray(np.dstack([grey] * 3 + [opaque]), "RGBA"),
        "LA": Image.fromarray(np.dstack([grey, opaque]), "LA"),
        "P": palette,
        "I;16": Image.fromarray(grey.astype(np.uint16) * 257),
    }
    for mode, image in forms.items():
        assert np.array_equal(decode(image, tmp_path), grey), mode


def test_colour_jpeg_decodes_to_the_luma_of_its_pixels(tmp_path):
    smooth = np.linspace(0, 255, SIDE * 2).astype(np.uint8)  # smooth content: JPEG's error stays small
    rgb = np.dstack(
        [np.add.outer(smooth, smooth) // 2, np.tile(smooth, (SIDE * 2, 1)), np.tile(smooth[:, None], (1, SIDE * 2))]
    )
    path = tmp_path / "colour.jpg"
    Image.fromarray(rgb.astype(np.uint8), "RGB").save(path, quality=95)
    decoded = load_grey(path, SIDE * 2).astype(int)
    assert np.abs(decoded - rgb @ LUMA).mean() < 2


def test_shrinking_averages_each_block_of_pixels(tmp_path):
    grey = rng().integers(0, 256, (SIDE * 2, SIDE * 2), dtype=np.uint8)
    blocks = grey.reshape(SIDE, 2, SIDE, 2).mean(axis=(1, 3))
    assert_close(decode(Image.fromarray(grey, "L"), tmp_path, side=SIDE), blocks)


@pytest.mark.parametrize("mode", ["RGBA", "LA", "P"])
def test_a_fully_transparent_image_is_black_in_every_mode(tmp_path, mode):
    if mode == "P":
        image, _, indices = palette_image(colours=1)
        decoded = decode(image, tmp_path, transparency=0)
    else:
        bands = 4 if mode == "RGBA" else 2
        pixels = np.full((SIDE, SIDE, bands), 200, dtype=np.uint8)
        pixels[..., -1] = 0
        decoded = decode(Image.fromarray(pixels, mode), tmp_path)
    assert (decoded == 0).all()


@pytest.mark.parametrize("side", [16, 24, 48, 80])
def test_a_jpeg_is_shrunk_by_averaging_its_full_resolution_pixels(tmp_path, side):
    """As a PNG is: sharp-edged content, where a reduced-scale JPEG decode would differ most."""
    blocks = np.kron(rng().integers(0, 256, (24, 24)), np.ones((10, 10))).astype(np.uint8)  # 240 px
    path = tmp_path / "sharp.jpg"
    Image.fromarray(blocks, "L").save(path, quality=95)
    with Image.open(path) as image:
        full = np.asarray(image, dtype=float)  # Pillow's plain decode: the JPEG's own pixels
    factor = 240 // side
    expected = full.reshape(side, factor, side, factor).mean(axis=(1, 3))
    assert_close(load_grey(path, side).astype(int), expected, tolerance=1.5)


@pytest.mark.parametrize("mode, dtype", [("I;16B", ">u2"), ("I;16L", "<u2"), ("I;16N", "=u2"), ("I;16", "<u2")])
def test_16_bit_grey_in_either_byte_order_is_stretched_from_its_own_range(mode, dtype):
    values = rng(1).integers(1000, 5001, (SIDE, SIDE)).astype(np.uint16)
    values[0, 0], values[-1, -1] = 1000, 5000
    image = Image.frombytes(mode, (SIDE, SIDE), values.astype(dtype).tobytes())
    expected = np.round((values - 1000) / 4000 * 255)
    grey = to_grey8(image)
    assert grey.mode == "L" and np.array_equal(np.asarray(grey), expected)  # 8-bit grey, as the cache stores it


def test_a_flat_16_bit_image_is_black_without_arithmetic_warnings(tmp_path):
    image = Image.fromarray(np.full((SIDE, SIDE), 1200, dtype=np.uint16))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no 0/0 on the way
        assert not decode(image, tmp_path).any()


def test_an_image_smaller_than_the_model_input_is_enlarged_bilinearly(tmp_path):
    """NIH's 64-pixel copies feed 128-pixel models: enlarged smoothly (bilinear), not in blocks."""
    small = rng(2).integers(0, 256, (8, 8), dtype=np.uint8)
    enlarged = decode(Image.fromarray(small, "L"), tmp_path, side=16)
    assert np.array_equal(enlarged, np.asarray(Image.fromarray(small).resize((16, 16), Image.Resampling.BILINEAR)))
    blocks = np.kron(small, np.ones((2, 2), dtype=int))  # what box or nearest sampling would give
    assert not np.array_equal(enlarged, blocks)
