"""The multi-label demo: five findings drawn as they show on a film, co-occurring as in NIH's
metadata, with a known number of wrong recorded labels and the truth beside them."""

import hashlib
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from chestxray.sources.metadata import read_metadata
from chestxray.sources.multilabel_demo import (
    DEMO_FINDINGS,
    LABEL_NOISE,
    finding_labels,
    plan_multilabel_dataset,
    write_multilabel_demo,
)
from chestxray.sources.nih import METADATA_FILE, packaged_folder
from chestxray.sources.phantoms import (
    _lung_field,
    _patient_anatomy,
    cardiothoracic_ratio,
    heart_field,
    heart_half_width,
    other_sign_strength,
    render_phantom,
)

FIVE = ["Cardiomegaly", "Effusion", "Mass", "Nodule", "Pneumothorax"]


def film(patient, others, size=128, seed=7):
    return render_phantom(seed, patient, 0, False, size, others=frozenset(others)).astype(float)


def measured_ctr(seed, patient, enlarged):
    """Widest heart shadow over widest inner thorax (the lungs' outer borders), measured on the
    drawn shapes of an unrotated film."""
    anatomy = _patient_anatomy(seed, patient)
    axis = np.linspace(-1, 1, 2001)
    x, y = np.meshgrid(axis, axis)
    heart = heart_field(x, y, heart_half_width(anatomy, cardiothoracic_ratio(seed, patient, 0, enlarged))) > 0
    lungs = (_lung_field(x, y, anatomy, -1) > 0) | (_lung_field(x, y, anatomy, 1) > 0)
    width = lambda mask: np.ptp(x[mask])  # noqa: E731
    return width(heart) / width(lungs)


def test_cardiomegaly_is_a_cardiothoracic_ratio_above_half_and_a_normal_heart_below():
    normal = [measured_ctr(7, patient, enlarged=False) for patient in range(1, 31)]
    enlarged = [measured_ctr(7, patient, enlarged=True) for patient in range(1, 31)]
    assert max(normal) < 0.5 < min(enlarged)
    assert max(enlarged) > 0.65 and min(enlarged) < 0.56  # graded: barely to obviously enlarged


def test_an_effusion_is_fluid_density_at_one_lung_base_rising_at_the_chest_wall():
    seen = 0
    for patient in range(1, 9):
        change = film(patient, {"Effusion"}) - film(patient, set())
        changed = np.abs(change) > 8
        if changed.sum() < 20:
            continue  # a barely visible one
        seen += 1
        rows, cols = np.nonzero(changed)
        assert change[changed].mean() > 0  # brighter: water replaces air
        assert rows.min() > 128 * 0.40  # below the hila: the lower half of the lung only
        left, right = (cols < 64).sum(), (cols >= 64).sum()
        assert min(left, right) < 0.05 * max(left, right)  # one side
        lateral = cols if right > left else 127 - cols  # distance from the midline, growing outwards
        top_lateral = rows[lateral >= np.percentile(lateral, 80)].min()
        top_medial = rows[lateral <= np.percentile(lateral, 20)].min()
        assert top_lateral < top_medial  # a meniscus: higher against the wall
    assert seen >= 4


@pytest.mark.parametrize("sign", ["Nodule", "Mass"])
def test_a_nodule_or_mass_is_one_round_opacity_inside_a_lung(sign):
    for patient in range(1, 6):
        change = film(patient, {sign}, size=256) - film(patient, set(), size=256)
        changed = change > 3
        assert changed.sum() > 10 and change.min() > -3  # only brighter
        rows, cols = np.nonzero(changed)
        height, width = np.ptp(rows) + 1, np.ptp(cols) + 1
        assert 0.6 < height / width < 1.6  # round, give or take the film's tilt
        assert changed.sum() > 0.5 * np.pi / 4 * height * width  # filled, one blob


def test_a_mass_is_larger_than_a_nodule_of_the_same_strength():
    def diameter(sign, patient):
        change = film(patient, {sign}, size=256) - film(patient, set(), size=256)
        return 2 * np.sqrt((change > 3).sum() / np.pi)

    for patient in range(1, 6):
        assert diameter("Mass", patient) > 1.5 * diameter("Nodule", patient)


@pytest.mark.parametrize("sign", ["Effusion", "Nodule", "Mass"])
def test_each_sign_ranges_from_barely_visible_to_obvious(sign):
    changes = [(other_sign_strength(5, patient, 0, sign),
                np.abs(film(patient, {sign}, 96, seed=5) - film(patient, set(), 96, seed=5)).sum())
               for patient in range(1, 41)]
    strengths, sizes = np.array(changes).T
    assert strengths.min() < 0.15 and strengths.max() > 0.85
    assert np.corrcoef(strengths, sizes)[0, 1] > 0.7
    assert sizes[strengths.argmin()] < 0.35 * sizes[strengths.argmax()]


def test_the_signs_have_their_own_streams_so_two_films_differ_only_by_a_sign():
    both = film(3, {"Nodule", "Effusion"})
    assert np.array_equal(film(3, {"Effusion", "Nodule"}), both)
    nodule_only, effusion_only, none = film(3, {"Nodule"}), film(3, {"Effusion"}), film(3, set())
    # away from the effusion, the nodule film with and without the effusion is the same film
    apart = np.abs(effusion_only - none) == 0
    assert np.array_equal(both[apart], nodule_only[apart])


def nih_shares():
    """Among NIH's images with at least one of the five findings, the share of each set of them."""
    table = pd.read_csv(packaged_folder() / f"{METADATA_FILE}.gz", usecols=["Finding Labels"])
    flags = pd.DataFrame({f: table["Finding Labels"].str.contains(f, regex=False) for f in FIVE})
    flags = flags[flags.any(axis=1)]
    keys = flags.apply(lambda row: "|".join(f for f in FIVE if row[f]), axis=1)
    return keys.value_counts(normalize=True)


def test_findings_co_occur_as_in_nihs_metadata_and_half_the_films_have_none():
    records = plan_multilabel_dataset(20000, seed=1)
    truth = pd.Series([finding_labels(r.true_labels) for r in records])
    assert (truth == "No Finding").sum() == 10000
    shares = truth[truth != "No Finding"].value_counts(normalize=True)
    expected = nih_shares()
    assert set(shares.index) <= set(expected.index)
    for combination in expected.index[:8]:  # the commonest (Effusion 34 %, ..., Effusion|Pneumothorax 3 %)
        assert shares.get(combination, 0) == pytest.approx(expected[combination], abs=0.012), combination
    pairs = Counter(tuple(sorted(r.true_labels)) for r in records if len(r.true_labels) > 1)
    assert pairs[("Cardiomegaly", "Effusion")] > pairs[("Cardiomegaly", "Pneumothorax")]  # as NIH's


def test_a_known_number_of_films_have_one_wrong_finding_each():
    records = plan_multilabel_dataset(500, seed=2)
    wrong = [r for r in records if r.labels != r.true_labels]
    assert len(wrong) == round(LABEL_NOISE * 500) == 40
    assert all(len(r.labels ^ r.true_labels) == 1 for r in wrong)
    assert {next(iter(r.labels ^ r.true_labels)) for r in wrong} == set(DEMO_FINDINGS)  # every finding can be wrong
    assert any(r.labels > r.true_labels for r in wrong) and any(r.labels < r.true_labels for r in wrong)


def test_patients_have_one_to_three_films_numbered_as_nihs():
    records = plan_multilabel_dataset(300, seed=3)
    per_patient = Counter(r.patient_id for r in records)
    assert set(per_patient.values()) <= {1, 2, 3} and max(per_patient.values()) == 3
    assert all(r.image == f"{r.patient_id:08d}_{r.follow_up:03d}.png" for r in records)


def test_the_folder_holds_images_labels_in_nihs_format_and_the_truth(tmp_path):
    out = write_multilabel_demo(tmp_path / "demo", n_images=40, seed=4, size=32)
    table = read_metadata(out / "labels.csv")  # the project's reader of NIH's metadata accepts it
    assert len(table) == 40 and table["patient_id"].nunique() < 40
    assert sorted(p.name for p in (out / "images").iterdir()) == sorted(table["image"])
    labels = dict(zip(table["image"], table["finding_labels"]))
    assert all(text == "No Finding" or text.split("|") == sorted(text.split("|")) for text in labels.values())
    truth = pd.read_csv(out / "truth.csv")
    assert list(truth.columns) == ["Image Index", *DEMO_FINDINGS]
    for row in truth.itertuples(index=False):
        true_set = {f for f, answer in zip(DEMO_FINDINGS, row[1:]) if answer == "YES"}
        patient, follow_up = (int(part) for part in row[0].removesuffix(".png").split("_"))
        expected = render_phantom(4, patient, follow_up, "Pneumothorax" in true_set, 32,
                                  others=frozenset(true_set - {"Pneumothorax"}))
        assert np.array_equal(np.asarray(Image.open(out / "images" / row[0])), expected)  # the truth is drawn
    recorded = {image: set() if text == "No Finding" else set(text.split("|")) for image, text in labels.items()}
    truth_sets = {row[0]: {f for f, a in zip(DEMO_FINDINGS, row[1:]) if a == "YES"}
                  for row in truth.itertuples(index=False)}
    assert sum(recorded[i] != truth_sets[i] for i in recorded) == round(LABEL_NOISE * 40)


def test_same_seed_same_bytes_and_a_rerun_keeps_the_films(tmp_path):
    def digests(folder):
        return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(folder.rglob("*.*"))}

    first = write_multilabel_demo(tmp_path / "a", n_images=12, seed=9, size=32)
    assert digests(first) == digests(write_multilabel_demo(tmp_path / "b", n_images=12, seed=9, size=32))
    kept = next((first / "images").iterdir())
    before = kept.stat().st_mtime_ns
    write_multilabel_demo(first, n_images=12, seed=9, size=32)
    assert kept.stat().st_mtime_ns == before
    assert digests(first) != digests(write_multilabel_demo(tmp_path / "c", n_images=12, seed=10, size=32))


def test_too_few_images_are_refused():
    with pytest.raises(ValueError, match="at least 2 images, got 1"):
        plan_multilabel_dataset(1, seed=1)
