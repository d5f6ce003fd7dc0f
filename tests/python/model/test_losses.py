"""CheXNet's weighted cross-entropy (chestxray.model.losses): each finding's positives and negatives
weigh alike however rare the finding, recomputed with numpy and by hand, and kept in a saved model."""

import numpy as np
import pytest

from chestxray.model.losses import FindingWeightedCrossEntropy, FindingWeightsError, positive_shares


def numpy_loss(y, p, shares):
    p = np.clip(p, 1e-7, 1 - 1e-7)
    return -np.mean((1 - shares) * y * np.log(p) + shares * (1 - y) * np.log(1 - p), axis=-1).mean()


def test_the_loss_is_the_weighted_cross_entropy_of_each_finding_averaged():
    rng = np.random.default_rng(0)
    y = (rng.random((32, 5)) < [0.3, 0.1, 0.05, 0.5, 0.2]).astype("float32")
    p = rng.random((32, 5)).astype("float32")
    shares = np.array([0.3, 0.1, 0.05, 0.5, 0.2])
    loss = FindingWeightedCrossEntropy(shares)
    assert float(loss(y, p)) == pytest.approx(numpy_loss(y, p, shares), rel=1e-5)


def test_a_hand_worked_case():
    """One image, two findings with shares 0.25 and 0.5: a positive of the first predicted 0.5 costs
    0.75 x ln 2; a negative of the second predicted 0.5 costs 0.5 x ln 2; the mean is 0.625 x ln 2."""
    loss = FindingWeightedCrossEntropy([0.25, 0.5])
    assert float(loss(np.array([[1.0, 0.0]]), np.array([[0.5, 0.5]]))) == pytest.approx(0.625 * np.log(2), rel=1e-6)


def test_positives_and_negatives_of_a_rare_finding_weigh_alike():
    """With the training shares as weights, the summed weight of a finding's positives equals its negatives'."""
    rng = np.random.default_rng(1)
    labels = (rng.random((1000, 3)) < [0.02, 0.2, 0.6]).astype(int)
    shares = positive_shares(labels, ["Hernia", "Effusion", "X"])
    assert shares == pytest.approx(labels.mean(axis=0))
    positives_weight = (1 - shares) * labels.sum(axis=0)
    negatives_weight = shares * (1 - labels).sum(axis=0)
    assert positives_weight == pytest.approx(negatives_weight)


def test_a_finding_no_training_image_has_or_all_have_is_refused_by_name():
    labels = np.array([[0, 1, 1], [0, 0, 1], [0, 1, 1]])
    with pytest.raises(FindingWeightsError, match=r"3 training images carry: Hernia \(none\), Mass \(all\)"):
        positive_shares(labels, ["Hernia", "Effusion", "Mass"])


def test_a_model_saved_with_the_loss_loads_with_its_weights(tmp_path):
    import keras

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="sigmoid")])
    model.compile(optimizer="adam", loss=FindingWeightedCrossEntropy([0.1, 0.2, 0.3]))
    x, y = np.ones((2, 4), "float32"), np.array([[1, 0, 1], [0, 0, 1]], "float32")
    model.fit(x, y, epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    assert loaded.loss.shares == pytest.approx([0.1, 0.2, 0.3])
    assert float(loaded.evaluate(x, y, verbose=0)) == pytest.approx(numpy_loss(y, model.predict(x, verbose=0),
                                                                               np.array([0.1, 0.2, 0.3])), rel=1e-5)


def test_the_shares_are_the_exact_training_fractions_whatever_the_labels_dtype():
    """Keras hands float32 labels; the weights are the shares in float64 (a float32 mean of a third is not)."""
    labels = np.array([[1, 0], [0, 1], [0, 1]], dtype=np.float32)
    shares = positive_shares(labels, ["A", "B"])
    assert shares.tolist() == [1 / 3, 2 / 3]


def test_each_image_gets_its_own_mean_over_findings():
    """Keras weighs and reduces the loss per image (sample weights, reduction=None): the call gives one value per
    image, the mean of its findings' weighted terms, not one number for the batch or one per finding."""
    rng = np.random.default_rng(2)
    y = (rng.random((6, 3)) < 0.4).astype("float32")
    p = rng.random((6, 3)).astype("float32")
    shares = np.array([0.2, 0.4, 0.1])
    per_image = np.asarray(FindingWeightedCrossEntropy(shares, reduction=None)(y, p))
    clipped = np.clip(p, 1e-7, 1 - 1e-7)
    expected = -np.mean((1 - shares) * y * np.log(clipped) + shares * (1 - y) * np.log(1 - clipped), axis=1)
    assert per_image.shape == (6,)
    np.testing.assert_allclose(per_image, expected, rtol=1e-5)


def test_saturated_predictions_cost_a_finite_amount():
    """A sigmoid saturates at exactly 0 or 1 in float32: the wrong answer costs -log(epsilon), not infinity."""
    loss = FindingWeightedCrossEntropy([0.5, 0.5], reduction=None)
    wrong = np.asarray(loss(np.array([[0.0, 1.0]], "float32"), np.array([[1.0, 0.0]], "float32")))
    assert np.isfinite(wrong).all() and wrong[0] == pytest.approx(0.5 * -np.log(1e-7), rel=1e-2)  # float32 eps


def test_the_loss_is_named_as_keras_names_it_in_a_saved_model():
    assert FindingWeightedCrossEntropy([0.5]).name == "finding_weighted_cross_entropy"
    assert FindingWeightedCrossEntropy([0.5]).get_config()["name"] == "finding_weighted_cross_entropy"
