"""Keys for stored results: a short hash of everything a result depends on.

R/run/results_store.R decides what goes into a key (parameters, data, code,
versions); this module turns those inputs into digests that are the same in
any process, on any machine, whatever the order of a dict's entries.
"""

from __future__ import annotations

import ast
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


def module_files(modules: list[str], root: str | os.PathLike = ".") -> list[str]:
    """The files of the chestxray ``modules``, of every chestxray module they import in turn (at
    the top or inside a function) and of their packages' ``__init__.py``: paths under the project
    ``root``, sorted, with each module's own table (a file of the same name, .yml or .csv, beside it:
    transfer_models.yml, findings.csv), whose rows are code as much as its lines. What a key's code is
    derived from, so a module training starts to use enters it by itself."""
    modules = [modules] if isinstance(modules, str) else list(modules)
    package_root = Path(root) / "python"
    missing = [name for name in modules if _module_file(package_root, name) is None]
    if missing:
        raise ValueError(f"no such module in {package_root}: {', '.join(missing)}")
    seen: set[Path] = set()
    todo = list(modules)
    while todo:
        path = _module_file(package_root, todo.pop())
        if path is None or path in seen:  # a name imported from a module, not a module
            continue
        seen.add(path)
        todo += _chestxray_imports(path)
        # Importing a module runs its packages' __init__.py first.
        todo += [".".join(parent.relative_to(package_root).parts)
                 for parent in path.parents if parent != path.parent or path.name != "__init__.py"
                 if parent.is_relative_to(package_root / "chestxray")]
    tables = {table for path in seen for table in (path.with_suffix(".yml"), path.with_suffix(".csv"))
              if table.is_file()}
    return sorted(path.relative_to(root).as_posix() for path in seen | tables)


def _module_file(package_root: Path, name: str) -> Path | None:
    parts = name.split(".")
    if parts[0] != "chestxray" or not all(part.isidentifier() for part in parts):
        return None
    base = package_root.joinpath(*parts)
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def _chestxray_imports(path: Path) -> list[str]:
    """chestxray names a file imports (modules, or names inside them: the caller tells which)."""
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "chestxray":
            names += [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names += [alias.name for alias in node.names if alias.name.split(".")[0] == "chestxray"]
    return names


# The libraries, besides Keras and its backend, whose arithmetic reaches a trained model's numbers: NumPy
# (batches), SciPy (augmentation's ndimage), Pillow (decoding and resizing into the cache), scikit-learn (the
# validation AUROC that picks the evaluated epoch). A test holds this against what the training code imports.
NUMERIC_LIBRARIES = ("numpy", "scipy", "pillow", "scikit-learn")


def library_versions() -> dict[str, str]:
    """Versions of the libraries whose numbers a trained model depends on: Keras, its
    backend (kernels, initialisers) and NUMERIC_LIBRARIES."""
    from chestxray.model.backend import import_keras

    keras = import_keras()
    backend = keras.backend.backend()
    return {
        "keras": keras.__version__,
        "backend": f"{backend} {getattr(importlib.import_module(backend), '__version__', 'unknown')}",
        **{name: metadata.version(name) for name in NUMERIC_LIBRARIES},
    }
