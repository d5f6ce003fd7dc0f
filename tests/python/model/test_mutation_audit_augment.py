"""The exact draws a seed gives augmentation (issue 25: mutation audit). A draw replaced by its
negative has the same distribution, but not the same warps, the same trained weights or the same
published numbers for a seed: these tests pin what each seed draws, in the documented order.

Per image, from the batch's numpy Generator: the rotation in degrees (uniform over +-max_rotation_degrees),
the zoom (uniform over +-max_zoom, scale = 1 + zoom), the shift of rows then columns (two uniforms over
+-max_shift, times the side, the content moving by +shift), then the contrast (uniform over +-max_contrast,
factor = 1 + draw)."""

import numpy as np

from chestxray.model.augment import Augmentation, affine_for, augment_batch

SIDE = 64


def test_a_seeds_warps_rotate_zoom_and_shift_by_its_own_draws():
    spec = Augmentation()
    rng, replay = np.random.default_rng(2025), np.random.default_rng(2025)
    centre = np.array([(SIDE - 1) / 2, (SIDE - 1) / 2])
    for _ in range(5):
        degrees = replay.uniform(-5.0, 5.0)
        scale = 1.0 + replay.uniform(-0.05, 0.05)
        shift = replay.uniform(-0.04, 0.04, size=2) * SIDE
        matrix, offset = affine_for(rng, SIDE, spec)
        replay.uniform(-0.1, 0.1)  # the contrast draw augment_batch makes next
        rng.uniform(-0.1, 0.1)
        a = np.deg2rad(degrees)
        # Output (row, col) reads the input at matrix @ (row, col) + offset: a rotation by the drawn angle
        # divided by the drawn scale, and the output pixel at centre + shift reads the input centre.
        assert np.allclose(
            matrix, np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]) / scale, rtol=0, atol=1e-12
        )
        assert np.allclose(matrix @ (centre + shift) + offset, centre, rtol=0, atol=1e-9)


def test_a_seeds_contrast_factors_are_one_plus_its_draws():
    """No warp (rotation, zoom and shift set to 0, still drawn): each image's grey spreads about its mean
    by 1 + the fifth draw of its five."""
    bands = np.zeros((3, 16, 16, 1), dtype=np.float32)
    bands[:, :, 4:8], bands[:, :, 8:12] = 0.3, 0.6
    spec = Augmentation(max_rotation_degrees=0.0, max_shift=0.0, max_zoom=0.0, max_contrast=0.1)
    out = augment_batch(bands, np.random.default_rng(77), spec)
    replay = np.random.default_rng(77)
    for image, augmented in zip(bands[..., 0], out[..., 0]):
        replay.uniform(0, 0), replay.uniform(0, 0), replay.uniform(0, 0, size=2)
        factor = 1.0 + replay.uniform(-0.1, 0.1)
        mean = image.astype(np.float64).mean()
        assert np.allclose(augmented, np.clip((image - mean) * factor + mean, 0.0, 1.0), rtol=0, atol=1e-6)
