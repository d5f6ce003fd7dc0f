"""Transfer-learning weights: the file keras.applications expects for ImageNet,
where Keras caches it, and a record of what is actually loaded (source, file,
SHA-256), so a report never trains from random weights without saying so."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from chestxray.support.files import sha256_of

KERAS_APPLICATIONS = "https://storage.googleapis.com/tensorflow/keras-applications/"
MOBILENET_SIZES = (96, 128, 160, 192, 224)
# A download that cannot connect fails within this many seconds instead of hanging.
CONNECT_TIMEOUT_S = 20.0


def imagenet_file(model: str, image_size: int) -> dict:
    """The no-top ImageNet weights file keras.applications downloads for this
    model and input size: its name, URL and the hash Keras checks (if any)."""
    if model == "densenet121":
        name = "densenet121_weights_tf_dim_ordering_tf_kernels_notop.h5"
        return {"file": name, "url": f"{KERAS_APPLICATIONS}densenet/{name}",
                "file_hash": "30ee3e1110167f948a6b9946edeeb738"}
    if model == "mobilenetv2":
        # Keras loads the 224 px file for sizes it has no file for (convolutions do not depend on it).
        rows = image_size if image_size in MOBILENET_SIZES else 224
        name = f"mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_{rows}_no_top.h5"
        return {"file": name, "url": f"{KERAS_APPLICATIONS}mobilenet_v2/{name}", "file_hash": None}
    raise ValueError(f"no ImageNet weights known for model '{model}'")


def keras_cache_dir() -> Path:
    """Where keras.utils.get_file keeps downloads: $KERAS_HOME, else ~/.keras."""
    return Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras").expanduser()


def _download_imagenet(expected: dict) -> str:
    from chestxray.model.backend import import_keras

    keras = import_keras()
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(CONNECT_TIMEOUT_S)
    try:
        return keras.utils.get_file(expected["file"], expected["url"], cache_subdir="models",
                                    cache_dir=str(keras_cache_dir()), file_hash=expected["file_hash"])
    finally:
        socket.setdefaulttimeout(previous)


def locate(model: str, image_size: int, weights: str) -> dict:
    """The file to load for ``weights`` ("imagenet", "none" or a file path).

    ImageNet weights come from Keras' cache, downloaded there first if absent.
    Returns a record: ``requested``; ``source`` ("imagenet", the path given, or
    "none"); ``file`` and ``sha256`` of the file to load (None without one);
    ``expected_file``, ``cache_path`` and ``url`` for ImageNet; ``error``, None
    when the weights were found, else why they were not.
    """
    record = {"requested": weights, "source": weights, "file": None, "sha256": None,
              "expected_file": None, "cache_path": None, "url": None, "error": None}
    if weights == "none":
        return record
    if weights == "imagenet":
        expected = imagenet_file(model, int(image_size))
        record.update(expected_file=expected["file"], url=expected["url"],
                      cache_path=str(keras_cache_dir() / "models" / expected["file"]))
        try:
            path = _download_imagenet(expected)
        except Exception as error:  # offline, refused, corrupt download: all mean "not available"
            record["error"] = " ".join(str(error).split())
            return record
    else:
        path = os.path.abspath(os.path.expanduser(weights))
        if not os.path.isfile(path):
            record["error"] = f"file not found: {path}"
            return record
    record.update(file=str(path), sha256=sha256_of(path))
    return record
