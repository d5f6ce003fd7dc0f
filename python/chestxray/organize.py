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
from .metadata import NO_FINDING, read_image_list, read_metadata, select_task
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
    """Select the task's images, split by patient, write manifest.csv and class folders."""
    images_dir, out = Path(images_dir), Path(out_dir)
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
