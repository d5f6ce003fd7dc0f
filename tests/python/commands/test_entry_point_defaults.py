"""One default per setting, whichever way the pipeline is entered: the report (report.qmd's params), the command
line (python -m chestxray, parsed by argparse) and the Python API (the functions' signatures)."""

import inspect
import re

import pytest
import yaml

from chestxray.cli import PHANTOM_SIZE, build_parser
from chestxray.preparation.organize import organize, prepare_nih
from chestxray.sources.metadata import check_task, select_task
from chestxray.sources.phantoms import write_demo_dataset
from chestxray.support.report_params import report_defaults

from conftest import ROOT


def report_qmd_params() -> dict:
    """report.qmd's params as Quarto reads them: the YAML front matter."""
    return yaml.safe_load((ROOT / "report.qmd").read_text(encoding="utf-8").split("---\n")[1])["params"]


def cli_default(command: str, option: str):
    """The value the command line uses when ``option`` is not given."""
    required = {"demo": ["--out", "x"], "organize": ["--images", "x", "--out", "y"], "split": ["--manifest", "x"],
                "prepare": ["--manifest", "x"]}[command]
    return getattr(build_parser().parse_args([command, *required]), option)


def api_default(function, parameter: str):
    return inspect.signature(function).parameters[parameter].default


def test_the_package_reads_the_reports_own_defaults():
    assert report_defaults() == report_qmd_params()


def test_match_defaults_to_the_reports_everywhere():
    report = report_qmd_params()["match"]
    assert report == "any"  # the study's definition: the finding among an image's labels
    assert cli_default("organize", "match") == report
    for function in (organize, prepare_nih, select_task, check_task):
        assert api_default(function, "match") == report, function.__name__


@pytest.mark.parametrize("command", ["demo", "organize", "split"])
def test_seed_defaults_to_the_reports(command):
    assert cli_default(command, "seed") == report_qmd_params()["seed"]


def test_the_apis_seeds_default_to_the_reports():
    for function in (organize, prepare_nih, write_demo_dataset):
        assert api_default(function, "seed") == report_qmd_params()["seed"], function.__name__


def test_demo_draws_as_many_phantoms_per_class_as_the_report():
    report = report_qmd_params()["n_per_class"]
    assert cli_default("demo", "n_per_class") == report == api_default(write_demo_dataset, "n_per_class")


def test_prepare_caches_at_the_reports_image_size():
    assert cli_default("prepare", "size") == report_qmd_params()["image_size"]


def test_demo_draws_phantoms_at_the_size_the_report_draws_them():
    """Not image_size on purpose: the report's demo (dataset.prepare_dataset) draws phantoms at
    write_demo_dataset's own size and resizes them to image_size when caching."""
    assert cli_default("demo", "size") == PHANTOM_SIZE == api_default(write_demo_dataset, "size")
    from chestxray.preparation import dataset

    report_call = re.search(r"write_demo_dataset\([^)]*\)", inspect.getsource(dataset)).group(0)
    assert "size" not in report_call, report_call
