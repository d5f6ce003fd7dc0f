"""What `predict` is given, checked before any image is scored: the paths (files and folders,
in the order given), the model file and its card, each named in its error."""

import csv
import json
import re

import numpy as np
import pytest

from chestxray.model.predict import (
    ModelCard,
    ModelCardError,
    ModelFileError,
    NoInputImagesError,
    expand_paths,
    load_model,
)

from conftest import flat_png


def test_files_and_folders_are_scored_in_the_order_given_folders_sorted_inside(tmp_path):
    single = flat_png(tmp_path / "single.png", side=8)
    folder = tmp_path / "folder"
    for name in ("b.png", "sub/a.jpg", "c.txt", "a.PNG"):
        flat_png(folder / name, side=8) if not name.endswith(".txt") else (folder / name).write_text("notes")
    assert expand_paths([str(single), str(folder), str(single)]) == [
        single, folder / "a.PNG", folder / "b.png", folder / "sub" / "a.jpg", single]


def test_inputs_without_images_are_listed_in_the_error(tmp_path):
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    message = f"no PNG or JPEG images in {tmp_path / 'one'}, {tmp_path / 'two'}"
    with pytest.raises(NoInputImagesError, match=re.escape(message)):
        expand_paths([str(tmp_path / "one"), str(tmp_path / "two")])


def test_a_missing_model_file_is_named_as_missing(tmp_path):
    with pytest.raises(ModelFileError, match=re.escape(f"model file '{tmp_path / 'none.keras'}' not found")):
        load_model(tmp_path / "none.keras")


def test_an_unreadable_model_file_is_named_with_keras_error(tmp_path):
    broken = tmp_path / "model.keras"
    broken.write_bytes(b"not a zip archive")
    with pytest.raises(
        ModelFileError,
        match=re.escape(f"model file '{broken}' exists but is not a readable Keras model (") + r"[A-Za-z]*Error: ",
    ):
        load_model(broken)


def write_card(tmp_path, **card):
    (tmp_path / "model-card.json").write_text(json.dumps(card))
    return tmp_path / "model.keras"


GOOD = {"image_size": 64, "threshold": 0.25, "positive_class": "Pneumothorax", "negative_class": "No Finding"}


def test_a_complete_card_is_read_as_written(tmp_path):
    card = ModelCard.load(write_card(tmp_path, **GOOD | {"image_size": 64.0}))  # JSON may write a whole number as 64.0
    assert (card.image_size, card.threshold, card.positive_class, card.negative_class) == (
        64,
        0.25,
        "Pneumothorax",
        "No Finding",
    )
    assert type(card.image_size) is int


@pytest.mark.parametrize("change, problem", [
    ({"threshold": 1.5}, "has an unusable 'threshold' or 'image_size': 1.5 is not a probability"),
    ({"threshold": -0.1}, "has an unusable 'threshold' or 'image_size': -0.1 is not a probability"),
    ({"threshold": "high"}, "has an unusable 'threshold' or 'image_size'"),
    ({"image_size": 64.5}, "has an unusable 'threshold' or 'image_size': image size must be a whole number"),
    ({"image_size": 4}, "has an unusable 'threshold' or 'image_size': image size must be a whole number"),
])
def test_an_unusable_card_value_is_named(tmp_path, change, problem):
    model = write_card(tmp_path, **GOOD | change)
    with pytest.raises(ModelCardError, match=re.escape(f"model card '{tmp_path / 'model-card.json'}' {problem}")):
        ModelCard.load(model)


@pytest.mark.parametrize("threshold", [0, 1])
def test_thresholds_at_the_ends_of_zero_to_one_are_probabilities(tmp_path, threshold):
    assert ModelCard.load(write_card(tmp_path, **GOOD | {"threshold": threshold})).threshold == threshold


def test_a_card_lacking_keys_lists_them(tmp_path):
    model = write_card(tmp_path, image_size=64, positive_class="Pneumothorax")
    with pytest.raises(ModelCardError, match=re.escape("lacks 'threshold', 'negative_class'")):
        ModelCard.load(model)


@pytest.mark.parametrize("text, problem", [("[1, 2]", "must be a JSON object"), ("{oops", "is not valid JSON: ")])
def test_a_card_that_is_not_a_json_object_is_named(tmp_path, text, problem):
    (tmp_path / "model-card.json").write_text(text)
    with pytest.raises(ModelCardError, match=re.escape(f"model card '{tmp_path / 'model-card.json'}' {problem}")):
        ModelCard.load(tmp_path / "model.keras")


def test_a_missing_card_says_where_it_comes_from(tmp_path):
    with pytest.raises(ModelCardError, match=re.escape(f"model card '{tmp_path / 'model-card.json'}' not found: "
                                                       "it is written beside the model by the report")):
        ModelCard.load(tmp_path / "model.keras")


@pytest.fixture(scope="module")
def mean_grey_model(tmp_path_factory):
    """P(positive) = sigmoid(8 x mean grey - 4), for 32-pixel images, with its card (threshold 0.5)."""
    import keras

    inputs = keras.Input((32, 32, 1))
    model = keras.Model(
        inputs, keras.layers.Dense(1, activation="sigmoid")(keras.layers.GlobalAveragePooling2D()(inputs))
    )
    model.layers[-1].set_weights([np.array([[8.0]]), np.array([-4.0])])
    folder = tmp_path_factory.mktemp("model")
    model.save(folder / "model.keras")
    write_card(folder, **GOOD | {"image_size": 32, "threshold": 0.5})
    return folder / "model.keras"


def test_an_unreadable_image_gets_its_reason_and_no_score_and_the_others_are_scored(tmp_path, mean_grey_model, capfd):
    from chestxray.model.predict import predict_files

    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    white, black = flat_png(tmp_path / "white.png", 255, side=8), flat_png(tmp_path / "black.png", 0, side=8)
    paths = [str(broken), str(white), str(black)]
    assert predict_files(mean_grey_model, paths, tmp_path / "out.csv") == (2, 1)
    rows = list(csv.DictReader(open(tmp_path / "out.csv")))
    assert [row["path"] for row in rows] == paths
    assert [row["predicted_class"] for row in rows] == ["", "Pneumothorax", "No Finding"]
    assert rows[0]["probability"] == "" and rows[0]["error"].startswith(f"cannot read image '{broken}'")
    assert float(rows[1]["probability"]) == pytest.approx(1 / (1 + np.exp(-4)), abs=1e-7)
    assert capfd.readouterr().out == ""  # no Keras progress bar among the command's lines


def test_an_output_folder_that_does_not_exist_stops_before_scoring(tmp_path, mean_grey_model):
    from chestxray.model.predict import predict_files

    out = tmp_path / "missing" / "out.csv"
    with pytest.raises(FileNotFoundError, match=re.escape(f"the folder of --out '{out}' does not exist")):
        predict_files(mean_grey_model, [str(flat_png(tmp_path / "a.png", side=8))], out)


@pytest.fixture(scope="module")
def three_finding_model(tmp_path_factory):
    """finding = "all": output k = sigmoid(w_k x mean grey + b_k), trained with the study's own loss (so
    loading needs it registered), and a card with a threshold per finding."""
    import keras

    from chestxray.model.losses import FindingWeightedCrossEntropy

    inputs = keras.Input((32, 32, 1))
    model = keras.Model(
        inputs, keras.layers.Dense(3, activation="sigmoid")(keras.layers.GlobalAveragePooling2D()(inputs))
    )
    model.layers[-1].set_weights([np.array([[8.0, -8.0, 0.0]]), np.array([-4.0, 4.0, 0.0])])
    model.compile("adam", FindingWeightedCrossEntropy([0.1, 0.2, 0.3]))
    folder = tmp_path_factory.mktemp("multilabel-model")
    model.save(folder / "model.keras")
    write_card(folder, image_size=32, positive_class="all", negative_class="No Finding",
               thresholds={"Effusion": 0.9, "Mass": 0.5, "Nodule": 0.5})
    return folder / "model.keras"


def test_a_multilabel_card_gives_each_findings_probability_and_those_above_their_thresholds(tmp_path,
                                                                                         three_finding_model):
    from chestxray.model.predict import predict_files

    white, black = flat_png(tmp_path / "white.png", 255, side=8), flat_png(tmp_path / "black.png", 0, side=8)
    grey = flat_png(tmp_path / "grey.png", 128, side=8)
    assert predict_files(three_finding_model, [str(white), str(black), str(grey)], tmp_path / "out.csv") == (3, 0)
    rows = list(csv.DictReader(open(tmp_path / "out.csv")))
    assert list(rows[0]) == ["path", "probability_Effusion", "probability_Mass", "probability_Nodule", "findings",
                             "error"]
    high, low = 1 / (1 + np.exp(-4)), 1 / (1 + np.exp(4))  # 0.982 and 0.018
    expected = {"white": ([high, low, 0.5], "Effusion|Nodule"), "black": ([low, high, 0.5], "Mass|Nodule")}
    for row, name in zip(rows, ("white", "black")):
        probabilities, findings = expected[name]
        assert [float(row[f"probability_{f}"]) for f in ("Effusion", "Mass", "Nodule")] == pytest.approx(
            probabilities, abs=1e-6)
        assert row["findings"] == findings and row["error"] == ""
    grey_mean = 128 / 255  # Effusion's 0.52 < 0.9, Mass's 0.48 < 0.5, Nodule's 0.5 >= 0.5
    assert float(rows[2]["probability_Effusion"]) == pytest.approx(1 / (1 + np.exp(-(8 * grey_mean - 4))), abs=1e-6)
    assert rows[2]["findings"] == "Nodule"


def test_a_multilabel_prediction_below_every_threshold_is_no_finding():
    from chestxray.model.predict import scored_row

    card = ModelCard(32, float("nan"), "all", "No Finding", {"Effusion": 0.6, "Mass": 0.3})
    assert scored_row(card, [0.59, 0.29])["findings"] == "No Finding"
    assert scored_row(card, [0.6, 0.3])["findings"] == "Effusion|Mass"


@pytest.mark.parametrize("thresholds, problem", [
    ({}, "no finding has a threshold"),
    ({"Effusion": 1.2}, "1.2 is not a probability"),
    ([0.5], ""),
])
def test_an_unusable_multilabel_card_is_named(tmp_path, thresholds, problem):
    model = write_card(tmp_path, image_size=32, positive_class="all", negative_class="No Finding",
                       thresholds=thresholds)
    with pytest.raises(ModelCardError, match=re.escape(f"has an unusable 'thresholds' or 'image_size': {problem}")):
        ModelCard.load(model)


def test_a_multilabel_card_for_another_model_stops_before_scoring(tmp_path, three_finding_model):
    from chestxray.model.predict import predict_files

    folder = tmp_path / "copy"
    folder.mkdir()
    (folder / "model.keras").write_bytes(three_finding_model.read_bytes())
    write_card(folder, image_size=32, positive_class="all", negative_class="No Finding",
               thresholds={"Effusion": 0.5, "Mass": 0.5})
    with pytest.raises(ModelCardError, match="has 2 thresholds but the model 3 outputs"):
        predict_files(folder / "model.keras", [str(flat_png(tmp_path / "a.png", side=8))], tmp_path / "out.csv")
    assert not (tmp_path / "out.csv").exists()


def test_a_multilabel_probability_is_compared_with_its_threshold_in_float64():
    """Keras gives float32; the card's thresholds are float64. In float32 a threshold of 0.69999999 rounds onto
    float32(0.7), so a probability of float32(0.7) = 0.699999988 would count as reaching it."""
    from chestxray.model.predict import scored_row

    card = ModelCard(32, float("nan"), "all", "No Finding", {"Effusion": 0.69999999, "Mass": 0.5})
    row = scored_row(card, np.array([0.7, 0.2], dtype=np.float32))
    assert row["findings"] == "No Finding" and row["probability_Effusion"] == "0.69999999"


def test_a_two_class_softmax_model_is_scored_by_its_positive_class(tmp_path):
    """model=baseline (the original's network ends in a two-class softmax): the probability is the positive
    class's, P = softmax(4 x mean grey - 2, its negative) = sigmoid(8 x mean grey - 4)."""
    import keras

    from chestxray.model.predict import predict_files

    inputs = keras.Input((32, 32, 1))
    model = keras.Model(
        inputs, keras.layers.Dense(2, activation="softmax")(keras.layers.GlobalAveragePooling2D()(inputs))
    )
    model.layers[-1].set_weights([np.array([[-4.0, 4.0]]), np.array([2.0, -2.0])])
    model.save(tmp_path / "model.keras")
    write_card(tmp_path, **GOOD | {"image_size": 32, "threshold": 0.5})
    white, black = flat_png(tmp_path / "white.png", 255, side=8), flat_png(tmp_path / "black.png", 0, side=8)
    assert predict_files(tmp_path / "model.keras", [str(white), str(black)], tmp_path / "out.csv") == (2, 0)
    rows = list(csv.DictReader(open(tmp_path / "out.csv")))
    assert float(rows[0]["probability"]) == pytest.approx(1 / (1 + np.exp(-4)), abs=1e-6)
    assert [row["predicted_class"] for row in rows] == ["Pneumothorax", "No Finding"]
