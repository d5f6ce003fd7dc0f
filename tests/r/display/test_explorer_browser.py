"""The operating-point explorer's own arithmetic and typography, in real headless Chromium,
held to R: the page is R's explorer_html (assets/explorer.html + assets/explorer.js) for
labels and probabilities built here; every state the sliders and buttons reach is compared
with R's threshold_counts, operating_point and predictive_values, its visible texts with
R's es_number / es_percent (R/text/numbers.R) of the same values."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest

from browser import explorer_states

NBSP = "\u00a0"
PERCENTS = ["sensitivity", "specificity", "ppv", "npv", "ppv_at_prevalence", "npv_at_prevalence", "prevalence"]
COUNTS = ["tp", "fp", "fn", "tn"]
PER_1000 = ["found_per_1000", "missed_per_1000", "false_alarms_per_1000"]

# What the explorer should show at the i-th threshold (R's order: highest first) and a
# prevalence, from the project's R functions. The threshold gets the fewest decimals (3 to 8)
# that tell it from its neighbours, the rule the explorer states.
EXPECTED_STATE_R = r"""
function(labels, probabilities, validation, i, prevalence) {
  thresholds <- threshold_counts(labels, probabilities, also = validation)$threshold
  t <- thresholds[i]
  neighbours <- thresholds[intersect(c(i - 1, i + 1), seq_along(thresholds))]
  digits <- 8
  for (d in 3:7) if (!any(es_number(neighbours, d) == es_number(t, d))) { digits <- d; break }
  op <- operating_point(labels, probabilities, t, prevalence)
  at_test <- predictive_values(op$sensitivity, op$specificity, mean(labels == 1))
  if (!anyNA(c(op$sensitivity, op$specificity)))  # Bayes' rule at the test prevalence gives the test's PPV, NPV
    stopifnot(isTRUE(all.equal(c(at_test$ppv, at_test$npv), c(op$ppv, op$npv))))
  per_1000 <- list(found_per_1000 = op$sensitivity * prevalence,
                   missed_per_1000 = (1 - op$sensitivity) * prevalence,
                   false_alarms_per_1000 = (1 - op$specificity) * (1 - prevalence))
  percents <- c("sensitivity", "specificity", "ppv", "npv", "ppv_at_prevalence", "npv_at_prevalence")
  values <- c(op[c("threshold", "tp", "fp", "fn", "tn", percents)], list(prevalence = prevalence), per_1000)
  texts <- c(list(threshold = es_number(t, digits)),
             lapply(op[c("tp", "fp", "fn", "tn")], es_number, digits = 0),
             lapply(c(op[percents], list(prevalence = prevalence)), es_percent),
             lapply(per_1000, function(x) es_number(1000 * x, 0)))
  counts <- threshold_counts(labels, probabilities, also = validation)
  negatives <- sum(labels == 0); positives <- sum(labels == 1)
  jsonlite::toJSON(list(values = values, texts = texts,
                        point = c(100 * (1 - op$specificity), 100 - 100 * op$sensitivity),
                        curve = cbind(100 * counts$fp / negatives, 100 - 100 * counts$tp / positives)),
                   auto_unbox = TRUE, digits = NA, na = "null")
}
"""


def build_page(r_session, tmp_path, labels, probabilities, validation):
    """R's explorer_html for these labels, written as a page of its own."""
    from rpy2 import robjects

    fenced = r_session["explorer_html"](robjects.FloatVector(labels), robjects.FloatVector(probabilities),
                                        validation, "neumotórax")[0]
    body = fenced.split("```{=html}\n", 1)[1].rsplit("\n```", 1)[0]
    page = tmp_path / "explorer.html"
    page.write_text('<!DOCTYPE html>\n<html lang="es"><head><meta charset="utf-8"><title>Explorador</title></head>'
                    f"<body>\n{body}\n</body></html>\n", encoding="utf-8")
    return page


def expected_states(r_session, labels, probabilities, validation, moves):
    """R's state after the page starts and after each move (the slider position and the
    prevalence each move leaves, followed here as the page should)."""
    from rpy2 import robjects

    thresholds = sorted(set(probabilities) | {validation}, reverse=True)
    last = len(thresholds) - 1
    validation_position = last - thresholds.index(validation)
    # Math.round, within the slider's range (1 to 990 per mille: the browser keeps it there)
    test_per_mille = min(max(math.floor(1000 * sum(labels) / len(labels) + 0.5), 1), 990)
    position, per_mille = validation_position, test_per_mille
    expected_of = r_session(EXPECTED_STATE_R)
    vectors = robjects.FloatVector(labels), robjects.FloatVector(probabilities)

    def state():
        # slider position 0 is the lowest threshold, the last of R's (1-based) list
        return json.loads(expected_of(*vectors, validation, last - position + 1, per_mille / 1000)[0])

    states = [state()]
    for kind, value in moves:
        if kind == "threshold":
            position = value
        elif kind == "prevalence":
            per_mille = value
        elif (kind, value) == ("key", "Home"):
            position = 0
        elif (kind, value) == ("key", "End"):
            position = last
        elif (kind, value) == ("click", "validation-threshold"):
            position = validation_position
        elif (kind, value) == ("click", "test-prevalence"):
            per_mille = test_per_mille
        states.append(state())
    return states


def assert_state_is_rs(seen, expected, where):
    for measure, value in expected["values"].items():
        if value is None:
            assert seen["values"][measure] is None, (where, measure, seen["values"][measure])
        else:
            assert seen["values"][measure] == pytest.approx(value, rel=1e-12, abs=1e-12), (where, measure)
    assert seen["texts"] == expected["texts"], where
    # SVG coordinates are written with two decimals (toFixed): within half a hundredth
    point = np.array(expected["point"], dtype=float)  # R's NA (null) is NaN, as the page writes it
    assert np.allclose([float(c) for c in seen["point"]], point, rtol=0, atol=0.0051, equal_nan=True), (where, "point")
    curve = [[float(c) for c in p.split(",")] for p in seen["curve"].split(" ")]
    assert curve[0] == [0, 100]
    assert np.allclose(curve[1:], np.array(expected["curve"], dtype=float), rtol=0, atol=0.0051, equal_nan=True), \
        (where, "curve")


def drive(r_session, tmp_path, labels, probabilities, validation, moves):
    """What the page shows after each move, and what R says it should."""
    seen = explorer_states(build_page(r_session, tmp_path, labels, probabilities, validation), moves)
    assert seen["errors"] == []
    assert seen["slider_max"] == len(set(probabilities) | {validation}) - 1
    return seen, expected_states(r_session, labels, probabilities, validation, moves)


def assert_states_are_rs(seen, expected, moves):
    for where, (state, wanted) in enumerate(zip([seen["initial"]] + seen["states"], expected, strict=True)):
        assert_state_is_rs(state, wanted, f"state {where} ({(['start'] + moves)[where]})")


def drive_and_compare(r_session, tmp_path, labels, probabilities, validation, moves):
    seen, expected = drive(r_session, tmp_path, labels, probabilities, validation, moves)
    assert_states_are_rs(seen, expected, moves)
    return seen


# Hand-worked: 4 with the finding (0.9, 0.8, 0.8, 0.3), 6 without (0.8, 0.5, 0.3, 0.2, 0.1, 0.1),
# ties at 0.8 (one of each) and 0.3; validation threshold 0.55, between two probabilities.
HAND_LABELS = [1, 1, 1, 1, 0, 0, 0, 0, 0, 0]
HAND_PROBABILITIES = [0.9, 0.8, 0.8, 0.3, 0.8, 0.5, 0.3, 0.2, 0.1, 0.1]
HAND_MOVES = [("prevalence", 500), ("key", "Home"), ("threshold", 6), ("threshold", 3), ("threshold", 4),
              ("click", "validation-threshold"), ("click", "test-prevalence")]


def test_a_hand_worked_case_reads_as_worked_out_and_as_r(r_session, tmp_path):
    seen = drive_and_compare(r_session, tmp_path, HAND_LABELS, HAND_PROBABILITIES, 0.55, HAND_MOVES)
    # At 0.55 (as at 0.8): 3 of 4 found, 1 of 6 false alarm; test prevalence 4/10.
    # At 40 %: PPV 0.75·0.4 / (0.75·0.4 + 1/6·0.6) = 0.3/0.4; NPV 5/6·0.6 / (5/6·0.6 + 0.25·0.4) = 0.5/0.6.
    start = seen["initial"]["texts"]
    assert start == {"threshold": "0,550", "tp": "3", "fp": "1", "fn": "1", "tn": "5",
                     "sensitivity": f"75,0{NBSP}%", "specificity": f"83,3{NBSP}%", "ppv": f"75,0{NBSP}%",
                     "npv": f"83,3{NBSP}%", "prevalence": f"40,0{NBSP}%", "ppv_at_prevalence": f"75,0{NBSP}%",
                     "npv_at_prevalence": f"83,3{NBSP}%", "found_per_1000": "300", "missed_per_1000": "100",
                     "false_alarms_per_1000": "100"}
    assert seen["initial"]["point"] == ["16.67", "25.00"]
    # At 50 %: PPV 0.375 / (0.375 + 0.08333) = 0.818; NPV 0.41667 / (0.41667 + 0.125) = 0.769.
    half = seen["states"][0]["texts"]
    assert (half["ppv_at_prevalence"], half["npv_at_prevalence"]) == (f"81,8{NBSP}%", f"76,9{NBSP}%")
    assert (half["found_per_1000"], half["missed_per_1000"], half["false_alarms_per_1000"]) == ("375", "125", "83")
    # The lowest threshold (0.1): everything positive, no negatives left: NPV cannot be computed.
    lowest = seen["states"][1]
    assert lowest["texts"]["threshold"] == "0,100" and lowest["texts"]["npv"] == "–"
    assert lowest["values"]["npv"] is None and lowest["values"]["specificity"] == 0
    # The highest (0.9): one found, no false alarm.
    highest = seen["states"][2]["texts"]
    assert (highest["threshold"], highest["tp"], highest["fp"], highest["ppv"]) == ("0,900", "1", "0", f"100,0{NBSP}%")


def test_exact_halves_round_to_even_as_r_does(r_session, tmp_path):
    """1 of 16 found is 6.25 %: R (formatC, C's printf) writes 6,2 %, not toFixed's 6,3 %; at 4 %
    prevalence, 1/16 · 0.04 · 1000 = 2.5 found per 1000: R writes 2, not Math.round's 3."""
    labels = [1] * 16 + [0] * 16
    probabilities = [0.9] + [0.2] * 15 + [0.95] + [0.1] * 15
    seen = drive_and_compare(r_session, tmp_path, labels, probabilities, 0.9, [("prevalence", 40)])
    start, at_4 = seen["initial"]["texts"], seen["states"][0]["texts"]
    assert (start["sensitivity"], start["specificity"]) == (f"6,2{NBSP}%", f"93,8{NBSP}%")  # 93.75 -> the even 8
    assert (at_4["found_per_1000"], at_4["missed_per_1000"]) == ("2", "38")  # 2.5 -> 2, 37.5 -> 38


def large_case():
    """12 345 with the finding and 60 361 without: counts beyond four digits; 2024 negatives
    alone at 0.97 (four digits, never grouped); probabilities crowded near 1 that take 5 to 8
    decimals to tell apart; ties everywhere else (a grid of 0.01)."""
    rng = np.random.default_rng(25)
    crowd = [0.9999, 0.99991, 0.999912, 0.9999125, 0.99991251]
    positives = list(np.round(rng.uniform(0.3, 0.96, 12_345 - len(crowd)), 2)) + crowd
    negatives = [0.97] * 2024 + list(np.round(rng.uniform(0.0, 0.7, 60_361 - 2024), 2))
    return [1] * len(positives) + [0] * len(negatives), [float(p) for p in positives + negatives]


@pytest.fixture(scope="module")
def large(r_session, tmp_path_factory):
    """The page's states over the large case, R's expectations, and the moves."""
    labels, probabilities = large_case()
    last = len(set(probabilities) | {0.4321}) - 1
    moves = [("threshold", 0), ("threshold", 1), ("threshold", last // 2), ("prevalence", 1), ("prevalence", 990),
             ("threshold", last - 5), ("threshold", last - 4), ("threshold", last - 3), ("threshold", last - 2),
             ("threshold", last - 1), ("key", "End"), ("prevalence", 20), ("click", "test-prevalence"),
             ("click", "validation-threshold")]
    return *drive(r_session, tmp_path_factory.mktemp("large"), labels, probabilities, 0.4321, moves), moves


def test_many_thresholds_and_prevalences_read_as_r(large):
    seen, expected, moves = large
    assert_states_are_rs(seen, expected, moves)
    assert seen["initial"]["texts"]["threshold"] == "0,432"
    assert seen["initial"]["texts"]["prevalence"] == f"17,0{NBSP}%"  # 12 345 / 72 706


def test_texts_use_a_decimal_comma_and_non_breaking_spaces(large):
    """Checked on the page alone (not against R): Spanish typography whatever R does."""
    large, _, _ = large
    states = [large["initial"]] + large["states"]
    texts = [text for state in states for text in state["texts"].values()]
    assert not any("." in text or " " in text for text in texts)  # no decimal point, no breaking space
    assert all(re.fullmatch(r"(\d+,\d{3,8})", state["texts"]["threshold"]) for state in states)
    assert all(re.fullmatch(rf"\d+,\d{NBSP}%", state["texts"][m]) or state["texts"][m] == "–"
               for state in states for m in PERCENTS)
    lowest = large["states"][0]["texts"]
    assert (lowest["tp"], lowest["fp"], lowest["tn"]) == (f"12{NBSP}345", f"60{NBSP}361", "0")
    at_097 = large["states"][5]["texts"]
    assert (at_097["threshold"], at_097["fp"]) == ("0,970", "2024")
    crowd = [state["texts"]["threshold"] for state in large["states"][6:11]]
    # each with the fewest decimals that tell it from both neighbours (0.99991251's are 0.9999125 and none)
    assert crowd == ["0,99990", "0,999910", "0,9999120", "0,99991250", "0,999913"]


@pytest.mark.parametrize("validation, found", [(0.05, 4), (0.95, 0)])
def test_a_validation_threshold_beyond_every_probability_is_where_it_starts(r_session, tmp_path, validation, found):
    """Below the lowest probability (the slider's first position: all positive) or above the
    highest (its last: none positive), the explorer starts there and its button comes back there."""
    moves = [("threshold", 3), ("click", "validation-threshold")]
    seen = drive_and_compare(r_session, tmp_path, HAND_LABELS, HAND_PROBABILITIES, validation, moves)
    start = seen["initial"]["values"]
    assert start["threshold"] == validation and start["tp"] == found
    assert seen["states"][-1]["values"] == start


def test_a_split_without_the_finding_shows_dashes_where_nothing_can_be_computed(r_session, tmp_path):
    """No image with the finding: sensitivity, NPV and what depends on them cannot be computed;
    the page writes a dash (and an empty data-value) for each, as R's es_number/es_percent do."""
    seen = drive_and_compare(r_session, tmp_path, [0] * 6, [0.9, 0.7, 0.5, 0.3, 0.2, 0.1], 0.4,
                             [("prevalence", 100), ("threshold", 0)])
    for state in [seen["initial"]] + seen["states"]:
        texts = state["texts"]
        assert texts["sensitivity"] == texts["found_per_1000"] == texts["missed_per_1000"] == "–"
        assert state["values"]["sensitivity"] is None
