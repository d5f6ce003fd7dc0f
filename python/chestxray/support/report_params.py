"""The report's parameter definitions, read from ``report_params.yml``.

That file declares each parameter once (type, allowed values, meaning); R's
``check_params`` applies it to the report's parameters, and the package takes
from it the values it accepts itself where a function mirrors a parameter
(``data`` sources, ``match`` modes), so the two languages cannot drift apart.
"""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources

import yaml

DEFINITIONS_FILE = "report_params.yml"


@cache
def definitions() -> dict[str, dict]:
    """name -> rule, in report.qmd's order."""
    with resources.files(__package__).joinpath(DEFINITIONS_FILE).open(encoding="utf-8") as f:
        return yaml.safe_load(f)


def allowed_values(name: str) -> tuple[str, ...]:
    """The values of a choice parameter (``values``, or the first column of its ``values_from`` CSV)."""
    rule = definitions()[name]
    if "values_from" in rule:
        with resources.files(__package__).joinpath(rule["values_from"]).open(encoding="utf-8") as f:
            return tuple(row[0] for row in list(csv.reader(f))[1:])
    return tuple(rule["values"])


def integer_range(name: str) -> tuple[int, int]:
    """The smallest and largest values of an integer parameter."""
    rule = definitions()[name]
    return int(rule["min"]), int(rule["max"])
