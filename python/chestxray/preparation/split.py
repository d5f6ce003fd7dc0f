"""Patient-disjoint train / validation / test splits that keep the data's prevalence.

The original report split images at random, so films of one patient sat on both
sides and the test set measured recall of patients rather than diagnosis. Here
whole patients are assigned to one part. Cutting patients stratified only by
"has a positive image" lets a part's image-level prevalence drift far from the
data's when few positive patients have many images each (seen: 4 % in test
against 10 % overall). So patients are dealt into equal folds by scikit-learn's
StratifiedGroupKFold rule, which balances each class's images across folds, and
each part takes the whole folds whose class counts come closest to its share.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd

SPLITS = ("train", "validation", "test")
# The one split rule: shares of each class's images for validation and for test
# (the rest trains), whole patients at a time. The report, organize and the
# command line all use these; with NIH's official test list, validation is this
# share of the remaining images.
VALIDATION_SHARE = 0.15
TEST_SHARE = 0.15
# A part whose image-level prevalence differs from the data's by more than this
# fraction of it is reported as drifting (R/text/data.R says so in the report).
PREVALENCE_DRIFT_TOLERANCE = 0.2
# Patients are dealt into this many equal folds; a part takes whole folds, so
# shares count in steps of 5 % (0.15 is 3 folds).
FOLDS = 20


class SplitError(ValueError):
    """A split that would be unusable or leak patients."""


class TooFewPatientsError(SplitError):
    """A split left without one of the classes: the data has too few patients of it."""


def stratified_group_folds(labels: np.ndarray, groups: np.ndarray, n_folds: int, seed: int) -> np.ndarray:
    """Fold of each row, groups kept whole: scikit-learn's StratifiedGroupKFold
    (shuffle=True, random_state=seed), the same folds (a test compares them).

    Its loop tries one fold at a time and lists each fold's rows by a scan of
    every row, 25 s on NIH's 25,000 patients; here all folds are tried in one
    vector operation per patient, 1 s.
    """
    classes, y_inv = np.unique(np.asarray(labels), return_inverse=True)
    return group_folds(np.eye(len(classes))[y_inv], groups, n_folds, seed)


def group_folds(row_counts: np.ndarray, groups: np.ndarray, n_folds: int, seed: int) -> np.ndarray:
    """Fold of each row, groups kept whole, by StratifiedGroupKFold's rule over the columns of
    ``row_counts`` (what each row adds to a fold: one class of several, or several labels at once):
    groups dealt in the order of their counts' spread, each into the fold that keeps every
    column's shares across folds most even."""
    _, groups_inv = np.unique(np.asarray(groups), return_inverse=True)
    counts = np.zeros((groups_inv.max() + 1, row_counts.shape[1]))
    np.add.at(counts, groups_inv, row_counts)
    perm = np.arange(len(counts))
    np.random.RandomState(seed).shuffle(perm)  # what check_random_state(seed) gives StratifiedGroupKFold
    order = perm[np.argsort(-np.std(counts[perm], axis=1), kind="stable")]
    totals = np.where(counts.sum(axis=0) > 0, counts.sum(axis=0), 1)  # a column no row has stays 0 everywhere
    fold_of_group = np.empty(len(counts), dtype=int)
    fold_counts = np.zeros((n_folds, counts.shape[1]))
    for group in order:
        spread = _spread_if_added(fold_counts, counts[group], totals)
        fold_of_group[group] = _best_fold(spread, fold_counts.sum(axis=1).tolist())
        fold_counts[fold_of_group[group]] += counts[group]
    return fold_of_group[groups_inv]


def _spread_if_added(fold_counts: np.ndarray, group_counts: np.ndarray, totals: np.ndarray) -> list[float]:
    """For each fold: the mean over classes of the standard deviation, across folds,
    of each fold's share of the class's images, were the group added to that fold
    (all folds at once, computed as StratifiedGroupKFold computes each)."""
    n = len(fold_counts)
    candidates = fold_counts[None] + np.eye(n)[:, :, None] * group_counts
    return np.std(candidates / totals, axis=1).mean(axis=1).tolist()


def _best_fold(spread: list[float], sizes: list[float]) -> int:
    """StratifiedGroupKFold's choice: the lowest spread; among equal ones (numpy's
    isclose), the fold with fewer images."""
    best, best_spread, best_size = 0, math.inf, math.inf
    for fold, (value, size) in enumerate(zip(spread, sizes)):
        if value < best_spread or (abs(value - best_spread) <= 1e-8 + 1e-5 * abs(best_spread) and size < best_size):
            best, best_spread, best_size = fold, value, size
    return best


def _closest_folds(fold_counts: np.ndarray, candidates: list[int], n: int, target: np.ndarray) -> list[int]:
    """The ``n`` folds among ``candidates`` whose summed class counts are closest to
    ``target`` (summed over classes, relative to each class's total); the first such set."""
    combos = np.array(list(itertools.combinations(candidates, n)))
    sums = fold_counts[combos].sum(axis=1)
    miss = np.abs(sums - target) / np.maximum(fold_counts.sum(axis=0), 1)
    return combos[int(np.argmin(miss.sum(axis=1)))].tolist()


def _assign_patients(table: pd.DataFrame, shares: dict[str, float], seed: int) -> pd.Series:
    """A part per row, whole patients per part, each class's images shared out as
    ``shares`` says (the last part takes the folds left)."""
    labels = table["label"].to_numpy().astype(int)
    return _assign_by_counts(np.eye(2)[labels], table["patient_id"].to_numpy(), table.index, shares, seed)


def _assign_by_counts(row_counts: np.ndarray, patients: np.ndarray, index: pd.Index, shares: dict[str, float],
                      seed: int) -> pd.Series:
    """A part per row: whole patients dealt into FOLDS folds (group_folds), then each part takes
    the whole folds whose column counts come closest to its share of each column's total."""
    folds = group_folds(row_counts, patients, FOLDS, seed)
    fold_counts = np.zeros((FOLDS, row_counts.shape[1]))
    np.add.at(fold_counts, folds, row_counts)
    totals = fold_counts.sum(axis=0)
    left, part_of_fold = list(range(FOLDS)), {}
    for i, (name, share) in enumerate(shares.items()):
        chosen = left if i == len(shares) - 1 else \
            _closest_folds(fold_counts, left, max(1, round(share * FOLDS)), share * totals)
        part_of_fold.update(dict.fromkeys(chosen, name))
        left = [fold for fold in left if fold not in chosen]
    return pd.Series([part_of_fold[f] for f in folds], index=index)


def patient_split(table: pd.DataFrame, seed: int, validation: float = VALIDATION_SHARE,
                  test: float = TEST_SHARE) -> pd.DataFrame:
    """Return a copy of ``table`` with a 'split' column (train/validation/test).

    Whole patients (column ``patient_id``) go to one part; each part holds about
    its share of each class's images (column ``label``, 0/1), so its prevalence
    stays close to the data's.
    """
    out = table.copy()
    out["split"] = _assign_patients(out, _part_shares(validation, test), seed)
    assert_patient_disjoint(out)
    require_both_classes(out)
    return out


def _part_shares(validation: float, test: float) -> dict[str, float]:
    if not (0 < validation < 1 and 0 < test < 1 and validation + test < 1):
        raise SplitError(f"validation ({validation}) and test ({test}) must be in (0, 1) and sum to less than 1")
    return {"test": test, "validation": validation, "train": 1 - test - validation}


def official_split(table: pd.DataFrame, test_images: set[str], seed: int,
                   validation: float = VALIDATION_SHARE) -> pd.DataFrame:
    """NIH's patient-wise test list as 'test', as it is; validation carved out of the
    rest as patient_split carves its parts.

    Patients listed in NIH's test list never appear in its train_val list, so
    the carve-out keeps the split patient-disjoint (asserted below).
    """
    out = table.copy()
    is_test = out["image"].isin(test_images)
    out["split"] = "test"
    out.loc[~is_test, "split"] = _assign_patients(out[~is_test], _carve_out_shares(validation), seed)
    assert_patient_disjoint(out)
    return out


def _carve_out_shares(validation: float) -> dict[str, float]:
    if not 0 < validation < 1:
        raise SplitError(f"validation ({validation}) must be in (0, 1)")
    return {"validation": validation, "train": 1 - validation}


def multilabel_counts(table: pd.DataFrame, findings) -> np.ndarray:
    """What each image adds to a fold in the multi-label study: 1 for each of its findings (one
    0/1 column each), and 1 in a last column when it has none, so clear films are dealt evenly too."""
    flags = table[list(findings)].to_numpy(dtype=float)
    return np.column_stack([flags, flags.sum(axis=1) == 0])


def multilabel_patient_split(table: pd.DataFrame, findings, seed: int, validation: float = VALIDATION_SHARE,
                             test: float = TEST_SHARE) -> pd.DataFrame:
    """patient_split for one 0/1 column per finding: whole patients, each finding's images (and
    the films with none) shared out as evenly as whole patients allow. With one finding it is
    patient_split's split of that finding against the rest."""
    out = table.copy()
    out["split"] = _assign_by_counts(multilabel_counts(out, findings), out["patient_id"].to_numpy(), out.index,
                                     _part_shares(validation, test), seed)
    assert_patient_disjoint(out)
    require_every_finding(out, findings, SPLITS)
    return out


def official_multilabel_split(table: pd.DataFrame, findings, test_images: set[str], seed: int,
                              validation: float = VALIDATION_SHARE) -> pd.DataFrame:
    """NIH's official test list as it is; validation carved out of the rest by whole patients,
    stratified over every finding at once (multilabel_patient_split's rule)."""
    out = table.copy()
    is_test = out["image"].isin(test_images)
    out["split"] = "test"
    rest = out[~is_test]
    out.loc[~is_test, "split"] = _assign_by_counts(multilabel_counts(rest, findings), rest["patient_id"].to_numpy(),
                                                   rest.index, _carve_out_shares(validation), seed)
    assert_patient_disjoint(out)
    require_every_finding(out, findings, SPLITS)
    return out


def require_every_finding(table: pd.DataFrame, findings, parts) -> None:
    """Every part needs images with and without each finding: a finding's AUROC, and the
    threshold chosen on validation, need both."""
    lacking = [f"{name}: {finding}" for name in parts for finding in findings
               if table.loc[table["split"] == name, finding].nunique() < 2]
    if lacking:
        raise TooFewPatientsError(
            f"these parts lack images with or without a finding ({'; '.join(lacking)}): a finding's AUROC needs "
            "both in every part, and parts take whole patients, so the data needs more patients with these findings"
        )


def prevalence_by_split(counts: dict[str, dict], official_test: bool = False) -> dict:
    """Image-level prevalence of the data and of each split, from each split's
    ``images`` and ``positives`` (as dataset.eligible_counts gives them), and the
    splits whose prevalence drifts by more than PREVALENCE_DRIFT_TOLERANCE of the
    reference: the data's, or, when the test split is NIH's official list
    (``official_test``), the prevalence of the images the split rule dealt out
    (training and validation), since the official list keeps its own."""
    present = {name: counts[name] for name in SPLITS if counts.get(name, {}).get("images")}
    dealt = {name: c for name, c in present.items() if not (official_test and name == "test")}
    reference = pooled_prevalence(dealt.values())
    by_split = {name: c["positives"] / c["images"] for name, c in present.items()}
    drifting = [name for name, value in by_split.items()
                if abs(value - reference) > PREVALENCE_DRIFT_TOLERANCE * reference]
    return {"data": pooled_prevalence(present.values()), "reference": reference, "official_test": official_test,
            "splits": by_split, "drifting": drifting, "tolerance": PREVALENCE_DRIFT_TOLERANCE}


def pooled_prevalence(counts) -> float:
    counts = list(counts)
    return sum(c["positives"] for c in counts) / sum(c["images"] for c in counts)


def assert_patient_disjoint(table: pd.DataFrame) -> None:
    """Raise SplitError if any patient appears in more than one split."""
    parts_per_patient = table.groupby("patient_id")["split"].nunique()
    leaked = parts_per_patient[parts_per_patient > 1]
    if len(leaked):
        raise SplitError(f"{len(leaked)} patient(s) appear in more than one split, e.g. {leaked.index[0]}")


def require_both_classes(table: pd.DataFrame) -> None:
    for name in SPLITS:
        labels = set(table.loc[table["split"] == name, "label"])
        if labels != {0, 1}:
            raise TooFewPatientsError(
                f"the {name} split has {'no images' if not labels else 'only one class'}: every split needs "
                "both classes and takes whole patients, so the data needs more patients of each class"
            )
