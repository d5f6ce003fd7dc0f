"""The numbers behind the operating-point explorer, its static table and the teaching
notes (R/evaluate/operating_point.R, R/text/teaching_notes.R), against counts done in the test."""

import numpy as np
import pytest

from operating_points import LABELS, PROBABILITIES, counts_at, frame, r_vectors


def test_counts_at_every_threshold_match_a_direct_count(r_session):
    labels, probabilities = r_vectors(r_session)
    table = frame(r_session["threshold_counts"](labels, probabilities, also=0.55))
    expected_thresholds = sorted(set(PROBABILITIES) | {0.55}, reverse=True)
    assert table["threshold"] == pytest.approx(expected_thresholds)
    for i, threshold in enumerate(expected_thresholds):
        assert {k: int(table[k][i]) for k in ("tp", "fp", "tn", "fn")} == counts_at(threshold), threshold


def test_predictive_values_follow_bayes_rule_by_hand(r_session):
    # sensitivity 0.9, specificity 0.8, prevalence 0.1: PPV = 0.09 / (0.09 + 0.18), NPV = 0.72 / (0.72 + 0.01)
    values = r_session["predictive_values"](0.9, 0.8, 0.1)
    assert values.rx2("ppv")[0] == pytest.approx(1 / 3)
    assert values.rx2("npv")[0] == pytest.approx(0.72 / 0.73)
    # at the prevalence of a split, Bayes gives the split's own PPV: 3 TP, 1 FP in 4 positives, 8 negatives
    sens, spec, prevalence = 3 / 4, 7 / 8, 4 / 12
    assert r_session["predictive_values"](sens, spec, prevalence).rx2("ppv")[0] == pytest.approx(3 / 4)


def test_static_table_starts_with_the_validation_threshold_then_the_highest_reaching_each_sensitivity(r_session):
    labels, probabilities = r_vectors(r_session)
    table = frame(r_session["operating_point_table"](labels, probabilities, 0.65, prevalence=0.05))
    assert np.isnan(table["target_sensitivity"][0]) and table["threshold"][0] == pytest.approx(0.65)
    positives = np.array(PROBABILITIES)[np.array(LABELS) == 1]
    for target in (0.8, 0.9, 0.95):
        reaching = [t for t in set(PROBABILITIES) if np.mean(positives >= t) >= target]
        shown = [counts_at(t) for t in table["threshold"]]
        assert counts_at(max(reaching)) in shown, target  # that operating point is in the table
    for i, threshold in enumerate(table["threshold"]):
        counts = counts_at(threshold)
        assert {k: int(table[k][i]) for k in counts} == counts
        sensitivity = counts["tp"] / (counts["tp"] + counts["fn"])
        specificity = counts["tn"] / (counts["tn"] + counts["fp"])
        assert table["sensitivity"][i] == pytest.approx(sensitivity)
        assert table["specificity"][i] == pytest.approx(specificity)
        assert table["ppv"][i] == pytest.approx(counts["tp"] / (counts["tp"] + counts["fp"]))
        expected_ppv = 0.05 * sensitivity / (0.05 * sensitivity + 0.95 * (1 - specificity))
        assert table["ppv_at_prevalence"][i] == pytest.approx(expected_ppv)
    # 0.7 reaches 80 % with the validation threshold's counts, 0.4 both 90 and 95 %: each point shown once
    assert table["threshold"] == pytest.approx([0.65, 0.4])


def test_the_explorer_carries_every_threshold_and_starts_at_validations(r_session):
    """What the page's script reads: counts at every test threshold and at the validation
    threshold, where the control starts (the browser test drives the page itself)."""
    import json
    import re

    labels, probabilities = r_vectors(r_session)
    page = r_session["explorer_html"](labels, probabilities, 0.55, "neumotórax")[0]
    data = json.loads(re.search(r'<script type="application/json">(.*?)</script>', page, re.S).group(1))
    assert data["validation_threshold"] == 0.55
    assert (data["positives"], data["negatives"]) == (5, 7)
    assert data["thresholds"] == pytest.approx(sorted(set(PROBABILITIES) | {0.55}, reverse=True))
    for threshold, tp, fp in zip(data["thresholds"], data["tp"], data["fp"]):
        assert (tp, fp) == (counts_at(threshold)["tp"], counts_at(threshold)["fp"]), threshold
    assert "Con neumotórax" in page and "{{" not in page


def test_a_sensitivity_reached_exactly_counts_as_reached(r_session):
    """4 of the 5 positives score 0.7 or more: 0.7 reaches a sensitivity of exactly 0.8, and is the highest
    threshold that does (at 0.9 only 3 of 5), counted here by hand."""
    labels, probabilities = r_vectors(r_session)
    reaching = [t for t in set(PROBABILITIES) if counts_at(t)["tp"] / 5 >= 0.8]
    assert max(reaching) == 0.7 and counts_at(0.7)["tp"] == 4
    assert r_session["threshold_for_sensitivity"](labels, probabilities, 0.8)[0] == pytest.approx(0.7)
