"""Extraction of broken or ambiguous archives: a named error, nothing half-written, no completion record."""

import subprocess
import sys

import pytest

from chestxray.extract import CorruptArchiveError, NameClashError, extract_all, extract_archive

from test_download import make_archive, png_bytes


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
