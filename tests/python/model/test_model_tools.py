"""Python helpers used by training and explanation: validation AUROC, probabilities, Grad-CAM."""

import keras
import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from chestxray.model.explain import grad_cam, last_conv_layer
from chestxray.model.training import (
    ValidationAUROC,
    positive_probability,
    predict_findings,
    predict_probability,
    validation_auroc,
)


def small_cnn(size=32, outputs=1):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((size, size, 1))
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="conv_a")(inputs)
    x = keras.layers.MaxPooling2D(2)(x)
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu", name="conv_b")(x)
    x = keras.layers.MaxPooling2D(2)(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(outputs, activation="sigmoid")(x))


def test_positive_probability_from_sigmoid_or_softmax():
    assert positive_probability(np.array([[0.2], [0.9]])).tolist() == [0.2, 0.9]
    assert positive_probability(np.array([[0.8, 0.2], [0.1, 0.9]])).tolist() == [0.2, 0.9]


def test_probabilities_leave_keras_float32_as_float64():
    """A card's threshold (a float64 written to JSON) is compared with each probability in
    float64: in float32 a threshold such as 0.69999999 would round onto float32(0.7) and flip it."""
    probability = positive_probability(np.array([[0.7]], dtype=np.float32))
    assert probability.dtype == np.float64 and (probability < 0.69999999).all()


def test_grad_cam_has_image_shape_and_structure():
    model = small_cnn()
    assert last_conv_layer(model) == "conv_b"
    rng = np.random.default_rng(1)
    images = rng.random((3, 32, 32, 1)).astype("float32")
    images[:, 8:16, 8:16] = 1.0  # a bright patch gives the maps some structure
    heat = grad_cam(model, images)
    assert heat.shape == (3, 32, 32)
    assert heat.min() >= 0 and heat.max() <= 1
    assert all(h.std() > 0 for h in heat if h.max() > 0) and heat.max() > 0


def test_grad_cam_for_one_finding_follows_that_output():
    """finding = "all": the map of output k comes from output k's logit, not the first output's."""
    model = small_cnn(outputs=3)
    rng = np.random.default_rng(1)
    images = rng.random((2, 32, 32, 1)).astype("float32")
    kernel, bias = model.layers[-1].get_weights()
    for k in range(3):  # each output alone: its map is the whole model's map for a one-output copy of it
        single = small_cnn(outputs=1)
        single.set_weights(model.get_weights()[:-2] + [kernel[:, k:k + 1], bias[k:k + 1]])
        np.testing.assert_allclose(grad_cam(model, images, output=k), grad_cam(single, images), atol=1e-6)
    assert not np.allclose(grad_cam(model, images, output=0), grad_cam(model, images, output=1))


def test_grad_cam_refuses_a_dense_network():
    inputs = keras.Input((8, 8, 1))
    model = keras.Model(inputs, keras.layers.Dense(1)(keras.layers.Flatten()(inputs)))
    with pytest.raises(ValueError, match="^the model has no convolutional feature maps: Grad-CAM needs a CNN$"):
        last_conv_layer(model)


def test_validation_auroc_is_logged_each_epoch():
    rng = np.random.default_rng(2)
    x = rng.random((40, 32, 32, 1)).astype("float32")
    y = (rng.random(40) < 0.5).astype("float32")
    model = small_cnn()
    model.compile("adam", "binary_crossentropy")
    callback = ValidationAUROC(x[:20], y[:20])
    history = model.fit(x[20:], y[20:], epochs=2, batch_size=10, verbose=0, callbacks=[callback])
    assert len(history.history["val_auroc"]) == 2
    assert history.history["val_auroc"][-1] == pytest.approx(
        roc_auc_score(y[:20], model.predict(x[:20], verbose=0).ravel())
    )


def test_with_a_label_matrix_validation_auroc_is_the_mean_over_findings():
    """finding = "all": each finding's AUROC counts once (scikit-learn's macro average over the columns)."""
    rng = np.random.default_rng(4)
    x = rng.random((60, 32, 32, 1)).astype("float32")
    y = (rng.random((60, 3)) < [0.5, 0.3, 0.15]).astype("float32")
    model = small_cnn(outputs=3)
    model.compile("adam", "binary_crossentropy")
    callback = ValidationAUROC(x[:30], y[:30])
    history = model.fit(x[30:], y[30:], epochs=1, batch_size=10, verbose=0, callbacks=[callback])
    probabilities = model.predict(x[:30], verbose=0)
    assert predict_findings(model, x[:30]).shape == (30, 3)
    assert history.history["val_auroc"][-1] == pytest.approx(roc_auc_score(y[:30], probabilities, average="macro"))
    rare = y[:30].copy()
    rare[:, 2] = 0  # a finding without positives in validation has no AUROC: refused, not averaged away
    with pytest.raises(ValueError, match=r"validation has only one class for output\(s\) \[2\]"):
        validation_auroc(rare, probabilities)


def test_grad_cam_survives_a_saturated_prediction():
    """A confident model (p == 1.0 in float32) still gets a map: gradients come from the logit."""
    model = small_cnn()
    head = model.layers[-1]
    head.bias.assign(np.array([60.0], dtype="float32"))  # sigmoid(60) rounds to 1.0
    images = np.random.default_rng(3).random((2, 32, 32, 1)).astype("float32")
    assert (model.predict(images, verbose=0) == 1.0).all()
    heat = grad_cam(model, images)
    assert heat.max() > 0


def test_predicting_probabilities_prints_nothing(capfd):
    """The report's console shows one line per step, not Keras' progress bars."""
    images = np.random.default_rng(3).random((4, 32, 32, 1)).astype("float32")
    probabilities = predict_probability(small_cnn(), images)
    assert probabilities.shape == (4,) and capfd.readouterr().out == ""


def test_finding_probabilities_are_float64_quietly_and_from_a_cache_of_the_models_size(tmp_path, capfd):
    from chestxray.model.batches import CacheBatches
    from chestxray.model.training import InputSizeError

    model = small_cnn(outputs=3)
    images = np.random.default_rng(6).integers(0, 256, (5, 32, 32), dtype=np.uint8)
    np.save(tmp_path / "cache.npy", images)
    probabilities = predict_findings(model, CacheBatches(str(tmp_path / "cache.npy"), range(5), np.zeros((5, 3)), 2))
    assert probabilities.dtype == np.float64 and probabilities.shape == (5, 3)
    assert capfd.readouterr().out == ""  # no Keras progress bar
    np.save(tmp_path / "other.npy", np.zeros((5, 16, 16), dtype=np.uint8))
    with pytest.raises(InputSizeError, match="takes 32x32-pixel images but the image cache"):
        predict_findings(model, CacheBatches(str(tmp_path / "other.npy"), range(5), np.zeros((5, 3)), 2))
