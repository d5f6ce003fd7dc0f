"""The R mutation script (scripts/mutate_r.py) refuses an edit that no longer applies
exactly once, so a changed R file cannot silently yield a different mutant."""

import importlib.util
import sys

import pytest

from conftest import ROOT

SCRIPT = ROOT / "scripts" / "mutate_r.py"
spec = importlib.util.spec_from_file_location("mutate_r", SCRIPT)
mutate_r = importlib.util.module_from_spec(spec)
sys.modules["mutate_r"] = mutate_r  # dataclasses look their module up
spec.loader.exec_module(mutate_r)

FLIP = mutate_r.Mutant("X01", "R/evaluate/metrics.R", "a >= b", "a > b", "comparison flipped")


def test_an_edit_found_once_is_made_there_only():
    assert mutate_r.apply_mutant("keep <- a >= b\nother <- c\n", FLIP) == "keep <- a > b\nother <- c\n"


@pytest.mark.parametrize("text, times", [("keep <- a > b\n", 0), ("x <- a >= b; y <- a >= b\n", 2)])
def test_an_edit_not_found_exactly_once_is_refused(text, times):
    with pytest.raises(mutate_r.StaleMutant, match=f"X01: old text found {times} times in R/evaluate/metrics.R"):
        mutate_r.apply_mutant(text, FLIP)


def test_a_stale_edit_stops_the_run_before_any_test(tmp_path):
    (tmp_path / "R" / "evaluate").mkdir(parents=True)
    (tmp_path / "R" / "evaluate" / "metrics.R").write_text("nothing to flip\n")
    with pytest.raises(SystemExit, match="these edits do not apply; update them:\n  X01: old text found 0 times"):
        mutate_r.check_mutants([FLIP], tmp_path)


def test_a_partial_run_updates_its_mutants_rows_and_keeps_the_others(tmp_path):
    record = tmp_path / "mutation_r.csv"
    record.write_text("id,status\nA01,survived\nB02,killed\nD04,killed\n")
    declared = {"A01", "B02", "C03"}  # D04's edit was since removed: its row goes
    merged = mutate_r.merged_rows([{"id": "A01", "status": "killed"}, {"id": "C03", "status": "killed"}], record,
                                  declared)
    assert merged == [{"id": "A01", "status": "killed"}, {"id": "B02", "status": "killed"},
                      {"id": "C03", "status": "killed"}]
    assert mutate_r.merged_rows([{"id": "A01", "status": "x"}], tmp_path / "none.csv", declared) == [
        {"id": "A01", "status": "x"}]


def test_a_partial_python_run_keeps_the_verdicts_of_the_mutants_it_did_not_check(tmp_path):
    spec = importlib.util.spec_from_file_location("mutate_py", ROOT / "scripts" / "mutate_py.py")
    mutate_py = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mutate_py)
    record = tmp_path / "mutation_py.csv"
    record.write_text("mutant,status\na_1,killed\nb_1,survived\nc_1,equivalent\n")
    rows = [{"mutant": "a_1", "status": "not checked"}, {"mutant": "b_1", "status": "killed"},
            {"mutant": "c_1", "status": "not checked"}, {"mutant": "d_1", "status": "not checked"}]
    assert mutate_py.earlier_verdicts(rows, record) == [
        {"mutant": "a_1", "status": "killed"}, {"mutant": "b_1", "status": "killed"},  # rerun: the new verdict
        {"mutant": "c_1", "status": "equivalent"}, {"mutant": "d_1", "status": "not checked"}]  # never run
    assert mutate_py.earlier_verdicts(rows, tmp_path / "none.csv") == rows
