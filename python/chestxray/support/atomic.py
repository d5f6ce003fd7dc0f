"""Write files so that a partial one never carries its final name."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a hidden ``.<name>.<pid>.partial`` sibling to write; rename it onto
    ``path`` only when the block finishes without an error, and remove it when it
    fails (nothing half-written is left behind). The process id keeps two
    processes writing the same file from writing into one temporary file."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        yield tmp
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)
