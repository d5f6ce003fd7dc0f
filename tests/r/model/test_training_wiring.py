"""Every training option reaches Keras (R/model/train.R): class weights, early stopping
after its warm-up, the learning-rate schedule, the evaluated epoch, augmentation
of training batches only, and the seed. Each is observed in what Keras did (the
loss it reported, the epochs it ran, the learning rate in the optimizer, the
weights the model ends with, the images fit was given), all from one Rscript
run of tiny models; the expected values are worked out by hand below."""

import keras
import numpy as np
import pytest
from sklearn.metrics import log_loss, roc_auc_score

from conftest import run_r

# One Rscript for the whole module (R, TensorFlow and reticulate start once).
# Doubles (tests/wiring_support.py): a scripted validation AUROC stands in for
# chestxray.model.training.ValidationAUROC, so the epochs early stopping and the
# learning-rate schedule see are known; a spy records the images fit was given.
WIRING_R = """
  w <- reticulate::import_from_path("wiring_support", path = "tests/helpers")

  # 4 positives, 12 negatives: inverse-frequency weights 2 and 2/3.
  batches <- w$unbalanced_batches(4L, 12L, 8L, 1L)
  labels <- as.numeric(batches$labels)

  # One batch and one epoch: the loss Keras reports is that of the weights before the update.
  weighted_loss <- function() {
    model <- compile_model(w$tiny_cnn(8L, 1L, bias = 2))
    before <- as.numeric(model$predict(batches$images, verbose = 0L))
    history <- train_model(model, batches, batches, labels, labels, epochs = 1L)
    list(labels = labels, predictions = before, loss = history$loss)
  }

  scripted <- function(values, epochs) {
    script <- w$ScriptedAUROC(as.list(values))
    on.exit(script$uninstall())
    model <- compile_model(w$tiny_cnn(8L, 2L))
    history <- train_model(model, batches, batches, labels, labels, epochs = epochs)
    list(epochs = nrow(history), learning_rate = history$learning_rate, evaluated = history$epoch[history$evaluated],
         final_learning_rate = w$learning_rate(model), weights_of_epochs = I(script$epochs_with_weights_of(model)))
  }

  # Whole runs as the report does them, with a 4-filter CNN on 16-pixel random images.
  prepared <- w$random_prepared("WORK/data", 16L, 3L)
  MODEL_BUILDERS$cnn <<- function(image_size, ...) build_cnn(image_size, filters = 4L)
  p <- list(seed = 5L, image_size = 16L, weights = "none", on_missing_weights = "stop", epochs = 3L, batch_size = 64L)
  run <- function(name, seed, folder) {
    result <- train_and_predict(name, prepared, modifyList(p, list(seed = seed)), file.path("WORK", folder))
    result$model$save(file.path("WORK", folder, "final.keras"))
    list(history = result$history, validation = result$validation_probabilities)
  }
  spy <- w$FitSpy()
  runs <- list(cnn = run("cnn", 5L, "cnn"), cnn_again = run("cnn", 5L, "cnn_again"),
               cnn_seed_6 = run("cnn", 6L, "cnn_seed_6"), baseline = run("baseline", 5L, "baseline"))
  spy$uninstall()
  fit_inputs <- (spy$changes(w$split_images(prepared, "train"), w$split_images(prepared, "validation")))
  names(fit_inputs) <- names(runs)

  list(weighted = weighted_loss(),
       flat = scripted(rep(0.5, 20), 20L),
       rising = scripted(seq(0.50, 0.65, by = 0.01), 16L),
       tie = scripted(c(0.6, 0.7, 0.65, 0.7, 0.6, 0.6, 0.8, 0.75, 0.8, 0.7), 10L),
       runs = runs, fit_inputs = fit_inputs, validation_labels = prepared$labels("validation"))
"""


@pytest.fixture(scope="module")
def wiring(tmp_path_factory):
    work = tmp_path_factory.mktemp("wiring")
    return run_r(WIRING_R.replace("WORK", str(work))), work


def test_class_weights_weight_the_loss_keras_minimises(wiring):
    out = wiring[0]["weighted"]
    labels, predictions = np.array(out["labels"]), np.array(out["predictions"])
    # 16 images, 4 positive: each class carries half the total weight, 16 / (2 * count).
    weights = np.where(labels == 1, 16 / (2 * 4), 16 / (2 * 12))
    assert out["loss"] == pytest.approx(log_loss(labels, predictions, sample_weight=weights), rel=1e-4)
    assert out["loss"] != pytest.approx(log_loss(labels, predictions), rel=0.05)  # the fixture tells them apart


def test_early_stopping_watches_after_six_warm_up_epochs_with_patience_six(wiring):
    # A flat validation AUROC: epochs 1-6 are the warm-up, epoch 7 is the first watched
    # (the best so far), and six epochs without improvement stop training after epoch 13.
    assert wiring[0]["flat"]["epochs"] == 13


def test_early_stopping_waits_while_the_validation_auroc_keeps_rising(wiring):
    # Higher is better: an AUROC that rises every epoch never stops training early
    # (watching for a falling one would stop it after epoch 13, as the flat run).
    assert wiring[0]["rising"]["epochs"] == 16
    assert wiring[0]["rising"]["evaluated"] == 16
    assert wiring[0]["rising"]["learning_rate"] == pytest.approx([3e-4] * 16)  # no plateau, no halving


def test_learning_rate_halves_after_four_epochs_without_improvement(wiring):
    flat = wiring[0]["flat"]
    # Epoch 1 sets the best; epochs 2-5, 6-9 and 10-13 are each four without improvement,
    # each ending with a halving (the logged rate is the one the epoch trained with).
    # compile_model's initial rate is 3e-4.
    assert flat["learning_rate"] == pytest.approx([3e-4] * 5 + [1.5e-4] * 4 + [7.5e-5] * 4)
    assert flat["final_learning_rate"] == pytest.approx(3.75e-5)


@pytest.mark.parametrize("run, epoch", [("flat", 1), ("tie", 7)])
def test_model_ends_with_the_weights_of_the_best_epoch_earliest_on_ties(wiring, run, epoch):
    # flat: all epochs tie, the first (inside the warm-up) is evaluated;
    # tie: 0.8 at epochs 7 and 9 is the highest, epoch 7 is evaluated.
    out = wiring[0][run]
    assert out["evaluated"] == epoch
    assert out["weights_of_epochs"] == [epoch]


def test_training_batches_are_augmented_and_validation_batches_never(wiring):
    for run in ("cnn", "cnn_again", "cnn_seed_6"):
        fit_inputs = wiring[0]["fit_inputs"][run]
        assert fit_inputs["train"] > 0.05 and fit_inputs["validation"] == 0


def test_the_baseline_trains_on_the_images_as_they_are(wiring):
    assert wiring[0]["fit_inputs"]["baseline"] == {"train": 0, "validation": 0}


def test_same_seed_same_training_and_another_seed_another(wiring):
    runs = wiring[0]["runs"]
    assert runs["cnn_again"] == runs["cnn"]
    assert [e["loss"] for e in runs["cnn_seed_6"]["history"]] != [e["loss"] for e in runs["cnn"]["history"]]


def test_checkpoint_model_and_reported_auroc_are_the_evaluated_epoch(wiring):
    """A whole run: the evaluated epoch is the argmax of the logged validation AUROC,
    the checkpoint holds the final model's weights, and the final model reproduces
    that epoch's validation AUROC (so it is not simply the last epoch's model)."""
    out, work = wiring
    history = out["runs"]["cnn"]["history"]
    aurocs = [e["val_auroc"] for e in history]
    assert [e["epoch"] for e in history] == list(range(1, len(history) + 1))  # Keras' epoch 0 is the report's 1
    assert [e["epoch"] for e in history if e["evaluated"]] == [int(np.argmax(aurocs)) + 1]
    final = keras.models.load_model(work / "cnn" / "final.keras").get_weights()
    checkpoint = keras.models.load_model(work / "cnn" / "checkpoints" / "cnn.keras").get_weights()
    assert len(final) == len(checkpoint) and all(np.array_equal(a, b) for a, b in zip(final, checkpoint))
    reproduced = roc_auc_score(out["validation_labels"], out["runs"]["cnn"]["validation"])
    assert reproduced == pytest.approx(max(aurocs), abs=1e-9)
