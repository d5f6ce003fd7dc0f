"""The pinned Python sets: which one the set-up installs (the rule, on the systems the README names),
what each pins, and that the environment the tests run in is the one the rule chose."""

from __future__ import annotations

import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from conftest import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
import requirements_set as rule  # noqa: E402


def pins(pinned_file: str) -> dict[str, Requirement]:
    """name -> requirement of every `name==version` line of a pinned set."""
    found = {}
    for line in (ROOT / pinned_file).read_text().splitlines():
        if line and not line.startswith(("#", " ", "-")):
            requirement = Requirement(line)
            found[canonical(requirement.name)] = requirement
    return found


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pinned_version(requirement: Requirement) -> str:
    (specifier,) = requirement.specifier
    assert specifier.operator == "==", f"{requirement} is not pinned exactly"
    return specifier.version


# (system, reticulate, Python) -> the set. Debian 12 and 13 are booted by ../shared/tools/freshbox; Ubuntu
# 24.04 (noble) cannot be booted here: its reticulate is 1.34 or 1.35 (both before 1.38), Python 3.12.
@pytest.mark.parametrize("system, reticulate, python, expected", [
    ("Debian 12", "1.28", "3.11", "requirements-numpy1.txt"),
    ("Debian 13", "1.41.0.1", "3.13", "requirements.txt"),
    ("Ubuntu 24.04", "1.34.0", "3.12", "requirements-numpy1.txt"),
    ("Ubuntu 24.04", "1.35.0", "3.12", "requirements-numpy1.txt"),
    ("reticulate 1.37 from CRAN", "1.37.0", "3.12", "requirements-numpy1.txt"),
    ("reticulate 1.38 from CRAN", "1.38.0", "3.12", "requirements.txt"),
    ("a new reticulate on Debian 12's Python", "1.43.0", "3.11", "requirements-numpy1.txt"),
])
def test_the_set_follows_what_reticulate_converts(system, reticulate, python, expected):
    assert rule.pinned_set(reticulate, python, "x86_64").file == expected, system
    if expected == "requirements.txt":  # its wheels exist for arm64 too (Docker on Apple silicon)
        assert rule.pinned_set(reticulate, python, "aarch64").file == expected, system


@pytest.mark.parametrize("reticulate, python, machine, message", [
    ("1.41", "3.14", "x86_64", r"Python 3\.14 .*requirements\.txt is pinned for Python 3\.12 to 3\.13; add this Python "
                               r".*make requirements"),
    ("1.28", "3.10", "x86_64", r"Python 3\.10 .*requirements-numpy1\.txt is pinned for Python 3\.11"),
    ("1.28", "3.13", "x86_64", r"reticulate 1\.28 cannot convert NumPy 2 arrays, and NumPy 1 has no wheels for "
                               r"Python 3\.13: install reticulate 1\.38 or newer"),
    ("1.28", "3.11", "aarch64", r"NumPy 1 set, pinned for x86-64 only \(this machine: aarch64\): install reticulate"),
    ("", "3.11", "x86_64", "not a version number: ''"),
    ("1.3_8", "3.12", "x86_64", "not a version number: '1.3_8'"),
    ("1.41.0-1", "3.13", "x86_64", "not a version number"),  # a Debian package's version, not reticulate's
    ("1.41", "3", "x86_64", r"not a Python version \(major.minor\): '3'"),
])
def test_no_set_stops_naming_the_remedy(reticulate, python, machine, message):
    with pytest.raises(rule.NoPinnedSet, match=message):
        rule.pinned_set(reticulate, python, machine)


def test_the_command_line_prints_the_file_and_says_why():
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "requirements_set.py"), "1.28", "3.11"],
                          capture_output=True, text=True)
    assert (done.returncode, done.stdout) == (0, "requirements-numpy1.txt\n")
    assert done.stderr == "setup: reticulate 1.28 and Python 3.11: requirements-numpy1.txt (NumPy 1)\n"
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "requirements_set.py"), "1.41", "3.14"],
                          capture_output=True, text=True)
    assert done.returncode == 1 and done.stdout == "" and "make requirements" in done.stderr


@pytest.mark.parametrize("pinned, numpy, pandas", [(rule.CURRENT, "2", "3"), (rule.NUMPY1, "1", "2")])
def test_each_set_pins_every_direct_dependency_to_one_version(pinned, numpy, pandas):
    pinned_packages = pins(pinned.file)
    linux_x86_64 = {"sys_platform": "linux", "platform_machine": "x86_64"}  # all the NumPy 1 set serves
    direct = set()
    for source in (ROOT / name for name in pinned.inputs):
        for line in source.read_text().splitlines():
            if line and not line.startswith(("#", "-r")):
                requirement = Requirement(line)
                if pinned is rule.CURRENT or requirement.marker is None or requirement.marker.evaluate(linux_x86_64):
                    direct.add(canonical(requirement.name))
    assert direct <= set(pinned_packages), f"{pinned.file} lacks {direct - set(pinned_packages)}"
    for requirement in pinned_packages.values():
        pinned_version(requirement)
    assert pinned_version(pinned_packages["numpy"]).split(".")[0] == numpy
    assert pinned_version(pinned_packages["pandas"]).split(".")[0] == pandas


@pytest.mark.parametrize("pinned", rule.SETS, ids=lambda s: s.file)
def test_each_set_installs_wheels_only_but_rpy2s_r_interface(pinned):
    """pip reads the options in order, and a later `--only-binary :all:` clears the exception before it."""
    from pip._internal.models.format_control import FormatControl

    options = [line.split() for line in (ROOT / pinned.file).read_text().splitlines() if line.startswith("--")]
    assert options == [["--only-binary", ":all:"], ["--no-binary", pinned.built_from_source]]
    control = FormatControl(set(), set())
    for option, value in options:
        target, other = ((control.only_binary, control.no_binary) if option == "--only-binary" else
                         (control.no_binary, control.only_binary))
        FormatControl.handle_mutual_excludes(value, target, other)
    assert control.get_allowed_formats(pinned.built_from_source) == frozenset({"source"})
    for name in ("numpy", "tensorflow-cpu", "pandas", "rpy2-robjects"):
        if name != pinned.built_from_source:
            assert control.get_allowed_formats(name) == frozenset({"binary"})


def test_this_environment_is_the_set_the_rule_chose():
    """The set-up installed what the rule picks for this R and this Python, version for version."""
    reticulate = subprocess.run(["Rscript", "-e", 'cat(format(packageVersion("reticulate")))'],
                                capture_output=True, text=True, check=True).stdout
    chosen = rule.pinned_set(reticulate, f"{sys.version_info.major}.{sys.version_info.minor}")
    stamp = ROOT / ".venv" / ".requirements-installed"
    if stamp.exists():  # the set-up's record of what it installed (absent where tests run outside make)
        assert stamp.read_text() == (ROOT / chosen.file).read_text()
    wrong = {}
    for name, requirement in pins(chosen.file).items():
        if requirement.marker is None or requirement.marker.evaluate():
            try:
                installed = metadata.version(name)
            except metadata.PackageNotFoundError:
                installed = None
            if installed != pinned_version(requirement):
                wrong[name] = (installed, pinned_version(requirement))
    assert not wrong, f"installed vs {chosen.file}: {wrong}"


@pytest.mark.parametrize("pinned", rule.SETS, ids=lambda s: s.file)
def test_each_set_is_resolved_from_the_inputs_as_they_are(pinned):
    """An edit to requirements.in (or requirements-numpy1.in) without `make requirements` leaves a stale set."""
    import hashlib

    expected = ", ".join(
        f"{name} {hashlib.sha256((ROOT / name).read_bytes()).hexdigest()[:16]}" for name in pinned.inputs
    )
    header = [line for line in (ROOT / pinned.file).read_text().splitlines() if line.startswith("# resolved from")]
    assert header == [f"# resolved from (SHA-256): {expected}"], "run `make requirements`"


def test_the_pinning_script_checks_the_wheels_of_every_platform_each_set_serves():
    import pin_requirements

    for pinned in rule.SETS:
        header = (ROOT / pinned.file).read_text().splitlines()[2]
        assert header == pin_requirements.HEADERS[pinned.file].splitlines()[0]
    assert pin_requirements.PLATFORMS[rule.NUMPY1.file] == ("x86_64-manylinux_2_28",)  # as rule.NUMPY1_MACHINES
    assert {"x86_64-manylinux_2_28", "aarch64-manylinux_2_28", "aarch64-apple-darwin", "x86_64-pc-windows-msvc"} == set(
        pin_requirements.PLATFORMS[rule.CURRENT.file])


def test_rpy2_was_built_without_compiling():
    """rpy2's R interface, the one package built from source, in cffi's ABI mode: no C extension in the venv."""
    import importlib.util

    from rpy2.rinterface_lib import openrlib

    assert openrlib._rinterface_cffi.__name__ == "_rinterface_cffi_abi"
    assert importlib.util.find_spec("_rinterface_cffi_api") is None
    assert 'RPY2_CFFI_MODE=ABI .venv/bin/python -m pip install' in (ROOT / "scripts" / "setup.sh").read_text()


def test_the_setup_script_installs_the_rules_choice():
    setup = (ROOT / "scripts" / "setup.sh").read_text()
    assert 'requirements=$(/usr/bin/python3 scripts/requirements_set.py "$reticulate")' in setup
    assert 'pip install --quiet --disable-pip-version-check -r "$requirements"' in setup
    assert Path(ROOT / "requirements.txt").exists() and Path(ROOT / "requirements-numpy1.txt").exists()


def r_python_discovery(root: Path, configured: str | None) -> subprocess.CompletedProcess:
    """R/run/python_env.R's project_python() for a project folder, with RETICULATE_PYTHON as given."""
    script = f'source("{ROOT}/R/run/python_env.R"); cat(project_python("{root}"))'
    env = {k: v for k, v in __import__("os").environ.items() if k != "RETICULATE_PYTHON"}
    if configured is not None:
        env["RETICULATE_PYTHON"] = configured
    return subprocess.run(["Rscript", "-e", script], cwd=root, env=env, capture_output=True, text=True)


@pytest.mark.parametrize("layout", ["bin/python", "Scripts/python.exe"])
def test_r_finds_the_venv_of_either_layout_even_when_environment_names_the_other(tmp_path, layout):
    """POSIX venvs keep python in bin/, Windows ones in Scripts/; _environment names the POSIX path."""
    interpreter = tmp_path / ".venv" / layout
    interpreter.parent.mkdir(parents=True)
    interpreter.write_text("")
    for configured in (None, ".venv/bin/python"):
        done = r_python_discovery(tmp_path, configured)
        assert done.returncode == 0, done.stderr
        assert done.stdout == str(interpreter.resolve())
    missing = r_python_discovery(tmp_path, "/nowhere/python")
    assert missing.stdout == str(interpreter.resolve())  # a stale setting gives way to the project's venv


def test_r_names_a_missing_python_it_was_told_to_use(tmp_path):
    done = r_python_discovery(tmp_path, "/nowhere/python")
    assert done.returncode == 1 and "RETICULATE_PYTHON names /nowhere/python, which does not exist" in done.stderr
    done = r_python_discovery(tmp_path, None)
    assert done.returncode == 1 and "no project Python found: run `make setup`" in done.stderr
