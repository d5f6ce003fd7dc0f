"""Files the project writes and later reads back are checked before they are trusted.

A file damaged from outside (truncated, bytes changed, its check deleted) must be
noticed and rebuilt, never read as if whole. Two forms, one convention (SHA-256,
written through ``atomic_path`` after the data it checks):

- a *checked JSON* file carries the SHA-256 of its own content (download
  verification records, the content-hash memo, a manifest);
- a *manifest* records the size and SHA-256 of other files of a folder (an image
  cache, the stored results R writes).

From R (reticulate)::

    integrity <- reticulate::import("chestxray.support.integrity")
    integrity$write_manifest(folder, c("training.rds", "evaluation.rds"))  # after writing them
    problems <- integrity$damaged_files(folder)  # named list: file -> what is wrong; empty when whole
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from chestxray.support.atomic import atomic_path
from chestxray.support.console import step
from chestxray.support.files import sha256_of

MANIFEST = "manifest.json"

# Checked JSON is laid out as {"sha256":"<64 hex digits>","content":<content>}: the digest covers the
# content's exact bytes, so a change to any byte of it is seen, and the file stays plain JSON.
_BEFORE_DIGEST = b'{"sha256":"'
_BEFORE_CONTENT = b'","content":'
_CONTENT_START = len(_BEFORE_DIGEST) + 64 + len(_BEFORE_CONTENT)


class DamagedFileError(ValueError):
    """A file the project wrote is not as it was written: truncated, changed, or without its check."""

    def __init__(self, path: str | os.PathLike, problem: str):
        super().__init__(f"'{path}' is damaged: {problem}")
        self.path, self.problem = str(path), problem


def write_checked_json(path: str | os.PathLike, content: Any) -> None:
    """Write ``content`` as JSON carrying the SHA-256 of its own bytes (atomically: a partial file
    never carries the final name)."""
    body = json.dumps(content).encode()
    with atomic_path(path) as tmp:
        tmp.write_bytes(_BEFORE_DIGEST + hashlib.sha256(body).hexdigest().encode() + _BEFORE_CONTENT + body + b"}")


def read_checked_json(path: str | os.PathLike) -> Any:
    """The content written by ``write_checked_json``; FileNotFoundError when the file is absent,
    DamagedFileError when it is not exactly as written."""
    data = Path(path).read_bytes()
    laid_out = (
        data.startswith(_BEFORE_DIGEST)
        and data[_CONTENT_START - len(_BEFORE_CONTENT) : _CONTENT_START] == _BEFORE_CONTENT
        and data.endswith(b"}")
    )
    if not laid_out:
        raise DamagedFileError(path, "it does not carry the SHA-256 of its content "
                                     "(truncated, changed, or written by an older version)")
    body = data[_CONTENT_START:-1]
    if hashlib.sha256(body).hexdigest().encode() != data[len(_BEFORE_DIGEST):len(_BEFORE_DIGEST) + 64]:
        raise DamagedFileError(path, "its content does not match the SHA-256 it carries (truncated or changed)")
    return json.loads(body)


def write_manifest(folder: str | os.PathLike, names: list[str], manifest: str = MANIFEST) -> str:
    """Record the byte size and SHA-256 of each named file of ``folder`` in ``folder/manifest``
    (checked JSON). Call it last, once those files are complete; returns the manifest's path."""
    folder = Path(folder)
    names = [names] if isinstance(names, str) else list(names)  # R's c("one") arrives as a string
    files = {name: {"bytes": (folder / name).stat().st_size, "sha256": sha256_of(folder / name)} for name in names}
    write_checked_json(folder / manifest, {"files": files})
    return str(folder / manifest)


def damaged_files(folder: str | os.PathLike, manifest: str = MANIFEST) -> dict[str, str]:
    """What is wrong with the files ``folder/manifest`` lists: name -> problem ('missing',
    'truncated or extended: ...', 'changed: ...'); empty when every file is as recorded. A missing
    or damaged manifest is itself named (nothing it lists can be trusted then)."""
    folder = Path(folder)
    try:
        files = read_checked_json(folder / manifest)["files"]
    except FileNotFoundError:
        return {manifest: "missing"}
    except DamagedFileError as error:
        return {manifest: error.problem}
    problems = {}
    for name, recorded in files.items():
        problem = _file_problem(folder / name, recorded)
        if problem:
            problems[name] = problem
    return problems


def _file_problem(path: Path, recorded: dict) -> str | None:
    """Size first (a truncated file is told without reading it), then the SHA-256 of its bytes."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return "missing"
    if size != recorded["bytes"]:
        return f"truncated or extended: {size} bytes, {recorded['bytes']} when written"
    if sha256_of(path) != recorded["sha256"]:
        return "changed: its bytes differ from those written (SHA-256 mismatch)"
    return None


def damage_message(what: str, problems: dict[str, str], action: str) -> str:
    """One console line naming each damaged file, what is wrong with it and what is done about it."""
    listed = "; ".join(f"'{name}': {problem}" for name, problem in problems.items())
    return f"warning: {what} is damaged ({listed}): {action}"


def announce_damage(what: str, problems: dict[str, str], action: str) -> None:
    step(damage_message(what, problems, action))
