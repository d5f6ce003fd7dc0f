"""Keras pieces the R training code uses: validation AUROC each epoch, probabilities."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_auc_score

from .backend import import_keras
from .console import step

keras = import_keras()


def positive_probability(outputs) -> np.ndarray:
    """P(positive) from a sigmoid (n, 1) or a two-class softmax (n, 2) output."""
    outputs = np.asarray(outputs, dtype=np.float64)
    return outputs[:, 1] if outputs.ndim == 2 and outputs.shape[1] == 2 else outputs.reshape(-1)


def predict_probability(model, batches) -> np.ndarray:
    return positive_probability(model.predict(batches, verbose=0))


class ValidationAUROC(keras.callbacks.Callback):
    """Adds ``val_auroc`` (scikit-learn, on the whole validation split) to each epoch's logs.

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
        logs["val_auroc"] = float(roc_auc_score(self.labels, predict_probability(self.model, self.batches)))


class ConsoleProgress(keras.callbacks.Callback):
    """One console line per epoch: the model, the epoch, the losses and the validation AUROC.

    Placed after ValidationAUROC so the AUROC is in the logs.
    """

    def __init__(self, name: str, epochs: int):
        super().__init__()
        self.name = name
        self.epochs = int(epochs)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        step(f"  {self.name} epoch {epoch + 1}/{self.epochs}: loss {logs.get('loss', float('nan')):.3f}, "
             f"validation loss {logs.get('val_loss', float('nan')):.3f}, "
             f"validation AUROC {logs.get('val_auroc', float('nan')):.3f}")
