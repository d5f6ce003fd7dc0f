"""renv.lock lists every R package the code uses, at the installed versions."""

import json

from conftest import ROOT


def test_lockfile_covers_used_packages(r_session):
    lock = json.loads((ROOT / "renv.lock").read_text())
    used = set(r_session('project_r_packages(".")'))
    assert {"reticulate", "knitr", "rmarkdown", "ggplot2", "pROC", "jsonlite"} <= used
    missing = used - set(lock["Packages"])
    assert not missing, f"R packages used but not in renv.lock (run `make renv-lock`): {sorted(missing)}"
    for name in used | set(r_session('with_dependencies(project_r_packages("."))')):
        assert name in lock["Packages"], f"dependency {name} missing from renv.lock"
        installed = r_session(f'utils::packageDescription("{name}")$Version')[0]
        assert lock["Packages"][name]["Version"] == installed, name


def test_lockfile_is_renv_format():
    lock = json.loads((ROOT / "renv.lock").read_text())
    assert lock["R"]["Version"].count(".") == 2
    assert lock["R"]["Repositories"][0]["Name"] == "CRAN"
    for name, record in lock["Packages"].items():
        assert record["Package"] == name and record["Source"] == "Repository" and record["Version"]


def test_scanner_finds_namespaced_calls(r_session, tmp_path):
    (tmp_path / "R").mkdir()
    (tmp_path / "R" / "x.R").write_text('f <- function() somepkg::g()\nlibrary(otherpkg)\n# ignored::h\nstats::sd(1)\n')
    assert list(r_session(f'project_r_packages("{tmp_path}")')) == ["otherpkg", "somepkg"]
