"""The R functions the report calls, run in embedded R through rpy2."""

import json

import numpy as np
import pytest
from rpy2.rinterface_lib.embedded import RRuntimeError
from sklearn.metrics import roc_auc_score

from conftest import run_r


def r_json(r, expression):
    return json.loads(r(f"jsonlite::toJSON({expression}, auto_unbox = TRUE, digits = NA)")[0])


def test_params_are_typed_and_checked(r_session):
    checked = r_json(r_session, """check_params(list(data = "demo", data_dir = "d", n_per_class = "40", image_size = 64,
        epochs = "3", batch_size = 8, seed = "1", nih_dir = "n", nih_archives = "1,3-4", nih_base_url = "",
        nih_metadata = "", match = "any"))""")
    assert checked["n_per_class"] == 40 and checked["epochs"] == 3 and checked["nih_base_url"] == ""
    with pytest.raises(RRuntimeError, match="missing parameter.*nih_dir"):
        r_session('check_params(list(data = "demo", data_dir = "d", n_per_class = 40, image_size = 64, epochs = 3, batch_size = 8, seed = 1))')
    with pytest.raises(RRuntimeError, match="parameter 'data' is 'web' but must be one of: demo, folder, nih"):
        r_session('check_param("data", "web")')
    with pytest.raises(RRuntimeError, match="'nih_archives' is 'first' but must be 'all' or archive numbers"):
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


def test_training_on_tiny_set_returns_history(tmp_path):
    out = run_r(f"""
      ds <- import_chestxray("dataset")
      prepared <- ds$prepare_dataset("demo", "{tmp_path}/demo", 16L, 32L, 3L, cache_dir = "{tmp_path}/cache")
      set_training_seed(3L)
      tiny <- compile_model(build_cnn(32L, filters = c(4L, 8L)))
      history <- train_model(tiny, prepared$batches("train", 8L, TRUE), prepared$batches("validation", 8L),
                             prepared$labels("train"), epochs = 2L, verbose = 0L)
      list(history = history, probabilities = predict_probabilities(tiny, prepared$batches("test", 8L)),
           n_test = sum(prepared$table$split == "test"))
    """)
    assert len(out["history"]) == 2 and {"loss", "val_loss", "auc", "val_auc"} <= set(out["history"][0])
    probabilities = np.array(out["probabilities"])
    assert len(probabilities) == out["n_test"]
    assert ((probabilities >= 0) & (probabilities <= 1)).all() and probabilities.std() > 0


def test_class_weights_balance_the_loss(r_session):
    weights = dict(zip(r_session("names(class_weights(c(rep(0, 30), rep(1, 10))))"), r_session("class_weights(c(rep(0, 30), rep(1, 10)))")))
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
    low, high = metrics["auroc_ci95"]
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
    youden = lambda t: np.mean([s >= t for s, l in zip(scores, labels) if l]) + np.mean([s < t for s, l in zip(scores, labels) if not l]) - 1
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
