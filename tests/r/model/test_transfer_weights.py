"""Provenance of transfer-learning weights: missing weights stop the report in
seconds with a way to provide them; a chosen fallback to random weights, a
cached ImageNet file and a local file are all recorded (source, file, SHA-256)."""

import hashlib
import time

import pytest

from conftest import render, run_r

EXPECTED_FILES = {
    "densenet121": "densenet121_weights_tf_dim_ordering_tf_kernels_notop.h5",
    "mobilenetv2": "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5",
}
# An empty Keras cache and a proxy nobody listens on: offline on any machine.
OFFLINE = {"https_proxy": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9"}


def offline_r(keras_home, code):
    settings = ", ".join(f'{k} = "{v}"' for k, v in {**OFFLINE, "KERAS_HOME": str(keras_home)}.items())
    return run_r(f"Sys.setenv({settings})\n{code}")


def params(model, on_missing_weights="stop", weights="imagenet", image_size=48):
    return (f'list(model = "{model}", image_size = {image_size}L, weights = "{weights}", '
            f'on_missing_weights = "{on_missing_weights}")')


@pytest.mark.parametrize("model", ["densenet121", "mobilenetv2"])
def test_missing_imagenet_weights_stop_with_how_to_provide_them(tmp_path, model):
    out = offline_r(tmp_path, f"""
      started <- Sys.time()
      message <- tryCatch({{ check_transfer_weights({params(model)}); "no error" }},
                          error = function(e) conditionMessage(e))
      list(message = message, seconds = as.numeric(difftime(Sys.time(), started, units = "secs")))
    """)
    message, expected = out["message"], EXPECTED_FILES[model]
    assert f"could not load 'imagenet' weights for {model}" in message
    assert f"copy it to {tmp_path}/models/{expected}, where Keras caches it" in message
    assert f"weights=/path/to/{expected}" in message and "on_missing_weights=random" in message
    assert out["seconds"] < 30


def test_chosen_fallback_is_recorded_as_random(tmp_path):
    out = offline_r(tmp_path, f"""
      checked <- check_transfer_weights({params("densenet121", "random")})
      m <- suppressWarnings(build_transfer("mobilenetv2", 32L, "imagenet", on_missing_weights = "random"))
      list(checked = checked, built = weights_loaded(m), cnn = weights_loaded(build_cnn(32L)))
    """)
    for record in (out["checked"], out["built"]):
        assert record["source"] == "random" and record["requested"] == "imagenet"
        assert not record["file"] and not record["sha256"] and record["error"]
    assert out["cnn"]["source"] == "none"


def test_cached_imagenet_file_is_recorded_with_its_hash(tmp_path):
    cached = tmp_path / "models" / EXPECTED_FILES["mobilenetv2"]
    cached.parent.mkdir()
    cached.write_bytes(b"stand-in for the ImageNet weights")  # located and hashed, not loaded
    out = offline_r(tmp_path, f"check_transfer_weights({params('mobilenetv2', image_size=48)})")
    assert out["source"] == "imagenet" and out["file"] == str(cached)
    assert out["sha256"] == hashlib.sha256(cached.read_bytes()).hexdigest()


def test_report_with_missing_weights_stops_in_seconds_before_any_data_work(project_copy, tmp_path, monkeypatch):
    for name, value in {**OFFLINE, "KERAS_HOME": str(tmp_path / "keras")}.items():
        monkeypatch.setenv(name, value)
    started = time.monotonic()
    done = render(project_copy, "model=densenet121")
    seconds = time.monotonic() - started
    assert done.returncode != 0
    flat = " ".join(done.stderr.split())
    assert "could not load 'imagenet' weights for densenet121" in flat
    assert f"weights=/path/to/{EXPECTED_FILES['densenet121']}" in flat
    assert seconds < 60, seconds
    assert not (project_copy / "data").exists()  # no demo data drawn, nothing trained
    assert not (project_copy / "_output" / "manifest.csv").exists()
