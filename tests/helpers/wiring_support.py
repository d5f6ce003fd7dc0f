"""Test doubles for tests/test_training_wiring.py, imported by its Rscript through
reticulate: in-memory batches, a tiny CNN, a scripted validation AUROC in place
of chestxray.model.training.ValidationAUROC, a spy on what Keras's ``fit`` receives,
and a small PreparedData over a random image cache."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pandas as pd

from chestxray.model import training
from chestxray.preparation.dataset import PreparedData


class ArrayBatches(keras.utils.PyDataset):
    """All (images, labels) as one batch."""

    def __init__(self, images, labels):
        super().__init__()
        self.images, self.labels = np.asarray(images, np.float32), np.asarray(labels, np.float32)

    def __len__(self):
        return 1

    def __getitem__(self, batch):
        return self.images, self.labels


def unbalanced_batches(positives: int, negatives: int, size: int, seed: int) -> ArrayBatches:
    """Random images (n, size, size, 1), positives first, as one batch."""
    images = np.random.default_rng(seed).random((positives + negatives, size, size, 1))
    return ArrayBatches(images, np.repeat([1.0, 0.0], [positives, negatives]))


def tiny_cnn(size: int, seed: int, bias: float = 0.0):
    """Conv, global pooling, sigmoid (a few dozen weights), and no dropout or batch
    normalisation: training-mode outputs equal predict's. ``bias`` moves every
    prediction away from 0.5, so weighting the classes changes the loss."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((size, size, 1))
    x = keras.layers.Conv2D(2, 3, padding="same", activation="relu")(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(1, activation="sigmoid", bias_initializer=keras.initializers.Constant(bias))(x)
    return keras.Model(inputs, outputs)


def learning_rate(model) -> float:
    return float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))


class ScriptedAUROC:
    """Replaces chestxray.model.training.ValidationAUROC while installed: each epoch logs the
    next scripted ``val_auroc`` and records the model's weights at that epoch's end."""

    def __init__(self, values):
        self.values = [float(v) for v in values]
        self.weights_by_epoch: list[list[np.ndarray]] = []
        self._original = training.ValidationAUROC
        script = self

        class Scripted(keras.callbacks.Callback):
            def __init__(self, batches, labels):
                super().__init__()

            def on_epoch_end(self, epoch, logs=None):
                logs["val_auroc"] = script.values[epoch]
                script.weights_by_epoch.append(self.model.get_weights())

        training.ValidationAUROC = Scripted

    def uninstall(self):
        training.ValidationAUROC = self._original

    def epochs_with_weights_of(self, model) -> list[int]:
        """1-based epochs whose end-of-epoch weights ``model`` holds now."""
        now = model.get_weights()
        return [epoch + 1 for epoch, weights in enumerate(self.weights_by_epoch)
                if all(np.array_equal(a, b) for a, b in zip(weights, now))]


class FitSpy:
    """While installed, every ``Model.fit`` records the first batch of images of its
    training data and of its validation data, as Keras's first epoch gets them."""

    def __init__(self):
        self.calls: list[dict] = []
        self._original = keras.Model.fit
        spy, original = self, self._original

        def fit(model, x=None, *args, **kwargs):
            validation = kwargs.get("validation_data")
            spy.calls.append({"train_images": x[0][0], "validation_images": validation[0][0]})
            return original(model, x, *args, **kwargs)

        keras.Model.fit = fit

    def uninstall(self):
        keras.Model.fit = self._original

    def changes(self, train_images, validation_images) -> list[dict]:
        """Per fit call, the largest pixel difference between the images it trained and
        validated on and the given ones."""
        return [{"train": largest_difference(call["train_images"], train_images),
                 "validation": largest_difference(call["validation_images"], validation_images)}
                for call in self.calls]


def random_prepared(folder: str, size: int, seed: int) -> PreparedData:
    """24 training, 12 validation and 12 test images (half positive) of random pixels in
    a uint8 cache, as chestxray.preparation.dataset.prepare_dataset would return them."""
    counts = {"train": 24, "validation": 12, "test": 12}
    n = sum(counts.values())
    cache = Path(folder) / "cache.npy"
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.save(cache, np.random.default_rng(seed).integers(0, 256, (n, size, size), dtype=np.uint8))
    table = pd.DataFrame({
        "split": np.repeat(list(counts), list(counts.values())),
        "cache_row": np.arange(n),
        "label": np.tile([0, 1], n // 2),
        "patient_id": np.arange(n),
    })
    return PreparedData(table, str(cache), seed)


def split_images(prepared: PreparedData, split: str) -> np.ndarray:
    """A split's images in table order, read from the cache file with NumPy: what the
    model gets when nothing is augmented."""
    rows = prepared.part(split)["cache_row"].to_numpy()
    return (np.load(prepared.cache_path)[rows].astype(np.float32) / 255.0)[..., np.newaxis]


def largest_difference(a, b) -> float:
    return float(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64)).max())
