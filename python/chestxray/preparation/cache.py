"""Decode and resize images once into a uint8 ``.npy`` file on disk.

Training then streams batches from the cache instead of decoding PNGs every
epoch or holding the dataset in memory. Writing and reading use plain file
I/O at row offsets (not a memory map), so the process's memory does not grow
with the number of images. Building uses every core, resumes after an
interruption, and logs unreadable images (path and reason) instead of
replacing them: their rows are marked invalid and left out downstream.

A cache file is named by a hash of the decoder version, the size and every
file's path, byte size and modification time, so a replaced or repaired image
is decoded again. Builds of one cache file take turns under a lock file.

A finished cache is recorded last in ``<key>.manifest.json`` (size and SHA-256 of
its files, chestxray.support.integrity); each open checks the files against it,
and a cache found truncated, changed or without its manifest is named on the
console and built again, never read as if whole.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from filelock import FileLock, Timeout

from chestxray.preparation.images import DECODER_VERSION, ImageReadError, check_image_size, load_grey
from chestxray.support.atomic import atomic_path
from chestxray.support.console import progress_bar
from chestxray.support.integrity import (
    DamagedFileError,
    announce_damage,
    damaged_files,
    read_checked_json,
    write_checked_json,
    write_manifest,
)

log = logging.getLogger(__name__)
IMAGES_PER_JOB = 32  # images decoded per worker task: small enough to resume near where a build stopped


def cache_key(paths: list[str], size: int) -> str:
    """Short hash of the decoder version, the size and each file's path, byte size and
    modification time: a changed manifest, a replaced or repaired image, or a new
    decoder gets a new cache instead of old pixels (or old failures)."""
    files = [[str(p), *_identity(p)] for p in paths]
    digest = hashlib.sha256(json.dumps([DECODER_VERSION, size, files]).encode())
    return digest.hexdigest()[:16]


def _identity(path: str) -> tuple[int, int]:
    """(bytes, mtime in ns) of a file; (-1, -1) for one that cannot be found."""
    try:
        stat = os.stat(path)
    except (OSError, ValueError):  # ValueError: a NUL byte in the path
        return -1, -1
    return stat.st_size, stat.st_mtime_ns


class CacheBuildError(RuntimeError):
    """Building the cache stopped for a reason outside any one image."""


class NoUsableImagesError(ValueError):
    """Not one image of the list could be decoded."""


@dataclass
class Cache:
    """A finished cache: the array file and which rows hold a decoded image."""

    path: Path
    valid: np.ndarray  # bool per row
    failed: list[tuple[str, str]]  # (image path, reason)

    @property
    def failed_csv(self) -> Path:
        return failed_csv_path(self.path)


def failed_csv_path(target: Path) -> Path:
    return target.with_suffix(".failed.csv")


def require_usable(cache: Cache) -> None:
    """Raise NoUsableImagesError, with the first reasons, when no row could be decoded."""
    if not cache.valid.any():
        reasons = "; ".join(reason for _, reason in cache.failed[:3])
        raise NoUsableImagesError(f"none of the {len(cache.valid)} images could be read, e.g. {reasons}"
                                  if len(cache.valid) else "the image list is empty")


def _header(path: Path, shape: tuple[int, ...]) -> int:
    """Write an .npy header for a uint8 array of ``shape``; return the data offset."""
    with open(path, "r+b" if path.exists() else "wb") as f:
        np.lib.format.write_array_header_1_0(f, {"descr": "|u1", "fortran_order": False, "shape": shape})
        return f.tell()


def _decode_chunk(job: tuple[int, list[str], int]) -> tuple[int, np.ndarray, list[tuple[int, str]]]:
    start, paths, size = job
    block = np.zeros((len(paths), size, size), dtype=np.uint8)
    errors = []
    for i, path in enumerate(paths):
        try:
            block[i] = load_grey(path, size)
        except ImageReadError as error:
            errors.append((start + i, str(error)))
    return start, block, errors


def _exit_with_parent() -> None:
    """Worker initializer: end the worker once the process that started it is gone
    (killed by SIGTERM or SIGKILL), instead of waiting forever for more work."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


@contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``lock_path``: one build per cache file at a time, on any
    system (filelock: flock on POSIX, msvcrt on Windows)."""
    lock = FileLock(lock_path)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        log.warning("another process is building this cache (%s); waiting for it", lock_path.parent)
        lock.acquire()
    try:
        yield
    finally:
        lock.release()


def build_cache(paths: list[str], size: int, cache_dir: str | os.PathLike, workers: int | None = None) -> Cache:
    """Decode ``paths`` at ``size`` into ``<cache_dir>/<size>/<key>.npy`` unless done; return the Cache.

    Progress is recorded per chunk next to a ``.partial`` file, so an
    interrupted build continues where it stopped. Concurrent builds of the same
    cache take turns: the second waits and then reuses the finished file.
    """
    size = check_image_size(size)
    folder = Path(cache_dir) / str(size)
    key = cache_key(paths, size)
    target, status_file = folder / f"{key}.npy", folder / f"{key}.status.json"
    if not _damage(folder, key):
        return _load_status(target, status_file, paths)
    folder.mkdir(parents=True, exist_ok=True)
    with _exclusive(folder / f".{key}.lock"):
        damage = _damage(folder, key)  # checked again: another process may have built it while we waited
        if damage:
            if _started(folder, key):
                announce_damage(f"image cache '{target}'", damage, "building it again")
            (folder / _manifest_name(key)).unlink(missing_ok=True)  # no stale record over the new files
            _build(paths, size, folder, key, workers or os.cpu_count() or 1)
    return _load_status(target, status_file, paths)


def _manifest_name(key: str) -> str:
    return f"{key}.manifest.json"


def _cache_files(key: str) -> list[str]:
    return [f"{key}.npy", f"{key}.status.json", f"{key}.failed.csv"]


def _damage(folder: Path, key: str) -> dict[str, str]:
    """What is wrong with a cache's files (empty when whole): reads every byte of the
    cache once, the price of never training on a damaged one."""
    return damaged_files(folder, _manifest_name(key))


def _started(folder: Path, key: str) -> bool:
    """Any file of a finished cache is there (otherwise there is nothing to call damaged)."""
    return any((folder / name).exists() for name in [*_cache_files(key), _manifest_name(key)])


def _build(paths: list[str], size: int, folder: Path, key: str, workers: int) -> None:
    target, status_file = folder / f"{key}.npy", folder / f"{key}.status.json"
    partial, progress_file = folder / f".{key}.npy.partial", folder / f".{key}.progress.json"
    progress = _read_progress(progress_file) if partial.exists() else {"done": [], "errors": []}
    offset = _header(partial, (len(paths), size, size))
    row_bytes = size * size
    done = set(progress["done"])
    jobs = [(s, paths[s : s + IMAGES_PER_JOB], size) for s in range(0, len(paths), IMAGES_PER_JOB) if s not in done]
    left = sum(len(job[1]) for job in jobs)
    with (
        open(partial, "r+b") as out,
        progress_bar(len(paths), "image", f"Decoding at {size} px", len(paths) - left) as bar,
    ):
        out.truncate(offset + len(paths) * row_bytes)

        def store(results) -> None:
            for start, block, errors in results:
                bar.update(len(block))
                out.seek(offset + start * row_bytes)
                out.write(block.tobytes())
                for _, reason in errors:
                    log.warning("skipped unreadable image: %s", reason)
                progress["errors"] += errors
                progress["done"].append(start)
                if len(progress["done"]) % 16 == 0:
                    out.flush()
                    write_checked_json(progress_file, progress)

        if workers > 1 and len(jobs) > 1:
            _decode_in_pool(jobs, workers, store)
        else:
            store(map(_decode_chunk, jobs))
    failed = [(paths[row], reason) for row, reason in progress["errors"]]
    write_failed(failed, failed_csv_path(target))
    write_checked_json(
        status_file, {"rows": len(paths), "size": size, "invalid": [[r, m] for r, m in progress["errors"]]}
    )
    os.replace(partial, target)
    write_manifest(folder, _cache_files(key), _manifest_name(key))  # last: the cache is whole from here on
    progress_file.unlink(missing_ok=True)


def _read_progress(progress_file: Path) -> dict:
    """Chunks already decoded into the ``.partial`` file; none when the record is absent or damaged."""
    try:
        return read_checked_json(progress_file)
    except FileNotFoundError:
        pass
    except DamagedFileError as error:
        announce_damage("the progress record of an interrupted cache build", {str(progress_file): error.problem},
                        "decoding every image again")
    return {"done": [], "errors": []}


def _decode_in_pool(jobs: list, workers: int, store) -> None:
    """Decode ``jobs`` in worker processes; on any interruption drop the queued
    chunks at once rather than decoding them all before stopping."""
    pool = ProcessPoolExecutor(max_workers=workers, initializer=_exit_with_parent)
    try:
        store(pool.map(_decode_chunk, jobs))
    except BaseException as error:
        pool.shutdown(wait=False, cancel_futures=True)
        if isinstance(error, BrokenProcessPool):
            raise CacheBuildError(f"a decoding process died ({error}), perhaps for lack of memory: "
                                  "re-run with fewer --workers to resume") from error
        raise
    pool.shutdown()


def _load_status(target: Path, status_file: Path, paths: list[str]) -> Cache:
    status = read_checked_json(status_file)
    valid = np.ones(status["rows"], dtype=bool)
    failed = []
    for row, reason in status["invalid"]:
        valid[row] = False
        failed.append((paths[row], reason))
    return Cache(target, valid, failed)


def write_failed(failed: list[tuple[str, str]], path: str | Path) -> None:
    """CSV of the images that could not be decoded (path, reason); written with the
    cache, under its lock, since the list belongs to that cache file."""
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["path", "reason"])
        writer.writerows(failed)


class CacheReader:
    """Rows of a cache file read with ``os.pread``: memory holds one batch, not the file."""

    def __init__(self, path: str | os.PathLike):
        self.path = str(path)
        with open(self.path, "rb") as f:
            version = np.lib.format.read_magic(f)
            read_header = (
                np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            )
            shape, _, _ = read_header(f)
            self.offset = f.tell()
        self.shape = shape
        self.row_bytes = int(np.prod(shape[1:]))
        expected = self.offset + shape[0] * self.row_bytes
        if os.path.getsize(self.path) != expected:  # cheap: rows past a truncation would read as empty bytes
            raise DamagedFileError(self.path, f"{os.path.getsize(self.path)} bytes where its header "
                                              f"promises {expected}; build the cache again")
        self._fd = None

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, rows) -> np.ndarray:
        rows = np.atleast_1d(np.asarray(rows, dtype=np.int64))
        if self._fd is None:  # opened lazily so the reader can be pickled to workers
            self._fd = os.open(self.path, os.O_RDONLY)
        out = np.empty((len(rows), *self.shape[1:]), dtype=np.uint8)
        for i, row in enumerate(rows):
            out[i] = np.frombuffer(
                os.pread(self._fd, self.row_bytes, self.offset + int(row) * self.row_bytes), dtype=np.uint8
            ).reshape(self.shape[1:])
        return out

    def __getstate__(self):
        return {**self.__dict__, "_fd": None}

    def __del__(self):
        if getattr(self, "_fd", None) is not None:
            os.close(self._fd)


def open_cache(path: str | os.PathLike) -> CacheReader:
    return CacheReader(path)
