"""One render checks the three "honest numbers" rules together, recomputed
from the published files: a transfer model that fell back to random weights
says so; the evaluated epoch is the argmax of history.csv and the checkpoint
holds model.keras's weights; the patient-bootstrap intervals count the test
patients of predictions.csv."""

import json
import re

import keras
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from conftest import render

pytestmark = pytest.mark.slow
OFFLINE = {"https_proxy": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9"}
MODEL = "mobilenetv2"


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    from conftest import copy_project

    root = tmp_path_factory.mktemp("honest")
    project = copy_project(root / "project")
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {**OFFLINE, "KERAS_HOME": str(root / "keras")}.items():
            patch.setenv(name, value)
        done = render(project, f"model={MODEL}", "on_missing_weights=random", "n_per_class=16", "image_size=32",
                      "epochs=3", "batch_size=16", "seed=3")
    assert done.returncode == 0, done.stderr[-4000:]
    out = project / "_output"
    text = " ".join(re.sub(r"<[^>]+>", "", (out / "report.html").read_text()).split())
    return out, json.loads((out / "metrics.json").read_text()), text, done.stderr


def test_fallback_to_random_weights_is_recorded_and_said(rendered):
    out, metrics, text, console = rendered
    assert metrics["weights_loaded"]["source"] == "random" and metrics["weights_loaded"]["requested"] == "imagenet"
    assert metrics["weights_loaded"]["sha256"] is None
    assert json.loads((out / "model-card.json").read_text())["weights_loaded"]["source"] == "random"
    assert "Atención: esta red no usa pesos preentrenados." in text
    assert "no hay aprendizaje por transferencia" in text
    assert "random initialisation (on_missing_weights=random)" in console


def test_evaluated_epoch_is_the_checkpoint_and_the_saved_model(rendered):
    out, metrics, text, _ = rendered
    history = pd.read_csv(out / "history.csv")
    main = history[history["model"] == MODEL].reset_index(drop=True)
    best = int(main["epoch"][int(np.argmax(main["val_auroc"].to_numpy()))])
    assert metrics["evaluated_epoch"] == best and main.loc[main["evaluated"], "epoch"].tolist() == [best]
    assert "highest validation AUROC" in metrics["evaluated_epoch_rule"]
    saved = keras.models.load_model(out / "model.keras").get_weights()
    checkpoint = keras.models.load_model(out / "checkpoints" / f"{MODEL}.keras").get_weights()
    assert len(saved) == len(checkpoint) and all(np.array_equal(a, b) for a, b in zip(saved, checkpoint))
    assert f"se evalúa la época {best}" in text


def test_patient_bootstrap_matches_the_published_predictions(rendered):
    out, metrics, text, _ = rendered
    predictions = pd.read_csv(out / "predictions.csv")
    info = metrics["patient_bootstrap"]
    assert info["patients"] == predictions["patient_id"].nunique() and info["images"] == len(predictions)
    assert info["seed"] == 3 and info["replicates"] == 2000
    assert info["replicates_used"] + info["replicates_without_both_classes"] == info["replicates"]
    auroc = roc_auc_score(predictions["label"], predictions["probability"])
    for key in ("auroc_ci95_delong", "auroc_ci95_patient_bootstrap"):
        low, high = metrics[key]
        assert low - 1e-9 <= auroc <= high + 1e-9, key
    for heading in ("IC 95 % DeLong (imágenes independientes)", "IC 95 % bootstrap por paciente",
                    f"{info['images']} imágenes de {info['patients']} pacientes"):
        assert heading in text
