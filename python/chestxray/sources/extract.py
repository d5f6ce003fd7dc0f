"""Safe, idempotent extraction of the NIH archives into one images folder.

Only regular files are written, each under the images folder by its base name;
members with absolute paths (POSIX or Windows), '..' components (after '/' or
'\\'), links or device nodes are rejected by name before anything of theirs is
written, and so are two members that would land on the same image name. Each
image is written under a temporary name and renamed when complete, so a corrupt
or truncated archive stops with a named error and leaves only whole images. An
archive that was fully extracted is recorded and skipped on re-runs.
"""

from __future__ import annotations

import gzip
import json
import re
import shutil
import tarfile
import zlib
from pathlib import Path, PurePosixPath

from chestxray.sources.folders import has_image_suffix
from chestxray.support.atomic import atomic_path
from chestxray.support.console import progress_bar
from chestxray.support.files import BLOCK_BYTES

# What a damaged or non-gzip file raises while it is being read.
READ_ERRORS = (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile)
WINDOWS_DRIVE = re.compile(r"[A-Za-z]:")  # C:\x, C:/x and the drive-relative C:x


class UnsafeArchiveError(ValueError):
    """An archive member that would escape the target or is not a plain file."""


class CorruptArchiveError(ValueError):
    """An archive that is not a complete gzip/tar file."""


class NameClashError(ValueError):
    """Two members of one archive that would be written to the same image file."""


def check_member(member: tarfile.TarInfo) -> None:
    """Refuse a member that is not a plain file or folder, or whose name could point outside the target
    on any system: absolute (POSIX, Windows drive or UNC) or with a '..' component anywhere, with '/'
    or '\\' as separator (an archive made on Windows may use either). tarfile.data_filter (PEP 706) is
    not enough here: it accepts a '..' that stays inside, links inside, and backslashes as plain characters."""
    name = member.name
    if name.startswith(("/", "\\")) or WINDOWS_DRIVE.match(name):
        raise UnsafeArchiveError(f"absolute path in archive: '{name}'")
    if ".." in re.split(r"[/\\]", name):
        raise UnsafeArchiveError(f"path escaping the target in archive: '{name}'")
    if member.issym() or member.islnk():
        raise UnsafeArchiveError(f"link in archive: '{name}' -> '{member.linkname}'")
    if not (member.isfile() or member.isdir()):
        raise UnsafeArchiveError(f"device, FIFO or other special member in archive: '{name}'")


def _marker(images_dir: Path, archive: Path) -> Path:
    return images_dir / f".extracted-{archive.name}.json"


def _write_member(tar: tarfile.TarFile, member: tarfile.TarInfo, target: Path) -> None:
    with atomic_path(target) as tmp:
        try:
            with tar.extractfile(member) as source, open(tmp, "wb") as out:
                shutil.copyfileobj(source, out, BLOCK_BYTES)
        except BaseException:
            tmp.unlink(missing_ok=True)  # a truncated member must not stay among the images
            raise


def _extract_images(archive: Path, images_dir: Path) -> int:
    written: dict[str, str] = {}  # image file name -> member it came from
    with tarfile.open(archive, "r:gz") as tar, \
            progress_bar(archive.stat().st_size, "B", f"Extracting {archive.name}", scale=True) as bar:
        compressed = tar.fileobj.fileobj  # the .tar.gz file under gzip: how far through it we are
        for member in tar:
            bar.update(compressed.tell() - bar.n)
            check_member(member)
            if not member.isfile() or not has_image_suffix(member.name):
                continue
            name = PurePosixPath(member.name).name
            if name in written:
                raise NameClashError(
                    f"{archive.name}: members '{written[name]}' and '{member.name}' would both be written to "
                    f"'{images_dir / name}'; the images folder keeps one file per name, so this archive cannot be "
                    "extracted into it as it is")
            written[name] = member.name
            target = images_dir / name
            if not (target.exists() and target.stat().st_size == member.size):
                _write_member(tar, member, target)
    return len(written)


def extract_archive(archive: str | Path, images_dir: str | Path) -> int:
    """Extract the images of one tar.gz into ``images_dir``; return how many it holds."""
    archive, images_dir = Path(archive), Path(images_dir)
    images_dir.mkdir(parents=True, exist_ok=True)
    marker = _marker(images_dir, archive)
    if marker.exists():
        return json.loads(marker.read_text())["images"]
    try:
        count = _extract_images(archive, images_dir)
    except READ_ERRORS as error:
        raise CorruptArchiveError(
            f"'{archive}' is not a complete gzip/tar archive ({error or type(error).__name__}); delete it and run "
            "the download step again (it verifies archives before keeping them)") from error
    with atomic_path(marker) as tmp:
        tmp.write_text(json.dumps({"archive": archive.name, "images": count}))
    return count


def extract_all(archives: list[Path], images_dir: str | Path) -> dict[str, int]:
    """Extract each archive in turn; image count per archive."""
    return {Path(a).name: extract_archive(a, images_dir) for a in sorted(archives)}
