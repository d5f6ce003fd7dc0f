"""Patient-disjoint train / validation / test splits.

The original report split images at random, so films of one patient sat on both
sides and the test set measured recall of patients rather than diagnosis. Here
whole patients are assigned to one part, stratified by whether a patient has
any positive image, with the seed in one place.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SPLITS = ("train", "validation", "test")
# The one split rule: shares of patients for validation and for test (the rest
# trains). The report, organize and the command line all use these; with NIH's
# official test list, validation is this share of the remaining patients.
VALIDATION_SHARE = 0.15
TEST_SHARE = 0.15


class SplitError(ValueError):
    """A split that would be unusable or leak patients."""


def _assign_patients(table: pd.DataFrame, shares: dict[str, float], rng: np.random.Generator) -> pd.Series:
    """Map each patient to a part, cutting shuffled patients of each stratum
    (with / without a positive image) by the given shares (the last part takes the rest)."""
    by_patient = table.groupby("patient_id")["label"].max()
    part = {}
    for _, patients in by_patient.groupby(by_patient):
        ids = rng.permutation(patients.index.to_numpy())
        start = 0
        for i, (name, share) in enumerate(shares.items()):
            stop = len(ids) if i == len(shares) - 1 else start + int(round(len(ids) * share))
            part.update(dict.fromkeys(ids[start:stop], name))
            start = stop
    return table["patient_id"].map(part)


def patient_split(table: pd.DataFrame, seed: int, validation: float = VALIDATION_SHARE,
                  test: float = TEST_SHARE) -> pd.DataFrame:
    """Return a copy of ``table`` with a 'split' column (train/validation/test).

    Patients (column ``patient_id``) are shuffled within two strata (with and
    without a positive image) and cut by the given proportions.
    """
    if not (0 < validation < 1 and 0 < test < 1 and validation + test < 1):
        raise SplitError(f"validation ({validation}) and test ({test}) must be in (0, 1) and sum to less than 1")
    out = table.copy()
    shares = {"test": test, "validation": validation, "train": 1 - test - validation}
    out["split"] = _assign_patients(out, shares, np.random.default_rng(seed))
    assert_patient_disjoint(out)
    require_both_classes(out)
    return out


def official_split(table: pd.DataFrame, test_images: set[str], seed: int,
                   validation: float = VALIDATION_SHARE) -> pd.DataFrame:
    """NIH's patient-wise test list as 'test'; validation carved patient-wise out of train_val.

    Patients listed in NIH's test list never appear in its train_val list, so
    the carve-out keeps the split patient-disjoint (asserted below).
    """
    if not 0 < validation < 1:
        raise SplitError(f"validation ({validation}) must be in (0, 1)")
    out = table.copy()
    is_test = out["image"].isin(test_images)
    out["split"] = "test"
    rest = out[~is_test]
    shares = {"validation": validation, "train": 1 - validation}
    out.loc[~is_test, "split"] = _assign_patients(rest, shares, np.random.default_rng(seed))
    assert_patient_disjoint(out)
    return out


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
            raise SplitError(
                f"the {name} split has {'no images' if not labels else 'only one class'}; "
                "use more images per class (n_per_class) so every split holds both classes"
            )
