"""Organise extracted NIH images for one task: manifest.csv and class folders.

The class folders (``Pneumothorax/``, ``No-Finding/``) mirror the original use
case but are made of hard links (symbolic links, or copies, where hard links
fail), so they cost no disk space and the raw images are never touched.
"""

from __future__ import annotations

import errno
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .atomic import atomic_path
from .folders import class_folder_name
from .metadata import NO_FINDING, SHOWN, read_image_list, read_metadata, select_task
from .split import assert_patient_disjoint, official_split, patient_split

MANIFEST_COLUMNS = [
    "path", "label", "class_name", "image", "patient_id", "patient_age", "patient_sex",
    "view_position", "follow_up", "finding_labels", "split",
]


class MissingImagesError(FileNotFoundError):
    """Images listed in the metadata are not on disk (and --strict was given)."""


@dataclass
class OrganizeReport:
    manifest: Path
    images: int
    positives: int
    negatives: int
    missing: int
    links: str

    def __str__(self) -> str:
        note = f"; {self.missing} listed image(s) are not on disk (archives not downloaded, or a partial download) and were left out" if self.missing else ""
        return (f"{self.images} images ({self.positives} positive, {self.negatives} negative) -> {self.manifest} "
                f"[{self.links}]{note}")


def link_or_copy(source: Path, target: Path) -> str:
    """Hard link, else symbolic link, else copy; returns which was made."""
    try:
        os.link(source, target)
        return "hard link"
    except OSError as error:
        if error.errno == errno.EEXIST:
            return "existing"
    try:
        os.symlink(os.path.abspath(source), target)
        return "symbolic link"
    except OSError as error:
        if error.errno == errno.EEXIST:
            return "existing"
    with atomic_path(target) as tmp:
        shutil.copy2(source, tmp)
    return "copy"


def organize(
    metadata: str | Path, images_dir: str | Path, out_dir: str | Path, positive: str = "Pneumothorax",
    negative: str = NO_FINDING, match: str = "exact", strict: bool = False, test_list: str | Path | None = None,
    seed: int = 42, validation: float = 0.1, test: float = 0.2, make_folders: bool = True,
) -> OrganizeReport:
    """Select the task's images, split by patient, write manifest.csv and class folders.

    The manifest holds absolute paths, so it means the same from any working
    directory.
    """
    images_dir, out = Path(os.path.abspath(images_dir)), Path(out_dir)
    table = select_task(read_metadata(metadata), positive, negative, match)
    on_disk = {entry.name for entry in os.scandir(images_dir)} if images_dir.is_dir() else set()
    present = table["image"].isin(on_disk)
    missing = int((~present).sum())
    if missing and strict:
        example = table.loc[~present, "image"].iloc[0]
        raise MissingImagesError(f"{missing} image(s) listed in the metadata are not in '{images_dir}', e.g. {example}")
    table = table[present].reset_index(drop=True)
    if table.empty:
        raise MissingImagesError(f"none of the task's images are in '{images_dir}'")
    table["path"] = [str(images_dir / name) for name in table["image"]]
    if test_list:
        table = official_split(table, read_image_list(test_list), seed, validation)
    else:
        table = patient_split(table, seed, validation, test)
    assert_patient_disjoint(table)
    kinds = _make_class_folders(table, out) if make_folders else set()
    manifest = out / "manifest.csv"
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(manifest) as tmp:
        table.reindex(columns=MANIFEST_COLUMNS).to_csv(tmp, index=False)
    positives = int(table["label"].sum())
    return OrganizeReport(manifest, len(table), positives, len(table) - positives, missing, ", ".join(sorted(kinds)) or "class folders up to date")


def _make_class_folders(table: pd.DataFrame, out: Path) -> set[str]:
    kinds = set()
    for class_name, rows in table.groupby("class_name"):
        folder = out / class_folder_name(class_name)
        folder.mkdir(parents=True, exist_ok=True)
        existing = {entry.name for entry in os.scandir(folder)}
        for source, name in zip(rows["path"], rows["image"]):
            if name not in existing:
                kinds.add(link_or_copy(Path(source), folder / name))
    return kinds - {"existing"}


class ManifestError(ValueError):
    """A manifest.csv that cannot be used as given."""


def read_manifest(path: str | Path, required: tuple[str, ...] = ("path",)) -> pd.DataFrame:
    """A manifest with absolute image paths: relative ones are taken from the manifest's
    own folder, so a manifest means the same from any working directory.

    Fails naming the file and what is wrong: missing columns, empty paths,
    labels other than 0/1, images listed twice.
    """
    path = Path(path)
    if not path.is_file():
        raise ManifestError(f"manifest '{path}' does not exist")
    try:
        table = pd.read_csv(path, dtype={"path": str, "image": str, "patient_id": str})
    except pd.errors.EmptyDataError as error:
        raise ManifestError(f"manifest '{path}' is empty") from error
    except Exception as error:  # noqa: BLE001 - any parser failure is this file's
        raise ManifestError(f"cannot parse manifest '{path}' as CSV: {type(error).__name__}: {error}") from error
    missing = [c for c in required if c not in table.columns]
    if missing:
        raise ManifestError(f"manifest '{path}' lacks column(s) {missing}; found {list(map(str, table.columns))[:12]}")
    if table.empty:
        raise ManifestError(f"manifest '{path}' lists no images")
    for column in ("path", "image", "patient_id"):
        if column in table:
            _require_text(table, column, path)
    if "label" in table:
        table["label"] = _binary_labels(table["label"], path)
    if "image" in table and table["image"].duplicated().any():
        names = sorted(set(table.loc[table["image"].duplicated(), "image"]))
        raise ManifestError(f"manifest '{path}' lists {len(names)} image(s) more than once, e.g. {', '.join(names[:SHOWN])}")
    if "path" in table:
        base = path.parent.resolve()
        table["path"] = [p if os.path.isabs(p) else os.path.abspath(base / p) for p in table["path"]]
    return table


def _require_text(table: pd.DataFrame, column: str, path: Path) -> None:
    empty = table[column].isna() | table[column].str.strip().eq("")
    if empty.any():
        raise ManifestError(f"manifest '{path}': {int(empty.sum())} row(s) with no '{column}', e.g. on line {empty.idxmax() + 2}")


def _binary_labels(labels: pd.Series, path: Path) -> pd.Series:
    numbers = pd.to_numeric(labels, errors="coerce")
    bad = ~numbers.isin([0, 1])
    if bad.any():
        raise ManifestError(f"manifest '{path}': labels must be 0 or 1; line {bad.idxmax() + 2} has {labels[bad.idxmax()]!r}")
    return numbers.astype(int)
