"""Grad-CAM points at the evidence for the positive class: tiny CNNs trained
(seeded, seconds) on images whose only signal is a bright square at a known
place must have their heat maps peak on that square."""

import warnings

import keras
import numpy as np
import pandas as pd
import pytest

from chestxray.model.explain import grad_cam, grad_cam_frame

SIZE, SQUARE = 16, 4


def square_images(n: int, seed: int):
    """Dim noise; every other image (label 1) has a bright SQUARE x SQUARE square whose
    top-left corner is drawn away from the borders. Returns images, labels, corners."""
    rng = np.random.default_rng(seed)
    images = rng.uniform(0.0, 0.3, (n, SIZE, SIZE, 1)).astype(np.float32)
    labels = np.arange(n) % 2
    corners = rng.integers(2, SIZE - SQUARE - 1, (n, 2))
    for image, label, (row, col) in zip(images, labels, corners):
        if label:
            image[row:row + SQUARE, col:col + SQUARE] = 1.0
    return images, labels, corners


def trained_cnn(head: str):
    """Two full-resolution convolutions, global pooling and a sigmoid (the report's CNN)
    or two-class softmax head, fitted to the squares."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((SIZE, SIZE, 1))
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu")(inputs)
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    if head == "sigmoid":
        model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(x))
        model.compile(keras.optimizers.Adam(0.02), "binary_crossentropy", metrics=["accuracy"])
    else:
        model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(x))
        model.compile(keras.optimizers.Adam(0.02), "sparse_categorical_crossentropy", metrics=["accuracy"])
    images, labels, _ = square_images(96, seed=1)
    model.fit(images, labels, epochs=20, batch_size=32, verbose=0)
    return model


@pytest.fixture(scope="module", params=["sigmoid", "softmax"])
def model(request):
    return trained_cnn(request.param)


def on_square(point, corner, margin=1) -> bool:
    return all(c - margin <= p < c + SQUARE + margin for p, c in zip(point, corner))


def test_the_tiny_cnn_learned_the_square(model):
    images, labels, _ = square_images(32, seed=2)
    assert model.evaluate(images, labels, verbose=0)[1] == 1.0  # otherwise the maps below mean nothing


def test_heat_peaks_on_the_square_of_each_positive_image(model):
    images, labels, corners = square_images(32, seed=2)
    positives = labels == 1
    heat = grad_cam(model, images[positives])
    for cam, corner in zip(heat, corners[positives]):
        peak = np.unravel_index(np.argmax(cam), cam.shape)
        assert on_square(peak, corner), f"peak {peak}, square at {corner}"
        square = np.zeros_like(cam, dtype=bool)
        square[corner[0]:corner[0] + SQUARE, corner[1]:corner[1] + SQUARE] = True
        assert cam[square].mean() > 3 * cam[~square].mean()


def test_frame_pairs_each_panel_with_its_own_image_and_map(tmp_path, model):
    """grad_cam_frame (the report's figure data): the heat of each panel peaks on the
    square of that panel's image, in the figure's coordinates (y up)."""
    images, labels, corners = square_images(8, seed=3)
    cache = tmp_path / "cache.npy"
    np.save(cache, np.round(images[..., 0] * 255).astype(np.uint8))
    rows = [5, 1]  # two positives, given out of order
    # R's numbers arrive as floats (5.0, 1.0): they must still index the cache.
    frame = grad_cam_frame(model, str(cache), [float(row) for row in rows], ["first", "second"])
    assert list(frame["panel"].cat.categories) == ["first", "second"]
    for title, row in zip(["first", "second"], rows):
        panel = frame[frame["panel"] == title]
        peak = panel.loc[panel["heat"].idxmax()]
        assert on_square((SIZE - 1 - peak["y"], peak["x"]), corners[row])
        assert panel.loc[panel["value"] == 255, "heat"].mean() > 3 * panel.loc[panel["value"] < 255, "heat"].mean()


def test_an_image_at_the_threshold_is_shown_as_a_predicted_positive(r_session):
    """grad_cam_cases (R/evaluate/metrics.R) labels the figure's cases as the confusion matrix
    counts them: a probability equal to the threshold is a predicted positive."""
    cases = r_session("grad_cam_cases(c(1, 0, 1), c(0.5, 0.5, 0.2), 0.5)")
    outcomes = dict(zip(r_session["as.integer"](cases.rx2("index")), cases.rx2("outcome")))
    assert outcomes == {1: "true_positive", 2: "false_positive", 3: "false_negative"}


def hand_built_softmax():
    """Two feature maps fixed by hand, bright = relu(x) and dark = relu(1 - x), averaged into a
    two-class softmax whose positive logit is the bright mean and negative logit the dark mean."""
    inputs = keras.Input((SIZE, SIZE, 1))
    features = keras.layers.Conv2D(2, 1, activation="relu")
    pooled = keras.layers.GlobalAveragePooling2D()(features(inputs))
    head = keras.layers.Dense(2, activation="softmax")
    model = keras.Model(inputs, head(pooled))
    features.set_weights([np.array([[[[1.0, -1.0]]]]), np.array([0.0, 1.0])])
    head.set_weights([np.array([[0.0, 1.0], [1.0, 0.0]]), np.zeros(2)])
    return model


def test_a_two_class_map_explains_the_positive_logit_against_the_negative():
    """Grad-CAM of l1 - l0 weighs the bright map +1 and the dark map -1: the heat is
    relu(x - (1 - x)) = relu(2x - 1), scaled to peak at 1 (worked out by hand)."""
    ranges = np.array([1.0, 0.8, 0.6]).reshape(3, 1, 1, 1)  # each map peaks at its own height before scaling
    images = (np.random.default_rng(8).uniform(0, 1, (3, SIZE, SIZE, 1)) * ranges).astype(np.float32)
    expected = np.maximum(2 * images[..., 0] - 1, 0)
    expected /= expected.reshape(3, -1).max(axis=1)[:, None, None]
    heat = grad_cam(hand_built_softmax(), images)
    assert heat.dtype.kind == "f" and np.allclose(heat, expected, atol=1e-5)


def test_an_image_with_no_evidence_has_an_all_zero_map():
    """An image darker than 0.5 everywhere gives relu(2x - 1) = 0: the map is zero, not 0/0."""
    images = np.random.default_rng(9).uniform(0, 0.45, (2, SIZE, SIZE, 1)).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        heat = grad_cam(hand_built_softmax(), images)
    assert heat.dtype.kind == "f" and heat.shape == (2, SIZE, SIZE) and not heat.any()


def test_maps_are_computed_in_inference_mode():
    """Dropout and batch normalisation behave as at prediction time: the same images give the same maps."""
    keras.utils.set_random_seed(1)
    inputs = keras.Input((SIZE, SIZE, 1))
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu")(inputs)
    x = keras.layers.Dropout(0.5)(keras.layers.BatchNormalization()(x))
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(keras.layers.GlobalAveragePooling2D()(x)))
    images, _, _ = square_images(4, seed=5)
    assert np.array_equal(grad_cam(model, images), grad_cam(model, images))


def test_a_model_not_ending_in_a_dense_layer_is_refused():
    inputs = keras.Input((SIZE, SIZE, 1))
    pooled = keras.layers.GlobalAveragePooling2D()(keras.layers.Conv2D(2, 3)(inputs))
    model = keras.Model(inputs, keras.layers.Activation("sigmoid")(keras.layers.Dense(1)(pooled)))
    with pytest.raises(ValueError, match="^Grad-CAM here expects the model to end in a Dense layer$"):
        grad_cam(model, square_images(2, seed=6)[0])


def test_the_figure_frame_holds_every_pixel_upright_in_the_given_panel_order(tmp_path, model):
    images, _, _ = square_images(4, seed=7)
    pixels = np.round(images[..., 0] * 255).astype(np.uint8)
    np.save(tmp_path / "cache.npy", pixels)
    titles = ["zeta", "alpha"]  # not alphabetical: the figure keeps the given order
    frame = grad_cam_frame(model, str(tmp_path / "cache.npy"), [2, 0], titles)
    assert list(frame["panel"].cat.categories) == titles
    assert frame.index.equals(pd.RangeIndex(2 * SIZE * SIZE))  # R needs unique row names
    for title, row in zip(titles, [2, 0]):
        panel = frame[frame["panel"] == title]
        assert len(panel) == SIZE * SIZE
        upright = np.zeros((SIZE, SIZE), dtype=int)
        upright[SIZE - 1 - panel["y"].to_numpy(), panel["x"].to_numpy()] = panel["value"].to_numpy()
        assert np.array_equal(upright, pixels[row])  # y = 0 is the bottom row, as ggplot2 draws it


def test_the_figure_frame_maps_the_chosen_findings_output(tmp_path):
    """finding=all: grad_cam_frame's heat for output k is grad_cam's map of output k of those cached images."""
    keras.utils.set_random_seed(5)
    inputs = keras.Input((SIZE, SIZE, 1))
    x = keras.layers.Conv2D(6, 3, padding="same", activation="relu")(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, keras.layers.Dense(3, activation="sigmoid")(x))
    images, _, _ = square_images(4, seed=8)
    pixels = np.round(images[..., 0] * 255).astype(np.uint8)
    np.save(tmp_path / "cache.npy", pixels)
    from chestxray.preparation.images import to_model_input

    for output in (0, 2):
        frame = grad_cam_frame(model, str(tmp_path / "cache.npy"), [3, 1], ["a", "b"], output=output)
        expected = grad_cam(model, to_model_input(pixels[[3, 1]]), output=output)
        for title, heat in zip(["a", "b"], expected):
            panel = frame[frame["panel"] == title]
            upright = np.zeros((SIZE, SIZE))
            upright[SIZE - 1 - panel["y"].to_numpy(), panel["x"].to_numpy()] = panel["heat"].to_numpy()
            np.testing.assert_allclose(upright, heat, atol=1e-6)
    first = grad_cam_frame(model, str(tmp_path / "cache.npy"), [3], ["a"], output=0)["heat"].to_numpy()
    last = grad_cam_frame(model, str(tmp_path / "cache.npy"), [3], ["a"], output=2)["heat"].to_numpy()
    assert not np.allclose(first, last)
