"""The model functions the report calls (R/model/: networks, weights, training), run through R."""

import hashlib
import json

import numpy as np
import pytest
from rpy2.rinterface_lib.embedded import RRuntimeError

from conftest import run_r, tiny_training_r


def r_json(r, expression):
    return json.loads(r(f"jsonlite::toJSON({expression}, auto_unbox = TRUE, digits = NA)")[0])


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
