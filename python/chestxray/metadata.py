"""NIH ChestX-ray14 metadata: read Data_Entry_2017(_v2020).csv and select a task.

Column names differ between NIH's 2017 file, its v2020 revision and common
copies ('Patient Gender' vs 'Patient Sex', a trailing unnamed column, ages as
'058Y'), so they are mapped onto one set of names here and nowhere else.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

FINDINGS = (
    "Atelectasis", "Cardiomegaly", "Consolidation", "Edema", "Effusion", "Emphysema", "Fibrosis",
    "Hernia", "Infiltration", "Mass", "Nodule", "Pleural_Thickening", "Pneumonia", "Pneumothorax",
)
NO_FINDING = "No Finding"
REST = "rest"  # negative class: every image without the positive finding
MATCHES = ("exact", "any")

REQUIRED = {"Image Index": "image", "Finding Labels": "finding_labels", "Patient ID": "patient_id"}
OPTIONAL = {
    "Follow-up #": "follow_up",
    "Patient Age": "patient_age",
    "Patient Gender": "patient_sex",
    "Patient Sex": "patient_sex",
    "View Position": "view_position",
}


class MetadataError(ValueError):
    """The metadata file cannot be used as given."""


def read_metadata(path: str | Path) -> pd.DataFrame:
    """The metadata with normalised column names; fails naming missing columns."""
    path = Path(path)
    if not path.exists():
        raise MetadataError(f"metadata file '{path}' does not exist")
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, EOFError) as error:
        raise MetadataError(f"cannot parse metadata file '{path}' as CSV: {error}") from error
    raw.columns = [c.strip() for c in raw.columns]
    missing = [c for c in REQUIRED if c not in raw.columns]
    if missing:
        raise MetadataError(
            f"metadata file '{path}' lacks column(s) {missing}; found {list(raw.columns)[:12]}. "
            "Expected NIH's Data_Entry_2017.csv or Data_Entry_2017_v2020.csv"
        )
    names = {**REQUIRED, **{k: v for k, v in OPTIONAL.items() if k in raw.columns}}
    table = raw[list(names)].rename(columns=names)
    table["patient_id"] = table["patient_id"].str.strip().str.lstrip("0").replace("", "0")
    if "patient_age" in table:
        table["patient_age"] = pd.to_numeric(table["patient_age"].str.extract(r"(\d+)")[0], errors="coerce").astype("Int64")
    if "follow_up" in table:
        table["follow_up"] = pd.to_numeric(table["follow_up"], errors="coerce").astype("Int64")
    return table


def check_task(positive: str, negative: str = NO_FINDING, match: str = "exact") -> None:
    if positive not in FINDINGS:
        raise MetadataError(f"unknown finding '{positive}'; valid findings: {', '.join(FINDINGS)}")
    if negative not in (NO_FINDING, REST):
        raise MetadataError(f"negative class must be '{NO_FINDING}' or '{REST}' (all other images), not '{negative}'")
    if match not in MATCHES:
        raise MetadataError(f"match must be one of {', '.join(MATCHES)}, not '{match}'")


def select_task(table: pd.DataFrame, positive: str, negative: str = NO_FINDING, match: str = "exact") -> pd.DataFrame:
    """Rows of the binary task with a 0/1 ``label`` and ``class_name``.

    ``match='exact'``: the positive finding is the only label (the original's
    choice); ``'any'``: it is among the labels. Negatives are 'No Finding'
    images, or with ``negative='rest'`` every image without the finding.
    """
    check_task(positive, negative, match)
    labels = table["finding_labels"].str.split("|")
    has_finding = labels.map(lambda ls: positive in ls)
    is_positive = table["finding_labels"].eq(positive) if match == "exact" else has_finding
    is_negative = table["finding_labels"].eq(NO_FINDING) if negative == NO_FINDING else ~has_finding
    chosen = table[is_positive | is_negative].copy()
    chosen["label"] = is_positive[is_positive | is_negative].astype(int).to_numpy()
    chosen["class_name"] = chosen["label"].map({1: positive, 0: NO_FINDING if negative == NO_FINDING else f"No {positive}"})
    return chosen.reset_index(drop=True)


def read_image_list(path: str | Path) -> set[str]:
    """An official split list (train_val_list.txt / test_list.txt), gz or plain."""
    path = Path(path)
    if not path.exists():
        raise MetadataError(f"split list '{path}' does not exist")
    names = pd.read_csv(path, header=None, names=["image"], dtype=str)["image"].str.strip()
    return set(names[names != ""])
