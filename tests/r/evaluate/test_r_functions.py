"""The evaluation functions the report calls (R/evaluate/), run in embedded R through rpy2."""

import json

import numpy as np
import pytest
from rpy2.robjects.vectors import StrVector
from sklearn.metrics import roc_auc_score


def r_json(r, expression):
    return json.loads(r(f"jsonlite::toJSON({expression}, auto_unbox = TRUE, digits = NA)")[0])


def assign(r, **values):
    for name, value in values.items():
        r.assign(name, r.c(*np.asarray(value).tolist()))


def test_metrics_agree_with_scikit_learn(r_session):
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 200)
    scores = np.clip(labels * 0.3 + rng.normal(0.35, 0.25, 200), 0, 1)
    r_session.assign("labels", r_session.c(*labels.tolist()))
    r_session.assign("scores", r_session.c(*scores.tolist()))
    metrics = r_json(r_session, "binary_metrics(labels, scores, 0.5)")
    assert metrics["auroc"] == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)
    low, high = metrics["auroc_ci95_delong"]
    assert low < metrics["auroc"] < high
    predicted = scores >= 0.5
    assert metrics["counts"]["tp"] == int((predicted & (labels == 1)).sum())
    assert metrics["sensitivity"] == pytest.approx((predicted & (labels == 1)).sum() / (labels == 1).sum())
    assert metrics["specificity"] == pytest.approx((~predicted & (labels == 0)).sum() / (labels == 0).sum())


def test_threshold_is_youden_optimum(r_session):
    labels = [0, 0, 0, 1, 1, 1]
    scores = [0.1, 0.2, 0.45, 0.4, 0.8, 0.9]
    r_session.assign("labels", r_session.c(*labels))
    r_session.assign("scores", r_session.c(*scores))
    threshold = r_session("choose_threshold(labels, scores)")[0]

    def youden(t):
        return (
            np.mean([s >= t for s, label in zip(scores, labels) if label])
            + np.mean([s < t for s, label in zip(scores, labels) if not label])
            - 1
        )
    assert youden(threshold) == pytest.approx(max(youden(t) for t in scores))


def test_sensitivity_operating_point(r_session):
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 2, 300)
    scores = np.clip(labels * 0.25 + rng.normal(0.4, 0.2, 300), 0, 1)
    assign(r_session, labels=labels, scores=scores)
    threshold = r_session('choose_threshold(labels, scores, "sensitivity", 0.9)')[0]

    def sensitivity(t):
        return (scores[labels == 1] >= t).mean()

    assert sensitivity(threshold) >= 0.9
    higher = np.sort(np.unique(scores))
    higher = higher[higher > threshold]
    assert sensitivity(np.nextafter(higher[0], 1)) < 0.9  # any higher cut loses the target: it is the highest


def test_pr_calibration_and_subgroups_agree_with_scikit_learn(r_session):
    from sklearn.metrics import precision_score, recall_score

    rng = np.random.default_rng(5)
    labels = rng.integers(0, 2, 240)
    scores = np.clip(labels * 0.3 + rng.normal(0.35, 0.2, 240), 0, 1)
    assign(r_session, labels=labels, scores=scores)
    pr = r_json(r_session, "pr_points(labels, scores)")
    t = np.sort(np.unique(scores))[::-1][40]
    row = pr[41]
    assert row["recall"] == pytest.approx(recall_score(labels, scores >= t))
    assert row["precision"] == pytest.approx(precision_score(labels, scores >= t))
    bins = r_json(r_session, "calibration_bins(labels, scores)")
    assert sum(b["n"] for b in bins) == 240
    low = scores <= 0.1
    assert bins[0]["observed"] == pytest.approx(labels[low].mean()) and bins[0]["n"] == low.sum()

    view = np.where(rng.random(240) < 0.4, "AP", "PA")
    sex = np.where(rng.random(240) < 0.5, "F", "M")
    age = rng.integers(20, 90, 240)
    r_session.assign("view", StrVector(view.tolist()))
    r_session.assign("sex", StrVector(sex.tolist()))
    assign(r_session, age=age)
    groups = r_json(
        r_session,
        "subgroup_auroc(data.frame(label = labels, view_position = view, patient_sex = sex, patient_age = age), "
        "scores)",
    )
    by_key = {(g["variable"], g["group"]): g for g in groups}
    assert [g["group"] for g in groups if g["variable"] == "age"] == ["<40", "40-59", ">=60"]
    ap = view == "AP"
    assert by_key[("view", "AP")]["auroc"] == pytest.approx(roc_auc_score(labels[ap], scores[ap]))
    assert by_key[("view", "AP")]["images"] == ap.sum() and by_key[("view", "AP")]["positives"] == labels[ap].sum()
    old = age >= 60
    assert by_key[("age", ">=60")]["auroc"] == pytest.approx(roc_auc_score(labels[old], scores[old]))


def test_agreement_with_radiologist_labels(r_session):
    import pandas as pd

    from conftest import fixture

    path = fixture("nih", "metadata", "google2019_nih-chest-xray-labels.csv.gz")
    expert = pd.read_csv(path).head(120)
    nih = (expert["Finding Labels"].str.contains("Pneumothorax")).astype(int).to_numpy()
    truth = (expert["Pneumothorax"] == "YES").astype(int).to_numpy()
    scores = np.linspace(0, 1, 120)
    r_session.assign("images", StrVector(list(expert["Image Index"])))
    assign(r_session, nih=nih, scores=scores)
    out = r_json(
        r_session,
        f'adjudicated_agreement(data.frame(image = c(images, "none.png"), label = c(nih, 0)), c(scores, 0.5), 0.5, '
        f'read_adjudicated_labels("{path}", "Pneumothorax"))',
    )
    assert out["images"] == 120 and out["expert_positives"] == truth.sum() and out["nih_positives"] == nih.sum()
    assert out["label_agreement"] == pytest.approx((truth == nih).mean())
    if 0 < truth.sum() < 120:
        assert out["auroc_vs_expert"] == pytest.approx(roc_auc_score(truth, scores))
