"""load_grey's rule where an image side equals the target size (issue 25: mutation audit)."""

import numpy as np
from PIL import Image

from chestxray.preparation.images import load_grey


def test_a_tall_image_as_wide_as_the_target_is_shrunk_by_area_averaging_not_bilinear(tmp_path):
    """A 64-wide, 128-tall image to 64 px: the width is not enlarged, so the rule is area averaging
    (BOX), which here is the rounded mean of each pair of rows, the width untouched. A bilinear
    filter (kept for enlarging) would blend neighbouring rows and columns into other values."""
    pixels = np.random.default_rng(25).integers(0, 256, (128, 64), dtype=np.uint8)
    Image.fromarray(pixels).save(tmp_path / "tall.png")
    pairs = (pixels[0::2].astype(int) + pixels[1::2] + 1) // 2  # each output row: its two rows, halves rounded up
    out = load_grey(tmp_path / "tall.png", 64)
    assert out.shape == (64, 64) and out.dtype == np.uint8
    assert np.array_equal(out, pairs)
