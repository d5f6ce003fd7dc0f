"""An image decoded by hand in numpy, the answer the decoder's tests compare with."""

import numpy as np
from PIL import Image

LUMA = np.array([299, 587, 114]) / 1000  # ITU-R 601-2, as Pillow documents its "L" conversion


def decode_by_hand(path, side: int) -> np.ndarray:
    """Any PNG the tests write, decoded in numpy: 16-bit stretched, luma, alpha onto black, then
    ``side`` x ``side`` block means (images a whole multiple of ``side``), as float."""
    with Image.open(path) as image:
        if image.mode == "I;16":
            values = np.asarray(image, dtype=float)
            grey = (values - values.min()) / (values.max() - values.min()) * 255
        else:
            rgba = np.asarray(image.convert("RGBA"), dtype=float)  # palette look-up, grey copied to 3 bands
            grey = (rgba[..., :3] @ LUMA) * rgba[..., 3] / 255
    factor = grey.shape[0] // side
    return grey.reshape(side, factor, side, factor).mean(axis=(1, 3))
