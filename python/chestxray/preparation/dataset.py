"""One call from the report: images on disk -> split table + image cache.

``prepare_dataset`` is what the report's Python chunk runs; the R chunks then
hand the returned object to chestxray.model.batches.split_batches for Keras
batches of each split (this layer never imports Keras).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from chestxray import DEFAULT_FINDING
from chestxray.preparation.cache import build_cache, open_cache
from chestxray.preparation.images import load_grey
from chestxray.preparation.organize import prepare_nih
from chestxray.preparation.split import SPLITS, SplitError, TooFewPatientsError, patient_split, require_both_classes
from chestxray.sources.folders import PATIENT_FROM_METADATA, PATIENT_UNKNOWN, read_class_folders
from chestxray.sources.phantoms import write_demo_dataset
from chestxray.sources.preflight import check_demo_finding
from chestxray.support.atomic import atomic_path
from chestxray.support.console import progress_bar, step
from chestxray.support.files import sha256_of
from chestxray.support.integrity import DamagedFileError, announce_damage, read_checked_json, write_checked_json
from chestxray.support.report_params import allowed_values

SOURCES = allowed_values("data")  # the report's `data` parameter


@dataclass
class CachedSplits:
    """A split table (one row per image, ``cache_row`` into the cache) and the cache file: what
    both studies, binary and multi-label, hand to R."""

    table: pd.DataFrame
    cache_path: str
    seed: int

    @property
    def image_size(self) -> int:
        """Side in pixels of the cached images: what the model is built for (read from the cache itself)."""
        return int(open_cache(self.cache_path).shape[1])

    def part(self, split: str) -> pd.DataFrame:
        rows = self.table[self.table["split"] == split]
        if rows.empty:
            raise ValueError(f"unknown or empty split '{split}'")
        return rows

    def integrity(self) -> dict:
        """What the patient-wise split rests on, for the report and metrics.json: images whose
        patient is unknown (each counted as its own patient), and identical files (same
        SHA-256) found in more than one split."""
        unknown = self.table["patient_source"].eq(PATIENT_UNKNOWN) if "patient_source" in self.table else False
        return {
            "images_with_unknown_patient": int(np.sum(unknown)),
            "patient_sources": self.table.get("patient_source", pd.Series(dtype=str)).value_counts().to_dict(),
            "identical_images_across_splits": identical_across_splits(self.table),
        }


@dataclass
class PreparedData(CachedSplits):
    """The binary study's split table (a 0/1 ``label`` per image) and its cache."""

    unreadable: list = field(default_factory=list)  # (path, reason) of images left out
    eligible: dict = field(default_factory=dict)  # split -> {"images", "positives"} before the cap

    def labels(self, split: str) -> np.ndarray:
        return self.part(split)["label"].to_numpy()

    def with_permuted_labels(self, seed: int) -> PreparedData:
        """The same images with the labels permuted within each split: a negative control
        in which there is nothing to learn, so test AUROC should stay near 0.5."""
        table = self.table.copy()
        class_names = dict(zip(table["label"], table["class_name"]))
        rng = np.random.default_rng(seed)
        for rows in table.groupby("split").groups.values():
            table.loc[rows, "label"] = rng.permutation(table.loc[rows, "label"].to_numpy())
        table["class_name"] = table["label"].map(class_names)
        return replace(self, table=table)

    def counts(self) -> pd.DataFrame:
        """Images and patients per split and class, for the report's table."""
        grouped = self.table.groupby(["split", "class_name"])
        out = grouped.agg(images=("image", "size"), patients=("patient_id", "nunique")).reset_index()
        return out


HASH_MEMO = "content-sha256.json"  # under the cache folder: derived data, removed by make clean
CAPPED_SPLITS = ("train", "validation")


def cap_training_splits(table: pd.DataFrame, n_per_class: int, seed: int) -> pd.DataFrame:
    """At most ``n_per_class`` images of each class in train and in validation; the test
    split keeps every eligible image, so its prevalence is the data's, not 50 %."""
    parts = [sample_per_class(table[table["split"] == split], n_per_class, seed) if split in CAPPED_SPLITS
             else table[table["split"] == split] for split in SPLITS]
    return pd.concat(parts, ignore_index=True)


def eligible_counts(table: pd.DataFrame) -> dict:
    """Images and positives per split, before any cap."""
    return {split: {"images": int((table["split"] == split).sum()),
                    "positives": int(table.loc[table["split"] == split, "label"].sum())} for split in SPLITS}


def content_hashes(paths: list[str], workers: int = 8, memo_path: str | os.PathLike | None = None) -> list[str]:
    """SHA-256 of each file's bytes (threads: the work is reading files).

    With ``memo_path``, hashes of files whose path, byte size and modification time
    are unchanged are read back from that JSON file instead of re-reading the files
    (on the NIH data a re-render would otherwise read gigabytes); new ones are added.
    """
    memo = _read_hash_memo(memo_path) if memo_path else {}
    identities = [list(_file_identity(p)) for p in paths]
    todo = [i for i, (p, identity) in enumerate(zip(paths, identities)) if memo.get(p, [None])[:-1] != identity]
    fresh = {}
    with ThreadPoolExecutor(max_workers=workers) as pool, progress_bar(len(todo), "file", "SHA-256") as bar:
        for i, digest in zip(todo, pool.map(sha256_of, [paths[i] for i in todo])):
            fresh[paths[i]] = [*identities[i], digest]
            bar.update()
    memo.update(fresh)
    if memo_path:
        step(f"File hashes (SHA-256): {len(paths) - len(todo)} reused from {memo_path}, {len(todo)} computed")
        if fresh:  # merged with the file as it is now: another render may have added entries meanwhile
            _write_hash_memo({**_read_hash_memo(memo_path, quiet=True), **fresh}, Path(memo_path))
    return [memo[p][-1] for p in paths]


def _file_identity(path: str) -> tuple[int, int]:
    stat = os.stat(path)
    return stat.st_size, stat.st_mtime_ns


def _read_hash_memo(path: str | os.PathLike, quiet: bool = False) -> dict:
    """path -> [bytes, mtime_ns, sha256]; an absent or damaged memo (said on the console unless
    ``quiet``) is only a slower render: every hash is computed again and the memo rewritten."""
    try:
        return read_checked_json(path)
    except DamagedFileError as error:
        if not quiet:
            announce_damage(
                "the content-hash memo", {error.path: error.problem}, "computing every file's SHA-256 again"
            )
    except OSError:
        pass
    return {}


def _write_hash_memo(memo: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_checked_json(path, memo)


def identical_across_splits(table: pd.DataFrame) -> list[dict]:
    """Groups of images with identical content that sit in more than one split (a leak the
    patient identifiers cannot show: the same film filed under two names or two patients)."""
    # Only the shared digests are looped over: a loop over every digest costs seconds at NIH's scale.
    shared = table[table.groupby("content_sha256")["split"].transform("nunique") > 1]
    return [{"content_sha256": digest, "images": sorted(rows["image"]), "splits": sorted(set(rows["split"]))}
            for digest, rows in shared.groupby("content_sha256")]


def sample_per_class(table: pd.DataFrame, n_per_class: int, seed: int) -> pd.DataFrame:
    """At most ``n_per_class`` images of each class, drawn reproducibly."""
    parts = [
        group.sample(n=min(n_per_class, len(group)), random_state=seed) if len(group) > n_per_class else group
        for _, group in table.groupby("label")
    ]
    return pd.concat(parts).sort_values(["label", "image"], ascending=[False, True]).reset_index(drop=True)


# What each source can change when a split lacks a class (the split rule cannot know where its table came from).
MORE_PATIENTS = {
    "demo": "use more images per class (n_per_class): the demo makes one phantom patient per image",
    "folder": "add images of the missing class, from more patients, to the class folders",
    "nih": "use more archives (nih_archives) or a finding with more images",
}


@contextmanager
def advice_for_too_few_patients(source: str):
    try:
        yield
    except TooFewPatientsError as error:
        raise TooFewPatientsError(f"{error}; {MORE_PATIENTS[source]}") from None


def prepare_dataset(
    source: str,
    data_dir: str,
    n_per_class: int,
    image_size: int,
    seed: int,
    cache_dir: str = "data/cache",
    manifest_path: str | None = None,
    nih: dict | None = None,
    finding: str = DEFAULT_FINDING,
) -> PreparedData:
    """Generate (demo), read (folder) or fetch (nih) the images of ``finding`` and No
    Finding, split by patient, cap the training splits, build the cache.

    Every eligible image is split first; ``n_per_class`` then caps each class in
    train and validation only, so the test split keeps the data's prevalence.
    With ``nih``, ``data_dir`` is the NIH folder and ``nih`` holds prepare_nih's
    options (archives, base_url, metadata, match); its test split is NIH's official
    list (the package's, or a test_list.txt beside the given metadata).
    Demo phantoms show only a pneumothorax-like sign: another finding stops.
    """
    if source not in SOURCES:
        raise ValueError(f"data must be one of {', '.join(SOURCES)}; got '{source}'")
    with advice_for_too_few_patients(source):
        if source == "nih":
            table = prepare_nih(data_dir, seed=int(seed), positive=finding, **(nih or {}))
            table["patient_source"] = PATIENT_FROM_METADATA
        else:
            if source == "demo":
                check_demo_finding(finding)
                write_demo_dataset(data_dir, n_per_class=n_per_class, seed=seed)
            table = patient_split(read_class_folders(data_dir, positive=finding), int(seed))
    eligible = eligible_counts(table)
    table = cap_training_splits(table, int(n_per_class), int(seed))
    require_both_classes(table)
    prepared = prepare_table(table, image_size, seed, cache_dir, manifest_path)
    return replace(prepared, eligible=eligible)


def prepare_table(
    table: pd.DataFrame, image_size: int, seed: int, cache_dir: str = "data/cache", manifest_path: str | None = None
) -> PreparedData:
    """Cache a split table's images; rows whose image cannot be read are dropped (and logged).

    Paths become absolute first, so the manifest written here means the same from any folder.
    """
    table = table.reset_index(drop=True)
    table["path"] = [os.path.abspath(p) for p in table["path"]]
    table["cache_row"] = np.arange(len(table))
    cache = build_cache(table["path"].tolist(), int(image_size), cache_dir)
    step(
        f"Image cache: {int(cache.valid.sum())} images at {int(image_size)} px in {cache.path}"
        + (f"; {len(cache.failed)} unreadable image(s) left out (listed in the warnings above)" if cache.failed else "")
    )
    classes_before = table.groupby("split")["label"].agg(set)
    table = table[cache.valid].reset_index(drop=True)
    table["content_sha256"] = content_hashes(table["path"].tolist(), memo_path=Path(cache_dir) / HASH_MEMO)
    classes_after = table.groupby("split")["label"].agg(set).reindex(classes_before.index)
    for split, before in classes_before.items():
        after = classes_after[split] if isinstance(classes_after[split], set) else set()
        if after != before:
            raise SplitError(
                f"after leaving out {len(cache.failed)} unreadable image(s) the {split} split lacks a class"
            )
    if manifest_path:
        _write_csv(table, Path(manifest_path))
    step("Split by patient: " + split_summary(table))
    return PreparedData(table, str(cache.path), int(seed), cache.failed)


def split_summary(table: pd.DataFrame) -> str:
    """'train 560 images (41 positive, 390 patients), ...' in the order train, validation, test."""
    parts = []
    for split in SPLITS:
        rows = table[table["split"] == split]
        parts.append(f"{split} {len(rows)} images ({int(rows['label'].sum())} positive, "
                     f"{rows['patient_id'].nunique()} patients)")
    return "; ".join(parts)


def _write_csv(table: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        table.to_csv(tmp, index=False)


def example_pixels(table: pd.DataFrame, per_class: int = 3, size: int = 128, seed: int = 0) -> pd.DataFrame:
    """Long table (image, class_name, x, y, value) of a few images per class, for a ggplot2 grid."""
    frames = []
    for class_name, group in table.groupby("class_name", sort=False):
        for _, row in group.sample(n=min(per_class, len(group)), random_state=seed).iterrows():
            pixels = load_grey(row["path"], size)
            y, x = np.mgrid[0:size, 0:size]
            frames.append(
                pd.DataFrame(
                    {
                        "image": row["image"],
                        "class_name": class_name,
                        "x": x.ravel(),
                        "y": size - 1 - y.ravel(),
                        "value": pixels.ravel(),
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)
