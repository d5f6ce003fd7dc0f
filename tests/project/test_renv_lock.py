"""The lockfiles list every R package the code uses, at the versions of the system each records:
renv.lock Debian 13's (today's), renv-debian12.lock Debian 12's."""

import json

import pytest

from conftest import ROOT

LOCKFILES = ("renv.lock", "renv-debian12.lock")


def test_lockfile_covers_used_packages(r_session):
    """This system's lockfile, where it has one, at the installed versions; every lockfile lists every package."""
    used = set(r_session('locked_r_packages(".")'))
    assert {"reticulate", "knitr", "rmarkdown", "ggplot2", "pROC", "jsonlite", "IRkernel", "IRdisplay"} <= used
    for lockfile in LOCKFILES:  # each lists what the code uses; their dependencies differ between R releases
        missing = used - set(json.loads((ROOT / lockfile).read_text())["Packages"])
        assert not missing, f"R packages used but not in {lockfile} (run `make renv-lock` there): {sorted(missing)}"
    needed = used | set(r_session('with_dependencies(locked_r_packages("."))'))
    lockfile = r_session('(function(f) if (is.na(f)) "none" else f)(renv_lockfile_for_system())')[0]
    if lockfile == "none":  # Ubuntu and the like: no lockfile records their versions
        return
    lock = json.loads((ROOT / lockfile).read_text())
    assert lock["R"]["Version"] == r_session('paste(R.version$major, R.version$minor, sep = ".")')[0]
    for name in needed:
        installed = r_session(f'utils::packageDescription("{name}")$Version')[0]
        assert lock["Packages"][name]["Version"] == installed, (lockfile, name)


@pytest.mark.parametrize("release, lockfile", [
    ('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nVERSION_ID="12"\nID=debian\n', "renv-debian12.lock"),
    ('PRETTY_NAME="Debian GNU/Linux 13 (trixie)"\nVERSION_ID="13"\nID=debian\n', "renv.lock"),
    ('PRETTY_NAME="Debian GNU/Linux 13 (trixie)"\nVERSION_ID=13\nID=debian\n', "renv.lock"),
    ('PRETTY_NAME="Ubuntu 24.04 LTS"\nVERSION_ID="24.04"\nID=ubuntu\n', None),
    ('PRETTY_NAME="Debian GNU/Linux 14 (forky)"\nVERSION_ID="14"\nID=debian\n', None),
])
def test_each_system_writes_its_own_lockfile(r_session, tmp_path, release, lockfile):
    (tmp_path / "os-release").write_text(release)
    found = r_session(
        f'(function(f) if (is.na(f)) "none" else f)(renv_lockfile_for_system("{tmp_path / "os-release"}"))'
    )
    assert found[0] == (lockfile or "none")


@pytest.mark.parametrize("lockfile, r_version", [("renv.lock", "4.5"), ("renv-debian12.lock", "4.2")])
def test_lockfile_is_renv_format(lockfile, r_version):
    lock = json.loads((ROOT / lockfile).read_text())
    assert lock["R"]["Version"].startswith(r_version + ".")
    assert lock["R"]["Version"].count(".") == 2
    assert lock["R"]["Repositories"][0]["Name"] == "CRAN"
    for name, record in lock["Packages"].items():
        assert record["Package"] == name and record["Source"] == "Repository" and record["Version"]


def test_scanner_finds_namespaced_calls(r_session, tmp_path):
    (tmp_path / "R").mkdir()
    (tmp_path / "R" / "x.R").write_text('f <- function() somepkg::g()\nlibrary(otherpkg)\n# ignored::h\nstats::sd(1)\n')
    assert list(r_session(f'project_r_packages("{tmp_path}")')) == ["otherpkg", "somepkg"]
