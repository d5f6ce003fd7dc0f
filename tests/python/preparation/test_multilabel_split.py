"""The multi-label study's split: whole patients per part, every finding's images shared out by
the declared shares at once, NIH's official test list kept as it is, and a part lacking a
finding's positives or negatives refused by name."""

import numpy as np
import pandas as pd
import pytest

from chestxray.preparation.split import (
    TooFewPatientsError,
    group_folds,
    multilabel_counts,
    multilabel_patient_split,
    official_multilabel_split,
    patient_split,
    stratified_group_folds,
)

FINDINGS = ["Effusion", "Nodule", "Cardiomegaly", "Hernia"]
PREVALENCE = [0.20, 0.08, 0.04, 0.01]  # per image; Hernia as rare as NIH's (0.2 %) is rarer still


def multilabel_images(n_patients: int, seed: int) -> pd.DataFrame:
    """Patients with 1-6 films; a patient's films share a tendency to each finding (so findings
    cluster within patients, as in NIH's follow-ups) and Effusion co-occurs with Cardiomegaly."""
    rng = np.random.default_rng(seed)
    rows = []
    for patient in range(n_patients):
        prone = rng.random(len(FINDINGS)) < 2 * np.array(PREVALENCE)
        for follow_up in range(int(rng.integers(1, 7))):
            flags = prone & (rng.random(len(FINDINGS)) < 0.5)
            if flags[2] and rng.random() < 0.6:
                flags[0] = True
            rows.append((f"{patient:08d}_{follow_up:03d}.png", str(patient), *flags.astype(int)))
    return pd.DataFrame(rows, columns=["image", "patient_id", *FINDINGS])


def shares(split: pd.DataFrame, column: str) -> dict[str, float]:
    return {part: rows[column].sum() / split[column].sum() for part, rows in split.groupby("split")}


def random_patient_split(table: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Whole patients cut at random by the same shares: the baseline the rule must beat."""
    patients = np.random.default_rng(seed).permutation(table["patient_id"].unique())
    cut = [0, round(0.15 * len(patients)), round(0.30 * len(patients)), len(patients)]
    part = {p: name for name, a, b in zip(("test", "validation", "train"), cut, cut[1:]) for p in patients[a:b]}
    return table.assign(split=table["patient_id"].map(part))


def worst_share_miss(split: pd.DataFrame) -> float:
    target = {"train": 0.70, "validation": 0.15, "test": 0.15}
    return max(abs(value - target[part]) for f in FINDINGS for part, value in shares(split, f).items())


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_findings_images_are_shared_out_by_the_declared_shares(seed):
    table = multilabel_images(1500, seed)
    split = multilabel_patient_split(table, FINDINGS, seed=seed)
    assert split.groupby("patient_id")["split"].nunique().max() == 1  # patient-disjoint
    assert worst_share_miss(split) < 0.02  # within 2 points of its share, every finding, every part
    none = split[FINDINGS].sum(axis=1) == 0  # the clear films too
    clear = split[none].groupby("split").size() / none.sum()
    assert clear.to_dict() == pytest.approx({"train": 0.70, "validation": 0.15, "test": 0.15}, abs=0.02)
    assert worst_share_miss(split) < 0.5 * worst_share_miss(random_patient_split(table, seed))


def test_with_one_finding_it_is_the_binary_split():
    table = multilabel_images(400, 5).rename(columns={"Effusion": "label"})
    binary = patient_split(table, seed=5)
    assert multilabel_patient_split(table, ["label"], seed=5)["split"].tolist() == binary["split"].tolist()


def test_folds_over_one_hot_columns_are_stratified_group_folds():
    rng = np.random.default_rng(0)
    labels, groups = rng.integers(0, 3, 300), rng.integers(0, 80, 300)
    assert np.array_equal(group_folds(np.eye(3)[labels], groups, 5, 11), stratified_group_folds(labels, groups, 5, 11))


def test_an_image_adds_one_to_each_of_its_findings_and_a_clear_one_to_the_last_column():
    table = pd.DataFrame({"A": [1, 0, 0, 1], "B": [0, 0, 1, 1]})
    assert multilabel_counts(table, ["A", "B"]).tolist() == [[1, 0, 0], [0, 0, 1], [0, 1, 0], [1, 1, 0]]


def test_the_official_test_list_stays_test_and_validation_is_carved_from_the_rest():
    table = multilabel_images(1500, 4)
    test_patients = set(table["patient_id"].drop_duplicates().sample(frac=0.2, random_state=1))
    official = set(table.loc[table["patient_id"].isin(test_patients), "image"])
    split = official_multilabel_split(table, FINDINGS, official, seed=4)
    assert set(split.loc[split["split"] == "test", "image"]) == official
    rest = split[split["split"] != "test"]
    for finding in FINDINGS[:3]:
        carved = rest.loc[rest["split"] == "validation", finding].sum() / rest[finding].sum()
        assert carved == pytest.approx(0.15, abs=0.05), finding
    assert split.groupby("patient_id")["split"].nunique().max() == 1
    again = official_multilabel_split(table, FINDINGS, official, seed=4)
    assert again["split"].tolist() == split["split"].tolist()
    assert official_multilabel_split(table, FINDINGS, official, seed=5)["split"].tolist() != split["split"].tolist()


def test_a_part_without_a_findings_positives_is_refused_naming_part_and_finding():
    table = multilabel_images(300, 6)
    table["Hernia"] = 0
    table.loc[table.index[:2], "Hernia"] = 1  # one patient's films: two parts go without
    with pytest.raises(TooFewPatientsError, match=r"lack images with or without a finding \(.*(test|validation|"
                                                  r"train): Hernia.*needs more patients with these findings"):
        multilabel_patient_split(table, FINDINGS, seed=6)


def test_rows_keep_their_own_part_whatever_the_tables_index():
    """A table cut from a larger one keeps its index: each row's part is its own patient's."""
    table = multilabel_images(400, 7)
    shifted = table.set_index(table.index * 3 + 1000)
    split = multilabel_patient_split(shifted, FINDINGS, seed=7)
    assert split.index.equals(shifted.index)
    assert split["split"].tolist() == multilabel_patient_split(table, FINDINGS, seed=7)["split"].tolist()


def test_the_lacking_parts_are_named_in_one_sentence():
    from chestxray.preparation.split import require_every_finding

    table = pd.DataFrame({"split": ["train", "train", "validation", "test", "test"],
                          "Hernia": [1, 0, 0, 0, 1], "Mass": [1, 0, 1, 0, 0]})
    with pytest.raises(TooFewPatientsError) as raised:
        require_every_finding(table, ["Hernia", "Mass"], ("train", "validation", "test"))
    assert str(raised.value) == (
        "these parts lack images with or without a finding (validation: Hernia; validation: Mass; test: Mass): "
        "a finding's AUROC needs both in every part, and parts take whole patients, so the data needs more "
        "patients with these findings")


def test_data_without_clear_films_is_still_shared_out_by_every_finding():
    """Every film carries a finding (a folder of findings only): the clear films' column is empty, and a
    column without images must not stop the dealing (its shares are 0 everywhere, not 0/0)."""
    table = multilabel_images(1500, 8)
    table.loc[table[FINDINGS].sum(axis=1) == 0, "Effusion"] = 1
    split = multilabel_patient_split(table, FINDINGS, seed=8)
    assert worst_share_miss(split) < 0.03
