"""The 14 findings NIH mined from the reports, one table (``findings.csv``): NIH's
label, its Spanish name and description for the report, and how many images of
Data_Entry_2017_v2020.csv carry it (among their labels, or alone). R reads the
same table (R/text/findings.R), and it is the `finding` parameter's list of values.
"""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources

FINDINGS_FILE = "findings.csv"


@cache
def findings_table() -> tuple[dict[str, str], ...]:
    with resources.files(__package__).joinpath(FINDINGS_FILE).open(encoding="utf-8") as f:
        return tuple(csv.DictReader(f))


FINDINGS = tuple(row["finding"] for row in findings_table())
