"""Keras pieces the R training code uses: validation AUROC each epoch, probabilities,
and the check that a model and the images it is given have the same size."""

from __future__ import annotations

import os
import time

import numpy as np
from sklearn.metrics import roc_auc_score

from chestxray.model.backend import import_keras
from chestxray.support.console import duration, step

keras = import_keras()


def positive_probability(outputs) -> np.ndarray:
    """P(positive) from a sigmoid (n, 1) or a two-class softmax (n, 2) output."""
    outputs = np.asarray(outputs, dtype=np.float64)
    return outputs[:, 1] if outputs.ndim == 2 and outputs.shape[1] == 2 else outputs.reshape(-1)


class InputSizeError(ValueError):
    """Images of one size given to a model built for another."""


def check_input_size(model, image_size: int, source: str, remedy: str) -> None:
    """Stop, naming both sizes and where the images come from, when ``model`` takes
    images of another side than ``image_size`` (Keras would fail deep inside with a
    shape error, or, for a model without a fixed input size, score them silently)."""
    height, width = tuple(model.input_shape)[1:3]
    if (height, width) != (image_size, image_size):
        raise InputSizeError(f"model '{model.name}' takes {height}x{width}-pixel images but {source} has "
                             f"{image_size}x{image_size}: {remedy}")


def check_batches(model, batches) -> None:
    """Where batches from a cache (CacheBatches) meet a model: the cache's image size
    must be the model's. In-memory arrays are left to Keras's own shape check."""
    if hasattr(batches, "image_size"):
        check_input_size(model, batches.image_size, f"the image cache {batches.cache_path}",
                         "train and evaluate a model on a cache built with its own image_size")


def predict_probability(model, batches) -> np.ndarray:
    check_batches(model, batches)
    return positive_probability(model.predict(batches, verbose=0))


def predict_findings(model, batches) -> np.ndarray:
    """images x findings: the multi-label model's sigmoid per finding (finding = "all")."""
    check_batches(model, batches)
    return np.asarray(model.predict(batches, verbose=0), dtype=np.float64)


def validation_auroc(labels: np.ndarray, probabilities: np.ndarray) -> float:
    """The AUROC that chooses the evaluated epoch: the binary one, or for a label matrix the mean
    of the findings' AUROCs (each finding counts once, as the report's mean AUROC)."""
    if labels.ndim == 2:
        single = [k for k in range(labels.shape[1]) if len(np.unique(labels[:, k])) < 2]
        if single:
            raise ValueError(f"validation has only one class for output(s) {single}: their AUROC is undefined")
        return float(np.mean([roc_auc_score(labels[:, k], probabilities[:, k]) for k in range(labels.shape[1])]))
    return float(roc_auc_score(labels, probabilities))


class ValidationAUROC(keras.callbacks.Callback):
    """Adds ``val_auroc`` (scikit-learn, on the whole validation split) to each epoch's logs; with a
    label matrix (one column per finding) the mean of the findings' AUROCs.

    Placed first among the callbacks, so early stopping, checkpointing and
    learning-rate reduction can all monitor it, whatever the model's output.
    """

    def __init__(self, batches, labels):
        super().__init__()
        self.batches = batches
        self.labels = np.asarray(labels)

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        predict = predict_findings if self.labels.ndim == 2 else predict_probability
        logs["val_auroc"] = validation_auroc(self.labels, predict(self.model, self.batches))


class ConsoleProgress(keras.callbacks.Callback):
    """One console line per epoch: the model, the epoch, the losses and the validation AUROC,
    with the time per epoch and the most left (early stopping may end sooner).

    Placed after ValidationAUROC so the AUROC is in the logs.
    """

    def __init__(self, name: str, epochs: int):
        super().__init__()
        self.name = name
        self.epochs = int(epochs)
        self.started = time.monotonic()

    def on_train_begin(self, logs=None):
        self.started = time.monotonic()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        done = epoch + 1
        per_epoch = (time.monotonic() - self.started) / done
        left = f", at most {duration(per_epoch * (self.epochs - done))} left" if done < self.epochs else ""
        step(f"  {self.name} epoch {done}/{self.epochs}: loss {logs.get('loss', float('nan')):.3f}, "
             f"validation loss {logs.get('val_loss', float('nan')):.3f}, "
             f"validation AUROC {logs.get('val_auroc', float('nan')):.3f} ({duration(per_epoch)} per epoch{left})")


class BestEpoch(keras.callbacks.Callback):
    """The one rule for the evaluated epoch: the highest ``val_auroc`` of all
    epochs run (the earliest on ties).

    Each new best is saved to ``checkpoint`` (when given) and kept in memory;
    at the end of training the model gets those weights back, so the
    checkpoint, the saved model and the reported metrics are the same weights.
    Early stopping then only decides when to stop. Placed after
    ValidationAUROC, which puts ``val_auroc`` in the logs.
    """

    RULE = "highest validation AUROC over all epochs run (earliest on ties); early stopping only decides when to stop"

    def __init__(self, checkpoint: str | None = None, monitor: str = "val_auroc"):
        super().__init__()
        self.checkpoint = checkpoint
        self.monitor = monitor
        self.best_epoch: int | None = None  # 1-based, as in history.csv
        self.best_value = -np.inf
        self.best_weights = None

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None or not value > self.best_value:
            return
        self.best_epoch, self.best_value = epoch + 1, float(value)
        self.best_weights = self.model.get_weights()
        if self.checkpoint:
            os.makedirs(os.path.dirname(os.path.abspath(self.checkpoint)), exist_ok=True)
            self.model.save(self.checkpoint)

    def on_train_end(self, logs=None):
        if self.best_weights is not None:
            self.model.set_weights(self.best_weights)
