"""The report's parameter definitions, read from ``report_params.yml``.

That file declares each parameter once (type, allowed values, meaning); R's
``check_params`` applies it to the report's parameters, and the package takes
from it the values it accepts itself where a function mirrors a parameter
(``data`` sources, ``match`` modes), so the two languages cannot drift apart.
The defaults are report.qmd's (``report_defaults``): the command line takes
those it restates from there.
"""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources
from pathlib import Path

import yaml

DEFINITIONS_FILE = "report_params.yml"
# The defaults' one home (report_params.yml declares none): the package is installed from the
# project (pip install -e python), so the report sits three folders above this file.
REPORT_FILE = Path(__file__).resolve().parents[3] / "report.qmd"


@cache
def definitions() -> dict[str, dict]:
    """name -> rule, in report.qmd's order."""
    with resources.files(__package__).joinpath(DEFINITIONS_FILE).open(encoding="utf-8") as f:
        return yaml.safe_load(f)


def allowed_values(name: str) -> tuple[str, ...]:
    """The values of a choice parameter: the first column of its ``values_from`` CSV, then its ``values``."""
    rule = definitions()[name]
    listed = tuple(rule.get("values", ()))
    if "values_from" in rule:
        with resources.files(__package__).joinpath(rule["values_from"]).open(encoding="utf-8") as f:
            return tuple(row[0] for row in list(csv.reader(f))[1:]) + listed
    return listed


def integer_range(name: str) -> tuple[int, int]:
    """The smallest and largest values of an integer parameter."""
    rule = definitions()[name]
    return int(rule["min"]), int(rule["max"])


@cache
def report_defaults() -> dict:
    """The report's parameter defaults: report.qmd's ``params:``, where users edit them and Quarto
    and RStudio read them."""
    if not REPORT_FILE.is_file():
        raise FileNotFoundError(f"the report's defaults are read from {REPORT_FILE}, which does not exist: "
                                "install the package from the project (pip install -e python)")
    front_matter = REPORT_FILE.read_text(encoding="utf-8").split("---\n")[1]
    return yaml.safe_load(front_matter)["params"]
