"""predict's CSV (issue 25: mutation audit): each probability is what the model gives for the image's
batch of 32 (in file order), to the last written decimal, and the rows end alike whatever the
platform's line ends."""

import csv

import numpy as np
import pytest
from files import windows_open
from PIL import Image

import chestxray.model.predict as predict

CARD = '{"image_size": 32, "threshold": 0.5, "positive_class": "Pneumothorax", "negative_class": "No Finding"}'


@pytest.fixture(scope="module")
def batch_model(tmp_path_factory):
    """P(positive) = sigmoid(8 x (the image's mean grey - its batch's mean of those)), with its card (32 px).

    An output that depends on the other images scored with it makes the batches observable; a
    real network's does too, but only in float32's last bits (the kernels chosen per batch shape)."""
    import keras

    @keras.saving.register_keras_serializable(package="mutation_audit")
    class MinusBatchMean(keras.layers.Layer):
        def call(self, x):
            return x - keras.ops.mean(x, axis=0, keepdims=True)

    inputs = keras.Input((32, 32, 1))
    pooled = MinusBatchMean()(keras.layers.GlobalAveragePooling2D()(inputs))
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(pooled))
    model.layers[-1].set_weights([np.array([[8.0]]), np.array([0.0])])
    folder = tmp_path_factory.mktemp("model")
    model.save(folder / "model.keras")
    (folder / "model-card.json").write_text(CARD)
    return folder / "model.keras", model


def noise_images(n):
    """n images of 32 x 32 noise whose mean greys differ (each image's noise spans 0 to a different top)."""
    rng = np.random.default_rng(1)
    return np.stack([rng.integers(0, 40 + 5 * i, (32, 32)) for i in range(n)]).astype(np.uint8)


def saved(folder, images):
    paths = []
    for i, pixels in enumerate(images):
        paths.append(str(folder / f"{i:02d}.png"))
        Image.fromarray(pixels).save(paths[-1])
    return paths


def test_probabilities_are_the_models_output_for_batches_of_32_in_file_order(tmp_path, batch_model):
    """40 images: one batch of the first 32, one of the last 8."""
    model_path, model = batch_model
    images = noise_images(40)
    paths = saved(tmp_path, images)
    assert predict.predict_files(model_path, paths, tmp_path / "out.csv") == (40, 0)
    rows = list(csv.DictReader(open(tmp_path / "out.csv", newline="")))
    assert [row["path"] for row in rows] == paths
    inputs = images[..., np.newaxis].astype(np.float32) / 255
    batched = np.concatenate([model.predict(inputs[:32], verbose=0), model.predict(inputs[32:], verbose=0)])[:, 0]
    assert [row["probability"] for row in rows] == [f"{p:.8f}" for p in batched]  # the model's own numbers, exactly
    grey = images.reshape(40, -1).mean(axis=1) / 255  # and by hand
    by_hand = 1 / (1 + np.exp(-8 * np.concatenate([grey[:32] - grey[:32].mean(), grey[32:] - grey[32:].mean()])))
    assert np.allclose([float(row["probability"]) for row in rows], by_hand, rtol=0, atol=1e-6)
    assert [row["predicted_class"] for row in rows] == ["Pneumothorax" if p >= 0.5 else "No Finding" for p in by_hand]


def test_rows_end_in_one_crlf_where_text_files_write_crlf_for_a_newline(tmp_path, batch_model, monkeypatch):
    """On Windows (README: supported without Docker) a text file opened with newline=None writes os.linesep,
    '\\r\\n', for each '\\n' (Python's open documentation): the csv module's '\\r\\n' would become '\\r\\r\\n'.
    Simulated here by that open; the file must still be the csv module's own bytes."""
    monkeypatch.setattr(predict, "open", windows_open, raising=False)
    paths = saved(tmp_path, noise_images(2))
    predict.predict_files(batch_model[0], paths, tmp_path / "out.csv")
    lines = (tmp_path / "out.csv").read_bytes().split(b"\r\n")
    assert lines[0] == b"path,probability,predicted_class,error" and lines[-1] == b"" and len(lines) == 4
    assert not any(b"\r" in line or b"\n" in line for line in lines)
