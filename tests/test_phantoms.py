"""The demo generator: determinism, class balance, patients, and the sign itself."""

import hashlib

import numpy as np
import pandas as pd
import pytest

from chestxray import NEGATIVE_CLASS
from chestxray.phantoms import DEMO_FINDING, _patient_anatomy, _lung_field, plan_dataset, render_phantom, write_demo_dataset


def digests(folder):
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*.*"))}


def test_same_seed_gives_same_bytes(tmp_path):
    first = digests(write_demo_dataset(tmp_path / "a", n_per_class=6, seed=3))
    second = digests(write_demo_dataset(tmp_path / "b", n_per_class=6, seed=3))
    assert first == second
    assert len([k for k in first if k.endswith(".png")]) == 12


def test_other_seed_gives_other_images(tmp_path):
    a = digests(write_demo_dataset(tmp_path / "a", n_per_class=4, seed=1))
    b = digests(write_demo_dataset(tmp_path / "b", n_per_class=4, seed=2))
    assert set(a.values()).isdisjoint(b.values())


def test_layout_matches_the_original_class_folders(tmp_path):
    out = write_demo_dataset(tmp_path, n_per_class=5, seed=0)
    assert len(list((out / "Pneumothorax").glob("*.png"))) == 5
    assert len(list((out / "No-Finding").glob("*.png"))) == 5
    meta = pd.read_csv(out / "metadata.csv")
    assert set(meta["label"]) == {DEMO_FINDING, NEGATIVE_CLASS}
    assert not list(out.rglob("*.partial"))


def test_patients_have_several_films_some_of_both_classes():
    records = pd.DataFrame([r.__dict__ for r in plan_dataset(200, seed=42)])
    assert (records["label"] == DEMO_FINDING).sum() == 200
    per_patient = records.groupby("patient_id")
    assert per_patient.size().max() > 1
    assert (per_patient["label"].nunique() == 2).any()
    assert per_patient["patient_age"].nunique().max() == 1  # patient attributes are stable


def test_rerun_keeps_existing_files(tmp_path):
    out = write_demo_dataset(tmp_path, n_per_class=3, seed=5)
    image = next((out / "Pneumothorax").glob("*.png"))
    before = image.stat().st_mtime_ns
    write_demo_dataset(tmp_path, n_per_class=3, seed=5)
    assert image.stat().st_mtime_ns == before


def test_rejects_empty_dataset(tmp_path):
    with pytest.raises(ValueError, match="n_per_class"):
        write_demo_dataset(tmp_path, n_per_class=0)


def test_looks_like_a_frontal_radiograph():
    image = render_phantom(seed=1, patient=1, follow_up=0, positive=False, size=128).astype(float)
    assert image.shape == (128, 128)
    corners = np.concatenate([image[:8, :8].ravel(), image[:8, -8:].ravel()])
    lungs = image[48:72, 24:40].mean(), image[48:72, 88:104].mean()
    mediastinum = image[40:70, 60:68].mean()
    abdomen = image[118:124, 40:88].mean()
    assert corners.mean() < min(lungs)  # air outside the body is darkest
    assert max(lungs) < mediastinum  # aerated lungs darker than the mediastinum
    assert max(lungs) < abdomen  # and than the soft tissue below the diaphragm


def test_pneumothorax_is_marking_free_air_inside_one_lung():
    """Same patient and film, with and without the sign: the change is darker,
    smoother (no vessels) and lies inside one lung."""
    seed, patient = 11, 4
    anatomy = _patient_anatomy(seed, patient)
    with_sign = render_phantom(seed, patient, 0, positive=True, size=256).astype(float)
    without = render_phantom(seed, patient, 0, positive=False, size=256).astype(float)
    changed = np.abs(with_sign - without) > 5
    assert changed.sum() > 200
    assert (with_sign - without)[changed].mean() < 0  # mostly darker: air replaces lung
    axis = np.linspace(-1, 1, 256)
    x, y = np.meshgrid(axis, axis)
    # Margin for the film's small random rotation and shift.
    in_lungs = (_lung_field(x, y, anatomy, -1) > -0.1) | (_lung_field(x, y, anatomy, 1) > -0.1)
    assert in_lungs[changed].mean() > 0.9
    left, right = changed[:, :128].sum(), changed[:, 128:].sum()
    assert min(left, right) < 0.1 * max(left, right)  # one side only
