"""A small test split with ties, and its confusion counts done by hand: shared by the tests of the operating
points (R/evaluate/operating_point.R) and of the teaching notes that quote them (R/text/teaching_notes.R)."""

import numpy as np

# Ties across the classes (0.7, 0.4) and within one (0.9), probabilities in no order.
LABELS = [1, 0, 1, 1, 0, 0, 1, 0, 0, 1, 0, 0]
PROBABILITIES = [0.9, 0.7, 0.7, 0.9, 0.2, 0.4, 0.4, 0.1, 0.3, 0.95, 0.05, 0.6]


def counts_at(threshold, labels=LABELS, probabilities=PROBABILITIES):
    labels, predicted = np.array(labels), np.array(probabilities) >= threshold
    return {"tp": int(np.sum(predicted & (labels == 1))), "fp": int(np.sum(predicted & (labels == 0))),
            "tn": int(np.sum(~predicted & (labels == 0))), "fn": int(np.sum(~predicted & (labels == 1)))}


def r_vectors(r_session):
    from rpy2 import robjects
    return robjects.FloatVector(LABELS), robjects.FloatVector(PROBABILITIES)


def frame(r_value):
    return {name: list(r_value.rx2(name)) for name in r_value.names}
