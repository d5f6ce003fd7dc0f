"""Safe, idempotent extraction of the NIH archives into one images folder.

Only regular files are written, each under the images folder by its base name;
members with absolute paths, '..' components, links or device nodes are
rejected by name before anything of theirs is written. An archive that was
fully extracted is recorded and skipped on re-runs.
"""

from __future__ import annotations

import json
import tarfile
from pathlib import Path, PurePosixPath

from .atomic import atomic_path

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


class UnsafeArchiveError(ValueError):
    """An archive member that would escape the target or is not a plain file."""


def check_member(member: tarfile.TarInfo) -> None:
    path = PurePosixPath(member.name)
    if path.is_absolute() or member.name.startswith(("/", "\\")):
        raise UnsafeArchiveError(f"absolute path in archive: '{member.name}'")
    if ".." in path.parts:
        raise UnsafeArchiveError(f"path escaping the target in archive: '{member.name}'")
    if member.issym() or member.islnk():
        raise UnsafeArchiveError(f"link in archive: '{member.name}' -> '{member.linkname}'")
    if not (member.isfile() or member.isdir()):
        raise UnsafeArchiveError(f"device, FIFO or other special member in archive: '{member.name}'")


def _marker(images_dir: Path, archive: Path) -> Path:
    return images_dir / f".extracted-{archive.name}.json"


def extract_archive(archive: str | Path, images_dir: str | Path) -> int:
    """Extract the images of one tar.gz into ``images_dir``; return how many it holds."""
    archive, images_dir = Path(archive), Path(images_dir)
    images_dir.mkdir(parents=True, exist_ok=True)
    marker = _marker(images_dir, archive)
    if marker.exists():
        return json.loads(marker.read_text())["images"]
    count = 0
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar:
            check_member(member)
            if not member.isfile() or not member.name.lower().endswith(IMAGE_SUFFIXES):
                continue
            target = images_dir / PurePosixPath(member.name).name
            count += 1
            if target.exists() and target.stat().st_size == member.size:
                continue
            with atomic_path(target) as tmp, tar.extractfile(member) as source, open(tmp, "wb") as out:
                while chunk := source.read(1 << 20):
                    out.write(chunk)
    with atomic_path(marker) as tmp:
        tmp.write_text(json.dumps({"archive": archive.name, "images": count}))
    return count


def extract_all(archives: list[Path], images_dir: str | Path) -> dict[str, int]:
    """Extract each archive in turn; image count per archive."""
    return {Path(a).name: extract_archive(a, images_dir) for a in sorted(archives)}
