"""The multi-label study's data (finding = "all"): every image with all its labels, one 0/1
column per finding ('No Finding' is all zeros), split by whole patients with every finding
shared out at once (preparation/split.py's multi-label rule).

With NIH's release every one of its 112,120 images is eligible and NIH's official test list is the
test part as it is; validation is carved out of the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from chestxray.preparation.cache import build_cache
from chestxray.preparation.dataset import CachedSplits
from chestxray.preparation.split import (
    SPLITS,
    VALIDATION_SHARE,
    multilabel_patient_split,
    official_multilabel_split,
    require_every_finding,
)
from chestxray.sources.folders import read_labelled_folder
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

    def labels(self, split: str) -> np.ndarray:
        """images x findings, 0/1 as float32 (what Keras compares the sigmoids with)."""
        return self.part(split)[self.findings].to_numpy(dtype=np.float32)


def findings_present(table: pd.DataFrame) -> list[str]:
    """The findings some image carries, in findings.csv's order: the study's outputs."""
    return [finding for finding in FINDINGS if table[finding].any()]


def prepare_multilabel(source: str, data_dir: str, n_images: int, image_size: int, seed: int,
                       cache_dir: str = "data/cache") -> PreparedMultilabel:
    """Draw (demo) or read (folder: images with labels.csv) the images with all their findings,
    split them by whole patients over every finding at once, and cache them."""
    if source == "demo":
        write_multilabel_demo(data_dir, n_images=n_images, seed=seed)
    elif source != "folder":
        raise ValueError(f"the multi-label study reads data 'demo' or 'folder' here, not '{source}'")
    table = read_labelled_folder(data_dir)
    findings = findings_present(table)
    table = multilabel_patient_split(table, findings, int(seed)).reset_index(drop=True)
    table["cache_row"] = np.arange(len(table))
    cache = build_cache(table["path"].tolist(), int(image_size), cache_dir)
    table = table[cache.valid].reset_index(drop=True)
    require_every_finding(table, findings, SPLITS)
    step(f"Multi-label split by patient ({len(findings)} findings): " + ", ".join(
        f"{split} {int((table['split'] == split).sum())} images" for split in SPLITS))
    return PreparedMultilabel(table, str(cache.path), int(seed), findings, cache.failed)
