"""finding=all end to end with tiny parameters: the multi-label demo rendered by the knitr fallback
(HTML, then PDF from the stored results), every per-finding number recomputed from the published
files with scikit-learn, the model card's thresholds shown to be validation's, and `predict`
scoring images as the report did."""

import json
import os
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score, roc_curve

from conftest import ROOT, copy_project, render
from spanish import es_number

pytestmark = pytest.mark.slow

PARAMS = ["finding=all", "n_per_class=60", "image_size=48", "epochs=2", "batch_size=16", "seed=7"]
FINDINGS = ["Cardiomegaly", "Effusion", "Mass", "Nodule", "Pneumothorax"]  # the demo's, findings.csv's order


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    project = copy_project(tmp_path_factory.mktemp("multilabel") / "project")
    done = render(project, *PARAMS)
    assert done.returncode == 0, done.stderr[-3000:]
    return project, done


def outputs(project):
    out = project / "_output"
    return (pd.read_csv(out / "predictions.csv", dtype={"patient_id": str}),
            pd.read_csv(out / "validation_predictions.csv", dtype={"patient_id": str}),
            json.loads((out / "metrics.json").read_text()), json.loads((out / "model-card.json").read_text()))


def report_text(project, name="report.html"):
    text = (project / "_output" / name).read_text(encoding="utf-8")
    return re.sub(r"[ \t\n]+", " ", re.sub(r"<[^>]+>", " ", re.sub(r"<script.*?</script>", "", text, flags=re.S)))


def test_each_findings_auroc_and_counts_recomputed_from_predictions(rendered):
    project, _ = rendered
    test, _, metrics, _ = outputs(project)
    assert list(metrics["findings"]) == FINDINGS
    aurocs = []
    for finding in FINDINGS:
        labels, scores = test[f"label_{finding}"], test[f"probability_{finding}"]
        row = metrics["findings"][finding]
        aurocs.append(roc_auc_score(labels, scores))
        assert row["auroc"] == pytest.approx(aurocs[-1], abs=1e-9), finding
        assert row["test_images"] == labels.sum()
        assert row["test_patients"] == test.loc[labels == 1, "patient_id"].nunique()
        assert row["prevalence"] == pytest.approx(labels.mean())
        assert row["auroc_delong_low"] <= row["auroc"] <= row["auroc_delong_high"]
        # sensitivity and specificity at the threshold chosen on validation, counted on test
        predicted = scores >= row["threshold"]
        assert row["sensitivity"] == pytest.approx(predicted[labels == 1].mean())
        assert row["specificity"] == pytest.approx((~predicted[labels == 0]).mean())
    # the mean is over findings (each once), not over images
    assert metrics["mean_auroc"] == pytest.approx(np.mean(aurocs), abs=1e-9)
    low, high = metrics["mean_auroc_ci95_patient_bootstrap"]
    assert low < high and metrics["mean_auroc_bootstrap"]["replicates"] == 2000


def test_each_threshold_is_youdens_on_validation_and_the_card_carries_them(rendered):
    project, _ = rendered
    _, validation, metrics, card = outputs(project)
    assert list(card["thresholds"]) == card["findings"] == FINDINGS
    for finding in FINDINGS:
        labels, scores = validation[f"label_{finding}"], validation[f"probability_{finding}"]
        threshold = card["thresholds"][finding]
        assert threshold == metrics["findings"][finding]["threshold"]
        fpr, tpr, _ = roc_curve(labels, scores)
        predicted = scores >= threshold
        youden = predicted[labels == 1].mean() - predicted[labels == 0].mean()
        assert youden == pytest.approx(np.max(tpr - fpr), abs=1e-9), finding  # the best J validation offers


def test_the_loss_weights_are_the_training_shares_stated_in_metrics(rendered):
    project, _ = rendered
    _, _, metrics, _ = outputs(project)
    import keras

    import chestxray.model.losses  # noqa: F401  (registers the loss)

    model = keras.saving.load_model(project / "_output" / "model.keras")
    assert model.output_shape == (None, len(FINDINGS))
    counts = pd.DataFrame(metrics["split_counts"])
    train = counts[counts["split"] == "train"].set_index("label")
    assert model.loss.shares == pytest.approx([train.loc[f, "images"] / train.loc["all images", "images"]
                                               for f in FINDINGS])


def test_the_report_shows_the_table_the_published_aurocs_and_figures(rendered):
    project, done = rendered
    _, _, metrics, _ = outputs(project)
    text = report_text(project)
    assert "varios hallazgos a la vez con una sola red" in text
    for finding in FINDINGS:
        assert es_number(metrics["findings"][finding]["auroc"], 3) in text
    published = pd.read_csv(ROOT / "python" / "chestxray" / "support" / "published_aurocs.csv").set_index("finding")
    assert es_number(published.loc["Effusion", "chexnet_2017"], 3) in text  # 0,864
    assert "no son directamente comparables" in text and "lista oficial de test" in text
    assert es_number(metrics["mean_auroc"], 3) in text
    assert len(re.findall("Figura\u00a0[123]:", text)) == 3 and "@fig-" not in text
    assert "Evaluación por hallazgo" in text and "Comparación con la red del original" not in text
    html = (project / "_output" / "report.html").read_text(encoding="utf-8")
    assert html.count('class="finding-explorer"') == len(FINDINGS) and '<select name="finding">' in html
    assert "mean test AUROC over 5 findings" in done.stderr + done.stdout


def test_predict_scores_new_images_as_the_report_did(rendered, tmp_path):
    project, _ = rendered
    test, _, _, card = outputs(project)
    demo = next((project / "data" / "demo").glob("multilabel-*")) / "images"
    chosen = test.head(4)
    paths = [str(demo / name) for name in chosen["image"]]
    done = subprocess.run([sys.executable, "-m", "chestxray", "predict", "--model", "_output/model.keras",
                           "--out", str(tmp_path / "scores.csv"), *paths], cwd=project, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    scores = pd.read_csv(tmp_path / "scores.csv", keep_default_na=False)
    for (_, mine), (_, theirs) in zip(scores.iterrows(), chosen.iterrows()):
        above = [f for f in FINDINGS if float(mine[f"probability_{f}"]) >= card["thresholds"][f]]
        assert mine["findings"] == ("|".join(above) or "No Finding")
        for finding in FINDINGS:
            assert float(mine[f"probability_{finding}"]) == pytest.approx(theirs[f"probability_{finding}"], abs=1e-5)


def test_a_second_render_reuses_the_stored_result_and_the_pdf_renders(rendered):
    project, _ = rendered
    before = outputs(project)[2]
    done = render(project, *PARAMS, to="pdf")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Reusing cnn results" in done.stderr + done.stdout
    assert (project / "_output" / "report.pdf").stat().st_size > 10_000
    assert outputs(project)[2]["findings"] == before["findings"]


def test_the_finding_selector_shows_one_explorer_each_drawn_from_its_findings_test_predictions(rendered):
    """Headless Chromium, network off: one explorer visible at a time; choosing a finding shows its own,
    which starts at that finding's validation threshold and counts that finding's test images."""
    from browser import offline_page

    project, _ = rendered
    test, _, metrics, _ = outputs(project)
    errors = []
    with offline_page(project / "_output" / "report.html", errors) as page:
        def visible():
            return page.evaluate("""() => [...document.querySelectorAll('.finding-explorer')]
                .filter(panel => !panel.hidden).map(panel => panel.dataset.finding)""")

        def reading(finding):
            return page.evaluate("""(f) => Object.fromEntries([...document.querySelectorAll(
                `.finding-explorer[data-finding="${f}"] [data-measure]`)].map(n => [n.dataset.measure,
                Number(n.dataset.value)]))""", finding)

        assert visible() == [FINDINGS[0]]
        for finding in (FINDINGS[3], FINDINGS[1]):
            page.select_option('.finding-explorers select[name="finding"]', finding)
            assert visible() == [finding]
            shown = reading(finding)
            labels, scores = test[f"label_{finding}"], test[f"probability_{finding}"]
            predicted = scores >= metrics["findings"][finding]["threshold"]
            assert shown["tp"] == (predicted & (labels == 1)).sum()
            assert shown["fn"] == (~predicted & (labels == 1)).sum()
            assert shown["fp"] == (predicted & (labels == 0)).sum()
    assert errors == []


def test_the_notebook_twin_runs_the_study_in_a_kernel(rendered):
    """make notebook with finding=all: the R kernel runs every cell (from the stored result the HTML left) and
    the executed notebook shows the per-finding table, the mean AUROC and the three figures."""
    import nbformat

    project, _ = rendered
    env = dict(os.environ, RETICULATE_PYTHON=str(ROOT / ".venv" / "bin" / "python"))
    env.pop("PYTHONPATH", None)
    done = subprocess.run([sys.executable, "scripts/make_notebook.py", *PARAMS], cwd=project, env=env,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    notebook = nbformat.read(project / "_output" / "report.ipynb", as_version=4)
    cells = {cell.id: cell for cell in notebook.cells}
    shown = "".join(str(o.get("data", {}).get("text/markdown", "")) for o in cells["ml-results-table"].outputs)
    assert "Derrame pleural" in shown and "CheXNet" in shown
    metrics = outputs(project)[2]
    mean = "".join(str(o.get("data", {}).get("text/markdown", "")) for o in cells["ml-mean-auroc"].outputs)
    assert es_number(metrics["mean_auroc"], 3) in mean
    for figure in ("fig-ml-cooccurrence", "fig-ml-roc", "fig-ml-gradcam"):
        assert any("image/png" in output.get("data", {}) for output in cells[figure].outputs), figure
