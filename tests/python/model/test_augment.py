"""Training-time augmentation in the input pipeline: small, seeded, anatomy never flipped."""

import numpy as np
import pytest

from chestxray.model.augment import Augmentation, augment_batch
from chestxray.model.batches import split_batches
from chestxray.preparation.images import load_grey, to_model_input

from conftest import NIH_IMAGES

NONE = Augmentation(0.0, 0.0, 0.0, 0.0)


@pytest.fixture(scope="module")
def radiographs():
    names = sorted(p for p in NIH_IMAGES.glob("*.png"))[:4]
    return to_model_input(np.stack([load_grey(p, 64) for p in names]))


def test_zero_augmentation_is_the_identity(radiographs):
    out = augment_batch(radiographs, np.random.default_rng(0), NONE)
    assert np.allclose(out, radiographs, atol=1e-5)


def test_augmented_batch_keeps_shape_range_and_anatomy(radiographs):
    out = augment_batch(radiographs, np.random.default_rng(1))
    assert out.shape == radiographs.shape and out.dtype == np.float32
    assert 0.0 <= out.min() and out.max() <= 1.0
    assert not np.allclose(out, radiographs)
    centre = slice(16, 48)
    for before, after in zip(radiographs[..., 0], out[..., 0]):
        # small warps: the centre of the film stays close to the original
        assert np.corrcoef(before[centre, centre].ravel(), after[centre, centre].ravel())[0, 1] > 0.8


def test_never_flips_left_and_right():
    """The heart is on the patient's left (the image's right): a mark stays on its side."""
    marked = np.zeros((64, 50, 50, 1), dtype=np.float32)
    marked[:, 20:30, 36:46, 0] = 1.0
    out = augment_batch(marked, np.random.default_rng(5))[..., 0]
    columns = np.arange(50)
    centres = (out.sum(axis=1) * columns).sum(axis=1) / out.sum(axis=(1, 2))
    assert (centres > 35).all()


def test_a_shift_moves_the_content(tmp_path):
    square = np.zeros((1, 50, 50, 1), dtype=np.float32)
    square[0, 20:30, 20:30, 0] = 1.0
    spec = Augmentation(max_rotation_degrees=0.0, max_shift=0.1, max_zoom=0.0, max_contrast=0.0)
    out = augment_batch(square, np.random.default_rng(3), spec)[0, ..., 0]
    rows, cols = np.nonzero(out > 0.5)
    centre = np.array([rows.mean(), cols.mean()])
    assert 0.5 < np.abs(centre - 24.5).max() <= 5.5  # moved by up to 10% of the side
    assert out.sum() == pytest.approx(100, rel=0.1)  # moved, not rescaled


def test_same_seed_same_augmentation(radiographs):
    a = augment_batch(radiographs, np.random.default_rng([7, 0, 0]))
    b = augment_batch(radiographs, np.random.default_rng([7, 0, 0]))
    c = augment_batch(radiographs, np.random.default_rng([7, 1, 0]))
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_pipeline_augments_training_batches_only_when_asked(tmp_path):
    from chestxray.preparation.dataset import prepare_dataset

    prepared = prepare_dataset("demo", str(tmp_path / "demo"), 16, 32, 5, cache_dir=str(tmp_path / "cache"))
    plain = split_batches(prepared, "train", 8)
    augmented = split_batches(prepared, "train", 8, augment=True)
    (x_plain, y_plain), (x_aug, y_aug) = plain[0], augmented[0]
    assert np.array_equal(y_plain, y_aug) and x_plain.shape == x_aug.shape
    assert not np.allclose(x_plain, x_aug)
    assert np.array_equal(augmented[0][0], x_aug)  # the same batch within an epoch
    augmented.on_epoch_end()
    assert not np.array_equal(augmented[0][0], x_aug)  # a new draw next epoch
    again = split_batches(prepared, "train", 8, augment=True)
    assert np.array_equal(again[0][0], x_aug)  # reproducible from the seed


def drawn_warps(spec, side=64, n=2000):
    """Angle (degrees), scale and shift (pixels, per axis) of n warps, recovered from each matrix
    and offset by geometry: matrix = rotation / scale, offset = c - matrix (c + shift)."""
    from chestxray.model.augment import affine_for

    rng, centre = np.random.default_rng(11), np.full(2, (side - 1) / 2)
    angles, scales, shifts = [], [], []
    for _ in range(n):
        matrix, offset = affine_for(rng, side, spec)
        scale = 1 / np.linalg.norm(matrix[:, 0])
        rotation = matrix * scale
        assert np.allclose(rotation @ rotation.T, np.eye(2)) and np.linalg.det(rotation) > 0  # a rotation, no shear
        angles.append(np.degrees(np.arctan2(rotation[1, 0], rotation[0, 0])))
        scales.append(scale)
        shifts.append(np.linalg.solve(matrix, centre - offset) - centre)
    return np.array(angles), np.array(scales), np.array(shifts)


def test_warps_draw_rotation_zoom_and_shift_over_their_whole_declared_ranges():
    """Each parameter spans both signs of its range, and the two shift axes are drawn independently."""
    angles, scales, shifts = drawn_warps(Augmentation())
    assert -5 <= angles.min() < -4.9 and 4.9 < angles.max() <= 5
    assert 0.95 <= scales.min() < 0.951 and 1.049 < scales.max() <= 1.05
    limit = 0.04 * 64
    assert (np.abs(shifts) <= limit + 1e-9).all() and (shifts.min(axis=0) < -0.98 * limit).all()
    assert (shifts.max(axis=0) > 0.98 * limit).all() and abs(np.corrcoef(shifts.T)[0, 1]) < 0.1


def test_without_zoom_and_shift_a_warp_is_a_pure_rotation_about_the_centre():
    angles, scales, shifts = drawn_warps(Augmentation(max_zoom=0.0, max_shift=0.0), n=50)
    assert np.allclose(scales, 1) and np.allclose(shifts, 0) and np.abs(angles).max() > 1


def bilinear_warp(image, matrix, offset):
    """The warp written out by hand: each output pixel reads the input at matrix @ (row, col) + offset,
    interpolating its four neighbours linearly; a pixel that reads outside the image is black."""
    rows, cols = np.indices(image.shape)
    source = np.tensordot(matrix, np.stack([rows, cols]).astype(float), axes=1) + offset[:, None, None]
    padded = np.pad(image, 1)  # a black border for neighbours outside
    r0, c0 = np.floor(source[0]).astype(int), np.floor(source[1]).astype(int)
    fr, fc = source[0] - r0, source[1] - c0
    last = np.array(image.shape)[:, None, None] - 1
    inside = ((source >= 0) & (source <= last)).all(axis=0)  # no interpolation beyond the edges

    def at(r, c):
        return padded[np.clip(r + 1, 0, image.shape[0] + 1), np.clip(c + 1, 0, image.shape[1] + 1)]

    value = ((1 - fr) * (1 - fc) * at(r0, c0) + (1 - fr) * fc * at(r0, c0 + 1)
             + fr * (1 - fc) * at(r0 + 1, c0) + fr * fc * at(r0 + 1, c0 + 1))
    return np.where(inside, value, 0.0)


def test_each_image_is_warped_once_with_linear_interpolation(radiographs):
    from chestxray.model.augment import affine_for

    spec = Augmentation(max_contrast=0.0)
    out = augment_batch(radiographs, np.random.default_rng(12), spec)
    replay = np.random.default_rng(12)  # the same draws, in the same order: one warp and one contrast per image
    for image, warped in zip(radiographs[..., 0], out[..., 0]):
        matrix, offset = affine_for(replay, image.shape[0], spec)
        replay.uniform(0, 0)
        assert np.allclose(warped, bilinear_warp(image, matrix, offset), atol=1e-5)


def test_contrast_spreads_grey_about_the_mean_by_up_to_ten_percent_either_way_within_black_and_white():
    """Black, mid-grey and white bands, not warped: the grey band gives the drawn factor; every
    pixel is then (value - mean) x factor + mean, cut to black and white."""
    bands = np.zeros((1, 16, 16, 1), dtype=np.float32)
    bands[0, :, 4:8], bands[0, :, 8:] = 0.3, 1.0
    mean = float(bands.mean())
    spec = Augmentation(max_rotation_degrees=0.0, max_shift=0.0, max_zoom=0.0, max_contrast=0.1)
    rng, factors = np.random.default_rng(13), []
    for _ in range(400):
        out = augment_batch(bands, rng, spec)[0, ..., 0]
        factor = (mean - out[0, 5]) / (mean - 0.3)
        assert np.allclose(out, np.clip((bands[0, ..., 0] - mean) * factor + mean, 0.0, 1.0), atol=1e-6)
        factors.append(factor)
    assert 0.9 <= min(factors) < 0.901 and 1.099 < max(factors) <= 1.1
