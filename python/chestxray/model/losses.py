"""The multi-label study's loss: binary cross-entropy per finding, weighted for its prevalence.

CheXNet (Rajpurkar et al. 2017) weighs, for each finding, a positive image's term by the share of
training images without the finding and a negative's by the share with it, so that positives and
negatives of a finding weigh alike however rare it is: unweighted, a network learns to answer "no"
to a finding that 0.2 % of the films carry (Hernia) and still scores a low loss.
"""

from __future__ import annotations

import numpy as np

from chestxray.model.backend import import_keras

keras = import_keras()
ops = keras.ops


class FindingWeightsError(ValueError):
    """A finding that no training image has, or that every training image has: no weight balances it."""


def positive_shares(labels, findings) -> np.ndarray:
    """Each finding's share of training images that carry it (``labels``: images x findings, 0/1)."""
    labels = np.asarray(labels, dtype=np.float64)
    shares = labels.mean(axis=0)
    unusable = [f"{finding} ({'none' if share == 0 else 'all'})"
                for finding, share in zip(findings, shares) if share in (0.0, 1.0)]
    if unusable:
        raise FindingWeightsError(f"no weight balances a finding that none or all of the {len(labels):,} training "
                                  f"images carry: {', '.join(unusable)}")
    return shares


@keras.saving.register_keras_serializable(package="chestxray")
class FindingWeightedCrossEntropy(keras.losses.Loss):
    """Mean over findings of -(1 - s) y log p - s (1 - y) log(1 - p), with s each finding's positive share."""

    def __init__(self, shares, name="finding_weighted_cross_entropy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.shares = [float(s) for s in shares]

    def call(self, y_true, y_pred):
        shares = ops.convert_to_tensor(self.shares, dtype=y_pred.dtype)
        y_true = ops.cast(y_true, y_pred.dtype)
        p = ops.clip(y_pred, keras.config.epsilon(), 1 - keras.config.epsilon())
        terms = (1 - shares) * y_true * ops.log(p) + shares * (1 - y_true) * ops.log(1 - p)
        return -ops.mean(terms, axis=-1)

    def get_config(self):
        return {**super().get_config(), "shares": self.shares}
