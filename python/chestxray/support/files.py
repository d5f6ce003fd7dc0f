"""Reading the project's input files: CSVs read strictly (one file's problem is a named
error about that file), and files' SHA-256."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pandas as pd


def read_csv_strictly(path: Path, what: str, error: type[Exception], **read_options) -> pd.DataFrame:
    """``pd.read_csv(path)``, or ``error`` naming ``what`` ('metadata file', 'manifest', ...) and
    the file when it is empty, cannot be parsed, or has rows wider than its header (pandas
    would silently shift every column into an index)."""
    try:
        table = pd.read_csv(path, **read_options)
    except pd.errors.EmptyDataError as cause:
        raise error(f"{what} '{path}' is empty") from cause
    except Exception as cause:  # noqa: BLE001 - any parser or decompression failure is this file's
        raise error(f"cannot parse {what} '{path}' as CSV: {type(cause).__name__}: {cause}") from cause
    if not isinstance(table.index, pd.RangeIndex):
        raise error(f"{what} '{path}' has rows with more fields than its header")
    return table


BLOCK_BYTES = 1 << 20  # file content is read and copied 1 MiB at a time


def sha256_of(path: str | os.PathLike) -> str:
    """SHA-256 of a file's bytes, read BLOCK_BYTES at a time."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(BLOCK_BYTES), b""):
            digest.update(block)
    return digest.hexdigest()
