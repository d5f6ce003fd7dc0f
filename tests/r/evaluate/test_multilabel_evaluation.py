"""The multi-label study's numbers (R/evaluate/multilabel.R): each finding's row recomputed with
scikit-learn and numpy from the same predictions, the threshold found on validation, the mean
AUROC over findings (not over images) by hand and from scikit-learn, and its patient-bootstrap
interval replayed on base R's own draws of patients."""

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from test_patient_bootstrap import r_draws
from test_statistics import youden_best

FINDINGS = ["Effusion", "Nodule", "Mass"]


def r_json(r, expression):
    return json.loads(r(f"jsonlite::toJSON({expression}, auto_unbox = TRUE, digits = NA, dataframe = 'rows')")[0])


def frame_to_r(r, name, frame):
    columns = ", ".join(f"`{c}` = c({', '.join(map(repr, frame[c].astype(float).tolist()))})" for c in frame)
    r(f"{name} <- data.frame({columns}, check.names = FALSE)")


def study(seed=0, patients=80, films=3):
    """Patients with correlated films; each finding with its own prevalence and separability, and a
    validation set whose scores sit higher than test's (a threshold from test would be another)."""
    rng = np.random.default_rng(seed)
    ids = np.repeat(np.arange(patients), films)

    def part(shift):
        labels, scores = {}, {}
        for k, finding in enumerate(FINDINGS):
            prone = rng.random(patients) < (0.35, 0.2, 0.5)[k]
            y = (prone[ids] & (rng.random(ids.size) < 0.8)).astype(int)
            labels[finding] = y
            scores[finding] = np.clip(0.3 + shift + (0.15 + 0.1 * k) * y + rng.normal(0, 0.12, ids.size), 0, 1)
        return pd.DataFrame(labels), pd.DataFrame(scores)

    return (*part(0.15), *part(0.0), ids)


@pytest.fixture(scope="module")
def evaluated(r_session):
    validation, validation_scores, test, test_scores, patients = study()
    for name, frame in (("v", validation), ("vp", validation_scores), ("t", test), ("tp", test_scores)):
        frame_to_r(r_session, name, frame)
    r_session.assign("patients", r_session.c(*[f"p{p}" for p in patients]))
    r_session.assign("findings", r_session.c(*FINDINGS))
    rows = r_json(r_session, "per_finding_evaluation(findings, v, vp, t, tp, patients, replicates = 200L, seed = 3L)")
    mean = r_json(r_session, "mean_auroc(findings, t, tp, patients, replicates = 300L, seed = 5L)")
    return {row["finding"]: row for row in rows}, mean, (validation, validation_scores, test, test_scores, patients)


def test_each_findings_row_is_its_own_auroc_and_counts(evaluated):
    rows, _, (_, _, test, scores, patients) = evaluated
    assert list(rows) == FINDINGS
    for finding in FINDINGS:
        y = test[finding].to_numpy()
        assert rows[finding]["auroc"] == pytest.approx(roc_auc_score(y, scores[finding]), abs=1e-12), finding
        assert rows[finding]["test_images"] == y.sum()
        assert rows[finding]["test_patients"] == len(set(patients[y == 1]))
        assert rows[finding]["prevalence"] == pytest.approx(y.mean())
        assert rows[finding]["auroc_delong_low"] < rows[finding]["auroc"] < rows[finding]["auroc_delong_high"]
        assert rows[finding]["auroc_bootstrap_low"] < rows[finding]["auroc"] < rows[finding]["auroc_bootstrap_high"]
    assert len({round(row["auroc"], 6) for row in rows.values()}) == 3  # distinct: a swapped column shows


def test_each_threshold_is_chosen_on_that_findings_validation_and_applied_to_its_test(evaluated):
    rows, _, (validation, validation_scores, test, scores, _) = evaluated
    for finding in FINDINGS:
        threshold = youden_best(validation[finding], validation_scores[finding])
        assert rows[finding]["threshold"] == pytest.approx(threshold), finding
        assert threshold != pytest.approx(youden_best(test[finding], scores[finding]))  # test's would differ
        y, predicted = test[finding].to_numpy(), scores[finding].to_numpy() >= threshold
        assert rows[finding]["sensitivity"] == pytest.approx(predicted[y == 1].mean())
        assert rows[finding]["specificity"] == pytest.approx((~predicted[y == 0]).mean())


def test_the_mean_auroc_is_over_findings_not_over_images(evaluated):
    _, mean, (_, _, test, scores, _) = evaluated
    by_finding = np.mean([roc_auc_score(test[f], scores[f]) for f in FINDINGS])
    pooled = roc_auc_score(test.to_numpy().ravel(), scores.to_numpy().ravel())
    assert mean["mean_auroc"] == pytest.approx(by_finding, abs=1e-12)
    assert abs(by_finding - pooled) > 0.01  # the data tell the two apart


def test_a_hand_worked_mean(r_session):
    """Effusion: positives 0.9 and 0.4 against negatives 0.2 and 0.6, 3 of 4 pairs ranked right (0.75);
    Nodule: every pair right (1). The mean is 0.875."""
    r_session("t <- data.frame(Effusion = c(1, 0, 1, 0), Nodule = c(0, 1, 0, 1))")
    r_session("tp <- data.frame(Effusion = c(0.9, 0.2, 0.4, 0.6), Nodule = c(0.1, 0.8, 0.3, 0.7))")
    out = r_json(r_session, "mean_auroc(c('Effusion', 'Nodule'), t, tp, c('a', 'b', 'c', 'd'), 50L, 1L)")
    assert out["mean_auroc"] == 0.875


def test_the_mean_aurocs_interval_is_the_percentiles_over_patient_resamples(evaluated, r_session):
    """Replayed on base R's draws for the seed: the same patients drawn for every finding, each replicate
    the mean of the findings' AUROCs, replicates lacking a finding's class left out, R's type-7 quantiles."""
    _, mean, (_, _, test, scores, patients) = evaluated
    members = {p: np.flatnonzero(patients == p) for p in sorted(set(patients.tolist()), key=lambda p: f"p{p}")}
    order = list(members)
    estimates = []
    for draw in r_draws(r_session, len(order), 300, 5):
        rows = np.concatenate([members[order[i - 1]] for i in draw])
        if any(test[f].to_numpy()[rows].min() == test[f].to_numpy()[rows].max() for f in FINDINGS):
            continue
        estimates.append(np.mean([roc_auc_score(test[f].to_numpy()[rows], scores[f].to_numpy()[rows])
                                  for f in FINDINGS]))
    assert mean["replicates_used"] == len(estimates) and mean["replicates"] == 300
    assert mean["mean_auroc_ci95_patient_bootstrap"] == pytest.approx(np.quantile(estimates, [0.025, 0.975]),
                                                                      abs=1e-12)


def test_replicates_lacking_a_findings_class_are_left_out_and_counted(r_session):
    """Four patients a-d, one film each. Nodule's one positive is d, Effusion's are a and c: a replicate
    has both classes of both findings when it draws d and one of a and c (d is an Effusion negative)."""
    r_session("t <- data.frame(Effusion = c(1, 0, 1, 0), Nodule = c(0, 0, 0, 1))")
    r_session("tp <- data.frame(Effusion = c(0.9, 0.2, 0.4, 0.6), Nodule = c(0.1, 0.8, 0.3, 0.7))")
    out = r_json(r_session, "mean_auroc(c('Effusion', 'Nodule'), t, tp, c('a', 'b', 'c', 'd'), 400L, 2L)")
    draws = r_draws(r_session, 4, 400, 2)
    expected = sum(1 for draw in draws if 4 in draw and (1 in draw or 3 in draw))
    assert out["replicates_used"] == expected and 0 < expected < 400


def test_evaluate_findings_thresholds_on_validation_each_column_its_own_finding(evaluated, r_session):
    """evaluate_predictions with a probability matrix (finding = "all"): each finding's threshold from its own
    validation column, its AUROC from its own test column (columns in a different order than the labels'
    findings would show as swapped), the mean over findings, and the thresholds named by finding."""
    _, _, (validation, validation_scores, test, scores, patients) = evaluated
    for name, frame in (("ml_v", validation), ("ml_vp", validation_scores), ("ml_t", test), ("ml_tp", scores)):
        frame_to_r(r_session, name, frame)  # names of its own: other tests reassign v, t, ...
    r_session.assign("ml_patients", r_session.c(*[f"p{p}" for p in patients]))
    r_session("""
      ml_prepared <- list(
        labels = function(split) as.matrix(if (split == "validation") ml_v else ml_t),
        part = function(split) data.frame(patient_id = ml_patients, stringsAsFactors = FALSE))
      ml_trained <- list(validation_probabilities = as.matrix(ml_vp), test_probabilities = as.matrix(ml_tp))
      ml_p <- list(operating_point = "youden", target_sensitivity = 0.9, seed = 3L)
    """)
    r_session("ml_evaluated <- evaluate_predictions(ml_trained, ml_prepared, ml_p)")
    out = r_json(r_session, "list(threshold = as.list(ml_evaluated$threshold), metrics = ml_evaluated$metrics)")
    assert list(out["threshold"]) == FINDINGS
    rows = {row["finding"]: row for row in out["metrics"]["findings"]}
    for finding in FINDINGS:
        assert out["threshold"][finding] == pytest.approx(youden_best(validation[finding], validation_scores[finding]))
        assert rows[finding]["threshold"] == out["threshold"][finding]
        assert rows[finding]["auroc"] == pytest.approx(roc_auc_score(test[finding], scores[finding]), abs=1e-12)
        assert rows[finding]["test_patients"] == len(set(patients[test[finding].to_numpy() == 1]))
    assert out["metrics"]["mean"]["mean_auroc"] == pytest.approx(
        np.mean([roc_auc_score(test[f], scores[f]) for f in FINDINGS]), abs=1e-12)
    assert out["metrics"]["mean"]["replicates"] == 2000
