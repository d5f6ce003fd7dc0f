"""Every number the report publishes (R/evaluate/metrics.R, metrics.json, the report's tables),
checked against an answer computed here: by hand on small fixtures, or with
scikit-learn, numpy and scipy. The DeLong interval is checked against the fast
DeLong algorithm (Sun & Xu, IEEE Signal Process. Lett. 2014) written below."""

import json
import re
from fractions import Fraction

import numpy as np
import pytest
from rpy2.rinterface_lib.embedded import RRuntimeError
from rpy2.robjects.vectors import FloatVector, IntVector, StrVector
from scipy.stats import norm, rankdata
from sklearn.metrics import brier_score_loss, confusion_matrix, roc_auc_score

from chestxray.preparation.split import prevalence_by_split

from conftest import ROOT
from spanish import es_interval, es_number, es_percent
from test_patient_bootstrap import replayed_patient_bootstrap


def r_json(r, expression):
    return json.loads(r(f"jsonlite::toJSON({expression}, auto_unbox = TRUE, digits = NA, na = 'null')")[0])


def assign(r, **values):
    for name, value in values.items():
        value = np.asarray(value)
        vector = StrVector if value.dtype.kind in "US" else IntVector if value.dtype.kind == "i" else FloatVector
        r.assign(name, vector(value.tolist()))


def fast_delong(labels, scores, level=0.95):
    """AUROC and its DeLong interval: midranks give the structural components
    (Sun & Xu 2014); the interval is normal, clipped to [0, 1] as pROC does."""
    labels, scores = np.asarray(labels), np.asarray(scores, dtype=float)
    positives, negatives = scores[labels == 1], scores[labels == 0]
    m, n = len(positives), len(negatives)
    pooled = rankdata(np.concatenate([positives, negatives]))
    auroc = (pooled[:m].sum() - m * (m + 1) / 2) / (m * n)
    v10 = (pooled[:m] - rankdata(positives)) / n  # per positive: share of negatives it outranks
    v01 = 1 - (pooled[m:] - rankdata(negatives)) / m  # per negative: share of positives above it
    se = np.sqrt(v10.var(ddof=1) / m + v01.var(ddof=1) / n)
    z = norm.ppf(0.5 + level / 2)
    return auroc, np.clip([auroc - z * se, auroc + z * se], 0, 1)


# Cases whose intervals stay inside (0, 1), so both ends carry the level.
DELONG_CASES = {
    "no ties": ([1] * 8 + [0] * 8, [0.2, 0.35, 0.42, 0.52, 0.55, 0.6, 0.7, 0.8,
                                    0.1, 0.15, 0.3, 0.4, 0.45, 0.5, 0.65, 0.75]),
    "ties across classes": ([1] * 8 + [0] * 8, [0.2, 0.4, 0.4, 0.5, 0.5, 0.6, 0.7, 0.8,
                                                0.1, 0.2, 0.3, 0.4, 0.5, 0.5, 0.7, 0.75]),
    "ties within classes": ([1] * 7 + [0] * 9, [0.3, 0.3, 0.6, 0.6, 0.6, 0.8, 0.2,
                                                0.1, 0.1, 0.4, 0.4, 0.4, 0.5, 0.7, 0.7, 0.25]),
    "below chance": ([1] * 7 + [0] * 7, [0.1, 0.2, 0.3, 0.45, 0.5, 0.55, 0.8,
                                         0.35, 0.4, 0.6, 0.65, 0.7, 0.85, 0.9]),
}


@pytest.mark.parametrize("case", DELONG_CASES)
def test_delong_interval_is_95_percent_delong(r_session, case):
    labels, scores = DELONG_CASES[case]
    assign(r_session, labels=labels, scores=scores)
    metrics = r_json(r_session, "binary_metrics(labels, scores, 0.5)")
    auroc, interval = fast_delong(labels, scores)
    assert interval[1] < 1  # unclipped at the top (and, but below chance, at the bottom): the level shows
    assert metrics["auroc"] == pytest.approx(auroc, abs=1e-12)
    assert metrics["auroc"] == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)
    assert metrics["auroc_ci95_delong"] == pytest.approx(interval, abs=1e-9)


def test_delong_interval_of_a_perfect_ranking_is_one_to_one(r_session):
    assign(r_session, labels=[0, 0, 1, 1], scores=[0.1, 0.2, 0.3, 0.4])
    metrics = r_session("suppressWarnings(binary_metrics(labels, scores, 0.5))")  # pROC warns that it is 1-1
    assert list(metrics.rx2("auroc_ci95_delong")) == [1, 1] and metrics.rx2("auroc")[0] == 1


# Ten test images at threshold 0.5: three true positives (one exactly at the threshold,
# which counts as positive), one false negative, four true negatives, two false positives.
# Every rate then differs from the others, so a swapped cell or key changes the answer.
LABELS = [1, 1, 1, 1, 0, 0, 0, 0, 0, 0]
SCORES = [0.9, 0.7, 0.5, 0.2, 0.1, 0.3, 0.4, 0.45, 0.6, 0.8]


@pytest.fixture(scope="module")
def hand_metrics(r_session):
    assign(r_session, labels=LABELS, scores=SCORES)
    return r_json(r_session, "binary_metrics(labels, scores, 0.5)")


def test_counts_are_the_confusion_matrix_at_the_threshold(hand_metrics):
    tn, fp, fn, tp = confusion_matrix(LABELS, np.array(SCORES) >= 0.5).ravel()
    assert (tp, fn, tn, fp) == (3, 1, 4, 2)
    assert hand_metrics["counts"] == {"tp": 3, "fp": 2, "tn": 4, "fn": 1, "positives": 4, "negatives": 6}


def test_accuracy_is_correct_over_all_images(hand_metrics):
    assert hand_metrics["accuracy"] == pytest.approx(7 / 10)


def test_sensitivity_is_true_positives_over_positives(hand_metrics):
    assert hand_metrics["sensitivity"] == pytest.approx(3 / 4)


def test_specificity_is_true_negatives_over_negatives(hand_metrics):
    assert hand_metrics["specificity"] == pytest.approx(4 / 6)


def test_ppv_is_true_positives_over_predicted_positives(hand_metrics):
    assert hand_metrics["ppv"] == pytest.approx(3 / 5)


def test_npv_is_true_negatives_over_predicted_negatives(hand_metrics):
    assert hand_metrics["npv"] == pytest.approx(4 / 5)


def test_prevalence_is_the_positive_share(hand_metrics):
    assert hand_metrics["prevalence"] == pytest.approx(4 / 10)


def test_brier_is_the_mean_squared_error_of_the_probability(hand_metrics):
    by_hand = sum((Fraction(str(s)) - y) ** 2 for s, y in zip(SCORES, LABELS)) / len(LABELS)
    assert float(by_hand) == pytest.approx(0.24525)
    assert hand_metrics["brier"] == pytest.approx(float(by_hand), abs=1e-12)
    assert hand_metrics["brier"] == pytest.approx(brier_score_loss(LABELS, SCORES), abs=1e-12)


def test_threshold_is_the_one_applied(hand_metrics):
    assert hand_metrics["threshold"] == 0.5


def test_rates_without_a_denominator_are_missing_not_zero(r_session):
    assign(r_session, labels=[0, 1, 0, 1], scores=[0.1, 0.2, 0.3, 0.4])
    metrics = r_json(r_session, "binary_metrics(labels, scores, 0.9)")  # nothing predicted positive
    assert metrics["ppv"] is None and metrics["sensitivity"] == 0 and metrics["npv"] == pytest.approx(0.5)


# ---------------------------------------------------------------------------
# The evaluation as the report runs it (evaluate_predictions) and what it publishes
# (save_outputs: metrics.json, model-card.json), on hand-built predictions.

# Validation: Youden's J is 0.8 at the cut between 0.55 and 0.6 (sensitivity 4/5,
# specificity 4/4), more than anywhere else (0.75 at the cut between 0.3 and 0.35).
VALIDATION_LABELS = [0, 0, 0, 0, 1, 1, 1, 1, 1]
VALIDATION_SCORES = [0.1, 0.2, 0.3, 0.55, 0.35, 0.6, 0.7, 0.8, 0.9]
VALIDATION_YOUDEN_THRESHOLD = (0.55 + 0.6) / 2
# Test: its own best cut (0.41-0.51) differs; at validation's threshold 0.575 the test
# has tp 2 (0.7, 0.95), fn 3, fp 2 (0.58, 0.62), tn 4. Seven patients, some with two films.
TEST_LABELS = [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1]
TEST_SCORES = [0.05, 0.22, 0.33, 0.41, 0.58, 0.62, 0.51, 0.53, 0.56, 0.7, 0.95]
TEST_PATIENTS = ["p1", "p1", "p2", "p3", "p3", "p4", "p5", "p5", "p6", "p7", "p7"]
SEED = 5
# The baseline's own predictions: Youden's cut on validation between 0.4 and 0.45 (J = 0.8).
BASELINE_VALIDATION_SCORES = [0.2, 0.4, 0.1, 0.3, 0.5, 0.45, 0.25, 0.6, 0.7]
BASELINE_TEST_SCORES = [0.15, 0.32, 0.12, 0.61, 0.4, 0.5, 0.45, 0.66, 0.3, 0.72, 0.52]

PUBLISH_R = """
  test_table <- data.frame(image = sprintf("t%02d.png", seq_along(test_labels)), patient_id = test_patients,
                           label = test_labels, stringsAsFactors = FALSE)
  validation_table <- data.frame(image = sprintf("v%02d.png", seq_along(validation_labels)),
                                 patient_id = sprintf("v%d", seq_along(validation_labels)), label = validation_labels)
  prepared <- list(
    labels = function(split) if (split == "validation") validation_labels else test_labels,
    part = function(split) if (split == "validation") validation_table else test_table,
    table = data.frame(split = rep(c("validation", "test"), c(nrow(validation_table), nrow(test_table)))),
    eligible = list(), integrity = function() list()
  )
  p <- list(operating_point = threshold_rule_name, target_sensitivity = 0.9, seed = seed, model = "cnn",
            image_size = 48L, finding = "Pneumothorax", data = "demo")
  model_result <- function(name, validation, test) {
    trained <- list(validation_probabilities = validation, test_probabilities = test)
    c(trained, evaluate_predictions(trained, prepared, p), list(
      name = name, model = list(save = function(path) NULL, input_shape = list(NULL, 40L, 40L, 1L)),
      parameters = 1000L, seconds = 3,
      history = data.frame(epoch = 1:2, val_auroc = c(0.6, 0.7)), evaluated_epoch = 2L,
      weights_loaded = list(source = "none")))
  }
  results <- list(cnn = model_result("cnn", validation_scores, test_scores),
                  baseline = model_result("baseline", baseline_validation_scores, baseline_test_scores))
  # The epoch rule and the console line come from Python, which this embedded R must not call.
  writer <- save_outputs
  environment(writer) <- list2env(list(evaluated_epoch_rule = function() "rule", say_outputs = function(...) NULL),
                                  parent = globalenv())
  writer(results$cnn, results, prepared, p, output_dir)
"""


@pytest.fixture(scope="module")
def published(r_session, tmp_path_factory):
    """metrics.json and model-card.json for the hand-built predictions, Youden's rule."""
    out = tmp_path_factory.mktemp("published")
    assign(r_session, validation_labels=VALIDATION_LABELS, validation_scores=VALIDATION_SCORES,
           test_labels=TEST_LABELS, test_scores=TEST_SCORES, test_patients=TEST_PATIENTS,
           baseline_validation_scores=BASELINE_VALIDATION_SCORES, baseline_test_scores=BASELINE_TEST_SCORES)
    r_session.assign("output_dir", str(out))
    r_session.assign("threshold_rule_name", "youden")  # not "operating_point": a function of that name
    r_session.assign("seed", SEED)
    r_session(f"local({{{PUBLISH_R}}})")
    return json.loads((out / "metrics.json").read_text()), json.loads((out / "model-card.json").read_text())


def youden_best(labels, scores):
    """Every cut between two distinct scores, and the one with the largest J."""
    labels, scores = np.asarray(labels), np.asarray(scores)
    distinct = np.unique(scores)
    cuts = (distinct[1:] + distinct[:-1]) / 2
    j = [(scores[labels == 1] >= t).mean() + (scores[labels == 0] < t).mean() - 1 for t in cuts]
    return cuts[int(np.argmax(j))]


def test_threshold_is_chosen_on_validation_not_on_test(published):
    metrics, card = published
    assert youden_best(VALIDATION_LABELS, VALIDATION_SCORES) == pytest.approx(VALIDATION_YOUDEN_THRESHOLD)
    assert youden_best(TEST_LABELS, TEST_SCORES) < 0.52  # the test's own optimum would be another threshold
    assert metrics["threshold"] == pytest.approx(VALIDATION_YOUDEN_THRESHOLD, abs=1e-12)
    assert card["threshold"] == metrics["threshold"] and metrics["threshold_rule"] == "youden"


def test_the_model_card_gives_the_image_size_the_model_takes(published):
    _, card = published
    assert card["image_size"] == 40  # the model's input (40 px), not a parameter the render was given (48)
    assert card["negative_class"] == "No Finding" and card["positive_class"] == "Pneumothorax"


TEST_AT_VALIDATION_THRESHOLD = {  # tp 2, fn 3, fp 2, tn 4
    "accuracy": 6 / 11, "sensitivity": 2 / 5, "specificity": 4 / 6, "ppv": 2 / 4, "npv": 4 / 7, "prevalence": 5 / 11,
}


@pytest.mark.parametrize("key", TEST_AT_VALIDATION_THRESHOLD)
def test_metrics_json_holds_each_rate_under_its_name(published, key):
    metrics, _ = published
    assert metrics[key] == pytest.approx(TEST_AT_VALIDATION_THRESHOLD[key], abs=1e-12)


def test_metrics_json_counts_are_the_tests_confusion_matrix(published):
    metrics, _ = published
    tn, fp, fn, tp = confusion_matrix(TEST_LABELS, np.array(TEST_SCORES) >= VALIDATION_YOUDEN_THRESHOLD).ravel()
    assert metrics["counts"] == {"tp": tp, "fp": fp, "tn": tn, "fn": fn, "positives": 5, "negatives": 6}


def test_metrics_json_auroc_brier_and_delong_interval_are_the_tests(published):
    metrics, card = published
    auroc, interval = fast_delong(TEST_LABELS, TEST_SCORES)
    assert metrics["auroc"] == pytest.approx(roc_auc_score(TEST_LABELS, TEST_SCORES), abs=1e-12)
    assert metrics["auroc_ci95_delong"] == pytest.approx(interval, abs=1e-9)
    assert metrics["brier"] == pytest.approx(brier_score_loss(TEST_LABELS, TEST_SCORES), abs=1e-12)
    assert card["test_auroc"] == metrics["auroc"] and card["test_auroc_ci95_delong"] == metrics["auroc_ci95_delong"]


def test_metrics_json_patient_bootstrap_is_2000_patient_resamples_with_the_seed(published, r_session):
    metrics, card = published
    replayed = replayed_patient_bootstrap(r_session, TEST_LABELS, TEST_SCORES, TEST_PATIENTS,
                                          VALIDATION_YOUDEN_THRESHOLD, 2000, SEED)
    for name in ("auroc", "sensitivity", "specificity"):
        assert metrics[f"{name}_ci95_patient_bootstrap"] == pytest.approx(replayed[name], abs=1e-12), name
    info = metrics["patient_bootstrap"]
    assert (info["replicates"], info["seed"], info["patients"], info["images"]) == (2000, SEED, 7, 11)
    assert (
        info["replicates_used"] == replayed["used"]
        and info["replicates_without_both_classes"] == 2000 - replayed["used"]
    )
    assert card["test_auroc_ci95_patient_bootstrap"] == metrics["auroc_ci95_patient_bootstrap"]


# The test predictions in equal-width bins of 0.1, right-closed ([0, 0.1], (0.1, 0.2], ...),
# empty bins left out: (mean predicted, observed positive share, images).
TEST_CALIBRATION = [(0.05, 0, 1), (0.22, 0, 1), (0.33, 0, 1), (0.41, 0, 1),
                    ((0.51 + 0.53 + 0.56 + 0.58) / 4, 3 / 4, 4), ((0.62 + 0.7) / 2, 1 / 2, 2), (0.95, 1, 1)]


def test_metrics_json_calibration_is_every_bin_of_the_test_predictions(published):
    metrics, _ = published
    bins = [(b["predicted"], b["observed"], b["n"]) for b in metrics["calibration"]]
    assert len(bins) == len(TEST_CALIBRATION)
    for got, expected in zip(bins, TEST_CALIBRATION):
        assert got == pytest.approx(expected, abs=1e-12)


def test_calibration_bins_are_closed_on_the_right_and_hold_zero_and_one(r_session):
    assign(r_session, labels=[0, 1, 0, 1, 1], scores=[0.0, 0.1, 0.15, 1.0, 0.95])
    bins = r_json(r_session, "calibration_bins(labels, scores)")
    assert [b["n"] for b in bins] == [2, 1, 2]
    assert [b["predicted"] for b in bins] == pytest.approx([0.05, 0.15, 0.975])
    assert [b["observed"] for b in bins] == pytest.approx([0.5, 0, 1])


def test_comparison_rows_publish_each_models_own_numbers(published, r_session):
    metrics, _ = published
    rows = {row["model"]: row for row in metrics["comparison"]}
    assert list(rows) == ["cnn", "baseline"]
    baseline_threshold = youden_best(VALIDATION_LABELS, BASELINE_VALIDATION_SCORES)
    assert baseline_threshold == pytest.approx(0.425)
    for name, scores, threshold in (("cnn", TEST_SCORES, VALIDATION_YOUDEN_THRESHOLD),
                                    ("baseline", BASELINE_TEST_SCORES, baseline_threshold)):
        row, predicted, labels = rows[name], np.array(scores) >= threshold, np.array(TEST_LABELS)
        auroc, delong = fast_delong(TEST_LABELS, scores)
        boot = replayed_patient_bootstrap(r_session, TEST_LABELS, scores, TEST_PATIENTS, threshold, 2000, SEED)["auroc"]
        expected = {
            "auroc": auroc, "ci_low": delong[0], "ci_high": delong[1], "boot_low": boot[0], "boot_high": boot[1],
            "sensitivity": predicted[labels == 1].mean(), "specificity": (~predicted[labels == 0]).mean(),
            "ppv": labels[predicted].mean(), "npv": 1 - labels[~predicted].mean(),
            "brier": brier_score_loss(TEST_LABELS, scores),
        }
        for key, value in expected.items():
            assert row[key] == pytest.approx(value, abs=1e-9), (name, key)
        assert (row["epochs"], row["evaluated_epoch"], row["parameters"]) == (2, 2, 1000)
    assert rows["cnn"]["auroc"] == metrics["auroc"]


def test_youden_rule_maximises_j_not_closeness_to_the_top_left_corner(r_session):
    """Cut at 0.73: sensitivity 3/6, specificity 6/6, J = 0.5, the only maximum. The cut
    at 0.5 (4/6 and 4/6, J = 1/3) is nearer the ROC plot's top-left corner."""
    labels = [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1]
    scores = [0.69, 0.31, 0.62, 0.46, 0.23, 0.15, 0.92, 0.54, 0.08, 0.77, 0.85, 0.38]
    assert youden_best(labels, scores) == pytest.approx((0.69 + 0.77) / 2)
    assign(r_session, labels=labels, scores=scores)
    assert r_session("choose_threshold(labels, scores)")[0] == pytest.approx(0.73, abs=1e-12)


def test_sensitivity_rule_takes_the_highest_validation_threshold_reaching_the_target(r_session):
    """All five validation positives (target 0.9 of 5) are kept only below 0.35: the
    cut between 0.3 and 0.35, not Youden's 0.575."""
    assign(r_session, labels=VALIDATION_LABELS, scores=VALIDATION_SCORES)
    threshold = r_session('choose_threshold(labels, scores, "sensitivity", 0.9)')[0]
    scores, labels = np.array(VALIDATION_SCORES), np.array(VALIDATION_LABELS)
    distinct = np.unique(scores)
    cuts = (distinct[1:] + distinct[:-1]) / 2
    reaching = [t for t in cuts if (scores[labels == 1] >= t).mean() >= 0.9]
    assert max(reaching) == pytest.approx((0.3 + 0.35) / 2)
    assert threshold == pytest.approx(max(reaching), abs=1e-12)
    assert r_session('choose_threshold(labels, scores, "sensitivity", 0.8)')[0] == pytest.approx(0.575, abs=1e-12)


# ---------------------------------------------------------------------------
# Subgroups and radiologists' labels


def age_band(age):
    return "<40" if age < 40 else "40-59" if age < 60 else ">=60"


# Seventeen test images: every view, sex and age band holds both classes at least twice
# (so it has a DeLong interval), except the single lateral (LL) film. Ages sit on the bands' edges.
SUBGROUP_TABLE = {
    "label": [1, 1, 0, 0, 1, 1, 0, 0, 1, 0, 1, 0, 1, 0, 0, 1, 1],
    "score": [0.9, 0.35, 0.4, 0.2, 0.8, 0.55, 0.6, 0.1, 0.7, 0.75, 0.45, 0.3, 0.65, 0.5, 0.15, 0.85, 0.25],
    "view_position": ["AP"] * 8 + ["PA"] * 8 + ["LL"],
    "patient_sex": ["F", "M"] * 8 + ["M"],
    "patient_age": [39, 20, 30, 25, 40, 59, 45, 50, 60, 61, 70, 80, 39, 59, 60, 33, 70],
}


def test_subgroup_aurocs_and_intervals_are_each_groups_own(r_session):
    table = {name: np.array(values) for name, values in SUBGROUP_TABLE.items()}
    assign(r_session, **{name: values for name, values in table.items() if name != "score"}, score=table["score"])
    rows = r_json(r_session, "subgroup_auroc(data.frame(label = label, view_position = view_position, "
                             "patient_sex = patient_sex, patient_age = patient_age), score)")
    groups = {"view": table["view_position"], "sex": table["patient_sex"],
              "age": np.array([age_band(a) for a in table["patient_age"]])}
    expected_order = [("view", "AP"), ("view", "LL"), ("view", "PA"), ("sex", "F"), ("sex", "M"),
                      ("age", "<40"), ("age", "40-59"), ("age", ">=60")]
    assert [(row["variable"], row["group"]) for row in rows] == expected_order
    for row in rows:
        members = groups[row["variable"]] == row["group"]
        labels, scores = table["label"][members], table["score"][members]
        assert (row["images"], row["positives"]) == (members.sum(), labels.sum()), row
        if row["group"] == "LL":  # one class only: no AUROC, no interval
            assert (row["auroc"], row["ci_low"], row["ci_high"]) == (None, None, None)
            continue
        auroc, interval = fast_delong(labels, scores)
        assert row["auroc"] == pytest.approx(roc_auc_score(labels, scores), abs=1e-12), row
        assert [row["ci_low"], row["ci_high"]] == pytest.approx(interval, abs=1e-9), row


# Six of eight test images were read by radiologists (x9 is not in the test split).
ADJUDICATED_CSV = """Image Index,Finding Labels,Pneumothorax,Effusion
i4.png,Pneumothorax,YES,NO
i1.png,Pneumothorax,YES,YES
i2.png,Pneumothorax,NO,NO
i3.png,No Finding,NO,YES
i5.png,Pneumothorax,YES,NO
i6.png,No Finding,NO,NO
x9.png,No Finding,YES,YES
"""
ADJUDICATED_TEST = {  # NIH's label and the model's probability, i7 and i8 not read by radiologists
    "image": [f"i{n}.png" for n in range(1, 9)],
    "label": [1, 1, 0, 0, 1, 0, 1, 0],
    "probability": [0.9, 0.5, 0.2, 0.6, 0.4, 0.1, 0.8, 0.3],
}


@pytest.fixture
def adjudicated(r_session, tmp_path):
    path = tmp_path / "adjudicated.csv"
    path.write_text(ADJUDICATED_CSV)
    r_session.assign("images", StrVector(ADJUDICATED_TEST["image"]))
    assign(r_session, nih=ADJUDICATED_TEST["label"], probability=ADJUDICATED_TEST["probability"])
    return lambda finding="Pneumothorax": r_json(
        r_session, f'adjudicated_agreement(data.frame(image = images, label = nih), probability, 0.5, '
                   f'read_adjudicated_labels("{path}", "{finding}"))')


def test_radiologist_agreement_on_the_images_they_read(adjudicated):
    """Radiologists: i1, i4, i5 positive; NIH: i1, i2, i5. They agree on i1, i3, i5, i6.
    Against the radiologists the model ranks 8 of 9 pairs right (0.4 < 0.5), against
    NIH 7 of 9; at 0.5 it finds i1 and i4 (2 of 3) and clears i3 and i6, not i2 at
    exactly 0.5 (2 of 3)."""
    out = adjudicated()
    assert (out["images"], out["expert_positives"], out["nih_positives"]) == (6, 3, 3)
    assert out["label_agreement"] == pytest.approx(4 / 6)
    assert out["auroc_vs_expert"] == pytest.approx(8 / 9) and out["auroc_vs_nih"] == pytest.approx(7 / 9)
    assert out["sensitivity_vs_expert"] == pytest.approx(2 / 3) and out["specificity_vs_expert"] == pytest.approx(2 / 3)
    expert = np.array([1, 0, 0, 1, 1, 0])
    assert out["auroc_vs_expert"] == pytest.approx(roc_auc_score(expert, ADJUDICATED_TEST["probability"][:6]))


def test_radiologist_agreement_reads_the_findings_column(adjudicated):
    out = adjudicated("Effusion")  # radiologists: i1 and i3; with NIH's label they agree on i1, i4, i6
    assert out["expert_positives"] == 2 and out["label_agreement"] == pytest.approx(3 / 6)
    with pytest.raises(RRuntimeError, match="lacks the 'Image Index' and 'Nodule' columns"):
        adjudicated("Nodule")


# ---------------------------------------------------------------------------
# The report's text: its metrics table and conclusions, run from report.qmd itself
# on the hand-built test predictions, against numbers formatted here.


def report_chunk(label):
    text = (ROOT / "report.qmd").read_text()
    code = re.search(rf"```{{r}}\n#\| label: {label}\n(.*?)\n```", text, re.S)
    assert code, f"report.qmd has no chunk {label}"
    return "\n".join(line for line in code.group(1).splitlines() if not line.startswith("#|"))


@pytest.fixture(scope="module")
def report_text(r_session):
    """The metrics table (kable's markdown lines), the conclusions' first sentence and the comparison table,
    from the functions report.qmd's chunks call."""
    assign(r_session, test_labels=TEST_LABELS, test_scores=TEST_SCORES, test_patients=TEST_PATIENTS,
           baseline_test_scores=BASELINE_TEST_SCORES)
    r_session.assign("seed", SEED)
    r_session.assign("threshold", VALIDATION_YOUDEN_THRESHOLD)
    r_session.assign("baseline_threshold", 0.425)
    r_session.assign("comparison_code", report_chunk("comparison"))
    out = r_json(r_session, """local({
      evaluated <- function(scores, threshold) c(binary_metrics(test_labels, scores, threshold),
        patient_bootstrap(test_labels, scores, test_patients, threshold, 2000L, seed))
      m <- evaluated(test_scores, threshold)
      main <- list(metrics = m, evaluated_epoch = 2L, weights_loaded = list(source = "none"))
      model <- function(name, metrics, parameters) list(name = name, metrics = metrics, parameters = parameters,
        history = data.frame(epoch = 1:3), evaluated_epoch = 2L, seconds = 12.4)
      results <- list(cnn = model("cnn", m, 123456L),
                      baseline = model("baseline", evaluated(baseline_test_scores, baseline_threshold), 7890123L))
      list(table = as.character(metrics_kable(m, "neumotórax", "cnn", 2L)),
           comparison = as.character(eval(parse(text = comparison_code))),
           conclusions = conclusions_text(main, results$baseline$metrics, length(test_labels), "cnn", FALSE))
    })""")
    return (kable_rows(out["table"]), " ".join(out["table"]), re.sub(r"[ \n]+", " ", out["conclusions"]),
            kable_rows(out["comparison"]))


def kable_rows(lines):
    """A markdown table as {first cell: other cells}, the header included, the rule left out."""
    rows = {}
    for line in (line for line in lines if line.startswith("|")):
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if not set(cells[0]) <= set(":-"):
            rows[cells[0]] = cells[1:]
    return rows


def interval_text(interval):
    return es_interval(interval[0], interval[1])


def percent_text(interval):
    return f"{es_percent(interval[0])}–{es_percent(interval[1])}"


def test_report_table_shows_each_measure_with_its_counts_and_intervals(report_text, r_session):
    rows, _, _, _ = report_text
    auroc, delong = fast_delong(TEST_LABELS, TEST_SCORES)
    boot = replayed_patient_bootstrap(r_session, TEST_LABELS, TEST_SCORES, TEST_PATIENTS,
                                      VALIDATION_YOUDEN_THRESHOLD, 2000, SEED)
    assert rows == {
        "Medida": ["Valor", "IC 95\u00a0% DeLong (imágenes independientes)", "IC 95\u00a0% bootstrap por paciente"],
        "AUROC": [es_number(auroc, 3), interval_text(delong), interval_text(boot["auroc"])],
        "Exactitud": ["54,5\u00a0%", "–", "–"],
        "Sensibilidad": ["40,0\u00a0% (2/5)", "–", percent_text(boot["sensitivity"])],
        "Especificidad": ["66,7\u00a0% (4/6)", "–", percent_text(boot["specificity"])],
        "Prevalencia de neumotórax en test": ["45,5\u00a0% (5/11)", "–", "–"],
        "Valor predictivo positivo": ["50,0\u00a0% (2/4)", "–", "–"],
        "Valor predictivo negativo": ["57,1\u00a0% (4/7)", "–", "–"],
        "Brier": [es_number(brier_score_loss(TEST_LABELS, TEST_SCORES), 3), "–", "–"],
        "Umbral (de validación)": ["0,575", "–", "–"],
    }


def test_report_table_caption_counts_images_and_patients(report_text):
    _, table, _, _ = report_text
    assert "Modelo `cnn` en test (5 imágenes con neumotórax, 6 sin hallazgos, de 7 pacientes; época 2)." in table


def test_conclusions_quote_the_auroc_both_intervals_and_the_rates(report_text, r_session):
    _, _, conclusions, _ = report_text
    auroc, delong = fast_delong(TEST_LABELS, TEST_SCORES)
    boot = replayed_patient_bootstrap(r_session, TEST_LABELS, TEST_SCORES, TEST_PATIENTS,
                                      VALIDATION_YOUDEN_THRESHOLD, 2000, SEED)
    baseline = replayed_patient_bootstrap(
        r_session, TEST_LABELS, BASELINE_TEST_SCORES, TEST_PATIENTS, 0.425, 2000, SEED
    )
    assert conclusions.startswith(
        f"Con 11 imágenes de test de 7 pacientes que el modelo nunca vio, el modelo `cnn` (pesos de la época 2) "
        f"alcanza un AUROC de **{es_number(auroc, 3)}** (IC 95\u00a0%: {interval_text(boot['auroc'])} por bootstrap "
        "por "
        f"paciente; {interval_text(delong)} por DeLong) y, con el umbral fijado en validación, una sensibilidad del "
        f"40\u00a0% (IC 95\u00a0% por paciente: {percent_text(boot['sensitivity'])}) y una especificidad del 67\u00a0% "
        f"({percent_text(boot['specificity'])}); la red densa del original, entrenada igual y sobre la misma "
        f"partición, se queda en un AUROC de {es_number(roc_auc_score(TEST_LABELS, BASELINE_TEST_SCORES), 3)} "
        f"({interval_text(baseline['auroc'])} por paciente)."
    ), conclusions


def test_data_text_gives_the_test_and_eligible_prevalence(r_session):
    counts = {"train": {"images": 70, "positives": 30}, "validation": {"images": 15, "positives": 5},
              "test": {"images": 16, "positives": 6}}
    prevalence = prevalence_by_split(counts)

    def r_list(d):
        return "list(" + ", ".join(f"{k} = {v!r}" for k, v in d.items()) + ")"

    text = r_session(f"""split_integrity_text(
      list(train = list(images = 70, positives = 30), validation = list(images = 15, positives = 5),
           test = list(images = 16, positives = 6)),
      list(images_with_unknown_patient = 0, patient_sources = list(metadata = 101),
           identical_images_across_splits = list()),
      400L, "neumotórax",
      list(data = {prevalence['data']!r}, splits = {r_list(prevalence['splits'])}, drifting = list(),
           tolerance = {prevalence['tolerance']!r}))""")[0]
    assert prevalence["drifting"] == []  # |30/70 - 41/101|, |5/15 - 41/101|, |6/16 - 41/101| are all < 0.2 * 41/101
    assert text.startswith(  # 30/70 = 42.86 %, 5/15 = 33.33 %, 6/16 = 37.5 %, 41/101 = 40.59 %
        "El límite de 400 imágenes por clase solo se aplica a entrenamiento y validación: el test conserva todas sus "
        "imágenes, 6 de 16 con neumotórax. Prevalencia de neumotórax por parte, antes del límite por clase: "
        "entrenamiento 42,9\u00a0%, validación 33,3\u00a0%, test 37,5\u00a0%; en los datos elegibles, 40,6\u00a0%. "
        "Ninguna parte se aparta más de un 20\u00a0% de la de los datos."), text


def test_report_comparison_table_shows_each_models_numbers(report_text, r_session):
    *_, rows = report_text  # one row per measure, one column per model
    assert list(rows) == ["Medida", "Parámetros", "Épocas (evaluada)", "Segundos de entrenamiento", "AUROC",
                          "IC 95\u00a0% DeLong", "IC 95\u00a0% bootstrap por paciente", "Sensibilidad", "Especificidad",
                          "VPP", "VPN", "Brier"]
    assert rows["Medida"] == ["cnn", "baseline"]
    for column, (scores, threshold, parameters) in enumerate(
        (
            (TEST_SCORES, VALIDATION_YOUDEN_THRESHOLD, "123\u00a0456"),
            (BASELINE_TEST_SCORES, 0.425, "7\u00a0890\u00a0123"),
        )
    ):
        auroc, delong = fast_delong(TEST_LABELS, scores)
        boot = replayed_patient_bootstrap(r_session, TEST_LABELS, scores, TEST_PATIENTS, threshold, 2000, SEED)
        tn, fp, fn, tp = confusion_matrix(TEST_LABELS, np.array(scores) >= threshold).ravel()
        rates = [es_percent(a / (a + b)) for a, b in ((tp, fn), (tn, fp), (tp, fp), (tn, fn))]
        expected = [parameters, "3 (2)", "12", es_number(auroc, 3), interval_text(delong), interval_text(boot["auroc"]),
                    *rates, es_number(brier_score_loss(TEST_LABELS, scores), 3)]
        assert [cells[column] for measure, cells in rows.items() if measure != "Medida"] == expected, column


# Behaviours found unpinned by scripts/mutate_r.py (each test names the mutant it kills).

def test_the_sensitivity_rule_uses_the_target_in_the_parameters(r_session):
    """E28: evaluate_predictions passes p$target_sensitivity on (0.6 here; the function's own default is 0.9).
    The highest cut of validation whose sensitivity reaches the target, counted here by hand."""
    labels, scores = np.array(VALIDATION_LABELS), np.array(VALIDATION_SCORES)
    distinct = np.unique(scores)
    cuts = (distinct[1:] + distinct[:-1]) / 2

    def reaching(target):
        return max(t for t in cuts if (scores[labels == 1] >= t).mean() >= target)

    assert reaching(0.6) == pytest.approx(0.65) and reaching(0.9) == pytest.approx(0.325)  # the two differ
    assign(r_session, validation_labels=VALIDATION_LABELS, validation_scores=VALIDATION_SCORES,
           test_labels=TEST_LABELS, test_scores=TEST_SCORES, test_patients=TEST_PATIENTS)
    threshold = r_json(r_session, """local({
      prepared <- list(labels = function(split) if (split == "validation") validation_labels else test_labels,
                       part = function(split) data.frame(patient_id = test_patients))
      trained <- list(validation_probabilities = validation_scores, test_probabilities = test_scores)
      p <- list(operating_point = "sensitivity", target_sensitivity = 0.6, seed = 1L)
      evaluate_predictions(trained, prepared, p)$threshold
    })""")
    assert threshold == pytest.approx(reaching(0.6))


def test_the_pr_curve_is_scikit_learns_from_its_start_point(r_session):
    """E31: the curve starts at (recall 0, precision 1), as scikit-learn's ends; then one point per
    distinct probability, highest first."""
    from sklearn.metrics import precision_recall_curve

    labels = np.array([1, 0, 1, 1, 0, 0, 1, 0])
    scores = np.array([0.9, 0.8, 0.7, 0.7, 0.4, 0.3, 0.35, 0.1])
    assign(r_session, labels=labels, scores=scores)
    pr = r_json(r_session, "pr_points(labels, scores)")
    precision, recall, _ = precision_recall_curve(labels, scores)
    expected = np.column_stack([recall[::-1], precision[::-1]]).ravel()
    assert np.ravel([(p["recall"], p["precision"]) for p in pr]) == pytest.approx(expected)
    assert (pr[0]["recall"], pr[0]["precision"]) == (0, 1)


def test_a_subgroup_with_one_case_of_a_class_gets_no_interval(r_session):
    """With one positive, DeLong's variance is undefined: no interval, even where that positive ranks first
    (an interval 1-1 would mislead). Two positives get the DeLong interval."""
    view = ["AP"] * 4 + ["PA"] * 6
    labels = [1, 0, 0, 0, 1, 1, 0, 0, 0, 0]
    scores = [0.9, 0.2, 0.3, 0.4, 0.8, 0.35, 0.5, 0.1, 0.2, 0.3]
    assign(r_session, labels=labels, scores=scores, view=view)
    rows = {row["group"]: row for row in r_json(r_session,
            "subgroup_auroc(data.frame(label = labels, view_position = view), scores)")}
    assert rows["AP"]["auroc"] == 1 and rows["AP"]["ci_low"] is None and rows["AP"]["ci_high"] is None
    pa = slice(4, 10)
    auroc, delong = fast_delong(labels[pa], scores[pa])
    assert rows["PA"]["auroc"] == pytest.approx(auroc)
    assert [rows["PA"]["ci_low"], rows["PA"]["ci_high"]] == pytest.approx(delong)


def test_a_failed_write_leaves_the_previous_file_whole(r_session, tmp_path):
    """E40: results are written under a temporary name and renamed, so a writer that stops half-way
    leaves the previous file as it was."""
    path = tmp_path / "results" / "evaluation.rds"
    path.parent.mkdir()
    path.write_text("previous results")
    r_session.assign("path", str(path))
    with pytest.raises(RRuntimeError, match="disk full"):
        r_session('write_atomically(path, function(tmp) { writeLines("half", tmp); stop("disk full") })')
    assert path.read_text() == "previous results"
    r_session('write_atomically(path, function(tmp) writeLines("new results", tmp))')
    assert path.read_text() == "new results\n"
    assert [p.name for p in path.parent.iterdir()] == ["evaluation.rds"]  # the new write took the temporary name over
