"""The whole NIH route for the report: download (or reuse), extract, organise, split.

Every step skips what is already done, so a re-render reuses the downloaded,
extracted and organised data.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

from . import DEFAULT_FINDING
from .download import METADATA_FILES, download_all, parse_selection, remote_files
from .extract import extract_all
from .metadata import MetadataError
from .console import step
from .organize import organize
from .preflight import check_nih_inputs


def locate_metadata(archives_dir: Path, metadata: str | None) -> Path:
    """Data_Entry CSV: the user's path, else the one downloaded beside the archives."""
    if metadata:
        path = Path(metadata)
        if not path.exists():
            raise MetadataError(f"nih_metadata '{path}' does not exist")
        for name in (path.name, *METADATA_FILES[1:]):
            source, target = path.parent / name, archives_dir / name
            if source.exists() and not target.exists():
                shutil.copy2(source, target)
        return archives_dir / path.name
    path = archives_dir / METADATA_FILES[0]
    if not path.exists():
        raise MetadataError(
            f"no {METADATA_FILES[0]} in '{archives_dir}': download it from NIH's Box folder "
            "(https://nihcc.app.box.com/v/ChestXray-NIHCC) and set nih_metadata, or set nih_base_url to a mirror"
        )
    return path


def prepare_nih(
    nih_dir: str, archives: str = "1", base_url: str | None = None, metadata: str | None = None,
    positive: str = DEFAULT_FINDING, match: str = "any", seed: int = 42, show_progress: bool = True,
) -> pd.DataFrame:
    """Manifest (one row per image, with patient and split) for the chosen archives."""
    check_nih_inputs(archives, metadata or "")  # before any download
    root = Path(nih_dir)
    archives_dir, images_dir = root / "archives", root / "images"
    selection = parse_selection(archives)
    remotes = remote_files(selection, base_url or None, with_metadata=bool(base_url) and not metadata)
    download_all(remotes, archives_dir, show_progress=show_progress)
    metadata_path = locate_metadata(archives_dir, metadata)
    extract_all([archives_dir / f"images_{i:02d}.tar.gz" for i in selection], images_dir)
    test_list = archives_dir / METADATA_FILES[2]
    task_dir = root / f"{positive}-{match}-archives{'-'.join(map(str, selection))}"
    report = organize(metadata_path, images_dir, task_dir, positive=positive, match=match, seed=seed,
                      test_list=test_list if test_list.exists() else None)
    step(str(report))  # to the console, not into the report
    return pd.read_csv(report.manifest, dtype={"patient_id": str})
