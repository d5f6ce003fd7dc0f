"""A model given images of another size than it was built for stops with a clear error,
wherever images meet it: training and evaluation batches, Grad-CAM, and `predict` through
the model card."""

import json
import re

import numpy as np
import pytest

from chestxray.model.batches import CacheBatches
from chestxray.model.explain import grad_cam_frame
from chestxray.model.predict import predict_files
from chestxray.model.training import InputSizeError, check_batches, predict_probability
from chestxray.preparation.cache import build_cache

from conftest import NIH_IMAGES, run_r


def small_cnn(size):
    import keras

    inputs = keras.Input((size, size, 1))
    x = keras.layers.GlobalAveragePooling2D()(keras.layers.Conv2D(2, 3, name="conv")(inputs))
    return keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(x), name="small")


@pytest.fixture(scope="module")
def cache_48(tmp_path_factory):
    paths = [str(p) for p in sorted(NIH_IMAGES.glob("*.png"))[:4]]
    return str(build_cache(paths, 48, tmp_path_factory.mktemp("cache"), workers=1).path)


def test_batches_of_another_size_stop_before_the_model_sees_them(cache_48):
    batches = CacheBatches(cache_48, [0, 1, 2, 3], [0, 1, 0, 1], batch_size=2)
    assert batches.image_size == 48
    message = f"model 'small' takes 32x32-pixel images but the image cache {cache_48} has 48x48"
    with pytest.raises(InputSizeError, match=re.escape(
            f"{message}: train and evaluate a model on a cache built with its own image_size")):
        predict_probability(small_cnn(32), batches)
    with pytest.raises(InputSizeError, match=re.escape(
            f"{message}: explain a model on a cache built with its own image_size")):
        grad_cam_frame(small_cnn(32), cache_48, [0, 1], ["a", "b"])
    check_batches(small_cnn(48), batches)  # the same size passes
    assert predict_probability(small_cnn(48), batches).shape == (4,)


@pytest.fixture(scope="module")
def cache_32(tmp_path_factory):
    paths = [str(p) for p in sorted(NIH_IMAGES.glob("*.png"))[:4]]
    return str(build_cache(paths, 32, tmp_path_factory.mktemp("cache32"), workers=1).path)


def test_r_training_stops_on_training_or_validation_batches_of_another_size(cache_48, cache_32):
    """Either set of batches from a cache of another size stops training before fit, naming that cache."""
    out = run_r(f"""
      ds <- import_chestxray("model.batches")
      wrong <- ds$CacheBatches("{cache_48}", 0:3, c(0, 1, 0, 1), 2L)
      right <- ds$CacheBatches("{cache_32}", 0:3, c(0, 1, 0, 1), 2L)
      attempt <- function(train, validation) {{
        model <- compile_model(build_cnn(32L))
        tryCatch({{ train_model(model, train, validation, c(0, 1, 0, 1), c(0, 1, 0, 1), 1L); "trained" }},
                 error = function(e) conditionMessage(e))
      }}
      list(train = attempt(wrong, right), validation = attempt(right, wrong), both_right = attempt(right, right))
    """)
    for which in ("train", "validation"):
        assert f"model 'cnn' takes 32x32-pixel images but the image cache {cache_48} has 48x48" in out[which]
    assert out["both_right"] == "trained"


def test_predict_stops_when_the_card_and_the_model_disagree(tmp_path):
    model_path = tmp_path / "model.keras"
    small_cnn(32).save(model_path)
    card = {"image_size": 48, "threshold": 0.5, "positive_class": "Pneumothorax", "negative_class": "No Finding"}
    (tmp_path / "model-card.json").write_text(json.dumps(card))
    image = sorted(NIH_IMAGES.glob("*.png"))[0]
    with pytest.raises(
        InputSizeError,
        match=r"model 'small' takes 32x32-pixel images but its model card .*model-card\.json "
        r"has 48x48: the card was written for another model",
    ):
        predict_files(model_path, [str(image)], tmp_path / "out.csv")
    assert not (tmp_path / "out.csv").exists()
    card["image_size"] = 32
    (tmp_path / "model-card.json").write_text(json.dumps(card))
    assert predict_files(model_path, [str(image)], tmp_path / "out.csv") == (1, 0)
    assert np.isfinite(float(open(tmp_path / "out.csv").read().splitlines()[1].split(",")[1]))
