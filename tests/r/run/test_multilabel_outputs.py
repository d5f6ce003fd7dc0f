"""The multi-label study's published files (R/run/outputs.R): predictions.csv with each finding's
label and probability, and metrics.json's per-finding rows and mean, which scikit-learn recomputes
from the predictions file alone."""

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from conftest import run_r

FINDINGS = ["Effusion", "Nodule", "Pleural_Thickening"]


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    run_r(f"""
      set.seed(1)
      n <- 60L
      findings <- c({", ".join(f'"{f}"' for f in FINDINGS)})
      patients <- sprintf("p%02d", rep(1:30, each = 2))
      part <- function(shift) {{
        labels <- as.data.frame(sapply(findings, function(f) rbinom(n, 1, 0.3)))
        probs <- as.data.frame(sapply(seq_along(findings), function(j) {{
          plogis(shift + (1 + j) * labels[[j]] + rnorm(n))
        }}))
        names(probs) <- findings
        list(labels = labels, probs = probs)
      }}
      v <- part(0.3); t <- part(0)
      test_table <- cbind(data.frame(image = sprintf("%08d_000.png", 1:n), patient_id = patients), t$labels)
      write_multilabel_predictions(test_table, findings, t$probs, "{out}/predictions.csv")
      rows <- per_finding_evaluation(findings, v$labels, v$probs, t$labels, t$probs, patients, replicates = 100L)
      mean <- mean_auroc(findings, t$labels, t$probs, patients, replicates = 100L)
      write_json_file(c(multilabel_metrics_record(rows, mean), list(thresholds = multilabel_thresholds(rows))),
                      "{out}/metrics.json")
      TRUE
    """)
    return pd.read_csv(out / "predictions.csv"), json.loads((out / "metrics.json").read_text())


def test_predictions_hold_each_findings_label_and_probability(published):
    predictions, _ = published
    assert list(predictions.columns) == ["image", "patient_id"] + [
        f"{kind}_{finding}" for finding in FINDINGS for kind in ("label", "probability")]
    assert len(predictions) == 60 and predictions["image"].is_unique
    for finding in FINDINGS:
        assert set(predictions[f"label_{finding}"]) == {0, 1}
        assert predictions[f"probability_{finding}"].between(0, 1).all()


def test_each_findings_auroc_and_the_mean_are_recomputed_from_the_predictions_file(published):
    predictions, metrics = published
    aurocs = {f: roc_auc_score(predictions[f"label_{f}"], predictions[f"probability_{f}"]) for f in FINDINGS}
    assert list(metrics["findings"]) == FINDINGS
    for finding, auroc in aurocs.items():
        row = metrics["findings"][finding]
        assert row["auroc"] == pytest.approx(auroc, abs=1e-12), finding
        assert row["test_images"] == predictions[f"label_{finding}"].sum()
        predicted = predictions[f"probability_{finding}"] >= row["threshold"]
        positive = predictions[f"label_{finding}"] == 1
        assert row["sensitivity"] == pytest.approx(predicted[positive].mean())
        assert metrics["thresholds"][finding] == row["threshold"]
    assert metrics["mean_auroc"] == pytest.approx(np.mean(list(aurocs.values())), abs=1e-12)
    low, high = metrics["mean_auroc_ci95_patient_bootstrap"]
    assert low < metrics["mean_auroc"] < high and metrics["mean_auroc_bootstrap"]["replicates"] == 100
