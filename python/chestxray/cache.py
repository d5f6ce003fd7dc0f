"""Decode and resize images once into a uint8 array on disk (memory-mapped).

Training then streams batches from the cache instead of decoding PNGs every
epoch or holding the dataset in memory.
"""

from __future__ import annotations

import hashlib
import json
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from .images import load_grey


def cache_key(paths: list[str], size: int) -> str:
    """Short hash of the ordered file list and size: a changed manifest gets a new cache."""
    digest = hashlib.sha256(json.dumps([size, [str(p) for p in paths]]).encode())
    return digest.hexdigest()[:16]


def _load_chunk(args: tuple[list[str], int]) -> np.ndarray:
    paths, size = args
    return np.stack([load_grey(p, size) for p in paths])


def build_cache(paths: list[str], size: int, cache_dir: str | os.PathLike, workers: int | None = None) -> Path:
    """Write ``<cache_dir>/<size>/<key>.npy`` (n, size, size) uint8 unless it exists; return its path.

    Decoding runs on all cores; the array is written under a temporary name and
    renamed when complete, so an interrupted run never leaves a usable-looking
    half cache.
    """
    target = Path(cache_dir) / str(size) / f"{cache_key(paths, size)}.npy"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.partial")
    array = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8, shape=(len(paths), size, size))
    chunk = 64
    jobs = [(paths[i : i + chunk], size) for i in range(0, len(paths), chunk)]
    workers = workers or os.cpu_count() or 1
    if workers > 1 and len(jobs) > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for i, block in enumerate(pool.map(_load_chunk, jobs)):
                array[i * chunk : i * chunk + len(block)] = block
    else:
        for i, job in enumerate(jobs):
            array[i * chunk : (i + 1) * chunk] = _load_chunk(job)
    array.flush()
    del array
    os.replace(tmp, target)
    return target


def open_cache(path: str | os.PathLike) -> np.ndarray:
    """The cache as a read-only memory map."""
    return np.load(path, mmap_mode="r")
