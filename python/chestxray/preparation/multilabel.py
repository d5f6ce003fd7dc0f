"""The multi-label study's data (finding = "all"): every image with all its labels, one 0/1
column per finding ('No Finding' is all zeros), split by whole patients with every finding
shared out at once (preparation/split.py's multi-label rule).

With NIH's release every one of its 112,120 images is eligible and NIH's official test list is the
test part as it is; validation is carved out of the rest.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from chestxray.preparation.cache import build_cache
from chestxray.preparation.dataset import CAPPED_SPLITS, HASH_MEMO, CachedSplits, content_hashes
from chestxray.preparation.organize import fetch_nih_images
from chestxray.preparation.split import (
    SPLITS,
    VALIDATION_SHARE,
    multilabel_patient_split,
    official_multilabel_split,
    require_every_finding,
)
from chestxray.sources.folders import PATIENT_FROM_METADATA, DatasetError, read_labelled_folder
from chestxray.sources.metadata import label_matrix, read_image_list, read_metadata
from chestxray.sources.multilabel_demo import write_multilabel_demo
from chestxray.sources.nih import official_metadata
from chestxray.support.console import step
from chestxray.support.findings import FINDINGS


def nih_multilabel_table(metadata_path: str) -> pd.DataFrame:
    """NIH's metadata with one 0/1 column per finding."""
    table = read_metadata(metadata_path)
    return pd.concat([table, label_matrix(table, metadata_path)], axis=1)


def nih_multilabel_split(seed: int, validation: float = VALIDATION_SHARE) -> pd.DataFrame:
    """Every image of the packaged NIH metadata with its findings and its part: NIH's official
    test list as test, validation carved out of the rest by whole patients over all 14 findings."""
    source = official_metadata()
    table = nih_multilabel_table(source.metadata)
    return official_multilabel_split(table, FINDINGS, read_image_list(source.test_list), seed, validation)


@dataclass
class PreparedMultilabel(CachedSplits):
    """The multi-label study's split table (a 0/1 column per finding) and its image cache: what the
    R chunks train and evaluate on."""

    findings: list[str] = field(default_factory=list)  # the outputs, findings.csv's order
    unreadable: list = field(default_factory=list)  # (path, reason) of images left out
    eligible: pd.DataFrame | None = None  # finding_counts of every eligible image, before the cap

    def labels(self, split: str) -> np.ndarray:
        """images x findings, 0/1 as float32 (what Keras compares the sigmoids with)."""
        return self.part(split)[self.findings].to_numpy(dtype=np.float32)

    def counts(self) -> pd.DataFrame:
        """Per part and finding (and 'No Finding'): images and patients with it, for the report."""
        return finding_counts(self.table, self.findings)

    def with_permuted_labels(self, seed: int) -> PreparedMultilabel:
        """The same images with whole label rows permuted within each part (each image gets another
        image's set of findings, so co-occurrence and prevalences stay): a negative control in which
        there is nothing to learn, so test AUROCs should stay near 0.5."""
        table = self.table.copy()
        rng = np.random.default_rng(seed)
        for rows in table.groupby("split").groups.values():
            labels = table.loc[rows, self.findings].to_numpy()
            table.loc[rows, self.findings] = labels[rng.permutation(len(labels))]
        return replace(self, table=table)


def finding_counts(table: pd.DataFrame, findings) -> pd.DataFrame:
    """One row per part and label (each finding, then NO_FINDING: images with none of them, and
    ALL_IMAGES): images and patients with it, and its share of the part's images."""
    rows = []
    for split in SPLITS:
        part = table[table["split"] == split]
        marks = {finding: part[finding].to_numpy() == 1 for finding in findings}
        marks[NO_FINDING] = ~np.any(list(marks.values()), axis=0)
        marks[ALL_IMAGES] = np.ones(len(part), bool)
        for label, mark in marks.items():
            rows.append({"split": split, "label": label, "images": int(mark.sum()),
                         "patients": int(part.loc[mark, "patient_id"].nunique()),
                         "share": float(mark.mean()) if len(part) else math.nan})
    return pd.DataFrame(rows)


NO_FINDING = "No Finding"
ALL_IMAGES = "all images"


def findings_present(table: pd.DataFrame) -> list[str]:
    """The findings some image carries, in findings.csv's order: the study's outputs. Data in which no
    image carries any finding has nothing to study: DatasetError."""
    present = [finding for finding in FINDINGS if table[finding].any()]
    if not present:
        raise DatasetError(f"none of the {len(table):,} images carries a finding (all are 'No Finding'): the "
                           "multi-label study needs images with findings")
    return present


def cap_by_patients(table: pd.DataFrame, max_images: int | None, seed: int) -> pd.DataFrame:
    """At most ``max_images`` images in training and in validation, taking whole patients in a
    random order (the test part keeps every image, and with them the data's prevalences)."""
    if max_images is None:
        return table
    keep = np.ones(len(table), dtype=bool)
    for split in CAPPED_SPLITS:
        rows = np.flatnonzero(table["split"].to_numpy() == split)
        patients = table["patient_id"].to_numpy()[rows]
        order = np.random.default_rng([seed, SPLITS.index(split)]).permutation(np.unique(patients))
        sizes = pd.Series(patients).value_counts()[order].to_numpy()
        kept = set(order[np.cumsum(sizes) <= int(max_images)])
        keep[rows] = [patient in kept for patient in patients]
    return table[keep].reset_index(drop=True)


def nih_images_on_disk(nih_dir: str, seed: int, nih: dict | None = None) -> pd.DataFrame:
    """data = nih: download and extract the chosen archives, then every image of them with all its
    labels, split as nih_multilabel_split splits the whole release (NIH's official test list as
    is), so an image's part does not depend on which archives were fetched."""
    options = dict(nih or {})
    options.pop("match", None)  # 'any' or 'exact' choose one finding's images; here every image is used
    source, images_dir = fetch_nih_images(nih_dir, show_progress=True, **options)
    table = official_multilabel_split(nih_multilabel_table(source.metadata), FINDINGS,
                                      read_image_list(source.test_list), seed)
    on_disk = {entry.name for entry in os.scandir(images_dir)} if Path(images_dir).is_dir() else set()
    table = table[table["image"].isin(on_disk)].reset_index(drop=True)
    if table.empty:
        raise DatasetError(f"no image of the metadata is in '{images_dir}': check nih_archives and nih_dir")
    table.insert(0, "path", [str(Path(images_dir) / name) for name in table["image"]])
    table["patient_source"] = PATIENT_FROM_METADATA
    return table


def prepare_multilabel(source: str, data_dir: str, n_images: int, image_size: int, seed: int,
                       cache_dir: str = "data/cache", max_images: int | None = None,
                       nih: dict | None = None) -> PreparedMultilabel:
    """Draw (demo: ``n_images`` films), read (folder: images with labels.csv) or fetch (nih:
    ``data_dir`` is the NIH folder, ``nih`` its options) the images with all their findings,
    split them by whole patients over every finding at once, cap training and validation at
    ``max_images`` each, and cache them."""
    if source == "nih":
        table = nih_images_on_disk(data_dir, int(seed), nih)
    elif source in ("demo", "folder"):
        if source == "demo":
            write_multilabel_demo(data_dir, n_images=n_images, seed=seed)
        table = read_labelled_folder(data_dir)
        table = multilabel_patient_split(table, findings_present(table), int(seed))
    else:
        raise ValueError(f"data must be demo, folder or nih; got '{source}'")
    findings = findings_present(table)
    eligible = finding_counts(table, findings)
    table = cap_by_patients(table, max_images, int(seed))
    table["cache_row"] = np.arange(len(table))
    cache = build_cache(table["path"].tolist(), int(image_size), cache_dir)
    table = table[cache.valid].reset_index(drop=True)
    table["content_sha256"] = content_hashes(table["path"].tolist(), memo_path=Path(cache_dir) / HASH_MEMO)
    require_every_finding(table, findings, SPLITS)
    step(f"Multi-label split by patient ({len(findings)} findings): " + ", ".join(
        f"{split} {int((table['split'] == split).sum())} images" for split in SPLITS))
    return PreparedMultilabel(table, str(cache.path), int(seed), findings, cache.failed, eligible)
