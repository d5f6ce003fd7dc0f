"""train_and_predict for the multi-label study (R/model/train.R), on the real multi-label demo: one sigmoid
per finding, CheXNet's loss weighted by the training shares (recomputed here from the split table), no
class weights, the evaluated epoch's mean validation AUROC recomputed with scikit-learn from the
probabilities it returns, and a probability matrix named by finding."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from conftest import run_r


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    work = tmp_path_factory.mktemp("multilabel-training")
    return run_r(f"""
      ml <- import_chestxray("preparation.multilabel")
      prepared <- ml$prepare_multilabel("demo", "{work}/demo", 240L, 32L, 7L, cache_dir = "{work}/cache")
      p <- list(seed = 7L, weights = "none", on_missing_weights = "stop", epochs = 3L, batch_size = 16L)
      result <- train_and_predict("cnn", prepared, p, "{work}/out")
      loss <- result$model$loss
      list(findings = study_findings(prepared), shares = as.numeric(unlist(loss$get_config()$shares)),
           loss = class(loss)[1], outputs = length(result$model$get_layer("findings")$get_weights()[[2]]),
           history = result$history, validation = result$validation_probabilities,
           test = result$test_probabilities, columns = colnames(result$test_probabilities),
           validation_labels = prepared$labels("validation"), train_labels = prepared$labels("train"))
    """)


def test_one_sigmoid_per_finding_and_a_matrix_named_by_finding(trained):
    findings = trained["findings"]
    assert trained["outputs"] == len(findings) == 5 and trained["columns"] == findings
    assert np.array(trained["test"]).shape[1] == len(findings)


def test_the_loss_weighs_each_finding_by_its_training_share(trained):
    train = np.array(trained["train_labels"])  # images x findings, as PreparedMultilabel.labels gives them
    assert trained["loss"].endswith("FindingWeightedCrossEntropy")
    assert trained["shares"] == pytest.approx(train.mean(axis=0).tolist())
    assert 0 < min(trained["shares"]) and max(trained["shares"]) < 0.5


def test_the_evaluated_epoch_is_the_best_mean_validation_auroc_and_the_model_holds_it(trained):
    history = pd.DataFrame(trained["history"])
    best = history.loc[history["evaluated"]]
    assert len(best) == 1 and best["val_auroc"].iloc[0] == history["val_auroc"].max()
    labels, scores = np.array(trained["validation_labels"]), np.array(trained["validation"])
    mean = np.mean([roc_auc_score(labels[:, k], scores[:, k]) for k in range(labels.shape[1])])
    assert best["val_auroc"].iloc[0] == pytest.approx(mean, abs=1e-6)
