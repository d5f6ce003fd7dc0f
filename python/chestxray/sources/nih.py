"""NIH's metadata as a source: the packaged metadata and official split lists, or the user's own.

NIH's metadata and official split lists ship with the package (``nih_metadata/``,
see its PROVENANCE.md), checked against NIH's release when read, so only the
image archives are downloaded. A user's own metadata file is used instead when
given. (The whole NIH route, download to manifest, is
chestxray.preparation.organize.prepare_nih.)
"""

from __future__ import annotations

import gzip
import hashlib
import shutil
import zlib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import pandas as pd

from chestxray.sources.download import METADATA_FILES, nih_sha1
from chestxray.sources.metadata import MetadataError
from chestxray.support.files import BLOCK_BYTES

PACKAGED_FOLDER = "nih_metadata"
# What the project knows of NIH's release; the packaged files are checked against it.
NIH_IMAGES, NIH_PATIENTS = 112_120, 30_805
NIH_LIST_ENTRIES = {"train_val_list.txt": 86_524, "test_list.txt": 25_596}
METADATA_FILE, TEST_LIST = METADATA_FILES[0], METADATA_FILES[2]


@dataclass(frozen=True)
class MetadataSource:
    """Where a render's metadata and test list come from, for the console and the report."""
    metadata: str
    test_list: str
    packaged: bool  # the package's copy (else the user's nih_metadata)
    nih_sha1: bool  # the metadata file is byte for byte NIH's
    test_list_packaged: bool


def packaged_folder() -> Path:
    return Path(str(resources.files(__package__).joinpath(PACKAGED_FOLDER)))


def official_metadata(folder: Path | None = None) -> MetadataSource:
    """The packaged metadata and test list, checked (once per process) against what is
    known of NIH's release; MetadataError naming the file that does not hold."""
    return _checked_packaged_files(Path(folder or packaged_folder()))


@cache
def _checked_packaged_files(folder: Path) -> MetadataSource:
    images = _check_packaged_metadata(folder / f"{METADATA_FILE}.gz")
    lists = {name: _check_packaged_list(folder / f"{name}.gz", name, entries)
             for name, entries in NIH_LIST_ENTRIES.items()}
    train_val, test = lists.values()
    if train_val & test or train_val | test != images:
        raise MetadataError(f"the split lists in '{folder}' do not name exactly the images of "
                            f"'{folder / METADATA_FILE}.gz' once each: the package's copies do not belong together; "
                            "reinstall chestxray")
    metadata, test_list = folder / f"{METADATA_FILE}.gz", folder / f"{TEST_LIST}.gz"
    return MetadataSource(str(metadata), str(test_list), packaged=True, nih_sha1=False, test_list_packaged=True)


def _damaged(path: Path, problem: str) -> MetadataError:
    return MetadataError(f"packaged file '{path}' {problem}: the package's copy is damaged; reinstall chestxray "
                         "(or pass your own copy with nih_metadata)")


def _check_packaged_metadata(path: Path) -> set[str]:
    try:
        table = pd.read_csv(path, usecols=["Image Index", "Patient ID"], dtype=str)
    except (OSError, EOFError, zlib.error, ValueError, pd.errors.ParserError) as error:
        raise _damaged(path, f"cannot be read ({type(error).__name__}: {error})") from error
    patients = table["Patient ID"].str.lstrip("0").nunique()
    if (len(table), patients) != (NIH_IMAGES, NIH_PATIENTS) or table["Image Index"].duplicated().any():
        raise _damaged(path, f"has {len(table):,} rows of {patients:,} patients, not NIH's {NIH_IMAGES:,} images of "
                             f"{NIH_PATIENTS:,} patients, one row each")
    return set(table["Image Index"])


def _check_packaged_list(path: Path, name: str, entries: int) -> set[str]:
    try:
        content = gzip.decompress(path.read_bytes())
    except (OSError, EOFError, zlib.error) as error:
        raise _damaged(path, f"cannot be read ({type(error).__name__}: {error})") from error
    digest = hashlib.sha1(content).hexdigest()
    if digest != nih_sha1(name):
        raise _damaged(path, f"decompresses to SHA-1 {digest}, not NIH's {nih_sha1(name)} for {name}")
    names = set(content.decode("ascii").split())
    if len(names) != entries:
        raise _damaged(path, f"lists {len(names):,} images, not NIH's {entries:,}")
    return names


def content_sha1(path: Path) -> str:
    """SHA-1 of a file's content, decompressed first if it is gzipped."""
    with open(path, "rb") as raw:
        gzipped = raw.read(2) == b"\x1f\x8b"
    digest = hashlib.sha1()
    with (gzip.open if gzipped else open)(path, "rb") as f:
        while chunk := f.read(BLOCK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def metadata_source(metadata: str | None = None) -> MetadataSource:
    """The user's metadata file (``metadata``; NIH's test_list.txt beside it if there,
    else the packaged one), or the packaged files."""
    packaged = official_metadata()
    if not metadata:
        return packaged
    path = Path(metadata).expanduser()
    if not path.is_file():
        raise MetadataError(f"nih_metadata '{path}' does not exist")
    beside = path.parent / TEST_LIST
    return MetadataSource(str(path), str(beside) if beside.is_file() else packaged.test_list, packaged=False,
                          nih_sha1=content_sha1(path) == nih_sha1(METADATA_FILE),
                          test_list_packaged=not beside.is_file())


def describe(source: MetadataSource) -> str:
    """One console line: which metadata and test list a render uses."""
    if source.packaged:
        return (f"Metadata and NIH's official split lists: the package's copies in {Path(source.metadata).parent} "
                "(checked: 112,120 images of 30,805 patients; lists' SHA-1 are NIH's)")
    verdict = "NIH's file byte for byte (SHA-1 checked)" if source.nih_sha1 else \
        f"not byte for byte NIH's {METADATA_FILE} (its SHA-1 differs from NIH's): its rows are used as they are"
    test_list = "the package's" if source.test_list_packaged else f"{source.test_list}"
    return f"Metadata: {source.metadata}, {verdict}; official test list: {test_list}"


def locate_metadata(archives_dir: Path, metadata: str) -> Path:
    """For the command line's download: copy the user's metadata (and the split lists
    beside it) next to the archives."""
    path = Path(metadata)
    if not path.exists():
        raise MetadataError(f"--metadata '{path}' does not exist")
    for name in (path.name, *METADATA_FILES[1:]):
        source, target = path.parent / name, archives_dir / name
        if source.exists() and not target.exists():
            shutil.copy2(source, target)
    return archives_dir / path.name

