"""The multi-label demo: phantom films with several findings, labelled as NIH labels them.

The phantoms (sources/phantoms.py) draw five of NIH's findings: a pneumothorax, a pleural
effusion, cardiomegaly, a nodule and a mass, each graded from barely visible to obvious.
Half the films show none of them ('No Finding'); the other half take their set of findings
from NIH's own metadata: the combinations of these five among NIH's images that carry at
least one, drawn as often as NIH has them, so the findings co-occur as they do there.

Like NIH's report-mined labels, a known number of the recorded labels is wrong: exactly
round(LABEL_NOISE x images) films have one finding added or dropped. The truth is written
beside them (truth.csv, one YES/NO column per finding).

The folder holds ``images/`` and ``labels.csv`` in NIH's format ('Image Index', 'Finding
Labels' such as ``Effusion|Mass``, 'Patient ID', ...): what a user's own multi-label folder holds.
"""

from __future__ import annotations

import csv
import os
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from chestxray import NEGATIVE_CLASS
from chestxray.sources.metadata import read_metadata
from chestxray.sources.nih import METADATA_FILE, packaged_folder
from chestxray.sources.phantoms import (
    DEMO_FINDING,
    GENERATOR_VERSION,
    LABEL_NOISE,
    OTHER_SIGNS,
    TRUTH_FILE,
    draw_all,
    patient_films,
    render_phantom,
    write_png,
)
from chestxray.support.atomic import atomic_path
from chestxray.support.console import step

# The findings the multi-label demo draws, in NIH's names.
DEMO_FINDINGS = (DEMO_FINDING, *OTHER_SIGNS)
IMAGES_FOLDER = "images"
LABELS_FILE = "labels.csv"
LABEL_SEPARATOR = "|"
# The share of films with none of the findings.
NO_FINDING_SHARE = 0.5


@dataclass(frozen=True)
class MultilabelRecord:
    image: str
    labels: frozenset[str]  # recorded: one finding added or dropped on a LABEL_NOISE share of films
    true_labels: frozenset[str]
    patient_id: int
    follow_up: int
    patient_age: int
    patient_sex: str
    view_position: str


@cache
def nih_combinations() -> tuple[tuple[frozenset[str], int], ...]:
    """The sets of DEMO_FINDINGS NIH's images carry (other findings set aside), with how many
    images carry each, for the images with at least one; the commonest first."""
    table = read_metadata(packaged_folder() / f"{METADATA_FILE}.gz")
    counts = Counter(
        frozenset(labels.split(LABEL_SEPARATOR)) & frozenset(DEMO_FINDINGS) for labels in table["finding_labels"]
    )
    del counts[frozenset()]
    return tuple(sorted(counts.items(), key=lambda item: (-item[1], sorted(item[0]))))


def _true_label_sets(n_images: int, seed: int) -> list[frozenset[str]]:
    """Each film's findings: exactly round(NO_FINDING_SHARE x n) with none, the others drawn
    from NIH's combinations as often as NIH has them, in a seeded order."""
    rng = np.random.default_rng([seed, 2**22])
    combinations = nih_combinations()
    weights = np.array([count for _, count in combinations], dtype=float)
    n_clear = round(NO_FINDING_SHARE * n_images)
    drawn = rng.choice(len(combinations), size=n_images - n_clear, p=weights / weights.sum())
    sets = [frozenset()] * n_clear + [combinations[i][0] for i in drawn]
    return [sets[i] for i in rng.permutation(n_images)]


def _recorded(true_sets: list[frozenset[str]], seed: int) -> list[frozenset[str]]:
    """The recorded labels: round(LABEL_NOISE x n) films, chosen by the seed, with one finding
    (also chosen by the seed) added where absent or dropped where present."""
    rng = np.random.default_rng([seed, 2**23])
    wrong = rng.choice(len(true_sets), round(LABEL_NOISE * len(true_sets)), replace=False)
    flipped = dict(zip(wrong.tolist(), rng.choice(DEMO_FINDINGS, len(wrong)).tolist()))
    return [labels ^ {flipped[i]} if i in flipped else labels for i, labels in enumerate(true_sets)]


def plan_multilabel_dataset(n_images: int, seed: int) -> list[MultilabelRecord]:
    """Assign ``n_images`` films to patients with 1-3 films each, their true and recorded findings."""
    if n_images < 2:
        raise ValueError(f"the multi-label demo needs at least 2 images, got {n_images}")
    true_sets = _true_label_sets(n_images, seed)
    recorded = _recorded(true_sets, seed)
    films = patient_films(n_images, np.random.default_rng([seed, 2**24]))
    return [MultilabelRecord(film.image, recorded[i], true_sets[i], film.patient_id, film.follow_up, film.patient_age,
                             film.patient_sex, film.view_position) for i, film in enumerate(films)]


def finding_labels(labels: frozenset[str]) -> str:
    """NIH's 'Finding Labels' text: the findings in alphabetical order joined by '|', or 'No Finding'."""
    return LABEL_SEPARATOR.join(sorted(labels)) or NEGATIVE_CLASS


def multilabel_demo_folder(base: str | os.PathLike, n_images: int, seed: int) -> Path:
    """One folder per draw and generator version, so draws never mix their films."""
    return Path(base) / f"multilabel-v{GENERATOR_VERSION}-n{int(n_images)}-seed{int(seed)}"


def _render_to_file(job: tuple) -> None:
    seed, record, size, path = job
    truth = record.true_labels
    film = render_phantom(seed, record.patient_id, record.follow_up, DEMO_FINDING in truth, size,
                          others=truth - {DEMO_FINDING})
    write_png(film, path)


def write_multilabel_demo(out_dir: str | os.PathLike, n_images: int = 600, seed: int = 42, size: int = 256) -> Path:
    """Write ``images/``, ``labels.csv`` (NIH's format) and ``truth.csv``; films already on disk
    are kept (they are deterministic). Returns the folder."""
    out = Path(out_dir)
    records = plan_multilabel_dataset(n_images, seed)
    (out / IMAGES_FOLDER).mkdir(parents=True, exist_ok=True)
    todo = [(seed, r, size, out / IMAGES_FOLDER / r.image) for r in records]
    todo = [job for job in todo if not job[-1].exists()]
    step(f"Multi-label demo data: {n_images} phantom radiographs in {out}"
         + (f" ({len(todo)} drawn now)" if todo else " (already drawn)"))
    draw_all(_render_to_file, todo)
    _write_labels(out / LABELS_FILE, records)
    _write_truth(out / TRUTH_FILE, records)
    return out


def _write_labels(path: Path, records: list[MultilabelRecord]) -> None:
    with atomic_path(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["Image Index", "Finding Labels", "Follow-up #", "Patient ID", "Patient Age", "Patient Gender",
                         "View Position"])
        for r in records:
            writer.writerow([r.image, finding_labels(r.labels), r.follow_up, r.patient_id, r.patient_age,
                             r.patient_sex, r.view_position])


def _write_truth(path: Path, records: list[MultilabelRecord]) -> None:
    with atomic_path(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["Image Index", *DEMO_FINDINGS])
        for r in records:
            writer.writerow([r.image, *("YES" if f in r.true_labels else "NO" for f in DEMO_FINDINGS)])
