"""Keys for stored results: a short hash of everything a result depends on.

R/results_store.R decides what goes into a key (parameters, data, code,
versions); this module turns those inputs into digests that are the same in
any process, on any machine, whatever the order of a dict's entries.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
from importlib import metadata
from pathlib import Path

import pandas as pd

KEY_LENGTH = 16  # hex digits: 64 bits, ample for the results of one project


def key_of(inputs) -> str:
    """Short SHA-256 of ``inputs`` (JSON-like values) written as canonical JSON."""
    text = json.dumps(inputs, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:KEY_LENGTH]


def table_digest(table: pd.DataFrame, columns: list[str]) -> str:
    """SHA-256 of ``columns`` of a table, row by row in its order (the order is the
    cache's row order and the batches'; reordering rows changes the training)."""
    columns = [columns] if isinstance(columns, str) else list(columns)
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise KeyError(f"the table lacks column(s) {', '.join(missing)}")
    text = table[columns].astype(str).to_csv(index=False, lineterminator="\n")
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def data_digest(prepared, columns: list[str]) -> str:
    """table_digest of a PreparedData's split table (called from R, where the
    table itself would come back converted)."""
    return table_digest(prepared.table, columns)


def source_digests(root: str | os.PathLike, files: list[str]) -> dict[str, str]:
    """SHA-256 of each source file's text, by its path under ``root``. Line endings
    are normalised, so a Windows checkout gives the same key; a missing file is an error."""
    files = [files] if isinstance(files, str) else list(files)
    digests = {}
    for name in files:
        text = (Path(root) / name).read_bytes().replace(b"\r\n", b"\n")
        digests[name] = hashlib.sha256(text).hexdigest()
    return digests


def library_versions() -> dict[str, str]:
    """Versions of the libraries whose numbers a trained model depends on: Keras, its
    backend (kernels, initialisers), NumPy (augmentation) and scikit-learn (the
    validation AUROC that picks the evaluated epoch)."""
    from chestxray.model.backend import import_keras

    keras = import_keras()
    backend = keras.backend.backend()
    return {
        "keras": keras.__version__,
        "backend": f"{backend} {getattr(importlib.import_module(backend), '__version__', 'unknown')}",
        "numpy": metadata.version("numpy"),
        "scikit-learn": metadata.version("scikit-learn"),
    }
