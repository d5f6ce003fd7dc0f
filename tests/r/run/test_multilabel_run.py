"""What a finding=all render runs around the model, in R with the real prepared study (the multi-label
demo, cached): the stored result's key follows every finding's labels, and save_multilabel_outputs
publishes each finding's predictions, rows and threshold, read back here and recomputed."""

import json
import re

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from conftest import run_r


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    work = tmp_path_factory.mktemp("multilabel-run")
    out = work / "out"
    result = run_r(f"""
      ml <- import_chestxray("preparation.multilabel")
      prepared <- ml$prepare_multilabel("demo", "{work}/demo", 240L, 32L, 7L, cache_dir = "{work}/cache")
      findings <- study_findings(prepared)
      p <- list(operating_point = "youden", target_sensitivity = 0.9, seed = 7L, model = "cnn", finding = "all",
                data = "demo")
      results <- import_chestxray("results")
      digest <- function() results$data_digest(prepared, training_columns(prepared))
      before <- digest()
      # one image's last finding flipped, everything else unchanged: the training key must change
      last <- findings[length(findings)]
      main_module <- reticulate::import_main(convert = FALSE)
      main_module$ml_prepared <- prepared
      reticulate::py_run_string(sprintf("ml_original = int(ml_prepared.table.loc[0, '%s'])", last))
      reticulate::py_run_string(sprintf("ml_prepared.table.loc[0, '%s'] = 1 - ml_original", last))
      flipped <- digest()
      reticulate::py_run_string(sprintf("ml_prepared.table.loc[0, '%s'] = ml_original", last))
      set.seed(2)
      random_matrix <- function(n) {{
        m <- matrix(stats::runif(n * length(findings)), ncol = length(findings))
        colnames(m) <- findings
        m
      }}
      trained <- list(name = "cnn", model = build_model("cnn", 32L, findings = length(findings)),
                      validation_probabilities = random_matrix(nrow(prepared$part("validation"))),
                      test_probabilities = random_matrix(nrow(prepared$part("test"))),
                      history = data.frame(epoch = 1:2, loss = c(0.2, 0.1), val_auroc = c(0.5, 0.6),
                                           evaluated = c(FALSE, TRUE)),
                      evaluated_epoch = 2L, seconds = 1, weights_loaded = list(source = "none"))
      main <- c(trained, evaluate_predictions(trained, prepared, p))
      dir.create("{out}")
      save_multilabel_outputs(main, prepared, p, "{out}")
      folder <- function(...) data_folder(list(data = "demo", data_dir = "d", n_per_class = 10L, seed = 1L, ...))
      list(findings = findings, before = before, flipped = flipped, again = digest(),
           columns = training_columns(prepared),
           folders = list(binary = folder(), named = folder(finding = "Pneumothorax"), all = folder(finding = "all")))
    """)
    read = lambda name: pd.read_csv(out / name, dtype={"patient_id": str})  # noqa: E731
    return (result, read("predictions.csv"), read("validation_predictions.csv"),
            json.loads((out / "metrics.json").read_text()), json.loads((out / "model-card.json").read_text()))


def test_the_training_key_covers_every_findings_labels(published):
    result, *_ = published
    assert result["columns"] == ["image", *result["findings"], "split", "content_sha256"]
    assert result["flipped"] != result["before"] and result["again"] == result["before"]


def test_predictions_metrics_and_card_agree_finding_by_finding(published):
    result, test, validation, metrics, card = published
    findings = result["findings"]
    assert card["findings"] == findings and list(card["thresholds"]) == findings and card["positive_class"] == "all"
    assert card["image_size"] == 32 and card["test_mean_auroc"] == metrics["mean_auroc"]
    aurocs = []
    for finding in findings:
        row = metrics["findings"][finding]
        aurocs.append(roc_auc_score(test[f"label_{finding}"], test[f"probability_{finding}"]))
        assert row["auroc"] == pytest.approx(aurocs[-1], abs=1e-12) and card["test_auroc"][finding] == row["auroc"]
        assert card["thresholds"][finding] == row["threshold"]
        # the threshold is one of validation's cuts (midway between two of its probabilities), not test's
        scores = np.sort(validation[f"probability_{finding}"].unique())
        assert np.min(np.abs((scores[1:] + scores[:-1]) / 2 - row["threshold"])) < 1e-9
    assert metrics["mean_auroc"] == pytest.approx(np.mean(aurocs), abs=1e-12)


def test_the_split_counts_in_metrics_are_the_published_files_own(published):
    result, test, validation, metrics, _ = published
    counts = pd.DataFrame(metrics["split_counts"]).set_index(["split", "label"])
    for split, frame in (("test", test), ("validation", validation)):
        assert counts.loc[(split, "all images"), "images"] == len(frame)
        for finding in result["findings"]:
            assert counts.loc[(split, finding), "images"] == frame[f"label_{finding}"].sum()
    assert metrics["loss"].startswith("binary cross-entropy per finding weighted")
    assert metrics["evaluated_epoch"] == 2 and metrics["epochs_run"] == 2


def test_each_studys_demo_has_its_own_folder_and_a_parameter_list_without_finding_is_the_binary_one(published):
    """learning_check and the benchmarks name no finding: theirs is the binary demo's folder."""
    folders = published[0]["folders"]
    assert re.fullmatch(r"d/v\d+-n10-seed1", folders["binary"]) and folders["named"] == folders["binary"]
    assert re.fullmatch(r"d/multilabel-v\d+-n40-seed1", folders["all"])  # 4 x n_per_class films
