"""The whole report, rendered by the project's render command on a copy of the project."""

import hashlib
import json
import os
import re
import subprocess
import sys
from importlib import metadata
from urllib.parse import unquote

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import brier_score_loss, roc_auc_score, roc_curve

from conftest import NIH_IMAGES, ROOT, TINY_PARAMS, copy_project, fixture, render

pytestmark = pytest.mark.slow

SECTIONS = [
    "Introducción", "Proyectos previos", "Conjunto de datos", "Descarga y organización de las imágenes",
    "Lectura y visualización de imágenes", "Modelo", "Entrenamiento", "Evaluación", "Guardado del modelo",
    "Conclusiones",
]


def assert_rendered(done, path):
    assert done.returncode == 0, done.stderr[-4000:]
    assert path.exists(), f"{path} was not written"


@pytest.fixture(scope="module")
def html_render(tmp_path_factory):
    project = copy_project(tmp_path_factory.mktemp("html") / "project")
    done = render(project, *TINY_PARAMS)
    assert_rendered(done, project / "_output" / "report.html")
    (project / "console.txt").write_text(done.stdout + done.stderr)
    return project


def test_the_published_files_are_the_tables_and_the_report_lists_them(html_render):
    """assets/output_files.csv is the one list: what the render writes, says it wrote and describes."""
    table = pd.read_csv(ROOT / "assets" / "output_files.csv")
    out = html_render / "_output"
    assert all((out / name).is_file() for name in table["file"])
    console = (html_render / "console.txt").read_text()
    assert re.search(r"Outputs in _output/: (.*)", console).group(1).split(", ") == table["file"].tolist()
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", (out / "report.html").read_text()))
    for row in table.itertuples():
        assert f"_output/{row.file}" in text and " ".join(row.description_es.replace("*", "").split()) in text, row.file
    site = subprocess.run(["make", "-n", "site"], cwd=ROOT, capture_output=True, text=True).stdout
    assert f"for f in report.pdf report.ipynb {' '.join(table['file'])}; do" in site


def test_console_tells_each_step_and_nothing_alarming(html_render):
    console = (html_render / "console.txt").read_text()
    for step in (r"\[\d\d:\d\d\] Report: data=demo, model=cnn", r"Demo data: 48 phantom radiographs",
                 r"Image cache: 48 images at 48 px", r"Split by patient: train \d+ images",
                 r"Training baseline \([\d,]+ parameters, at most 2 epochs\)",
                 r"cnn epoch 2/2: loss \d\.\d{3}, validation loss \d\.\d{3}, validation AUROC \d\.\d{3}",
                 r"cnn: 2 epochs in \d+ s; test AUROC", r"Outputs in _output/: model\.keras",
                 r"report written to \S*_output/report\.html in \d+ s"):
        assert re.search(step, console), f"console lacks {step!r}:\n{console}"
    for noise in (
        "absl::InitializeLog",
        "oneDNN",
        "FutureWarning",
        "cpu_feature_guard",
        "Traceback",
        "Warning message",
    ):
        assert noise not in console, f"console shows {noise!r}:\n{console}"


def test_html_has_every_section_and_embedded_figures(html_render):
    html = (html_render / "_output" / "report.html").read_text()
    headings = [re.sub(r"\s+", " ", h) for h in re.findall(r"<h1>(?:<span[^>]*>\d+</span>)?\s*(.*?)</h1>", html, re.S)]
    assert headings == SECTIONS
    assert 'id="TOC"' in html
    assert "@fig-" not in html  # every cross-reference numbered, those written by chunks included
    figures = re.findall(r'<img src="data:image/png;base64,[A-Za-z0-9+/=]{1000,}"', html)
    captions = re.findall(r"Figura\u00a0(\d+):", html)
    assert len(figures) >= 6  # examples, history, ROC, PR, confusion, calibration (+ Grad-CAM)
    assert [int(n) for n in captions] == list(range(1, len(figures) + 1))
    flat = re.sub(r"\s+", " ", html)
    for heading in ("Calibración", "Comparación con la red del original", "Subgrupos", "Explicaciones: Grad-CAM"):
        assert heading in flat
    visible = re.sub(r"<script.*?</script>|<style.*?</style>", "", html, flags=re.S)
    for quarto_syntax in ("@fig-", ":::", "#|", "{.callout"):
        assert quarto_syntax not in visible
    assert not re.search(r'<img src="(?!data:)', html)  # nothing loaded from disk or network
    assert "## Error" not in html and "Traceback" not in html
    text = re.sub(r"\s+", " ", visible)
    assert "no dicen nada sobre el rendimiento clínico" in text  # the demo warning


def test_outputs_agree_with_each_other(html_render):
    out = html_render / "_output"
    predictions = pd.read_csv(out / "predictions.csv")
    metrics = json.loads((out / "metrics.json").read_text())
    manifest = pd.read_csv(out / "manifest.csv", dtype={"patient_id": str})
    test_rows = manifest[manifest["split"] == "test"]
    assert sorted(predictions["image"]) == sorted(test_rows["image"])
    assert set(predictions.columns) >= {"image", "patient_id", "label", "probability"}
    assert metrics["auroc"] == pytest.approx(roc_auc_score(predictions["label"], predictions["probability"]), abs=1e-9)
    predicted = predictions["probability"] >= metrics["threshold"]
    positive = predictions["label"] == 1
    assert metrics["counts"]["tp"] == int((predicted & positive).sum())
    assert metrics["counts"]["tn"] == int((~predicted & ~positive).sum())
    assert metrics["sensitivity"] == pytest.approx((predicted & positive).sum() / positive.sum())
    assert (
        metrics["ppv"] == pytest.approx((predicted & positive).sum() / predicted.sum())
        if predicted.any()
        else metrics["ppv"] is None
    )
    assert (
        metrics["npv"] == pytest.approx((~predicted & ~positive).sum() / (~predicted).sum())
        if (~predicted).any()
        else metrics["npv"] is None
    )
    assert metrics["brier"] == pytest.approx(brier_score_loss(predictions["label"], predictions["probability"]))
    assert metrics["prevalence"] == pytest.approx(predictions["label"].mean())
    assert metrics["eligible_before_cap"]["test"]["images"] == len(predictions)  # the test split is never capped
    assert {row["model"] for row in metrics["comparison"]} == {"baseline", "cnn"}
    assert sum(b["n"] for b in metrics["calibration"]) == len(predictions)
    history = pd.read_csv(out / "history.csv")
    assert set(history["model"]) == {"baseline", "cnn"} and "val_auroc" in history
    assert metrics["parameters"]["n_per_class"] == 24 and metrics["seed"] == 7
    assert metrics["versions"]["python_packages"]["keras"].startswith("3.")
    assert {
        name: metrics["versions"]["python_packages"][name] for name in ("numpy", "scipy", "pillow", "scikit-learn")
    } == {name: metadata.version(name) for name in ("numpy", "scipy", "pillow", "scikit-learn")}
    # the TensorFlow build installed here (CPU-only on Linux x86-64, the regular one elsewhere), and no other
    builds = {name for name in ("tensorflow-cpu", "tensorflow") if name in metrics["versions"]["python_packages"]}
    assert [metrics["versions"]["python_packages"][name] for name in builds] == [
        metadata.version(name) for name in builds
    ]
    assert len(builds) == 1 and metrics["versions"]["python"] == f"{sys.version_info.major}.{sys.version_info.minor}"
    assert (manifest.groupby("patient_id")["split"].nunique() == 1).all()
    for _, row in manifest.head(5).iterrows():  # the manifest carries each file's content hash
        assert row["content_sha256"] == hashlib.sha256(open(row["path"], "rb").read()).hexdigest()
    assert (out / "model.keras").stat().st_size > 10_000


def test_threshold_comes_from_validation_only(html_render):
    """The saved threshold is the Youden optimum of the validation predictions; test labels play no part."""
    out = html_render / "_output"
    metrics = json.loads((out / "metrics.json").read_text())
    validation = pd.read_csv(out / "validation_predictions.csv")
    test = pd.read_csv(out / "predictions.csv")
    assert not set(validation["patient_id"]) & set(test["patient_id"])
    fpr, tpr, thresholds = roc_curve(validation["label"], validation["probability"])

    def youden(t):
        chosen, positive, negative = validation["probability"] >= t, validation["label"] == 1, validation["label"] == 0
        return (chosen & positive).sum() / positive.sum() - (chosen & negative).sum() / negative.sum()
    assert youden(metrics["threshold"]) == pytest.approx((tpr - fpr).max())
    card = json.loads((out / "model-card.json").read_text())
    assert card["threshold"] == metrics["threshold"] and card["image_size"] == 48


def test_python_predict_matches_r(html_render, tmp_path):
    """R trained and saved the model; Python loads it and scores the test files themselves."""
    out = html_render / "_output"
    manifest = pd.read_csv(out / "manifest.csv")
    test_rows = manifest[manifest["split"] == "test"]
    paths = [str(html_render / p) if not os.path.isabs(p) else p for p in test_rows["path"]]
    done = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "-m", "chestxray", "predict", "--model", str(out / "model.keras"),
         "--out", str(tmp_path / "preds.csv"), *paths, str(tmp_path / "missing.png")],
        capture_output=True, text=True, cwd=html_render,
    )
    assert done.returncode == 1 and "1 file(s) could not be read" in done.stderr  # the others are still written
    python = pd.read_csv(tmp_path / "preds.csv")
    assert python["error"].notna().sum() == 1 and "missing.png" in python["error"].dropna().iloc[0]
    python = python.dropna(subset=["probability"])
    python["image"] = python["path"].map(os.path.basename)
    r = pd.read_csv(out / "predictions.csv").merge(python, on="image", suffixes=("_r", "_python"))
    assert len(r) == len(test_rows)
    assert np.abs(r["probability_r"] - r["probability_python"]).max() < 1e-5
    threshold = json.loads((out / "model-card.json").read_text())["threshold"]
    assert ((r["probability_python"] >= threshold) == (r["predicted_class"] == "Pneumothorax")).all()


def test_same_seed_same_metrics(html_render, tmp_path):
    first = json.loads((html_render / "_output" / "metrics.json").read_text())
    project = copy_project(tmp_path / "again")
    done = render(project, *TINY_PARAMS)
    assert_rendered(done, project / "_output" / "metrics.json")
    second = json.loads((project / "_output" / "metrics.json").read_text())
    for key in ("auroc", "accuracy", "threshold", "counts", "auroc_ci95_delong", "auroc_ci95_patient_bootstrap"):
        assert first[key] == second[key], key
    a = pd.read_csv(html_render / "_output" / "predictions.csv")
    b = pd.read_csv(project / "_output" / "predictions.csv")
    assert np.array_equal(a["probability"].to_numpy(), b["probability"].to_numpy())


@pytest.mark.parametrize(
    "bad, message",
    [
        ("data=web", "parameter 'data' is 'web' but must be one of: demo, folder, nih"),
        ("epochs=zero", "parameter 'epochs' is 'zero' but must be an integer from 1 to 500"),
        ("image_sise=64", "unknown parameter 'image_sise'; known parameters: data, data_dir"),
        ("epochs", "parameters must be written key=value"),
    ],
)
def test_bad_parameter_stops_with_its_name(project_copy, bad, message):
    done = render(project_copy, bad)
    assert done.returncode != 0
    assert message in done.stderr
    assert not (project_copy / "_output").exists()  # stopped before any work


def test_pdf_has_pages_and_figures(tmp_path):
    project = copy_project(tmp_path / "pdf")
    done = render(project, *TINY_PARAMS, to="pdf")
    pdf = project / "_output" / "report.pdf"
    assert_rendered(done, pdf)
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert int(re.search(r"Pages:\s+(\d+)", info).group(1)) >= 5
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    for n in range(1, 7):
        assert f"Figura {n}:" in text
    flat = " ".join(text.split())
    assert (
        "Datos de demostración." in flat and "no dicen nada sobre el rendimiento clínico" in flat
    )  # the framed warning
    assert "@fig-" not in text
    images = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert len(images.strip().splitlines()) > 2  # the radiograph grid is raster data
    # A table wider than the page gets narrow LaTeX columns where a long header word prints
    # over its neighbour ('ModeloParámetrosÉpocas'): no two header words may run together.
    glued = [a + b for a in TABLE_HEADER_WORDS for b in TABLE_HEADER_WORDS]
    layout = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert [g for g in glued if g in layout] == []
    assert "Umbral" in layout and "Criterio" in layout and "Medida" in layout  # the tables are there


# Header words of the report's tables and of the wide tables they replaced.
TABLE_HEADER_WORDS = ["Medida", "Valor", "Umbral", "Criterio", "Sensib.", "Especif.", "Sensibilidad", "Especificidad",
                      "Variable", "Grupo", "Imágenes", "AUROC", "Modelo", "Parámetros", "Épocas", "baseline", "cnn"]



def test_folder_render_on_real_nih_images(tmp_path):
    labels = pd.read_csv(fixture("nih", "images", "labels.csv"))
    data = tmp_path / "nih-folders"
    positives = labels.loc[labels["pneumothorax_any"] == 1, "file"]
    negatives = labels.loc[labels["no_finding"] == 1, "file"]
    for folder, names in (("Pneumothorax", positives), ("No-Finding", negatives)):
        (data / folder).mkdir(parents=True)
        for name in names:
            os.symlink(NIH_IMAGES / name, data / folder / name)  # read in place
    project = copy_project(tmp_path / "project")
    done = render(project, "data=folder", f"data_dir={data}", "n_per_class=40", "image_size=64", "epochs=2", "seed=3")
    assert_rendered(done, project / "_output" / "report.html")
    manifest = pd.read_csv(project / "_output" / "manifest.csv")
    for split, rows in manifest.groupby("split"):
        if split != "test":  # the cap governs training and validation only
            assert rows["label"].value_counts().max() <= 40
    assert set(manifest.loc[manifest["label"] == 1, "image"]) == set(positives)
    test = manifest[manifest["split"] == "test"]
    metrics = json.loads((project / "_output" / "metrics.json").read_text())
    assert metrics["eligible_before_cap"]["test"] == {"images": len(test), "positives": int(test["label"].sum())}
    assert metrics["prevalence"] == pytest.approx(test["label"].mean())
    assert metrics["data_integrity"]["images_with_unknown_patient"] == 0  # NIH names give the patients
    assert metrics["data_integrity"]["identical_images_across_splits"] == []
    html = (project / "_output" / "report.html").read_text()
    assert "Datos propios" in html


def test_folder_render_follows_another_finding(tmp_path):
    """finding=Effusion on real NIH images in Effusion/ and No-Finding/: the title, narrative, captions,
    class names, model card and predictions name it; pneumothorax stays only where the text is about the
    original use case or the demo."""
    labels = pd.read_csv(fixture("nih", "images", "labels.csv"))
    effusion = labels.loc[labels["finding_labels"].str.split("|").map(lambda ls: "Effusion" in ls), "file"]
    negatives = labels.loc[labels["no_finding"] == 1, "file"]
    data = tmp_path / "effusion"
    for folder, names in (("Effusion", effusion), ("No-Finding", negatives)):
        (data / folder).mkdir(parents=True)
        for name in names:
            os.symlink(NIH_IMAGES / name, data / folder / name)
    project = copy_project(tmp_path / "project")
    done = render(project, "data=folder", f"data_dir={data}", "finding=Effusion", "n_per_class=40", "image_size=48",
                  "epochs=2", "seed=3")
    out = project / "_output"
    assert_rendered(done, out / "report.html")
    manifest = pd.read_csv(out / "manifest.csv")
    positives = manifest[manifest["label"] == 1]
    assert set(positives["image"]) == set(effusion) and set(positives["class_name"]) == {"Effusion"}
    card = json.loads((out / "model-card.json").read_text())
    assert (card["positive_class"], card["negative_class"]) == ("Effusion", "No Finding")

    html = (out / "report.html").read_text()
    assert "<title>Clasificación de radiografías de tórax: derrame pleural frente a «sin hallazgos»</title>" in html
    text = re.sub(
        r"\s+", " ", re.sub(r"<[^>]+>", "", re.sub(r"<script.*?</script>|<style.*?</style>", "", html, flags=re.S))
    )
    for sentence in (
        "con derrame pleural (líquido entre el pulmón y la pared torácica) de una radiografía sin hallazgos",
        "13 317 mencionan Effusion (derrame pleural; 3955 como único hallazgo)",
        "(carpetas Effusion/ y No-Finding/)",
        "Prevalencia de derrame pleural en test",
        "Figura 1: Tres radiografías de cada clase (derrame pleural y sin hallazgos)",
        "Figura 5: Matriz de confusión en test (derrame pleural frente a sin hallazgos)",
        "con derrame pleural dan pesos de",
        "(en todos los datos del NIH hay unas 5 sin hallazgos por cada una con derrame pleural)",
    ):
        assert sentence in text, sentence
    assert "con neumotórax" not in text and "drenaje torácico es mucho más fácil" not in text

    test_rows = manifest[manifest["split"] == "test"]
    done = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "-m", "chestxray", "predict", "--model", str(out / "model.keras"),
         "--out", str(tmp_path / "preds.csv"), *test_rows["path"]], capture_output=True, text=True, cwd=project)
    assert done.returncode == 0, done.stderr[-2000:]
    predictions = pd.read_csv(tmp_path / "preds.csv")
    expected = np.where(predictions["probability"] >= card["threshold"], "Effusion", "No Finding")
    assert (predictions["predicted_class"] == expected).all()


def test_nih_render_from_a_local_mirror(tmp_path):
    """data=nih end to end: download from a loopback mirror, extract, organise, split, train, report."""
    import gzip
    import io
    import tarfile

    from http_faults import FaultyServer

    labels = pd.read_csv(fixture("nih", "images", "labels.csv"))
    chosen = labels[(labels["pneumothorax_any"] == 1) | (labels["no_finding"] == 1)]
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz", compresslevel=1) as tar:
        for name in chosen["file"]:
            tar.add(NIH_IMAGES / name, arcname=f"images/{name}")
    metadata = fixture("nih", "metadata")
    files = {
        "images_01.tar.gz": archive.getvalue(),
        "Data_Entry_2017_v2020.csv": gzip.decompress((metadata / "Data_Entry_2017_v2020.csv.gz").read_bytes()),
        "train_val_list.txt": gzip.decompress((metadata / "train_val_list.txt.gz").read_bytes()),
        "test_list.txt": gzip.decompress((metadata / "test_list.txt.gz").read_bytes()),
    }
    project = copy_project(tmp_path / "project")
    with FaultyServer(files, {"images_01.tar.gz": {"drop": {"n": 1, "after": 100_000}}}) as server:
        params = ["data=nih", "nih_archives=1", f"nih_base_url={server.url}", "n_per_class=50", "image_size=48",
                  "epochs=2", "seed=5"]
        done = render(project, *params)
        assert_rendered(done, project / "_output" / "report.html")
        first_sent = dict(server.sent)
        again = render(project, *params)  # a re-render reuses the download
        assert again.returncode == 0, again.stderr[-3000:]
        assert server.sent == first_sent
    assert first_sent["images_01.tar.gz"] == len(files["images_01.tar.gz"])  # resumed, not restarted
    manifest = pd.read_csv(project / "_output" / "manifest.csv")
    assert (manifest["label"] == 1).sum() == int(chosen["pneumothorax_any"].sum())
    official = dict(zip(labels["file"], labels["official_split"]))
    assert all(
        (split == "test") == (official[image] == "test") for image, split in zip(manifest["image"], manifest["split"])
    )
    html = (project / "_output" / "report.html").read_text()
    assert "Datos reales del NIH" in html
    assert "images_01.tar.gz:" not in html and "total:" not in html  # progress bars stay in the console
    assert not list((project / "data" / "nih" / "images").glob("*.partial"))


def test_report_in_a_real_browser(html_render):
    """Headless Chromium, network off: no console error, nothing fetched from outside the file,
    every figure decoded, every table-of-contents link lands on its section."""
    from browser import VIEWPORT_HEIGHT, inspect_report

    seen = inspect_report(html_render / "_output" / "report.html")
    assert seen["console_errors"] == []
    outside = [url for url in seen["requests"] if not url.startswith(("file://", "data:"))]
    assert outside == []
    assert len(seen["images"]) >= 6
    assert all(img["complete"] and img["width"] > 0 and img["height"] > 0 for img in seen["images"]), seen["images"]
    assert seen["overflowing"] == []  # every table and figure fits the text column
    assert seen["misaligned_headers"] == []  # numbers sit under their own header
    assert len(seen["toc"]) >= len(SECTIONS)
    for target, landing in seen["landings"].items():
        assert landing is not None, f"TOC link #{target} has no target"
        assert unquote(landing["hash"]) == f"#{target}" and landing["heading"], (target, landing)
        at_top = abs(landing["top"]) < 5
        shown_at_page_end = landing["atBottom"] and 0 <= landing["top"] < VIEWPORT_HEIGHT  # the last sections
        assert at_top or shown_at_page_end, (target, landing)


def counts_at(predictions, threshold):
    """The test split's confusion counts at a threshold, from predictions.csv (written with
    15 significant digits: a tolerance far below float32's spacing keeps ties on their side)."""
    labels, predicted = predictions["label"].to_numpy(), predictions["probability"].to_numpy() >= threshold - 1e-12
    return {"tp": int(np.sum(predicted & (labels == 1))), "fp": int(np.sum(predicted & (labels == 0))),
            "fn": int(np.sum(~predicted & (labels == 1))), "tn": int(np.sum(~predicted & (labels == 0)))}


def test_operating_point_explorer_follows_its_controls(html_render):
    """The reader moves the threshold and the prevalence: the explorer's counts, sensitivity,
    specificity and predictive values match those computed here from predictions.csv."""
    from browser import drive_explorer

    out = html_render / "_output"
    predictions = pd.read_csv(out / "predictions.csv")
    metrics = json.loads((out / "metrics.json").read_text())
    distinct = predictions["probability"].nunique()
    seen = drive_explorer(out / "report.html", threshold_positions=[0, distinct // 2, distinct - 1],
                          prevalences_per_mille=[20, 500])
    assert seen["errors"] == []
    assert seen["initial"]["threshold"] == pytest.approx(metrics["threshold"])
    assert {k: seen["initial"][k] for k in ("tp", "fp", "fn", "tn")} == {
        k: metrics["counts"][k] for k in ("tp", "fp", "fn", "tn")
    }
    assert seen["lowest"]["fn"] == seen["lowest"]["tn"] == 0  # at the lowest threshold every image is positive
    for reading in seen["thresholds"] + [seen["back_to_validation"]]:
        counts = counts_at(predictions, reading["threshold"])
        assert {k: reading[k] for k in counts} == counts, reading
        assert reading["sensitivity"] == pytest.approx(counts["tp"] / (counts["tp"] + counts["fn"]))
        assert reading["specificity"] == pytest.approx(counts["tn"] / (counts["tn"] + counts["fp"]))
    assert len({r["threshold"] for r in seen["thresholds"]}) == 3  # the slider really moved
    assert seen["back_to_validation"]["threshold"] == pytest.approx(metrics["threshold"])
    for reading, prevalence in zip(seen["prevalences"], (0.02, 0.5)):
        assert reading["prevalence"] == pytest.approx(prevalence)
        sensitivity, specificity = reading["sensitivity"], reading["specificity"]
        found, false_alarms = sensitivity * prevalence, (1 - specificity) * (1 - prevalence)
        if found + false_alarms > 0:
            assert reading["ppv_at_prevalence"] == pytest.approx(found / (found + false_alarms))
        assert reading["npv_at_prevalence"] == pytest.approx(
            specificity * (1 - prevalence) / (specificity * (1 - prevalence) + (1 - sensitivity) * prevalence))


def key_structure(value):
    if isinstance(value, dict):
        return {("r_model:" if k.startswith("r_model:") else k): key_structure(v) for k, v in value.items()}
    return type(value).__name__ if not isinstance(value, (int, float)) else "number"


def test_gpu_benchmark_runs_on_the_saved_model_and_matches_committed_results(html_render, tmp_path):
    """bench/gpu_train_steps.py (run here on the CPU with a few steps) loads the R-built model, which holds no
    random layers, and times plain and augmented pipelines; committed GPU results have exactly its keys."""
    out = tmp_path / "gpu.json"
    done = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), str(ROOT / "bench" / "gpu_train_steps.py"), "--model",
         str(html_render / "_output" / "model.keras"), "--skip-densenet", "--batch", "8", "--steps", "3",
         "--workers", "1", "--json", str(out)],
        capture_output=True, text=True, env=dict(os.environ, KERAS_BACKEND="tensorflow"), timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    written = json.loads(out.read_text())
    model = next(v for k, v in written.items() if k.startswith("r_model:"))
    assert model["random_layers"] == [] and model["pipeline"]["augmented_images_per_s"] > 0
    assert model["pipeline"]["ratio"] == pytest.approx(
        model["pipeline"]["augmented_images_per_s"] / model["pipeline"]["plain_images_per_s"]
    )
    expected = key_structure({k: v for k, v in written.items() if not k.startswith("densenet")})
    for committed in (ROOT / "bench" / "results").glob("gpu_*.json"):
        result = json.loads(committed.read_text())
        assert key_structure({k: v for k, v in result.items() if not k.startswith("densenet")}) == expected, committed
