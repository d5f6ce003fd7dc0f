"""Keras pieces the R training code uses: validation AUROC each epoch, probabilities."""

from __future__ import annotations

import numpy as np
import keras
from sklearn.metrics import roc_auc_score


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
