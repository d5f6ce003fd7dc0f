"""Training-time augmentation of radiograph batches, in the input pipeline.

Small rotations, shifts and zoom (one affine warp per image) and contrast
changes; never flips, because anatomy is not symmetric (the heart is on the
left). It runs on the CPU with NumPy and SciPy while the model trains, so the
saved model holds no random layers and trains at the same speed on every Keras
backend (inside a JAX model such layers made GPU training ~40x slower).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage


@dataclass(frozen=True)
class Augmentation:
    max_rotation_degrees: float = 5.0
    max_shift: float = 0.04  # of the image side
    max_zoom: float = 0.05  # relative scale change
    max_contrast: float = 0.1  # relative change of the spread around the image mean


DEFAULT = Augmentation()


def affine_for(rng: np.random.Generator, side: int, spec: Augmentation) -> tuple[np.ndarray, np.ndarray]:
    """Matrix and offset mapping output pixel coordinates to input coordinates (scipy's convention),
    rotating and zooming about the image centre, then shifting."""
    angle = np.deg2rad(rng.uniform(-spec.max_rotation_degrees, spec.max_rotation_degrees))
    scale = 1.0 + rng.uniform(-spec.max_zoom, spec.max_zoom)
    shift = rng.uniform(-spec.max_shift, spec.max_shift, size=2) * side
    cos, sin = np.cos(angle), np.sin(angle)
    matrix = np.array([[cos, -sin], [sin, cos]]) / scale
    centre = np.full(2, (side - 1) / 2.0)
    offset = centre - matrix @ (centre + shift)
    return matrix, offset


def augment_batch(images: np.ndarray, rng: np.random.Generator, spec: Augmentation = DEFAULT) -> np.ndarray:
    """A new float32 batch (n, h, w, 1) in [0, 1]; outside the warped image is black, as in a radiograph."""
    out = np.empty_like(images)
    side = images.shape[1]
    for i, image in enumerate(images[..., 0]):
        matrix, offset = affine_for(rng, side, spec)
        warped = ndimage.affine_transform(image, matrix, offset=offset, order=1, mode="constant", cval=0.0)
        mean = warped.mean()
        factor = 1.0 + rng.uniform(-spec.max_contrast, spec.max_contrast)
        out[i, ..., 0] = np.clip((warped - mean) * factor + mean, 0.0, 1.0)
    return out
