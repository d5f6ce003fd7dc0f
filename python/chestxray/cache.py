"""Decode and resize images once into a uint8 ``.npy`` file on disk.

Training then streams batches from the cache instead of decoding PNGs every
epoch or holding the dataset in memory. Writing and reading use plain file
I/O at row offsets (not a memory map), so the process's memory does not grow
with the number of images. Building uses every core, resumes after an
interruption, and logs unreadable images (path and reason) instead of
replacing them: their rows are marked invalid and left out downstream.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .atomic import atomic_path
from .images import ImageReadError, load_grey

log = logging.getLogger(__name__)
CHUNK = 32


def cache_key(paths: list[str], size: int) -> str:
    """Short hash of the ordered file list and size: a changed manifest gets a new cache."""
    digest = hashlib.sha256(json.dumps([size, [str(p) for p in paths]]).encode())
    return digest.hexdigest()[:16]


@dataclass
class Cache:
    """A finished cache: the array file and which rows hold a decoded image."""

    path: Path
    valid: np.ndarray  # bool per row
    failed: list[tuple[str, str]]  # (image path, reason)

    @property
    def size(self) -> int:
        return int(np.load(self.path, mmap_mode="r").shape[1])


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


def build_cache(paths: list[str], size: int, cache_dir: str | os.PathLike, workers: int | None = None) -> Cache:
    """Decode ``paths`` at ``size`` into ``<cache_dir>/<size>/<key>.npy`` unless done; return the Cache.

    Progress is recorded per chunk next to a ``.partial`` file, so an
    interrupted build continues where it stopped.
    """
    folder = Path(cache_dir) / str(size)
    key = cache_key(paths, size)
    target, status_file = folder / f"{key}.npy", folder / f"{key}.status.json"
    if target.exists() and status_file.exists():
        return _load_status(target, status_file, paths)
    folder.mkdir(parents=True, exist_ok=True)
    partial, progress_file = folder / f".{key}.npy.partial", folder / f".{key}.progress.json"
    progress = json.loads(progress_file.read_text()) if partial.exists() and progress_file.exists() else {"done": [], "errors": []}
    offset = _header(partial, (len(paths), size, size))
    row_bytes = size * size
    done = set(progress["done"])
    jobs = [(s, paths[s : s + CHUNK], size) for s in range(0, len(paths), CHUNK) if s not in done]
    workers = workers or os.cpu_count() or 1
    with open(partial, "r+b") as out:
        out.truncate(offset + len(paths) * row_bytes)

        def store(results) -> None:
            for start, block, errors in results:
                out.seek(offset + start * row_bytes)
                out.write(block.tobytes())
                for _, reason in errors:
                    log.warning("skipped unreadable image: %s", reason)
                progress["errors"] += errors
                progress["done"].append(start)
                if len(progress["done"]) % 16 == 0:
                    out.flush()
                    _write_json(progress_file, progress)

        if workers > 1 and len(jobs) > 1:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                store(pool.map(_decode_chunk, jobs))
        else:
            store(map(_decode_chunk, jobs))
    valid = np.ones(len(paths), dtype=bool)
    for row, _ in progress["errors"]:
        valid[row] = False
    _write_json(status_file, {"rows": len(paths), "size": size, "invalid": [[r, m] for r, m in progress["errors"]]})
    os.replace(partial, target)
    progress_file.unlink(missing_ok=True)
    return _load_status(target, status_file, paths)


def _load_status(target: Path, status_file: Path, paths: list[str]) -> Cache:
    status = json.loads(status_file.read_text())
    valid = np.ones(status["rows"], dtype=bool)
    failed = []
    for row, reason in status["invalid"]:
        valid[row] = False
        failed.append((paths[row], reason))
    return Cache(target, valid, failed)


def _write_json(path: Path, value) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(value))


def write_failed(cache: Cache, path: str | Path) -> None:
    """CSV of the images that could not be decoded (path, reason)."""
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["path", "reason"])
        writer.writerows(cache.failed)


class CacheReader:
    """Rows of a cache file read with ``os.pread``: memory holds one batch, not the file."""

    def __init__(self, path: str | os.PathLike):
        self.path = str(path)
        with open(self.path, "rb") as f:
            version = np.lib.format.read_magic(f)
            read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            shape, _, _ = read_header(f)
            self.offset = f.tell()
        self.shape = shape
        self.row_bytes = int(np.prod(shape[1:]))
        self._fd = None

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, rows) -> np.ndarray:
        rows = np.atleast_1d(np.asarray(rows, dtype=np.int64))
        if self._fd is None:  # opened lazily so the reader can be pickled to workers
            self._fd = os.open(self.path, os.O_RDONLY)
        out = np.empty((len(rows), *self.shape[1:]), dtype=np.uint8)
        for i, row in enumerate(rows):
            out[i] = np.frombuffer(os.pread(self._fd, self.row_bytes, self.offset + int(row) * self.row_bytes), dtype=np.uint8).reshape(self.shape[1:])
        return out

    def __getstate__(self):
        return {**self.__dict__, "_fd": None}

    def __del__(self):
        if getattr(self, "_fd", None) is not None:
            os.close(self._fd)


def open_cache(path: str | os.PathLike) -> CacheReader:
    return CacheReader(path)
