"""Every report parameter is declared once (python/chestxray/support/report_params.yml): R checks
values against it, Python takes its values from it, the README's tables are written from it."""

import re
import shutil
import subprocess

import pytest
import yaml

from chestxray.preparation.dataset import SOURCES
from chestxray.sources.metadata import MATCHES
from chestxray.support.report_params import allowed_values, definitions

from conftest import ROOT, copy_project

TYPES = {"choice", "integer", "number", "selection", "text", "optional"}


def report_defaults() -> dict:
    text = (ROOT / "report.qmd").read_text(encoding="utf-8")
    return yaml.safe_load(text.split("---\n")[1])["params"]


def test_report_qmd_and_the_definitions_declare_the_same_parameters_in_the_same_order():
    assert list(report_defaults()) == list(definitions())


def test_every_definition_is_complete():
    for name, rule in definitions().items():
        assert rule["type"] in TYPES, name
        assert rule["section"] in ("general", "nih"), name
        assert rule["meaning"].strip(), name
        if rule["type"] == "choice":
            assert allowed_values(name), name
        if rule["type"] in ("integer", "number", "selection"):
            assert rule["min"] < rule["max"], name


def test_every_default_passes_its_own_rule(r_session):
    r_session('defaults <- rmarkdown::yaml_front_matter("report.qmd")$params')
    assert list(r_session("names(check_params(defaults))")) == list(definitions())
    assert r_session("identical(unname(unlist(lapply(check_params(defaults), as.character))), "
                     "unname(unlist(lapply(defaults, as.character))))")[0]


def test_r_and_python_read_the_same_values(r_session):
    for name, rule in definitions().items():
        if rule["type"] == "choice":
            assert tuple(r_session(f'param_rules()[["{name}"]]$values')) == allowed_values(name), name
    assert SOURCES == allowed_values("data") and MATCHES == allowed_values("match")


def test_every_model_value_has_a_builder(r_session):
    assert set(r_session("names(MODEL_BUILDERS)")) == set(allowed_values("model"))


def test_check_params_takes_its_rules_from_the_definitions_file(tmp_path):
    """Narrow a rule in the file and R's check follows, message included."""
    project = copy_project(tmp_path / "project")
    definitions_file = project / "python" / "chestxray" / "support" / "report_params.yml"
    definitions_file.write_text(
        definitions_file.read_text().replace("  min: 32\n  max: 512\n", "  min: 32\n  max: 256\n")
    )
    done = subprocess.run(["Rscript", "-e", 'source("R/run/params.R"); check_param("image_size", "300")'],
                          cwd=project, capture_output=True, text=True)
    assert done.returncode != 0
    assert "parameter 'image_size' is '300' but must be an integer from 32 to 256" in done.stderr


def test_readme_parameter_tables_are_the_generated_ones():
    done = subprocess.run(["Rscript", "scripts/write_readme_params.R", "--check"], cwd=ROOT, capture_output=True,
                          text=True)
    assert done.returncode == 0, f"{done.stderr}\nrun `make readme-params`"
    readme = (ROOT / "README.md").read_text()
    assert "| `data` | `demo` | one of: demo, folder, nih |" in readme  # the words of the error message
    for name in definitions():
        assert f"| `{name}` |" in readme, name


def test_readme_check_fails_when_a_meaning_changes(tmp_path):
    project = copy_project(tmp_path / "project")
    shutil.copy(ROOT / "README.md", project / "README.md")
    definitions_file = project / "python" / "chestxray" / "support" / "report_params.yml"
    definitions_file.write_text(definitions_file.read_text().replace("images per training batch",
                                                                     "images in each training batch"))
    check = ["Rscript", "scripts/write_readme_params.R", "--check"]
    done = subprocess.run(check, cwd=project, capture_output=True, text=True)
    assert done.returncode == 1 and "run `make readme-params`" in done.stderr
    subprocess.run(["Rscript", "scripts/write_readme_params.R"], cwd=project, check=True, capture_output=True)
    assert "| `batch_size` | `16` | an integer from 1 to 1024 | images in each training batch |" in \
        (project / "README.md").read_text()
    assert subprocess.run(check, cwd=project, capture_output=True).returncode == 0


@pytest.mark.parametrize("name, value, message", [
    ("nih_base_url", "ftp//mirror", "parameter 'nih_base_url' is 'ftp//mirror' but must be an http://, https:// or "
                                    "file:// URL, or empty for NIH's own links"),
    ("model", "resnet", "parameter 'model' is 'resnet' but must be one of: cnn, baseline, densenet121, mobilenetv2"),
    ("target_sensitivity", "1", "parameter 'target_sensitivity' is '1' but must be a number from 0.5 to 0.999"),
    ("data_dir", "", "parameter 'data_dir' is '' but must be a non-empty text"),
])
def test_errors_quote_what_the_definition_accepts(r_session, name, value, message):
    from rpy2.rinterface_lib.embedded import RRuntimeError

    with pytest.raises(RRuntimeError, match=re.escape(message)):
        r_session(f'check_param("{name}", "{value}")')


# By hand: what `nih_archives` accepts (NIH's 12 archives), whatever `data` is.
SELECTIONS = [
    ("1", True),
    ("1,2,5-7", True),
    ("7,2-3,2", True),
    ("all", True),
    ("ALL", True),
    (" 1 , 3 - 4 ", True),
    ("12", True),
    ("13", False),
    ("2-14", False),
    ("0", False),
    ("5-3", False),
    ("1,", False),
    ("", False),
    ("first", False),
    ("1;2", False),
]


@pytest.mark.parametrize("text, accepted", SELECTIONS)
def test_one_parser_decides_which_archive_selections_are_accepted(text, accepted):
    """chestxray.sources.download.parse_selection, which the download uses; the report's preflight applies it
    (R checks only that the parameter is text: no second parser to drift from it)."""
    from chestxray.sources.preflight import InputError, check_nih_inputs

    try:
        check_nih_inputs(text)
        assert accepted, text
    except InputError as error:
        assert not accepted and str(error).startswith(f"parameter 'nih_archives' is '{text}': "), error


def test_r_leaves_a_selections_grammar_to_the_one_parser(r_session):
    assert r_session('check_param("nih_archives", "first")')[0] == "first"  # the preflight stops it, named
    from rpy2.rinterface_lib.embedded import RRuntimeError

    with pytest.raises(RRuntimeError, match="parameter 'nih_archives' is ' ' but must be 'all' or numbers"):
        r_session('check_param("nih_archives", " ")')


def test_the_archive_rule_counts_nihs_archives():
    from chestxray.sources.download import nih_archives

    assert definitions()["nih_archives"]["max"] == len(nih_archives()) == 12


def test_an_archive_out_of_range_stops_the_preflight_whatever_the_data(tmp_path):
    from chestxray.sources.preflight import InputError, check_report_inputs

    for data in ("demo", "folder", "nih"):
        with pytest.raises(InputError, match=re.escape(
                "parameter 'nih_archives' is '13': archives are numbered 1 to 12; '13' is out of range")):
            check_report_inputs(data, str(tmp_path), nih_archives="13")
