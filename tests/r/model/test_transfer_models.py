"""The transfer-learning models are one table (python/chestxray/model/transfer_models.yml): R's builders, input
scaling and TRANSFER_MODELS, Python's weights files and the `model` parameter's values all follow it, an unknown
name stops, and every entry is what keras.applications itself provides."""

import importlib
import json
import os
import subprocess
import sys

import pytest

from chestxray.model.transfer_models import transfer_models
from chestxray.model.transfer_weights import imagenet_file
from chestxray.support.report_params import allowed_values

from conftest import copy_project, run_r

# Keras' DenseNet169, with the file and hash densenet.py requests: a model the project does not offer.
DENSENET169 = """densenet169:
  builder: DenseNet169
  preprocessing: densenet
  weights:
    url: https://storage.googleapis.com/tensorflow/keras-applications/densenet/
    file: densenet169_weights_tf_dim_ordering_tf_kernels_notop.h5
    file_hash: b8c4d4c20dd625c148057b9ff1c1176b
"""


def test_the_model_parameter_offers_the_two_networks_then_the_tables_models():
    assert allowed_values("model") == ("cnn", "baseline", *transfer_models())


def test_a_row_added_to_the_table_is_seen_by_r_and_python(tmp_path):
    project = copy_project(tmp_path / "project")
    table = project / "python" / "chestxray" / "model" / "transfer_models.yml"
    table.write_text(table.read_text() + DENSENET169)
    r = subprocess.run(
        ["Rscript", "-e", 'for (f in list.files("R", pattern = "\\\\.R$", full.names = TRUE, recursive = TRUE)) '
         'source(f); cat(jsonlite::toJSON(list(builders = names(MODEL_BUILDERS), transfer = TRANSFER_MODELS, '
         'entry = transfer_model("densenet169")), auto_unbox = TRUE))'],
        cwd=project, capture_output=True, text=True, check=True)
    seen = json.loads(r.stdout)
    assert seen["builders"] == ["cnn", "baseline", "densenet121", "mobilenetv2", "densenet169"]
    assert seen["transfer"] == ["densenet121", "mobilenetv2", "densenet169"]
    assert seen["entry"]["builder"] == "DenseNet169" and seen["entry"]["preprocessing"] == "densenet"
    python = subprocess.run(
        [sys.executable, "-c", "import json; from chestxray.model.transfer_weights import imagenet_file; "
         "print(json.dumps(imagenet_file('densenet169', 64)))"],
        cwd=project, env=dict(os.environ, PYTHONPATH=str(project / "python")), capture_output=True, text=True,
        check=True)
    assert json.loads(python.stdout) == {
        "file": "densenet169_weights_tf_dim_ordering_tf_kernels_notop.h5",
        "url": "https://storage.googleapis.com/tensorflow/keras-applications/densenet/"
               "densenet169_weights_tf_dim_ordering_tf_kernels_notop.h5",
        "file_hash": "b8c4d4c20dd625c148057b9ff1c1176b"}


def test_an_unknown_transfer_model_stops_naming_the_known_ones():
    with pytest.raises(ValueError, match="^unknown transfer model 'resnet50'; transfer models: densenet121, "
                                         "mobilenetv2$"):
        imagenet_file("resnet50", 224)
    out = run_r("""
      stopped <- function(expr) tryCatch({ expr; "no error" }, error = conditionMessage)
      list(transfer = stopped(build_transfer("resnet50", 32L, weights = "none")),
           model = stopped(build_model("resnet50", 32L, weights = "none")))
    """)
    assert out["transfer"] == "unknown transfer model 'resnet50'; transfer models: densenet121, mobilenetv2"
    assert out["model"] == "unknown model 'resnet50'; models: cnn, baseline, densenet121, mobilenetv2"


@pytest.mark.parametrize("name", list(transfer_models()))
def test_each_builder_is_in_the_keras_applications_module_whose_preprocessing_it_names(name):
    import keras

    entry = transfer_models()[name]
    module = importlib.import_module(f"keras.applications.{entry['preprocessing']}")
    assert getattr(keras.applications, entry["builder"]) is getattr(module, entry["builder"])
    assert callable(module.preprocess_input)


class Requested(Exception):
    pass


@pytest.mark.filterwarnings("ignore:`input_shape` is undefined or non-square")
@pytest.mark.parametrize("name", list(transfer_models()))
@pytest.mark.parametrize("size", [48, 96])  # MobileNetV2: 96 has a file of its own, 48 loads the 224 px one
def test_each_weights_file_and_hash_are_what_keras_requests(monkeypatch, name, size):
    """keras.applications is asked for ImageNet weights with its download replaced by a recorder."""
    import keras
    from keras.src.utils import file_utils

    requested = {}

    def record(fname, origin, cache_subdir=None, file_hash=None, **_):
        requested.update(file=fname, url=origin, file_hash=file_hash)
        raise Requested

    monkeypatch.setattr(file_utils, "get_file", record)
    builder = getattr(keras.applications, transfer_models()[name]["builder"])
    with pytest.raises(Requested):
        builder(include_top=False, weights="imagenet", input_shape=(size, size, 3), pooling="avg")
    assert imagenet_file(name, size) == requested


def test_each_models_input_scaling_is_its_modules_preprocess_input():
    """Grey pixels in [0, 1] through the built model's first layers give what keras.applications'
    preprocess_input gives for the same pixels as 0-255 RGB."""
    out = run_r("""
      x <- array(seq(0, 1, length.out = 32 * 32), c(1, 32, 32, 1))
      rgb <- array(rep(x * 255, 3), c(1, 32, 32, 3))
      lapply(setNames(nm = TRANSFER_MODELS), function(name) {
        model <- build_model(name, 32L, weights = "none")
        scaling <- import_keras()$Model(model$input, model$get_layer("imagenet_scaling")$output)
        ours <- scaling$predict(x, verbose = 0L)
        module <- reticulate::import(paste0("keras.applications.", transfer_model(name)$preprocessing))
        theirs <- module$preprocess_input(reticulate::r_to_py(rgb)$copy())  # it scales in place
        list(difference = max(abs(ours - theirs)), spread = max(theirs) - min(theirs))
      })
    """)
    assert set(out) == set(transfer_models())
    for name, compared in out.items():
        assert compared["spread"] > 1, name  # a real range of values was compared
        assert compared["difference"] < 1e-5, name
