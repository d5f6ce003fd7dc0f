"""Extraction of broken or ambiguous archives: a named error, nothing half-written, no completion record."""

import io
import re
import subprocess
import sys
import tarfile
from pathlib import Path, PurePosixPath

import pytest

from chestxray.sources.extract import (
    CorruptArchiveError,
    NameClashError,
    UnsafeArchiveError,
    extract_all,
    extract_archive,
)

from archives import make_archive, png_bytes


@pytest.fixture()
def good_archive():
    return make_archive({f"images/00000001_{j:03d}.png": png_bytes(j, size=256) for j in range(4)})


def files_under(folder):
    return sorted(p.name for p in folder.rglob("*") if p.is_file())


@pytest.mark.parametrize("content", [b"<html><body>Not found</body></html>\n", b""], ids=["html", "empty"])
def test_a_file_that_is_not_a_gzip_is_a_named_error(tmp_path, content):
    archive = tmp_path / "images_01.tar.gz"
    archive.write_bytes(content)
    with pytest.raises(CorruptArchiveError, match="images_01.tar.gz.*not a complete gzip/tar archive.*download"):
        extract_archive(archive, tmp_path / "images")
    assert files_under(tmp_path / "images") == []
    assert archive.read_bytes() == content  # the raw file is left as it is


def test_a_truncated_archive_leaves_no_partial_file_and_no_completion_record(tmp_path, good_archive):
    archive = tmp_path / "images_01.tar.gz"
    archive.write_bytes(good_archive[: len(good_archive) * 3 // 4])
    images = tmp_path / "images"
    with pytest.raises(CorruptArchiveError, match="images_01.tar.gz.*delete it and run the download step again"):
        extract_archive(archive, images)
    left = files_under(images)
    assert not [name for name in left if name.endswith(".partial") or name.startswith(".extracted-")]
    complete = {f"00000001_{j:03d}.png": png_bytes(j, size=256) for j in range(4)}
    assert all((images / name).read_bytes() == complete[name] for name in left)  # what stays is whole
    archive.write_bytes(good_archive)  # downloaded again: the re-run finishes the job
    assert extract_archive(archive, images) == 4
    assert files_under(images) == [".extracted-images_01.tar.gz.json", *sorted(complete)]


def test_same_file_name_in_two_folders_is_a_named_error(tmp_path):
    archive = tmp_path / "images_01.tar.gz"
    archive.write_bytes(make_archive({
        "images/00000001_000.png": png_bytes(1), "more/00000001_000.png": png_bytes(2),
        "images/00000001_001.png": png_bytes(3),
    }))
    images = tmp_path / "images"
    with pytest.raises(NameClashError, match="'images/00000001_000.png' and 'more/00000001_000.png'"):
        extract_archive(archive, images)
    assert not (images / ".extracted-images_01.tar.gz.json").exists()
    if (images / "00000001_000.png").exists():  # never overwritten by the second member
        assert (images / "00000001_000.png").read_bytes() == png_bytes(1)


@pytest.mark.parametrize("broken", ["html", "truncated", "clash"])
def test_cli_extract_of_a_broken_archive_exits_2_without_a_traceback(tmp_path, good_archive, broken):
    archives = tmp_path / "archives"
    archives.mkdir()
    (archives / "images_01.tar.gz").write_bytes(good_archive)
    (archives / "images_02.tar.gz").write_bytes({
        "html": b"<!DOCTYPE html><title>502 Bad Gateway</title>",
        "truncated": good_archive[: len(good_archive) // 2],
        "clash": make_archive({"a/00000002_000.png": b"1", "b/00000002_000.png": b"2"}),
    }[broken])
    done = subprocess.run(
        [sys.executable, "-m", "chestxray", "extract", "--archives-dir", str(archives),
         "--images", str(tmp_path / "images")],
        capture_output=True, text=True,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: ") and "images_02.tar.gz" in done.stderr
    assert "Traceback" not in done.stderr


def test_extract_all_stops_at_the_first_bad_archive_keeping_earlier_ones_recorded(tmp_path, good_archive):
    (tmp_path / "images_01.tar.gz").write_bytes(good_archive)
    (tmp_path / "images_02.tar.gz").write_bytes(good_archive[:100])
    with pytest.raises(CorruptArchiveError, match="images_02.tar.gz"):
        extract_all(sorted(tmp_path.glob("*.tar.gz")), tmp_path / "images")
    assert (tmp_path / "images" / ".extracted-images_01.tar.gz.json").exists()
    assert not (tmp_path / "images" / ".extracted-images_02.tar.gz.json").exists()


GOOD = "images/00000001_000.png"


def tar_with(tmp_path, unsafe: tarfile.TarInfo, data: bytes = b"evil") -> Path:
    """images_01.tar.gz holding one whole image, then the unsafe member."""
    archive = tmp_path / "images_01.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        good = tarfile.TarInfo(GOOD)
        good.size = len(png_bytes(1))
        tar.addfile(good, io.BytesIO(png_bytes(1)))
        unsafe.size = len(data) if unsafe.isreg() else 0
        tar.addfile(unsafe, io.BytesIO(data) if unsafe.isreg() else None)
    return archive


def member(name, kind=tarfile.REGTYPE, linkname=""):
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, linkname
    return info


ESCAPING_NAMES = {
    "leading": "../escape.png",
    "middle": "images/../../escape.png",
    "trailing": "images/..",
    "after_dot_slash": "./../escape.png",
    "inside_yet_climbing": "images/../images/00000001_009.png",
    "alone": "..",
    "backslash_leading": "..\\escape.png",
    "backslash_middle": "images\\..\\..\\escape.png",
    "mixed_separators": "images/..\\..\\escape.png",
    "folder_member": "../outside/",
}
ABSOLUTE_NAMES = {
    "posix": "/{tmp}/absolute-escape.png",
    "double_slash": "//{tmp}/absolute-escape.png",
    "windows_root": "\\escape.png",
    "unc": "\\\\server\\share\\escape.png",
    "drive_slash": "C:/escape.png",
    "drive_backslash": "C:\\escape.png",
    "drive_relative": "c:escape.png",
}


def assert_nothing_but_the_whole_image(tmp_path, images):
    """Outside the images folder only the archive; inside it at most the image before the bad member, whole."""
    files = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file() or p.is_symlink()}
    assert files <= {"images_01.tar.gz", "out/images/00000001_000.png"}, files
    if (images / "00000001_000.png").exists():
        assert (images / "00000001_000.png").read_bytes() == png_bytes(1)
    assert not [p for p in tmp_path.rglob("*") if p.is_dir() and p not in (tmp_path / "out", images)]


@pytest.mark.parametrize("name", ESCAPING_NAMES.values(), ids=ESCAPING_NAMES.keys())
def test_a_dot_dot_component_anywhere_in_a_name_is_refused(tmp_path, name):
    kind = tarfile.DIRTYPE if name.endswith("/") else tarfile.REGTYPE
    archive = tar_with(tmp_path, member(name, kind))
    images = tmp_path / "out" / "images"
    with pytest.raises(
        UnsafeArchiveError, match=re.escape(f"path escaping the target in archive: '{name.rstrip('/')}'")
    ):
        extract_archive(archive, images)
    assert_nothing_but_the_whole_image(tmp_path, images)


@pytest.mark.parametrize("name", ABSOLUTE_NAMES.values(), ids=ABSOLUTE_NAMES.keys())
def test_an_absolute_or_drive_name_is_refused(tmp_path, name):
    name = name.format(tmp=str(tmp_path).strip("/"))
    archive = tar_with(tmp_path, member(name))
    images = tmp_path / "out" / "images"
    with pytest.raises(UnsafeArchiveError, match=re.escape(f"absolute path in archive: '{name}'")):
        extract_archive(archive, images)
    assert_nothing_but_the_whole_image(tmp_path, images)


LINKS_AND_SPECIALS = {
    "symlink_out": (tarfile.SYMTYPE, "/etc/passwd", "link"),
    "symlink_inside": (tarfile.SYMTYPE, "00000001_000.png", "link"),
    "hardlink": (tarfile.LNKTYPE, GOOD, "link"),
    "char_device": (tarfile.CHRTYPE, "", "device, FIFO or other special member"),
    "block_device": (tarfile.BLKTYPE, "", "device, FIFO or other special member"),
    "fifo": (tarfile.FIFOTYPE, "", "device, FIFO or other special member"),
}


@pytest.mark.parametrize("kind, linkname, message", LINKS_AND_SPECIALS.values(), ids=LINKS_AND_SPECIALS.keys())
def test_links_devices_and_fifos_are_refused(tmp_path, kind, linkname, message):
    name = "images/00000001_002.png"
    archive = tar_with(tmp_path, member(name, kind, linkname))
    images = tmp_path / "out" / "images"
    with pytest.raises(UnsafeArchiveError, match=re.escape(f"{message} in archive: '{name}'")):
        extract_archive(archive, images)
    assert_nothing_but_the_whole_image(tmp_path, images)
    assert not (images / ".extracted-images_01.tar.gz.json").exists()


@pytest.mark.parametrize(
    "name",
    [
        "images/00000001_001..png",
        "images/..00000001_001.png",
        "./images/./00000001_001.png",
        "images.../00000001_001.png",
    ],
)
def test_dots_that_are_not_a_dot_dot_component_are_extracted(tmp_path, name):
    archive = tar_with(tmp_path, member(name), data=png_bytes(2))
    images = tmp_path / "out" / "images"
    assert extract_archive(archive, images) == 2
    assert (images / PurePosixPath(name).name).read_bytes() == png_bytes(2)
