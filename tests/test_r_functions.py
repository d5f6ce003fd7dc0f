"""The R functions the report calls, run in embedded R through rpy2."""

import hashlib
import json

import numpy as np
import pytest
from rpy2.rinterface_lib.embedded import RRuntimeError
from rpy2.robjects.vectors import StrVector
from sklearn.metrics import roc_auc_score

from conftest import run_r, tiny_training_r


def r_json(r, expression):
    return json.loads(r(f"jsonlite::toJSON({expression}, auto_unbox = TRUE, digits = NA)")[0])


def test_params_are_typed_and_checked(r_session):
    r_session('defaults <- rmarkdown::yaml_front_matter("report.qmd")$params')
    checked = r_json(r_session, """check_params(modifyList(defaults, list(n_per_class = "40", epochs = "3",
        nih_archives = "1,3-4", target_sensitivity = "0.95")))""")
    assert checked["n_per_class"] == 40 and checked["epochs"] == 3 and checked["nih_base_url"] == ""
    assert checked["target_sensitivity"] == 0.95 and checked["model"] == "cnn"
    with pytest.raises(RRuntimeError, match="missing parameter.*nih_dir"):
        r_session(
            'check_params(list(data = "demo", data_dir = "d", n_per_class = 40, image_size = 64, epochs = 3, '
            'batch_size = 8, seed = 1))'
        )
    with pytest.raises(RRuntimeError, match="parameter 'data' is 'web' but must be one of: demo, folder, nih"):
        r_session('check_param("data", "web")')
    with pytest.raises(RRuntimeError, match="'nih_archives' is 'first' but must be 'all' or numbers from 1 to 12"):
        r_session('check_param("nih_archives", "first")')
    with pytest.raises(RRuntimeError, match="'image_size' is '12.5' but must be an integer from 32 to 512"):
        r_session('check_param("image_size", "12.5")')
    with pytest.raises(RRuntimeError, match="unknown parameter 'epoch'; known parameters: data, data_dir"):
        r_session('check_param("epoch", 3)')


def test_cnn_shape_and_size():
    model = run_r("""
      m <- build_cnn(64L)
      list(input = unlist(m$input$shape), output = unlist(m$output$shape), parameters = count_parameters(m),
           layers = vapply(m$layers, function(l) class(l)[1], ""))
    """)
    assert model["input"] == [64, 64, 1] and model["output"] == 1  # (batch, 1): one probability
    assert 50_000 < model["parameters"] < 1_000_000
    assert any("Conv2D" in layer for layer in model["layers"])
    assert not any("Flatten" in layer for layer in model["layers"])


def test_cnn_holds_no_random_layers():
    """Augmentation lives in the input pipeline (chestxray.model.augment), not in the saved model."""
    out = run_r("""
      m <- build_cnn(32L)
      names <- vapply(m$layers, function(l) class(l)[1], "")
      np <- reticulate::import("numpy", convert = FALSE)
      x <- np$random$default_rng(0L)$random(c(2L, 32L, 32L, 1L))$astype("float32")
      a <- m(x, training = FALSE)$numpy()
      b <- m(x, training = FALSE)$numpy()
      list(layers = names, same = max(abs(a - b)))
    """)
    assert not [name for name in out["layers"] if "Random" in name]
    assert out["same"] == 0


def test_transfer_loads_a_local_weights_file(tmp_path):
    weights = tmp_path / "mobilenetv2_notop.weights.h5"
    out = run_r(f"""
      keras <- import_keras()
      reference <- keras$applications$MobileNetV2(include_top = FALSE, weights = NULL,
                                                  input_shape = list(32L, 32L, 3L), pooling = "avg")
      kernel <- reference$get_layer("Conv1")$kernel
      kernel$assign(array(0.125, dim = dim(kernel$numpy())))
      reference$save_weights("{weights}")
      m <- build_transfer("mobilenetv2", 32L, weights = "{weights}")
      list(value = m$get_layer("Conv1")$kernel$numpy()[1, 1, 1, 1],
           output = unlist(m$output$shape), name = m$name, loaded = weights_loaded(m))
    """)
    assert out["value"] == 0.125 and out["output"] == 1 and out["name"] == "mobilenetv2"
    assert out["loaded"]["source"] == str(weights) and out["loaded"]["file"] == str(weights)
    assert out["loaded"]["sha256"] == hashlib.sha256(weights.read_bytes()).hexdigest()


def test_missing_weights_stop_or_fall_back(tmp_path):
    missing = tmp_path / "absent.weights.h5"
    with pytest.raises(
        AssertionError, match="could not load .*absent.weights.h5.* for mobilenetv2.*existing weights file"
    ):
        run_r(f'build_transfer("mobilenetv2", 32L, weights = "{missing}")')  # "stop" is the default
    out = run_r(f"""
      warned <- NULL
      m <- withCallingHandlers(build_transfer("mobilenetv2", 32L, weights = "{missing}", on_missing_weights = "random"),
                               warning = function(w) {{
                                 warned <<- conditionMessage(w)
                                 invokeRestart("muffleWarning")
                               }})
      list(warning = warned, parameters = count_parameters(m), loaded = weights_loaded(m))
    """)
    assert "training from random initialisation" in out["warning"] and out["parameters"] > 100_000
    assert out["loaded"]["source"] == "random" and out["loaded"]["requested"] == str(missing)
    assert "sha256" not in out["loaded"] or not out["loaded"]["sha256"]


def test_training_on_tiny_set_returns_history(tmp_path):
    out = run_r(tiny_training_r(tmp_path, 2, tmp_path / "best.keras") + """
      list(history = history, probabilities = predict_probabilities(tiny, split_batches(prepared, "test", 8L)),
           n_test = sum(prepared$table$split == "test"))
    """)
    assert len(out["history"]) == 2 and {"loss", "val_loss", "val_auroc", "learning_rate"} <= set(out["history"][0])
    assert (tmp_path / "best.keras").exists()
    probabilities = np.array(out["probabilities"])
    assert len(probabilities) == out["n_test"]
    assert ((probabilities >= 0) & (probabilities <= 1)).all() and probabilities.std() > 0


def test_class_weights_balance_the_loss(r_session):
    weights = dict(
        zip(
            r_session("names(class_weights(c(rep(0, 30), rep(1, 10))))"),
            r_session("class_weights(c(rep(0, 30), rep(1, 10)))"),
        )
    )
    assert weights["0"] * 30 == pytest.approx(weights["1"] * 10)
    assert weights["0"] * 30 + weights["1"] * 10 == pytest.approx(40)
    with pytest.raises(RRuntimeError, match="only one class"):
        r_session("class_weights(c(0, 0, 0))")


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


def test_figure_numbering_for_the_fallback(r_session):
    lines = r_session.c(
        "See @fig-a and @fig-b.", "```{r}", "#| label: fig-a", '#| fig-cap: "First."', "```",
        "```{r}", "#| label: other", "```", "```{r}", "#| label: fig-b", '#| fig-cap: "Second."', "```",
    )
    r_session.assign("lines", lines)
    html = list(r_session("number_figures(lines, TRUE)"))
    assert html[0] == "See Figura 1 and Figura 2."
    assert '#| fig-cap: "Figura 1: First."' in html and '#| fig-cap: "Figura 2: Second."' in html
    assert '#| fig-cap: "First."' in list(r_session("number_figures(lines, FALSE)"))
    r_session.assign("broken", r_session.c("see @fig-missing"))
    with pytest.raises(RRuntimeError, match="unresolved figure reference"):
        r_session("number_figures(broken, TRUE)")


def assign(r, **values):
    for name, value in values.items():
        r.assign(name, r.c(*np.asarray(value).tolist()))


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
