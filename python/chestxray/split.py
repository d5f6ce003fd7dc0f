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


class SplitError(ValueError):
    """A split that would be unusable or leak patients."""


def patient_split(table: pd.DataFrame, seed: int, validation: float = 0.15, test: float = 0.15) -> pd.DataFrame:
    """Return a copy of ``table`` with a 'split' column (train/validation/test).

    Patients (column ``patient_id``) are shuffled within two strata (with and
    without a positive image) and cut by the given proportions.
    """
    if not (0 < validation < 1 and 0 < test < 1 and validation + test < 1):
        raise SplitError(f"validation ({validation}) and test ({test}) must be in (0, 1) and sum to less than 1")
    by_patient = table.groupby("patient_id")["label"].max()
    rng = np.random.default_rng(seed)
    part = {}
    for _, patients in by_patient.groupby(by_patient):
        ids = rng.permutation(patients.index.to_numpy())
        n_test = int(round(len(ids) * test))
        n_val = int(round(len(ids) * validation))
        part.update({p: "test" for p in ids[:n_test]})
        part.update({p: "validation" for p in ids[n_test : n_test + n_val]})
        part.update({p: "train" for p in ids[n_test + n_val :]})
    out = table.copy()
    out["split"] = out["patient_id"].map(part)
    assert_patient_disjoint(out)
    _require_both_classes(out)
    return out


def assert_patient_disjoint(table: pd.DataFrame) -> None:
    """Raise SplitError if any patient appears in more than one split."""
    parts_per_patient = table.groupby("patient_id")["split"].nunique()
    leaked = parts_per_patient[parts_per_patient > 1]
    if len(leaked):
        raise SplitError(f"{len(leaked)} patient(s) appear in more than one split, e.g. {leaked.index[0]}")


def _require_both_classes(table: pd.DataFrame) -> None:
    for name in SPLITS:
        labels = set(table.loc[table["split"] == name, "label"])
        if labels != {0, 1}:
            raise SplitError(
                f"the {name} split has {'no images' if not labels else 'only one class'}; "
                "use more images per class (n_per_class) so every split holds both classes"
            )
