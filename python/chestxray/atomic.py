"""Write files so that a partial one never carries its final name."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a hidden ``.<name>.partial`` sibling to write; rename it onto ``path``
    only when the block finishes without an error."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.partial")
    yield tmp
    os.replace(tmp, path)
