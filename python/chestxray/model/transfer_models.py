"""The transfer-learning models, read from ``transfer_models.yml``: each one's
keras.applications builder and preprocessing, and the ImageNet weights file Keras
downloads for it. R reads the same file (R/model/build.R), so neither language
keeps a list of its own."""

from __future__ import annotations

from functools import cache
from importlib import resources

import yaml

TABLE_FILE = "transfer_models.yml"


@cache
def transfer_models() -> dict[str, dict]:
    """name -> entry (builder, preprocessing, weights), in the file's order."""
    with resources.files(__package__).joinpath(TABLE_FILE).open(encoding="utf-8") as f:
        return yaml.safe_load(f)


def transfer_model(name: str) -> dict:
    """One model's entry; an unknown name stops, naming the known ones."""
    models = transfer_models()
    if name not in models:
        raise ValueError(f"unknown transfer model '{name}'; transfer models: {', '.join(models)}")
    return models[name]
