"""The `finding` parameter: any of NIH's 14 findings against No Finding, one table of their
names and counts for both languages, and demo data that refuse to stand for another finding."""

import re

import pandas as pd
import pytest

from chestxray.preparation.dataset import prepare_dataset
from chestxray.sources.metadata import read_metadata
from chestxray.sources.phantoms import DEMO_FINDING
from chestxray.sources.preflight import InputError, check_report_inputs
from chestxray.support.findings import FINDINGS, findings_table
from chestxray.support.report_params import allowed_values

from conftest import fixture


def test_the_findings_table_counts_nihs_metadata(r_session):
    metadata = read_metadata(fixture("nih", "metadata", "Data_Entry_2017_v2020.csv.gz"))
    labels = metadata["finding_labels"].str.split("|")
    mined = sorted({label for row in labels for label in row} - {"No Finding"})
    assert list(FINDINGS) == mined and allowed_values("finding") == (*FINDINGS, "all")  # all: the multi-label study
    for row in findings_table():
        assert int(row["nih_images"]) == sum(row["finding"] in ls for ls in labels), row["finding"]
        assert int(row["nih_images_only"]) == metadata["finding_labels"].eq(row["finding"]).sum(), row["finding"]
        assert row["spanish"] and row["description_es"]
    assert r_session("NIH_NO_FINDING_IMAGES")[0] == metadata["finding_labels"].eq("No Finding").sum()


def test_r_names_a_finding_in_spanish(r_session):
    names = r_session('finding_names("Pleural_Thickening")')
    assert names.rx2("es")[0] == "Engrosamiento pleural" and names.rx2("es_lower")[0] == "engrosamiento pleural"
    assert names.rx2("nih_images")[0] == 3385 and not names.rx2("is_pneumothorax")[0]
    assert r_session('finding_in_title("Pneumothorax")')[0] == "neumotórax"
    # an unknown finding stays as written in the title; check_params stops on it with its message
    assert r_session('finding_in_title("Pneumotorax")')[0] == "Pneumotorax"
    assert len(set(row["spanish"] for row in findings_table())) == 14


def test_demo_data_refuse_another_finding_and_say_what_to_use(tmp_path):
    message = ("parameter 'finding' is 'Effusion', but the demo data (data=demo) are phantoms that only show a "
               "pneumothorax-like sign, so they can only stand for Pneumothorax (or, with finding=all, the multi-label "
               "demo's five findings): for Effusion, use data=folder "
               "(class folders Effusion/ and No-Finding/ in data_dir) or data=nih")
    with pytest.raises(InputError, match=re.escape(message)):
        check_report_inputs("demo", str(tmp_path / "demo"), finding="Effusion")
    check_report_inputs("demo", str(tmp_path / "demo"), finding=DEMO_FINDING)
    check_report_inputs("folder", str(tmp_path), finding="Effusion")  # own folders: any finding
    with pytest.raises(InputError, match="only show a pneumothorax-like sign"):
        prepare_dataset("demo", str(tmp_path / "demo"), 20, 32, 1, cache_dir=str(tmp_path / "cache"), finding="Mass")
    assert not (tmp_path / "demo").exists() and not (tmp_path / "cache").exists()  # stopped before drawing


def test_adjudicated_labels_need_a_column_for_the_finding(tmp_path):
    google = tmp_path / "google.csv"
    pd.read_csv(fixture("nih", "metadata", "google2019_nih-chest-xray-labels.csv.gz")).to_csv(google, index=False)
    archives = dict(nih_archives="1", nih_metadata="")
    check_report_inputs("nih", "", adjudicated_labels=str(google), finding="Pneumothorax", **archives)
    with pytest.raises(InputError, match=re.escape("lacks the column(s) ['Effusion']: it needs 'Image Index' and one "
                                                   "named after the finding (Effusion), YES for positive")):
        check_report_inputs("nih", "", adjudicated_labels=str(google), finding="Effusion", **archives)


def test_computed_captions_are_numbered_like_written_ones(r_session):
    lines = ['#| label: fig-a', '#| fig-cap: "Texto: fijo."', "Véase @fig-b.", "#| label: fig-b",
             """#| fig-cap: !expr 'sprintf("Mapa: %s, ''n''.", x)'"""]
    r_session.assign("lines", r_session("c")(*lines))
    numbered = list(r_session("number_figures(lines, prefix_captions = TRUE)"))
    assert numbered[1] == '#| fig-cap: "Figura\u00a01: Texto: fijo."' and numbered[2] == "Véase Figura\u00a02."
    assert numbered[4] == """#| fig-cap: !expr 'paste0("Figura\u00a02: ", sprintf("Mapa: %s, ''n''.", x))'"""
    r_session.assign("option", numbered[4])
    caption = r_session('x <- "X"; eval(parse(text = yaml::yaml.load(sub("^.*!expr ", "", option))))')
    assert caption[0] == "Figura\u00a02: Mapa: X, 'n'."


def test_the_title_is_evaluated_for_the_parameters(r_session):
    lines = [
        "---",
        "title: \"A: `r source('R/text/findings.R'); finding_in_title(params$finding)` y B\"",
        "---",
        "`r 1`",
    ]
    r_session.assign("lines", r_session("c")(*lines))
    evaluated = list(r_session('evaluate_title(lines, list(finding = "Effusion"))'))
    assert evaluated == ["---", 'title: "A: derrame pleural y B"', "---", "`r 1`"]  # the body is knitr's, later
