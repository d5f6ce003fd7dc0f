"""Spanish number typography (R/text/numbers.R) against the rules written out by hand
(RAE's Ortografía, ISO 80000-1) and against tests/spanish.py's independent formatter."""

import re

import pytest

from conftest import ROOT
from spanish import NBSP, es_number, es_percent


def r_text(r_session, code):
    return list(r_session(code))


@pytest.mark.parametrize("value, digits, expected", [
    (2024, 0, "2024"),  # four digits: never grouped
    (60361, 0, f"60{NBSP}361"),
    (8553602, 0, f"8{NBSP}553{NBSP}602"),
    (0.705, 3, "0,705"),
    (12345.56, 1, f"12{NBSP}345,6"),
    (-12345.5, 1, f"-12{NBSP}345,5"),
    (-0.01, 1, "0,0"),  # no "-0,0"
    (9999.96, 1, "10\u00a0000,0"),  # rounding carries into the fifth digit: grouped
])
def test_numbers_follow_the_spanish_rules(r_session, value, digits, expected):
    assert r_text(r_session, f"es_number({value!r}, {digits}L)") == [expected]


def test_numbers_as_r_prints_them_and_missing_values(r_session):
    assert r_text(r_session, "es_number(c(3e-4, 0.5, 60361, 3, NA))") == ["0,0003", "0,5", f"60{NBSP}361", "3", "–"]


def test_percentages_intervals_and_lists(r_session):
    assert r_text(r_session, "es_percent(c(0.8224, 1, NA))") == [f"82,2{NBSP}%", f"100,0{NBSP}%", "–"]
    assert r_text(r_session, "es_percent(0.95, 0)") == [f"95{NBSP}%"]
    assert r_text(r_session, "es_interval(0.7, 0.81, digits = 3)") == ["0,700–0,810"]
    assert r_text(r_session, "es_interval(0.1, NA, es_percent)") == ["–"]
    assert r_text(r_session, "spanish_list(c(8, 16, 32, 64))") == ["8, 16, 32 y 64"]
    assert r_text(r_session, "spanish_list(c(12000, 3))") == [f"12{NBSP}000 y 3"]


def test_r_and_the_tests_formatter_agree_on_a_spread_of_values(r_session):
    values = [0.0, 0.5, 0.04999, 1.0, 123.456, 9999.4, 10000.0, 123456.789, 1e7 + 0.25, -3.5]
    for digits in (0, 1, 3):
        r_values = "c(" + ", ".join(repr(v) for v in values) + ")"
        assert r_text(r_session, f"es_number({r_values}, {digits}L)") == [es_number(v, digits) for v in values]
        assert r_text(r_session, f"es_percent({r_values} / 1000, {digits}L)") == \
            [es_percent(v / 1000, digits) for v in values]


def test_spanish_sentences_use_named_placeholders_and_the_one_set_of_formatters():
    """No positional sprintf and no hand-made number formats in the report's Spanish text and displays."""
    for path in sorted((ROOT / "R").glob("*/*.R")):
        if path.parent.name not in {"text", "display"}:
            continue
        code = "\n".join(line for line in path.read_text(encoding="utf-8").splitlines()
                         if not line.lstrip().startswith("#"))
        assert "sprintf(" not in code, path
        assert not re.search(r"big\.mark|decimal\.mark", code) or path.name == "numbers.R", path
