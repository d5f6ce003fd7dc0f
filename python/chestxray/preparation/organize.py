"""Organise extracted NIH images for one task: manifest.csv (with each image's split) and class folders.

``prepare_nih`` is the whole NIH route (download, extract, organise), as the report runs it.

The class folders (the finding's, e.g. ``Pneumothorax/``, and ``No-Finding/``)
mirror the original use case but are made of hard links (symbolic links, or
copies, where hard links fail), so they cost no disk space and the raw images
are never touched. They hold exactly the manifest's images after every run,
whatever the options of earlier runs into the same folder.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from chestxray import DEFAULT_FINDING
from chestxray.preparation.split import (
    TEST_SHARE,
    VALIDATION_SHARE,
    assert_patient_disjoint,
    official_split,
    patient_split,
)
from chestxray.sources.download import download_all, parse_selection, remote_files
from chestxray.sources.extract import extract_all
from chestxray.sources.folders import class_folder_name, is_image_name
from chestxray.sources.metadata import (
    DEFAULT_MATCH,
    FINDINGS,
    NO_FINDING,
    SHOWN,
    read_image_list,
    read_metadata,
    select_task,
)
from chestxray.sources.nih import describe, metadata_source
from chestxray.sources.preflight import check_nih_inputs
from chestxray.support.atomic import atomic_path
from chestxray.support.console import step
from chestxray.support.files import read_csv_strictly

MANIFEST_COLUMNS = [
    "path", "label", "class_name", "image", "patient_id", "patient_age", "patient_sex",
    "view_position", "follow_up", "finding_labels", "split",
]


class MissingImagesError(FileNotFoundError):
    """Images listed in the metadata are not on disk (and --strict was given)."""


class OrganizeError(ValueError):
    """The task folder cannot be organised without touching files organize did not make."""


@dataclass
class OrganizeReport:
    manifest: Path
    images: int
    positives: int
    negatives: int
    missing: int
    links: str

    def __str__(self) -> str:
        note = (
            f"; {self.missing} listed image(s) are not on disk (archives not downloaded, or a partial download) and "
            "were left out"
            if self.missing
            else ""
        )
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
    metadata: str | Path, images_dir: str | Path, out_dir: str | Path, positive: str = DEFAULT_FINDING,
    negative: str = NO_FINDING, match: str = DEFAULT_MATCH, strict: bool = False, test_list: str | Path | None = None,
    seed: int = 42, validation: float = VALIDATION_SHARE, test: float = TEST_SHARE,
) -> OrganizeReport:
    """Select the task's images, split by patient, write manifest.csv and class folders.

    The manifest holds absolute paths, so it means the same from any working
    directory; after every run the class folders hold exactly its images.
    """
    images_dir, out = Path(os.path.abspath(images_dir)), Path(out_dir)
    _check_apart(images_dir, out)
    table = select_task(read_metadata(metadata), positive, negative, match)
    on_disk = _names_on_disk(images_dir)
    present = table["image"].str.lower().isin(on_disk)
    missing = int((~present).sum())
    if missing and strict:
        example = table.loc[~present, "image"].iloc[0]
        raise MissingImagesError(f"{missing} image(s) listed in the metadata are not in '{images_dir}', e.g. {example}")
    table = table[present].reset_index(drop=True)
    if table.empty:
        raise MissingImagesError(f"none of the task's images are in '{images_dir}'")
    table["path"] = [str(images_dir / on_disk[name.lower()]) for name in table["image"]]
    if test_list:
        table = official_split(table, read_image_list(test_list), seed, validation)
    else:
        table = patient_split(table, seed, validation, test)
    assert_patient_disjoint(table)
    kinds = sync_class_folders(table, out, images_dir)
    manifest = out / "manifest.csv"
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(manifest) as tmp:
        table.reindex(columns=MANIFEST_COLUMNS).to_csv(tmp, index=False)
    positives = int(table["label"].sum())
    return OrganizeReport(
        manifest,
        len(table),
        positives,
        len(table) - positives,
        missing,
        ", ".join(sorted(kinds)) or "class folders up to date",
    )


def _names_on_disk(images_dir: Path) -> dict[str, str]:
    """Image file names in the folder by their lower-case form: names are matched whatever
    their case, as everywhere in the package (folders.is_image_name)."""
    if not images_dir.is_dir():
        return {}
    return {entry.name.lower(): entry.name for entry in os.scandir(images_dir) if is_image_name(entry.name)}


def _check_apart(images_dir: Path, out: Path) -> None:
    """The task folder (which organize rewrites and prunes) and its class folders must
    not be, or lie in, the raw images folder."""
    raw, task = os.path.realpath(images_dir), os.path.realpath(out)
    class_folders = {os.path.realpath(out / name) for name in _possible_class_folders()}
    if task == raw or task.startswith(raw + os.sep) or raw in class_folders:
        raise OrganizeError(f"the task folder '{out}' overlaps the images folder '{images_dir}', which is never "
                            "written to: choose another --out")


def _possible_class_folders() -> set[str]:
    """Every class folder name organize can make: a finding, 'No Finding', 'No <finding>'."""
    labels = {*FINDINGS, NO_FINDING, *(f"No {finding}" for finding in FINDINGS)}
    return {class_folder_name(label) for label in labels}


def sync_class_folders(table: pd.DataFrame, out: Path, images_dir: Path) -> set[str]:
    """Make the class folders hold exactly the table's images: link what is missing or
    outdated, remove the links and copies of earlier runs that no longer belong.

    Only entries organize itself can have made are removed (symbolic links, and
    hard links or copies of a file in ``images_dir``); anything else stops the run
    before a change is made. Returns the kinds of what was made or removed.
    """
    wanted = {class_folder_name(name): {os.path.basename(path): path for path in rows["path"]}
              for name, rows in table.groupby("class_name")}  # links named as the files they point to
    folders = {name for name in _possible_class_folders() if (out / name).is_dir()} | set(wanted)
    stale = {name: _stale_entries(out / name, wanted.get(name, {})) for name in folders}
    foreign = [entry for entries in stale.values() for entry in entries if not _made_by_organize(entry, images_dir)]
    if foreign:
        raise OrganizeError(
            f"{len(foreign)} file(s) in the class folders of '{out}' are not links to or copies of images in "
            f"'{images_dir}', e.g. {', '.join(map(str, foreign[:SHOWN]))}; the class folders mirror manifest.csv: "
            "move those files elsewhere"
        )
    kinds = set()
    for name in sorted(folders):
        for entry in stale[name]:
            entry.unlink()
            kinds.add("stale links removed")
        if name in wanted:
            kinds |= _link_missing(out / name, wanted[name])
        elif not any((out / name).iterdir()):
            (out / name).rmdir()
    return kinds


def _stale_entries(folder: Path, wanted: dict[str, str]) -> list[Path]:
    if not folder.is_dir():
        return []
    return [Path(entry.path) for entry in os.scandir(folder) if entry.name not in wanted]


def _made_by_organize(entry: Path, images_dir: Path) -> bool:
    unfinished_copy = entry.name.startswith(".") and entry.name.endswith(".partial")
    return entry.is_symlink() or unfinished_copy or _is_link_or_copy(entry, images_dir / entry.name)


def _is_link_or_copy(entry: Path, source: Path) -> bool:
    """A hard or symbolic link to ``source``, or a copy of it (copy2 keeps size and time)."""
    try:
        if os.path.samefile(entry, source):
            return True
        mine, theirs = entry.lstat(), source.stat()
    except OSError:
        return False
    return stat.S_ISREG(mine.st_mode) and (mine.st_size, mine.st_mtime_ns) == (theirs.st_size, theirs.st_mtime_ns)


def _link_missing(folder: Path, images: dict[str, str]) -> set[str]:
    """Link each image into ``folder`` unless a current link or copy is there
    (one left from a replaced raw image is made again)."""
    folder.mkdir(parents=True, exist_ok=True)
    existing = {entry.name for entry in os.scandir(folder)}
    kinds = set()
    for name, source in images.items():
        target = folder / name
        if name in existing:
            if _is_link_or_copy(target, Path(source)):
                continue
            target.unlink()
            kinds.add("outdated links replaced")
        kinds.add(link_or_copy(Path(source), target))
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
    table = read_csv_strictly(path, "manifest", ManifestError, dtype={"path": str, "image": str, "patient_id": str})
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
        raise ManifestError(
            f"manifest '{path}' lists {len(names)} image(s) more than once, e.g. {', '.join(names[:SHOWN])}"
        )
    if "path" in table:
        base = path.parent.resolve()
        table["path"] = [p if os.path.isabs(p) else os.path.abspath(base / p) for p in table["path"]]
    return table


def _require_text(table: pd.DataFrame, column: str, path: Path) -> None:
    empty = table[column].isna() | table[column].str.strip().eq("")
    if empty.any():
        raise ManifestError(
            f"manifest '{path}': {int(empty.sum())} row(s) with no '{column}', e.g. on line {empty.idxmax() + 2}"
        )


def _binary_labels(labels: pd.Series, path: Path) -> pd.Series:
    numbers = pd.to_numeric(labels, errors="coerce")
    bad = ~numbers.isin([0, 1])
    if bad.any():
        raise ManifestError(
            f"manifest '{path}': labels must be 0 or 1; line {bad.idxmax() + 2} has {labels[bad.idxmax()]!r}"
        )
    return numbers.astype(int)


def fetch_nih_images(nih_dir: str, archives: str = "1", base_url: str | None = None, metadata: str | None = None,
                     show_progress: bool = True):
    """Download (or reuse) the chosen archives and extract them into ``<nih_dir>/images``; returns the
    metadata's source (the package's or the user's file, with its test list) and the images folder."""
    check_nih_inputs(archives, metadata or "")  # before any download
    source = metadata_source(metadata)
    step(describe(source))
    root = Path(nih_dir)
    archives_dir, images_dir = root / "archives", root / "images"
    selection = parse_selection(archives)
    download_all(remote_files(selection, base_url or None, with_metadata=False), archives_dir,
                 show_progress=show_progress)
    extract_all([archives_dir / f"images_{i:02d}.tar.gz" for i in selection], images_dir)
    return source, images_dir


def prepare_nih(
    nih_dir: str, archives: str = "1", base_url: str | None = None, metadata: str | None = None,
    positive: str = DEFAULT_FINDING, match: str = DEFAULT_MATCH, seed: int = 42, show_progress: bool = True,
) -> pd.DataFrame:
    """The whole NIH route: download (or reuse) the chosen archives, extract, organise and split.

    Every step skips what is already done, so a re-render reuses the downloaded,
    extracted and organised data. Returns the manifest (one row per image, with
    patient and split)."""
    source, images_dir = fetch_nih_images(nih_dir, archives, base_url, metadata, show_progress)
    task_dir = Path(nih_dir) / f"{positive}-{match}-archives{'-'.join(map(str, parse_selection(archives)))}"
    report = organize(source.metadata, images_dir, task_dir, positive=positive, match=match, seed=seed,
                      test_list=source.test_list)
    step(str(report))  # to the console, not into the report
    return pd.read_csv(report.manifest, dtype={"patient_id": str})
