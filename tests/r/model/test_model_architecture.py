"""Each model the `model` parameter names is built as the report describes it: layer by
layer against a specification written here, with parameter counts worked out by hand."""

import json

import pytest

from conftest import run_r


def cnn_block(filters):
    return [{"class": "Conv2D", "filters": filters, "kernel_size": [3, 3], "strides": [1, 1], "padding": "same",
             "use_bias": False, "activation": "linear"},
            {"class": "BatchNormalization", "momentum": 0.9, "scale": True},  # not Keras' 0.99 (see R/model/build.R)
            {"class": "Activation", "activation": "relu"},
            {"class": "Conv2D", "filters": filters, "kernel_size": [3, 3], "strides": [1, 1], "padding": "same",
             "use_bias": True, "activation": "relu"},
            {"class": "MaxPooling2D", "pool_size": [2, 2], "strides": [2, 2], "padding": "valid"}]


CNN = ([{"class": "InputLayer"}] + [row for n in (8, 16, 32, 64) for row in cnn_block(n)]
       + [{"class": "GlobalAveragePooling2D"}, {"class": "Dropout", "rate": 0.3},
          {"class": "Dense", "units": 1, "activation": "sigmoid", "use_bias": True}])
# Per block of n filters after c channels: 9cn (first conv, no bias) + 4n (batch norm) + 9n^2 + n.
CNN_PARAMETERS = sum(9 * c * n + 4 * n + 9 * n * n + n for c, n in ((1, 8), (8, 16), (16, 32), (32, 64))) + 64 + 1
BASELINE = ([{"class": "InputLayer"}, {"class": "Flatten"}]
            + [row for units, rate in ((512, 0.4), (256, 0.3), (128, 0.2))
               for row in ({"class": "Dense", "units": units, "activation": "relu", "use_bias": True},
                           {"class": "Dropout", "rate": rate})]
            + [{"class": "Dense", "units": 2, "activation": "softmax", "use_bias": True}])
BASELINE_PARAMETERS = (128 * 128 + 1) * 512 + (512 + 1) * 256 + (256 + 1) * 128 + (128 + 1) * 2
TRANSFER_HEAD = [{"class": "GlobalAveragePooling2D"}, {"class": "Dropout", "rate": 0.3},
                 {"class": "Dense", "units": 1, "activation": "sigmoid", "use_bias": True}]


@pytest.fixture(scope="module")
def built():
    out = run_r("""
      s <- reticulate::import_from_path("layer_summary", path = "tests/helpers")
      list(cnn = s$describe(build_model("cnn", 128L)), baseline = s$describe(build_model("baseline", 128L)),
           densenet121 = s$describe(build_model("densenet121", 32L, weights = "none")),
           mobilenetv2 = s$describe(build_model("mobilenetv2", 32L, weights = "none")),
           unknown = tryCatch({ build_model("resnet50", 64L); "built" }, error = conditionMessage),
           cnn14 = s$describe(build_model("cnn", 128L, findings = 14L)),
           mobilenetv2_14 = s$describe(build_model("mobilenetv2", 32L, weights = "none", findings = 14L)),
           baseline14 = tryCatch({ build_model("baseline", 128L, findings = 14L); "built" }, error = conditionMessage))
    """)
    return {name: value if name in ("unknown", "baseline14") else json.loads(value) for name, value in out.items()}


def test_the_cnn_is_four_blocks_of_8_to_64_filters_and_a_sigmoid(built):
    assert CNN_PARAMETERS == 73_889  # what the render's console prints
    assert built["cnn"]["layers"] == CNN
    assert built["cnn"]["parameters"] == CNN_PARAMETERS and built["cnn"]["output"] == [1]


def test_the_baseline_is_the_originals_dense_network(built):
    assert built["baseline"]["layers"] == BASELINE
    assert built["baseline"]["parameters"] == BASELINE_PARAMETERS == 8_553_602
    assert built["baseline"]["output"] == [2]


def test_densenet_gets_imagenets_scaling_and_an_average_pooled_head(built):
    layers = built["densenet121"]["layers"]
    assert [row["class"] for row in layers[:3]] == ["InputLayer", "Concatenate", "Normalization"]
    assert layers[2]["mean"] == pytest.approx([0.485, 0.456, 0.406])
    assert layers[2]["variance"] == pytest.approx([0.229 ** 2, 0.224 ** 2, 0.225 ** 2])  # a variance, not a std
    assert layers[-3:] == TRANSFER_HEAD and built["densenet121"]["output"] == [1]


def test_mobilenet_gets_inputs_scaled_to_minus_one_one_and_an_average_pooled_head(built):
    layers = built["mobilenetv2"]["layers"]
    assert layers[2] == {"class": "Rescaling", "scale": 2.0, "offset": -1.0}
    assert layers[-3:] == TRANSFER_HEAD and built["mobilenetv2"]["output"] == [1]


def test_an_unknown_model_stops_with_the_known_ones(built):
    assert built["unknown"] == "unknown model 'resnet50'; models: cnn, baseline, densenet121, mobilenetv2"


FINDINGS_HEAD = {"class": "Dense", "units": 14, "activation": "sigmoid", "use_bias": True}


def test_the_multilabel_cnn_is_the_same_network_with_one_sigmoid_per_finding(built):
    """Independent probabilities (sigmoids, not a softmax that would make the findings compete), the rest
    of the network unchanged: 13 more output units of 64 weights and a bias each."""
    assert built["cnn14"]["layers"] == CNN[:-1] + [FINDINGS_HEAD]
    assert built["cnn14"]["parameters"] == CNN_PARAMETERS + 13 * (64 + 1) and built["cnn14"]["output"] == [14]


def test_a_multilabel_transfer_model_gets_the_same_head_with_fourteen_outputs(built):
    assert built["mobilenetv2_14"]["layers"][-3:] == TRANSFER_HEAD[:-1] + [FINDINGS_HEAD]
    assert built["mobilenetv2_14"]["layers"][:-1] == built["mobilenetv2"]["layers"][:-1]


def test_the_originals_two_class_baseline_is_refused_for_the_multilabel_study(built):
    assert built["baseline14"] == ("the baseline is the original's two-class network; the multi-label study trains "
                                   "the cnn or a transfer model")
