"""Inference on new images with a saved model and its model card.

``model.keras`` and ``model-card.json`` (written beside it by the report) hold
the network, the image size and the operating point chosen on validation.
Images go through ``images.load_grey``, the function that built the training
cache, so preprocessing is identical.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from chestxray.preparation.images import ImageReadError, check_image_size, load_grey, to_model_input
from chestxray.sources.folders import is_image_name
from chestxray.support.atomic import atomic_path

BATCH = 32


class ModelCardError(ValueError):
    """A model card that is missing or lacks what inference needs."""


class ModelFileError(ValueError):
    """A model file that is missing or cannot be loaded by Keras."""


class NoInputImagesError(ValueError):
    """The paths given to predict hold no image to score."""


def card_path(model_path: str | Path) -> Path:
    model_path = Path(model_path)
    return model_path.with_name(f"{model_path.stem}-card.json")


@dataclass
class ModelCard:
    image_size: int
    threshold: float
    positive_class: str
    negative_class: str
    # The multi-label study's card (finding = "all"): each finding's threshold, in the model's output order.
    thresholds: dict[str, float] | None = None

    @classmethod
    def load(cls, model_path: str | Path) -> ModelCard:
        path = card_path(model_path)
        if not path.is_file():
            raise ModelCardError(f"model card '{path}' not found: it is written beside the model by the report")
        try:
            card = json.loads(path.read_text())
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ModelCardError(f"model card '{path}' is not valid JSON: {error}") from error
        if not isinstance(card, dict):
            raise ModelCardError(f"model card '{path}' must be a JSON object")
        decision = "thresholds" if "thresholds" in card else "threshold"
        missing = [key for key in ("image_size", decision, "positive_class", "negative_class") if key not in card]
        if missing:
            raise ModelCardError(f"model card '{path}' lacks {', '.join(map(repr, missing))}")
        try:
            thresholds = _probabilities(card["thresholds"]) if decision == "thresholds" else None
            threshold = math.nan if thresholds else _probability(card["threshold"])
            size = card["image_size"]
            size = check_image_size(int(size) if isinstance(size, float) and size.is_integer() else size)
        except (TypeError, ValueError, AttributeError) as error:
            raise ModelCardError(f"model card '{path}' has an unusable '{decision}' or 'image_size': "
                                 f"{error}") from error
        return cls(size, threshold, str(card["positive_class"]), str(card["negative_class"]), thresholds)


def _probability(value) -> float:
    number = float(value)
    if not 0 <= number <= 1:
        raise ValueError(f"{number} is not a probability")
    return number


def _probabilities(values) -> dict[str, float]:
    """A finding -> threshold object, every value a probability, at least one finding."""
    if not values:
        raise ValueError("no finding has a threshold")
    return {str(finding): _probability(value) for finding, value in values.items()}


def load_model(model_path: str | Path):
    """The Keras model, or a ModelFileError that tells a missing file from an unreadable one."""
    import chestxray.model.losses  # noqa: F401  (registers the multi-label study's loss, which its models name)
    from chestxray.model.backend import import_keras

    keras = import_keras()
    path = Path(model_path)
    if not path.is_file():
        raise ModelFileError(f"model file '{path}' not found")
    try:
        return keras.models.load_model(path)
    except Exception as error:  # noqa: BLE001 - Keras raises many kinds for a bad file
        raise ModelFileError(f"model file '{path}' exists but is not a readable Keras model "
                             f"({type(error).__name__}: {error})") from error


def expand_paths(paths: list[str]) -> list[Path]:
    """Files as given; folders searched recursively for PNG/JPEG files, sorted.
    Raises NoInputImagesError when that leaves nothing to score."""
    found = []
    for item in map(Path, paths):
        if item.is_dir():
            found += sorted(p for p in item.rglob("*") if is_image_name(p.name) and p.is_file())
        else:
            found.append(item)
    if not found:
        raise NoInputImagesError(f"no PNG or JPEG images in {', '.join(map(str, paths))}")
    return found


def scored_row(card: ModelCard, output) -> dict[str, str]:
    """One image's columns: its probability and class, or (a multi-label card) each finding's
    probability and the findings at or above their thresholds, '|'-joined as NIH writes them
    ('No Finding' when none is)."""
    if card.thresholds is None:
        probability = float(output)
        label = card.positive_class if probability >= card.threshold else card.negative_class
        return {"probability": f"{probability:.8f}", "predicted_class": label}
    probabilities = np.asarray(output, dtype=np.float64)
    above = [finding for finding, p, t in zip(card.thresholds, probabilities, card.thresholds.values()) if p >= t]
    row = {f"probability_{finding}": f"{p:.8f}" for finding, p in zip(card.thresholds, probabilities)}
    return {**row, "findings": "|".join(above) or card.negative_class}


def predict_files(model_path: str | Path, paths: list[str], out_csv: str | Path) -> tuple[int, int]:
    """Write one row per image (path, probability, predicted class, error; with a multi-label card
    each finding's probability and the findings above their thresholds); return (done, failed).

    An image that cannot be decoded gets its reason in the error column; the
    others are scored. Problems with the model, its card, the inputs as a whole
    or the output folder stop before any work, and no CSV is written.
    """
    from chestxray.model.training import check_input_size, positive_probability

    card = ModelCard.load(model_path)
    files = expand_paths(paths)
    if not Path(out_csv).parent.is_dir():
        raise FileNotFoundError(f"the folder of --out '{out_csv}' does not exist")
    model = load_model(model_path)
    # Images are resized to the card's image_size: it must be the size the model takes.
    check_input_size(model, card.image_size, f"its model card {card_path(model_path)}",
                     "the card was written for another model; keep the model.keras and model-card.json of one render")

    outputs = int(model.output_shape[-1])
    if card.thresholds is not None and outputs != len(card.thresholds):
        raise ModelCardError(f"model card '{card_path(model_path)}' has {len(card.thresholds)} thresholds but the "
                             f"model {outputs} outputs: keep the model.keras and model-card.json of one render")
    columns = (["path"] + [f"probability_{finding}" for finding in card.thresholds] + ["findings", "error"]
               if card.thresholds else ["path", "probability", "predicted_class", "error"])
    rows, pending = [], []

    def flush() -> None:
        if not pending:
            return
        batch = to_model_input(np.stack([pixels for _, pixels in pending]))
        outputs = model.predict(batch, verbose=0)
        for (index, _), output in zip(pending, outputs if card.thresholds else positive_probability(outputs)):
            rows[index].update(scored_row(card, output))
        pending.clear()

    for path in files:
        rows.append({"path": str(path), "error": ""})
        try:
            pending.append((len(rows) - 1, load_grey(path, card.image_size)))
        except ImageReadError as error:
            rows[-1]["error"] = str(error)
        if len(pending) == BATCH:
            flush()
    flush()
    with atomic_path(out_csv) as tmp, open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns, restval="")
        writer.writeheader()
        writer.writerows(rows)
    failed = sum(1 for r in rows if r["error"])
    return len(rows) - failed, failed
