"""Transfer-learning weights: the file keras.applications expects for ImageNet,
where Keras caches it, and a record of what is actually loaded (source, file,
SHA-256), so a report never trains from random weights without saying so."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from chestxray.model.transfer_models import transfer_model
from chestxray.support.files import sha256_of

# A download that cannot connect fails within this many seconds instead of hanging.
CONNECT_TIMEOUT_S = 20.0


def imagenet_file(model: str, image_size: int) -> dict:
    """The no-top ImageNet weights file keras.applications downloads for this
    model and input size (transfer_models.yml): its name, URL and the hash Keras
    checks (if any)."""
    weights = transfer_model(model)["weights"]
    sizes = weights.get("sizes", [])  # the sizes of a file named by {size}
    # Keras loads its default size's file for sizes it has none for (convolutions do not depend on it).
    size = image_size if image_size in sizes or not sizes else sizes[-1]
    name = weights["file"].format(size=size)
    return {"file": name, "url": weights["url"] + name, "file_hash": weights["file_hash"]}


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
