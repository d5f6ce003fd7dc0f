"""Inference on new images with a saved model and its model card.

``model.keras`` and ``model-card.json`` (written beside it by the report) hold
the network, the image size and the operating point chosen on validation.
Images go through ``images.load_grey``, the function that built the training
cache, so preprocessing is identical.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .atomic import atomic_path
from .folders import IMAGE_SUFFIXES
from .images import ImageReadError, load_grey, to_model_input

BATCH = 32


def card_path(model_path: str | Path) -> Path:
    model_path = Path(model_path)
    return model_path.with_name(f"{model_path.stem}-card.json")


@dataclass
class ModelCard:
    image_size: int
    threshold: float
    positive_class: str
    negative_class: str

    @classmethod
    def load(cls, model_path: str | Path) -> "ModelCard":
        path = card_path(model_path)
        if not path.exists():
            raise FileNotFoundError(f"model card '{path}' not found: it is written beside the model by the report")
        card = json.loads(path.read_text())
        return cls(int(card["image_size"]), float(card["threshold"]), card["positive_class"], card["negative_class"])


def expand_paths(paths: list[str]) -> list[Path]:
    """Files as given; folders searched recursively for PNG/JPEG files, sorted."""
    found = []
    for item in map(Path, paths):
        if item.is_dir():
            found += sorted(p for p in item.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
        else:
            found.append(item)
    return found


def predict_files(model_path: str | Path, paths: list[str], out_csv: str | Path) -> tuple[int, int]:
    """Write one row per image (path, probability, predicted class, error); return (done, failed)."""
    from .backend import import_keras
    from .training import positive_probability

    card = ModelCard.load(model_path)
    model = import_keras().models.load_model(model_path)

    rows, pending = [], []

    def flush() -> None:
        if not pending:
            return
        batch = to_model_input(np.stack([pixels for _, pixels in pending]))
        for (index, _), probability in zip(pending, positive_probability(model.predict(batch, verbose=0))):
            label = card.positive_class if probability >= card.threshold else card.negative_class
            rows[index].update(probability=f"{probability:.8f}", predicted_class=label)
        pending.clear()

    for path in expand_paths(paths):
        rows.append({"path": str(path), "probability": "", "predicted_class": "", "error": ""})
        try:
            pending.append((len(rows) - 1, load_grey(path, card.image_size)))
        except (ImageReadError, FileNotFoundError) as error:
            rows[-1]["error"] = str(error)
        if len(pending) == BATCH:
            flush()
    flush()
    with atomic_path(out_csv) as tmp, open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["path", "probability", "predicted_class", "error"])
        writer.writeheader()
        writer.writerows(rows)
    failed = sum(1 for r in rows if r["error"])
    return len(rows) - failed, failed
