"""Checks of the data the report's parameters name, needing no download and no training.

Each parameter's form (type, values, range, pattern) is checked once, in R, from
report_params.yml, whatever `data` is; what is checked here needs the file
system or the data tables: folders and files exist, the metadata has NIH's
columns. The render command runs these right after the form checks, and the
report's set-up chunk runs them again (for `quarto render` typed by hand), so a
wrong metadata path stops in seconds, naming the parameter, instead of after a
2 GB download.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from chestxray import ALL_FINDINGS, DEFAULT_FINDING
from chestxray.sources.download import parse_selection
from chestxray.sources.folders import LABELS_FILE
from chestxray.sources.metadata import REQUIRED
from chestxray.sources.phantoms import DEMO_FINDING


class InputError(ValueError):
    """A report parameter that names data which cannot be used."""


def _existing(name: str, value: str, kind: str) -> Path:
    path = Path(value).expanduser()
    exists = path.is_dir() if kind == "folder" else path.is_file()
    if not exists:
        raise InputError(f"parameter '{name}' is '{value}', but no such {kind} exists (working folder: {Path.cwd()})")
    return path


def _csv_columns(name: str, value: str) -> list[str]:
    """The header of an existing CSV file (plain or gzipped) that a parameter names."""
    path = _existing(name, value, "file")
    try:
        return [c.strip() for c in pd.read_csv(path, nrows=0).columns]
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError, EOFError) as error:
        raise InputError(f"parameter '{name}': '{value}' cannot be read as a CSV file ({error})") from error


def check_metadata_header(name: str, value: str) -> None:
    columns = _csv_columns(name, value)
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise InputError(f"parameter '{name}': '{value}' lacks the column(s) {missing} of NIH's "
                         "Data_Entry_2017_v2020.csv")


def check_nih_inputs(nih_archives: str, nih_metadata: str = "") -> None:
    try:
        parse_selection(nih_archives)
    except ValueError as error:
        raise InputError(f"parameter 'nih_archives' is '{nih_archives}': {error}") from error
    if nih_metadata:
        check_metadata_header("nih_metadata", nih_metadata)


def check_demo_finding(finding: str) -> None:
    """The demo phantoms carry a pneumothorax-like sign and nothing else: they cannot
    stand for another finding, and a report pretending so would be wrong throughout."""
    if finding not in (DEMO_FINDING, ALL_FINDINGS):
        raise InputError(
            f"parameter 'finding' is '{finding}', but the demo data (data=demo) are phantoms that only show a "
            f"{DEMO_FINDING.lower()}-like sign, so they can only stand for {DEMO_FINDING} (or, with finding="
            f"{ALL_FINDINGS}, the multi-label demo's five findings): for {finding}, use "
            f"data=folder (class folders {finding}/ and No-Finding/ in data_dir) or data=nih")


def check_multilabel_inputs(data: str, data_dir: str, model: str, adjudicated_labels: str) -> None:
    """finding=all: one network with a sigmoid per finding, so the original's one-output dense baseline
    and the radiologists' labels of one finding do not apply; a folder needs its labels file."""
    if model == "baseline":
        raise InputError(f"parameter 'model' is 'baseline', but with finding={ALL_FINDINGS} the model has one "
                         "output per finding, which the original's dense network does not: use model=cnn, "
                         "densenet121 or mobilenetv2")
    if adjudicated_labels:
        raise InputError(f"parameter 'adjudicated_labels' is set, but radiologists' labels are compared with one "
                         f"finding's predictions: leave it empty with finding={ALL_FINDINGS}")
    if data == "folder" and not (Path(data_dir) / LABELS_FILE).is_file():
        raise InputError(f"parameter 'data_dir' is '{data_dir}', but with finding={ALL_FINDINGS} a folder holds its "
                         f"images and a {LABELS_FILE} in NIH's format ('Image Index', 'Finding Labels', "
                         f"'Patient ID'); '{Path(data_dir) / LABELS_FILE}' is missing")


def check_adjudicated_labels(path: str, finding: str) -> None:
    """Radiologists' labels: a CSV with the image names and a column for the report's finding."""
    columns = _csv_columns("adjudicated_labels", path)
    missing = [c for c in ("Image Index", finding) if c not in columns]
    if missing:
        raise InputError(f"parameter 'adjudicated_labels': '{path}' lacks the column(s) {missing}: it needs "
                         f"'Image Index' and one named after the finding ({finding}), YES for positive")


def check_report_inputs(data: str, data_dir: str, nih_archives: str = "1", nih_metadata: str = "",
                        adjudicated_labels: str = "", finding: str = DEFAULT_FINDING, model: str = "cnn") -> None:
    """Raise InputError naming the first parameter whose data cannot be used.

    A parameter's rule does not depend on `data`: a file it names must be usable
    whatever the source (only `data_dir` means something else per source, and
    `finding` is limited by the demo phantoms)."""
    if data == "demo":
        check_demo_finding(finding)
    if data == "folder":
        _existing("data_dir", data_dir, "folder")
    check_nih_inputs(nih_archives, nih_metadata)
    if finding == ALL_FINDINGS:
        check_multilabel_inputs(data, data_dir, model, adjudicated_labels)
    elif adjudicated_labels:
        check_adjudicated_labels(adjudicated_labels, finding)
