"""One rule for the evaluated epoch (chestxray.training.BestEpoch, used by
R/train.R): the checkpoint, the model after training and the reported
metrics are the weights of the epoch with the highest validation AUROC."""

import keras
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from chestxray.training import BestEpoch
from conftest import run_r, tiny_training_r


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


def test_trained_model_checkpoint_and_history_agree(tmp_path):
    """Real training from R: the evaluated epoch is the argmax of the logged
    validation AUROC; the checkpoint holds the final model's weights; and the
    final model reproduces that epoch's validation AUROC (so it is not simply
    the last epoch's model)."""
    out = run_r(tiny_training_r(tmp_path, 5, tmp_path / "checkpoints" / "best.keras") + f"""
      tiny$save("{tmp_path}/final.keras")
      list(history = history, validation_labels = prepared$labels("validation"),
           validation = predict_probabilities(tiny, prepared$batches("validation", 8L)))
    """)
    history = pd.DataFrame(out["history"])
    evaluated = history.loc[history["evaluated"], "epoch"].tolist()
    assert len(history) == 5 and len(evaluated) == 1
    assert evaluated[0] == history["epoch"][int(np.argmax(history["val_auroc"].to_numpy()))]
    final = keras.models.load_model(tmp_path / "final.keras").get_weights()
    assert weights_equal(keras.models.load_model(tmp_path / "checkpoints" / "best.keras").get_weights(), final)
    reproduced = roc_auc_score(out["validation_labels"], out["validation"])
    assert reproduced == pytest.approx(history.loc[history["evaluated"], "val_auroc"].item(), abs=1e-9)
