"""The multi-label study's report pieces in R: the source both rewriting routes knit (report.qmd with
_multilabel.qmd in place, or without its two chunks), the title, the per-finding table beside the
published AUROCs, the co-occurrence matrix and the sentences that carry numbers."""

import json
import re

import numpy as np
import pandas as pd
import pytest

from conftest import ROOT
from spanish import es_number

REPORT = (ROOT / "report.qmd").read_text(encoding="utf-8").splitlines()
CHILD = (ROOT / "_multilabel.qmd").read_text(encoding="utf-8").splitlines()


def r_lines(r, expression):
    return list(r(expression))


def test_the_binary_source_is_report_qmd_without_the_two_mode_chunks(r_session):
    lines = r_lines(r_session, 'study_source(readLines("report.qmd", encoding = "UTF-8"), "Pneumothorax")')
    assert not any("label: multilabel" in line or "child:" in line or "knit_exit" in line for line in lines)
    removed = [line for line in REPORT if line not in lines]
    assert len(REPORT) - len(lines) == 10 and all(line.startswith(("```", "#|", "if (multilabel)"))
                                                   for line in removed), removed
    figures = r_lines(r_session, 'number_figures(study_source(readLines("report.qmd", encoding = "UTF-8"), '
                                 '"Effusion"), TRUE)')
    assert sum("label: fig-" in line for line in figures) == sum("label: fig-" in line for line in REPORT)


def test_the_multilabel_source_is_report_qmd_up_to_the_study_then_the_study_and_nothing_after(r_session):
    lines = r_lines(r_session, 'study_source(readLines("report.qmd", encoding = "UTF-8"), "all")')
    start = REPORT.index("#| label: multilabel-study") - 1  # its opening fence
    assert lines[:start] == REPORT[:start] and lines[start:] == CHILD
    assert "# Evaluación" not in lines and "# Evaluación por hallazgo" in lines
    numbered = r_lines(r_session, 'number_figures(study_source(readLines("report.qmd", encoding = "UTF-8"), "all"), '
                                  'TRUE)')
    text = "\n".join(numbered)
    assert "@fig-" not in text and "La Figura\u00a01 da" in text and "La Figura\u00a02 muestra" in text
    assert 'La Figura\u00a03"' in text  # the Grad-CAM note's reference, passed as an R string


def test_a_report_without_the_mode_chunk_is_named(r_session):
    message = r_session('tryCatch(study_source(c("# A", "```{r}", "x", "```"), "all"), '
                        'error = conditionMessage)')[0]
    assert message == "report.qmd needs one chunk labelled 'multilabel-study'"


def test_the_title_names_the_study(r_session):
    assert r_session('report_title("Pneumothorax")')[0] == (
        "Clasificación de radiografías de tórax: neumotórax frente a «sin hallazgos»")
    assert r_session('report_title("all")')[0] == (
        "Clasificación de radiografías de tórax: varios hallazgos a la vez con una sola red")


ROWS = pd.DataFrame({
    "finding": ["Effusion", "Hernia"], "test_images": [1234, 5], "test_patients": [1000, 4],
    "prevalence": [0.1, 0.001], "auroc": [0.8123, 0.55], "auroc_delong_low": [0.8, 0.3],
    "auroc_delong_high": [0.82, 0.8], "auroc_bootstrap_low": [0.79, 0.25], "auroc_bootstrap_high": [0.83, 0.85],
    "threshold": [0.41, 0.07], "sensitivity": [0.8, 0.6], "specificity": [0.7, 0.5],
})


def rows_in_r(r):
    columns = ", ".join(f"{c} = c({', '.join(map(repr, ROWS[c].tolist()))})" for c in ROWS)
    r(f"ml_rows <- data.frame({columns}, stringsAsFactors = FALSE)")


def test_the_results_table_sets_each_finding_beside_its_published_aurocs(r_session):
    rows_in_r(r_session)
    table = json.loads(r_session("jsonlite::toJSON(multilabel_results_table(ml_rows), dataframe = 'rows')")[0])
    published = pd.read_csv(ROOT / "python" / "chestxray" / "support" / "published_aurocs.csv").set_index("finding")
    assert [row["Hallazgo"] for row in table] == ["Derrame pleural", "Hernia"]
    for row, (_, mine) in zip(table, ROWS.iterrows()):
        theirs = published.loc[mine["finding"]]
        assert (row["Wang"], row["CheXNet"], row["R.-CheXNet"]) == tuple(
            es_number(theirs[c], 3) for c in ("wang_2017", "chexnet_2017", "reproduce_chexnet_2022"))
        assert row["AUROC"] == es_number(mine["auroc"], 3)
        low, high = es_number(mine["auroc_bootstrap_low"], 3), es_number(mine["auroc_bootstrap_high"], 3)
        assert row["Bootstrap"] == f"{low}–{high}"
    assert table[0]["Img. (pac.)"] == "1234 (1000)"


def test_co_occurrence_is_the_share_of_a_rows_images_with_the_column_finding(r_session):
    rng = np.random.default_rng(1)
    marks = (rng.random((200, 3)) < [0.3, 0.2, 0.1]).astype(int)
    marks[:20, :] = 1
    r_session(f"cooc_table <- data.frame(A = c({','.join(map(str, marks[:, 0]))}), "
              f"B = c({','.join(map(str, marks[:, 1]))}), C = c({','.join(map(str, marks[:, 2]))}))")
    got = np.array(r_session('cooccurrence_matrix(cooc_table, c("A", "B", "C"))')).reshape(3, 3, order="F")
    for i in range(3):
        for j in range(3):
            with_row = marks[:, i] == 1
            assert got[i, j] == pytest.approx(marks[with_row, j].mean())


def test_the_learning_sentence_counts_intervals_above_chance(r_session):
    rows_in_r(r_session)
    text = r_session("multilabel_learning_text(ml_rows)")[0]
    assert text.startswith("En 1 de 2 hallazgos el intervalo del AUROC por bootstrap de pacientes queda por encima")
    assert "en los demás (Hernia) este entrenamiento no distingue" in text


def test_the_mean_auroc_sentence_gives_its_interval_and_the_replicates_left_out(r_session):
    text = r_session('mean_auroc_text(list(mean_auroc = 0.7512, mean_auroc_ci95_patient_bootstrap = c(0.7, 0.8), '
                     'replicates = 2000L, replicates_used = 1990L), c("A", "B"))')[0]
    assert "**0,751**" in text and "0,700–0,800" in text
    assert re.search(r"De 2000 remuestreos, 10 se descartan", text)
