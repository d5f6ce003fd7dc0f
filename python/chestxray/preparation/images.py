"""Decode any chest radiograph file into the model's input: one shared function.

Training (through the cache) and inference both call ``load_grey``, so the
model never sees pixels prepared differently from those it was trained on.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from chestxray.support.report_params import integer_range

# Bump whenever load_grey's output can change: caches built by older code are then rebuilt.
DECODER_VERSION = 3
# The image sides the decoder, the cache, the command line and the models accept: the report's
# image_size parameter declares them once (report_params.yml).
MIN_SIZE, MAX_SIZE = integer_range("image_size")
# Radiographs come as PNG or JPEG; a damaged file must not be taken for another of
# Pillow's formats (TGA has no signature) and decoded into a wrong image.
FORMATS = ("PNG", "JPEG")


class ImageReadError(ValueError):
    """A file that is not a readable image."""


class ImageSizeError(ValueError):
    """A requested image side outside what the decoder and the models support."""


def check_image_size(size: int) -> int:
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or not MIN_SIZE <= size <= MAX_SIZE:
        raise ImageSizeError(f"image size must be a whole number of pixels from {MIN_SIZE} to {MAX_SIZE}, not {size!r}")
    return int(size)


SIXTEEN_BIT_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I")
# Transparent pixels carry no image: they are composited onto black, the value of air and of the
# padding around NIH's radiographs, so a transparent border reads as background, not as bone (white).
TRANSPARENT_BACKGROUND = (0, 0, 0, 255)


def to_grey8(image: Image.Image) -> Image.Image:
    """8-bit greyscale from the modes found in chest X-ray files, one rule per property:

    - 16-bit (and 32-bit) grey is stretched from its own minimum and maximum to 0-255 rather than
      clipped or cut to its high byte: radiographs stored in 16 bits often use only 10 to 12 of them;
    - transparency in any form (RGBA, LA, PA, a palette's or a grey/RGB key colour's tRNS entry) is
      composited onto TRANSPARENT_BACKGROUND (five NIH originals carry an alpha channel);
    - colour becomes ITU-R 601-2 luma (Pillow's "L" conversion), palettes through their colours.
    """
    if image.mode in SIXTEEN_BIT_MODES:
        values = np.asarray(image, dtype=np.float64)
        low, high = float(values.min()), float(values.max())
        scaled = (values - low) / (high - low) * 255 if high > low else np.zeros_like(values)
        return Image.fromarray(scaled.round().astype(np.uint8))
    if image.has_transparency_data:
        background = Image.new("RGBA", image.size, TRANSPARENT_BACKGROUND)
        image = Image.alpha_composite(background, image.convert("RGBA"))
    return image.convert("L")


def load_grey(path: str | Path, size: int) -> np.ndarray:
    """Read ``path`` and return a (size, size) uint8 array, resized with area averaging.

    Every failure to decode the file (Pillow's OSError and ValueError, but also
    its decompression-bomb error, struct errors from forged headers, MemoryError)
    is this file's ImageReadError, so callers can list it and go on.
    """
    try:
        with Image.open(path, formats=FORMATS) as image:
            _refuse_huge(image)
            # JPEG is decoded at full scale like PNG: its reduced-scale decoding (Image.draft) halves the time
            # but differs by up to 100 grey levels at sharp edges, so a JPEG would not decode as its PNG does.
            grey = to_grey8(image)
            return np.asarray(
                grey.resize((size, size), Image.Resampling.BOX if grey.width >= size else Image.Resampling.BILINEAR)
            )
    except FileNotFoundError as error:
        raise ImageReadError(f"cannot read image '{path}': no such file") from error
    except Image.UnidentifiedImageError as error:
        raise ImageReadError(f"cannot read image '{path}': not a PNG or JPEG file (or a damaged one)") from error
    except ImageReadError as error:
        raise ImageReadError(f"cannot read image '{path}': {error}") from error
    except Exception as error:  # noqa: BLE001 - any decoder failure belongs to this one file
        raise ImageReadError(f"cannot read image '{path}': {type(error).__name__}: {error}") from error


def _refuse_huge(image: Image.Image) -> None:
    """Pillow only warns between its pixel limit and twice that; no radiograph is that large,
    and decoding one in every worker at once could exhaust memory."""
    if image.width * image.height > Image.MAX_IMAGE_PIXELS:
        raise ImageReadError(f"header claims {image.width} x {image.height} pixels, more than the "
                             f"{Image.MAX_IMAGE_PIXELS:,} a radiograph may have (a damaged or forged file)")


def to_model_input(batch: np.ndarray) -> np.ndarray:
    """uint8 (n, h, w) -> float32 (n, h, w, 1) in [0, 1]."""
    return (batch.astype(np.float32) / 255.0)[..., np.newaxis]
