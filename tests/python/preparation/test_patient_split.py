"""The patient-wise split keeps every part's image-level prevalence close to the data's,
also when few positive patients have many images each, and never splits a patient."""

import re

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import StratifiedGroupKFold

from chestxray.preparation.split import (
    PREVALENCE_DRIFT_TOLERANCE,
    SPLITS,
    SplitError,
    assert_patient_disjoint,
    official_split,
    patient_split,
    prevalence_by_split,
    require_both_classes,
    stratified_group_folds,
)


def images_of(patients: dict[str, tuple[int, int]]) -> pd.DataFrame:
    """One row per image from patient -> (label, images)."""
    rows = [(patient, label) for patient, (label, n) in patients.items() for _ in range(n)]
    table = pd.DataFrame(rows, columns=["patient_id", "label"])
    table["image"] = [f"{i:08d}_000.png" for i in range(len(table))]
    return table


def like_images_64() -> pd.DataFrame:
    """As ../shared/data/nih/images-64: 40 positives from only 7 patients, 499 negatives from 200."""
    positives = {f"p{i}": (1, n) for i, n in enumerate([9, 8, 7, 6, 4, 3, 3])}
    negatives = {f"n{i}": (0, 3 if i < 99 else 2) for i in range(200)}
    return images_of(positives | negatives)


def old_rule(table: pd.DataFrame, seed: int) -> pd.DataFrame:
    """The split this project used before: patients cut by shares within two strata (with
    and without a positive image), blind to how many images each patient has."""
    rng = np.random.default_rng(seed)
    has_positive = table.groupby("patient_id")["label"].max()
    part = {}
    for _, patients in has_positive.groupby(has_positive):
        ids = rng.permutation(patients.index.to_numpy())
        cuts = [0, round(0.15 * len(ids)), round(0.30 * len(ids)), len(ids)]
        for name, start, stop in zip(("test", "validation", "train"), cuts, cuts[1:]):
            part.update(dict.fromkeys(ids[start:stop], name))
    return table.assign(split=table["patient_id"].map(part))


def worst_drift(split: pd.DataFrame) -> float:
    """The largest distance between a part's prevalence and the data's, relative to the data's."""
    overall = split["label"].mean()
    return max(abs(rows["label"].mean() - overall) / overall for _, rows in split.groupby("split"))


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_folds_are_scikit_learns_stratified_group_k_fold(seed):
    rng = np.random.default_rng(seed)
    labels, groups = (rng.random(400) < 0.15).astype(int), rng.integers(0, 70, 400)
    n_folds = 3 + seed
    expected = np.empty(400, dtype=int)
    splitter = StratifiedGroupKFold(n_folds, shuffle=True, random_state=seed)
    for fold, (_, rows) in enumerate(splitter.split(np.zeros(400), labels, groups)):
        expected[rows] = fold
    assert (stratified_group_folds(labels, groups, n_folds, seed) == expected).all()


def test_few_positive_patients_keep_the_data_prevalence_in_every_split():
    table = like_images_64()
    assert (len(table), table["label"].sum()) == (539, 40)
    old = [worst_drift(old_rule(table, seed)) for seed in range(5)]
    new = [worst_drift(patient_split(table, seed)) for seed in range(5)]
    assert max(old) > 0.4  # e.g. 3.7 % in test against 7.4 % overall
    assert max(new) < PREVALENCE_DRIFT_TOLERANCE and max(new) < min(old)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_patients_stay_in_one_split(seed):
    split = patient_split(like_images_64(), seed)
    assert (split.groupby("patient_id")["split"].nunique() == 1).all()


def test_each_class_is_shared_out_by_the_declared_shares():
    patients = {f"q{i}": (int(i % 5 == 0), 1 + i % 3) for i in range(2000)}
    split = patient_split(images_of(patients), seed=9)
    shares = split.groupby("label")["split"].value_counts(normalize=True)
    for label in (0, 1):
        assert shares[label]["test"] == pytest.approx(0.15, abs=0.01)
        assert shares[label]["validation"] == pytest.approx(0.15, abs=0.01)
        assert shares[label]["train"] == pytest.approx(0.70, abs=0.01)


def test_the_same_seed_gives_the_same_split_and_another_seed_another():
    table = like_images_64()
    first, again, other = (patient_split(table, s)["split"].tolist() for s in (4, 4, 5))
    assert first == again and first != other


def test_official_test_images_stay_test_and_nothing_else_does():
    table = like_images_64()
    test_images = set(table.loc[table["patient_id"].isin(["p0", "n1", "n2"]), "image"])
    split = official_split(table, test_images, seed=1)
    assert set(split.loc[split["split"] == "test", "image"]) == test_images


def test_prevalence_by_split_names_the_parts_that_drift():
    # 20 images, 4 positive (20 %): train 2 of 8 (25 %, 25 % off), validation and test 1 of 6 (16.7 %, 17 % off)
    counts = {"train": {"images": 8, "positives": 2}, "validation": {"images": 6, "positives": 1},
              "test": {"images": 6, "positives": 1}}
    found = prevalence_by_split(counts)
    assert found["data"] == pytest.approx(0.2)
    assert found["splits"] == pytest.approx({"train": 0.25, "validation": 1 / 6, "test": 1 / 6})
    assert found["drifting"] == ["train"]  # beyond the 20 % tolerance; the others within it


def test_with_nihs_official_test_list_training_and_validation_are_measured_against_what_the_rule_dealt():
    # train 5 of 100 and validation 1 of 20 (5 %), the official test list 10 of 50 (20 %): 16 of 170 pooled (9.4 %).
    counts = {"train": {"images": 100, "positives": 5}, "validation": {"images": 20, "positives": 1},
              "test": {"images": 50, "positives": 10}}
    pooled = prevalence_by_split(counts)
    assert pooled["data"] == pooled["reference"] == pytest.approx(16 / 170)
    assert pooled["drifting"] == ["train", "validation", "test"]  # all far from the pool the enriched test list lifts
    official = prevalence_by_split(counts, official_test=True)
    assert official["data"] == pytest.approx(16 / 170) and official["reference"] == pytest.approx(6 / 120)
    assert official["drifting"] == ["test"] and official["official_test"] is True


def small_table() -> pd.DataFrame:
    """60 patients of one image each, 20 of them positive: enough for every part to hold both classes."""
    return images_of({f"s{i}": (int(i % 3 == 0), 1) for i in range(60)})


@pytest.mark.parametrize("validation, test", [(0, 0.15), (-0.1, 0.15), (0.15, 0), (0.15, -0.1), (1, 0.15),
                                              (0.15, 1), (0.5, 0.5), (0.6, 0.5), (0.7, 0.7)])
def test_shares_that_leave_no_training_part_or_an_empty_part_are_refused(validation, test):
    message = f"validation ({validation}) and test ({test}) must be in (0, 1) and sum to less than 1"
    with pytest.raises(SplitError, match=re.escape(message)):
        patient_split(small_table(), seed=0, validation=validation, test=test)


@pytest.mark.parametrize("validation", [0, -0.2, 1, 1.5])
def test_official_split_refuses_a_validation_share_outside_zero_to_one(validation):
    with pytest.raises(SplitError, match=re.escape(f"validation ({validation}) must be in (0, 1)")):
        official_split(small_table(), set(), seed=0, validation=validation)


def test_official_split_names_its_parts_and_follows_the_seed():
    table = like_images_64()
    test_images = set(table.loc[table["patient_id"].isin(["p0", "n1", "n2"]), "image"])
    first, again, other = (official_split(table, test_images, seed=s)["split"] for s in (3, 3, 4))
    assert set(first) == {"train", "validation", "test"}
    assert first.tolist() == again.tolist() and first.tolist() != other.tolist()


def test_a_patient_in_two_splits_is_named():
    table = small_table().assign(split="train")
    table.loc[table["patient_id"] == "s7", "split"] = "test"
    assert_patient_disjoint(table)  # one image each: no patient spans two parts
    leaked = pd.concat([table, table[table["patient_id"] == "s7"].assign(split="validation")])
    with pytest.raises(SplitError, match=re.escape("1 patient(s) appear in more than one split, e.g. s7")):
        assert_patient_disjoint(leaked)


@pytest.mark.parametrize("part, labels, problem", [("validation", [], "no images"), ("test", [0, 0], "only one class"),
                                                   ("train", [1], "only one class")])
def test_a_part_without_both_classes_is_refused_with_what_it_lacks(part, labels, problem):
    rows = [(f"{name}{i}", label, name) for name in SPLITS if name != part for i, label in enumerate([0, 1])]
    rows += [(f"{part}{i}", label, part) for i, label in enumerate(labels)]
    table = pd.DataFrame(rows, columns=["patient_id", "label", "split"])
    with pytest.raises(SplitError, match=re.escape(f"the {part} split has {problem}: every split needs both classes")):
        require_both_classes(table)
    both = [(f"{name}{label}", label, name) for name in SPLITS for label in (0, 1)]
    require_both_classes(pd.DataFrame(both, columns=["patient_id", "label", "split"]))  # every part has both: passes


def test_a_part_exactly_at_the_tolerance_does_not_drift_and_absent_parts_are_left_out():
    # 8 images, 5 positive (62.5 %); train 1 of 2 (50 %) is 12.5 points off = exactly 20 % of 62.5 %: not "more than".
    counts = {"train": {"images": 2, "positives": 1}, "test": {"images": 6, "positives": 4}}
    found = prevalence_by_split(counts)
    assert found["data"] == 0.625 and abs(found["splits"]["train"] - 0.625) == PREVALENCE_DRIFT_TOLERANCE * 0.625
    assert found["drifting"] == [] and set(found["splits"]) == {"train", "test"}


def many_patients(positives: int = 40, negatives: int = 160) -> pd.DataFrame:
    """One image per patient."""
    return images_of({f"p{i}": (1, 1) for i in range(positives)} | {f"n{i}": (0, 1) for i in range(negatives)})


@pytest.mark.parametrize("seed", [0, 11])
def test_each_part_is_whole_folds_of_scikit_learns_stratified_group_k_fold(seed):
    """The parts are made of the label-stratified folds (not folds blind to the labels)."""
    table = like_images_64()
    split = patient_split(table, seed)
    folds = StratifiedGroupKFold(20, shuffle=True, random_state=seed).split(table, table["label"], table["patient_id"])
    for _, rows in folds:
        assert split["split"].iloc[rows].nunique() == 1  # a fold goes to one part, whole


@pytest.mark.parametrize("validation, test, folds", [(0.12, 0.12, (2, 2, 16)), (0.05, 0.05, (1, 1, 18)),
                                                     (0.02, 0.3, (1, 6, 13))])
def test_shares_off_the_5_percent_grid_round_to_whole_folds_and_training_takes_the_rest(validation, test, folds):
    """200 patients with one image each: every fold is 10 images; each part takes round(share x 20)
    folds (at least one) and training every fold left, so no image goes unassigned."""
    split = patient_split(many_patients(), seed=3, validation=validation, test=test)
    sizes = split["split"].value_counts()
    assert (sizes["validation"], sizes["test"], sizes["train"]) == tuple(10 * f for f in folds)
    assert split.groupby("split")["label"].sum().to_dict() == {"validation": 2 * folds[0], "test": 2 * folds[1],
                                                                "train": 2 * folds[2]}  # 1 positive in 5 everywhere


def test_the_closest_folds_are_measured_relative_to_each_classs_total():
    """A miss of 1 in a class of 1 image weighs more than a miss of 14 in a class of 24."""
    from chestxray.preparation.split import _closest_folds

    fold_counts = np.array([[5.0, 0.0], [19.0, 1.0]])  # class totals 24 and 1
    target = np.array([5.0, 1.0])
    # fold 0 misses 0/24 + 1/1 = 1.0; fold 1 misses 14/24 + 0/1 = 0.58
    assert _closest_folds(fold_counts, [0, 1], 1, target) == [1]
    # absolute misses (or both classes pooled) would pick fold 0; a two-fold set is the only one
    assert _closest_folds(fold_counts, [0, 1], 2, target) == [0, 1]
