"""NIH ChestX-ray14 metadata: read Data_Entry_2017(_v2020).csv and select a task.

Column names differ between NIH's 2017 file, its v2020 revision and common
copies ('Patient Gender' vs 'Patient Sex', a trailing unnamed column, ages as
'058Y'), so they are mapped onto one set of names here and nowhere else.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import pandas as pd

from chestxray import NEGATIVE_CLASS
from chestxray.support.files import read_csv_strictly
from chestxray.support.findings import FINDINGS
from chestxray.support.report_params import allowed_values

NO_FINDING = NEGATIVE_CLASS
REST = "rest"  # negative class: every image without the positive finding
MATCHES = allowed_values("match")  # the report's `match` parameter: the same modes
# The API's default, as the report's and the command line's (report.qmd's `match`, the study's
# definition: a test compares them): the finding among an image's labels.
DEFAULT_MATCH = "any"

REQUIRED = {"Image Index": "image", "Finding Labels": "finding_labels", "Patient ID": "patient_id"}
OPTIONAL = {  # the first column found of a name's aliases is used
    "Follow-up #": "follow_up",
    "Patient Age": "patient_age",
    "Patient Gender": "patient_sex",
    "Patient Sex": "patient_sex",
    "View Position": "view_position",
}
SHOWN = 5  # examples quoted in an error message


class MetadataError(ValueError):
    """The metadata file cannot be used as given."""


def read_metadata(path: str | Path) -> pd.DataFrame:
    """The metadata with normalised column names; fails naming the file and what is wrong:
    missing columns, empty required fields, or an image listed twice."""
    path = Path(path)
    raw = _read_table(path)
    missing = [c for c in REQUIRED if c not in raw.columns]
    if missing:
        raise MetadataError(
            f"metadata file '{path}' lacks column(s) {missing}; found {list(raw.columns)[:12]}. "
            "Expected NIH's Data_Entry_2017.csv or Data_Entry_2017_v2020.csv"
        )
    names = dict(REQUIRED)
    for column, name in OPTIONAL.items():
        if column in raw.columns and name not in names.values():
            names[column] = name
    table = raw[list(names)].rename(columns=names)
    _require_filled(table, path)
    _reject_duplicate_images(table, path)
    table["patient_id"] = table["patient_id"].str.strip().str.lstrip("0").replace("", "0")
    if "patient_age" in table:
        table["patient_age"] = _whole_numbers(table["patient_age"].str.extract(r"(\d{1,3})")[0])
    if "follow_up" in table:
        table["follow_up"] = _whole_numbers(table["follow_up"])
    return table


def _read_table(path: Path) -> pd.DataFrame:
    """Every cell as a string ('' where empty), column names stripped."""
    if not path.is_file():
        raise MetadataError(f"metadata file '{path}' does not exist")
    raw = read_csv_strictly(path, "metadata file", MetadataError, dtype=str, keep_default_na=False)
    raw.columns = [str(c).strip() for c in raw.columns]
    repeated = sorted(set(raw.columns[raw.columns.duplicated()]))
    if repeated:
        raise MetadataError(f"metadata file '{path}' has the column(s) {repeated} more than once")
    return raw.fillna("")  # short rows leave NaN even with keep_default_na=False


def _require_filled(table: pd.DataFrame, path: Path) -> None:
    for column, name in REQUIRED.items():
        empty = table[name].str.strip().eq("")
        if empty.any():
            lines = [str(i + 2) for i in empty[empty].index[:SHOWN]]  # line 1 is the header
            raise MetadataError(f"metadata file '{path}': {int(empty.sum())} row(s) with an empty '{column}', "
                                f"e.g. on line {', '.join(lines)}")


def _reject_duplicate_images(table: pd.DataFrame, path: Path) -> None:
    """An image listed twice could carry two labels or two patients and land in two
    splits; even identical rows mean a damaged file, so both are refused."""
    repeated = table.loc[table["image"].duplicated(keep=False), "image"]
    if len(repeated):
        names = sorted(set(repeated))
        raise MetadataError(f"metadata file '{path}' has {len(names)} duplicate image name(s), e.g. "
                            f"{', '.join(names[:SHOWN])}: each image needs exactly one row (one label, one patient)")


def _whole_numbers(values: pd.Series) -> pd.Series:
    """Integers where a value is a whole number of sensible size, else missing."""
    numbers = pd.to_numeric(values, errors="coerce")
    usable = numbers.notna() & numbers.abs().le(1e6) & (numbers % 1).eq(0)
    return numbers.where(usable).astype("Int64")


def check_task(positive: str, negative: str = NO_FINDING, match: str = DEFAULT_MATCH) -> None:
    if positive not in FINDINGS:
        raise MetadataError(f"unknown finding '{positive}'; valid findings: {', '.join(FINDINGS)}")
    if negative not in (NO_FINDING, REST):
        raise MetadataError(f"negative class must be '{NO_FINDING}' or '{REST}' (all other images), not '{negative}'")
    if match not in MATCHES:
        raise MetadataError(f"match must be one of {', '.join(MATCHES)}, not '{match}'")


def select_task(table: pd.DataFrame, positive: str, negative: str = NO_FINDING,
                match: str = DEFAULT_MATCH) -> pd.DataFrame:
    """Rows of the binary task with a 0/1 ``label`` and ``class_name``.

    ``match='any'`` (the default, the report's): the positive finding is among
    the labels; ``'exact'``: it is the only label (the original's choice).
    Negatives are 'No Finding' images, or with ``negative='rest'`` every image
    without the finding.
    """
    check_task(positive, negative, match)
    labels = table["finding_labels"].str.split("|")
    has_finding = labels.map(lambda ls: positive in ls)
    is_positive = table["finding_labels"].eq(positive) if match == "exact" else has_finding
    is_negative = table["finding_labels"].eq(NO_FINDING) if negative == NO_FINDING else ~has_finding
    chosen = table[is_positive | is_negative].copy()
    chosen["label"] = is_positive[is_positive | is_negative].astype(int).to_numpy()
    chosen["class_name"] = chosen["label"].map(
        {1: positive, 0: NO_FINDING if negative == NO_FINDING else f"No {positive}"}
    )
    return chosen.reset_index(drop=True)


def label_matrix(table: pd.DataFrame, source: str, findings=FINDINGS) -> pd.DataFrame:
    """One 0/1 column per finding from 'Finding Labels' (``Effusion|Mass``, or ``No Finding``):
    the multi-label study's labels. A label that is not one of NIH's findings, or 'No Finding'
    beside a finding, stops it, naming ``source``, the label and images that carry it."""
    labels = table["finding_labels"].str.split("|").map(lambda names: [name.strip() for name in names])
    unknown = sorted({name for names in labels for name in names} - set(findings) - {NO_FINDING})
    if unknown:
        carriers = table.loc[labels.map(lambda names: bool(set(names) & set(unknown))), "image"]
        raise MetadataError(f"{source} has label(s) {', '.join(map(repr, unknown))} that are not among the findings "
                            f"({', '.join(findings)} or '{NO_FINDING}'), on {len(carriers):,} image(s), e.g. "
                            f"{', '.join(carriers.head(SHOWN))}")
    mixed = table.loc[labels.map(lambda names: NO_FINDING in names and len(names) > 1), "image"]
    if len(mixed):
        raise MetadataError(f"{source} labels {len(mixed):,} image(s) '{NO_FINDING}' and a finding at once, e.g. "
                            f"{', '.join(mixed.head(SHOWN))}")
    return pd.DataFrame({finding: labels.map(lambda names, f=finding: int(f in names)) for finding in findings},
                        index=table.index)


def read_image_list(path: str | Path) -> set[str]:
    """An official split list (train_val_list.txt / test_list.txt), gz or plain: one name a line."""
    path = Path(path)
    if not path.is_file():
        raise MetadataError(f"split list '{path}' does not exist")
    try:
        data = path.read_bytes()
        text = (gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data).decode("utf-8")
    except (OSError, EOFError, zlib.error, UnicodeDecodeError) as error:
        raise MetadataError(f"cannot read split list '{path}': {type(error).__name__}: {error}") from error
    names = {line.strip() for line in text.splitlines()} - {""}
    if not names:
        raise MetadataError(f"split list '{path}' lists no images")
    return names
