"""The JavaScript mutation script (scripts/mutate_js.py) refuses an edit that no longer applies
exactly once to assets/explorer.js, as the R one does, and every edit it declares applies today."""

import importlib.util
import sys

import pytest

from conftest import ROOT

SCRIPTS = ROOT / "scripts"
spec = importlib.util.spec_from_file_location("mutate_js", SCRIPTS / "mutate_js.py")
mutate_js = importlib.util.module_from_spec(spec)
sys.modules["mutate_js"] = mutate_js
spec.loader.exec_module(mutate_js)


def test_a_stale_js_edit_stops_the_run_before_any_test(tmp_path, capsys):
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "explorer.js").write_text("var tp = data.tp[i], fp = data.fp[i];\n// no shares here\n")
    swap, share = mutate_js.MUTANTS[0], next(m for m in mutate_js.MUTANTS if m.id == "J08")
    mutate_js.mutate_r.check_mutants([swap], tmp_path, mutate_js.TESTS_BY_FILE, "mutate_js")  # applies: no exit
    with pytest.raises(
        SystemExit, match="mutate_js: these edits do not apply; update them:\n  J08: old text found 0 times"
    ):
        mutate_js.mutate_r.check_mutants([swap, share], tmp_path, mutate_js.TESTS_BY_FILE, "mutate_js")


def test_the_command_line_checks_before_it_runs(monkeypatch):
    """`--check` on the project: every declared edit applies exactly once; ids are unique."""
    assert mutate_js.main(["--check"]) == 0
    ran = []
    monkeypatch.setattr(mutate_js.mutate_r, "run_mutants", lambda *args: ran.append(args) or [])
    stale = mutate_js.Mutant("J99", mutate_js.JS, "text explorer.js never holds", "x", "stale")
    monkeypatch.setattr(mutate_js, "MUTANTS", [*mutate_js.MUTANTS, stale])
    with pytest.raises(SystemExit, match="J99: old text found 0 times in assets/explorer.js"):
        mutate_js.main([])
    assert ran == []
