"""Grad-CAM points at the evidence for the positive class: tiny CNNs trained
(seeded, seconds) on images whose only signal is a bright square at a known
place must have their heat maps peak on that square."""

import keras
import numpy as np
import pytest

from chestxray.explain import grad_cam, grad_cam_frame

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
    """grad_cam_cases (R/evaluate.R) labels the figure's cases as the confusion matrix
    counts them: a probability equal to the threshold is a predicted positive."""
    cases = r_session("grad_cam_cases(c(1, 0, 1), c(0.5, 0.5, 0.2), 0.5)")
    outcomes = dict(zip(r_session["as.integer"](cases.rx2("index")), cases.rx2("outcome")))
    assert outcomes == {1: "verdadero positivo", 2: "falso positivo", 3: "falso negativo"}
