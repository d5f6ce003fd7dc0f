"""One rule for the evaluated epoch (chestxray.model.training.BestEpoch, used by
R/model/train.R): the checkpoint, the model after training and the reported
metrics are the weights of the epoch with the highest validation AUROC.
The same rule through R's training run is in tests/test_training_wiring.py."""

import keras
import numpy as np
import pytest

from chestxray.model.training import BestEpoch


def tiny_model():
    inputs = keras.Input((4,))
    return keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(inputs))


def weights_equal(a, b):
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))


def replay(val_aurocs, checkpoint):
    """Epochs whose weights are all equal to the epoch number, with the given
    validation AUROCs, through the callback's hooks."""
    model = tiny_model()
    callback = BestEpoch(str(checkpoint))
    callback.set_model(model)
    for epoch, value in enumerate(val_aurocs):
        model.set_weights([np.full_like(w, epoch + 1) for w in model.get_weights()])
        callback.on_epoch_end(epoch, {"val_auroc": value})
    callback.on_train_end()
    return model, callback


@pytest.mark.parametrize("val_aurocs, expected", [
    ([0.60, 0.91, 0.70, 0.80, 0.85, 0.80, 0.88, 0.70], 2),  # best inside the 6-epoch warm-up
    ([0.50, 0.60, 0.62, 0.70, 0.72, 0.75, 0.80, 0.95], 8),  # best after it, at the last epoch
    ([0.70, 0.90, 0.80, 0.90, 0.60], 2),                    # ties: the earliest
])
def test_best_epoch_is_checkpointed_and_restored(tmp_path, val_aurocs, expected):
    checkpoint = tmp_path / "best.keras"
    model, callback = replay(val_aurocs, checkpoint)
    assert callback.best_epoch == expected == int(np.argmax(val_aurocs)) + 1
    assert all((w == expected).all() for w in model.get_weights())
    assert weights_equal(keras.models.load_model(checkpoint).get_weights(), model.get_weights())



def test_without_a_validation_auroc_no_epoch_is_chosen_and_the_weights_stay(tmp_path):
    """R stops with its own message when best_epoch is still None (R/model/train.R): an epoch
    whose logs lack val_auroc is never chosen, and the model keeps its last weights."""
    model = tiny_model()
    callback = BestEpoch(str(tmp_path / "best.keras"))
    callback.set_model(model)
    assert callback.best_epoch is None
    model.set_weights([np.full_like(w, 3) for w in model.get_weights()])
    callback.on_epoch_end(0, {"loss": 0.4})
    callback.on_epoch_end(1, None)
    callback.on_train_end()
    assert callback.best_epoch is None and not (tmp_path / "best.keras").exists()
    assert all((w == 3).all() for w in model.get_weights())
