"""Download, verify and extract against a real HTTP server on 127.0.0.1 with faults."""

import hashlib
import io
import tarfile

import numpy as np
import pytest
from PIL import Image

from chestxray.download import DownloadError, Remote, download_all, download_file, parse_selection, remote_files
from chestxray.extract import UnsafeArchiveError, extract_all, extract_archive

from http_faults import FaultyServer


def png_bytes(seed: int, size: int = 96) -> bytes:
    noise = np.random.default_rng(seed).integers(0, 256, (size, size), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(noise).save(buffer, format="PNG")
    return buffer.getvalue()


def make_archive(members: dict[str, bytes], links: dict[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            tar.addfile(info)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def archives():
    return {
        f"images_{i:02d}.tar.gz": make_archive({f"images/{i:08d}_{j:03d}.png": png_bytes(i * 100 + j) for j in range(6)})
        for i in (1, 2)
    }


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fetch(server, name, dest, **kwargs):
    kwargs.setdefault("backoff", 0.01)
    kwargs.setdefault("timeout", 5)
    return download_file(Remote(name, f"{server.url}/{name}"), dest, **kwargs)


def test_dropped_connection_resumes_byte_exact(archives, tmp_path):
    name = "images_01.tar.gz"
    data = archives[name]
    with FaultyServer(archives, {name: {"drop": {"n": 2, "after": len(data) // 3}}}) as server:
        path = fetch(server, name, tmp_path)
    assert sha(path.read_bytes()) == sha(data)
    ranges = [r for method, n, r in server.requests if method == "GET" and n == name]
    assert ranges[0] is None and ranges[1] == f"bytes={len(data) // 3}-"
    assert server.sent[name] == len(data)  # no byte fetched twice


@pytest.mark.parametrize(
    "fault, options, attempts",
    [
        ({"errors": {"n": 3, "status": 500}}, {"retries": 4}, 4),  # repeated 500s, then success
        ({"stall": {"n": 1, "seconds": 2}}, {"timeout": 0.5}, 2),  # a time-out, then success
    ],
)
def test_transient_faults_are_retried(archives, tmp_path, fault, options, attempts):
    name = "images_02.tar.gz"
    with FaultyServer(archives, {name: fault}) as server:
        path = fetch(server, name, tmp_path, **options)
    assert path.read_bytes() == archives[name]
    assert sum(1 for m, n, _ in server.requests if m == "GET" and n == name) == attempts


def test_server_errors_beyond_retries_fail_clearly(archives, tmp_path):
    name = "images_02.tar.gz"
    with FaultyServer(archives, {name: {"errors": {"n": 10, "status": 503}}}) as server:
        with pytest.raises(DownloadError, match="gave up after 3 attempts.*HTTP 503"):
            fetch(server, name, tmp_path, retries=2)
    assert not (tmp_path / name).exists()


def test_missing_file_is_not_retried(archives, tmp_path):
    with FaultyServer(archives) as server:
        with pytest.raises(DownloadError, match="HTTP 404"):
            fetch(server, "images_09.tar.gz", tmp_path)
        assert len(server.requests) == 1


def test_wrong_length_is_rejected(archives, tmp_path):
    name = "images_01.tar.gz"
    with FaultyServer(archives, {name: {"inflate": 500}}) as server:
        with pytest.raises(DownloadError, match=f"announces {len(archives[name]) + 500} bytes"):
            fetch(server, name, tmp_path, retries=2)
    assert not (tmp_path / name).exists()


def test_truncated_gzip_is_rejected_and_kept_aside(archives, tmp_path):
    name = "images_01.tar.gz"
    broken = {name: archives[name][: len(archives[name]) * 2 // 3]}
    with FaultyServer(broken) as server:
        with pytest.raises(DownloadError, match="not a complete gzip/tar archive"):
            fetch(server, name, tmp_path)
    assert not (tmp_path / name).exists()
    assert (tmp_path / f"{name}.corrupt").read_bytes() == broken[name]


def test_interrupted_run_rerun_finishes_without_refetching(archives, tmp_path):
    name = "images_01.tar.gz"
    data = archives[name]
    cut = len(data) // 2
    with FaultyServer(archives, {name: {"drop": {"n": 1, "after": cut}}}) as server:
        remotes = remote_files([1, 2], server.url, with_metadata=False)
        with pytest.raises(DownloadError):
            download_all(remotes, tmp_path, jobs=1, retries=0, backoff=0.01, timeout=5, show_progress=False)
        assert (tmp_path / f"{name}.part").stat().st_size == cut
        paths = download_all(remotes, tmp_path, jobs=2, retries=0, backoff=0.01, timeout=5, show_progress=False)
        first_sent = dict(server.sent)
        download_all(remotes, tmp_path, jobs=2, retries=0, timeout=5, show_progress=False)  # all done: nothing fetched
    assert [p.read_bytes() for p in paths] == [archives["images_01.tar.gz"], archives["images_02.tar.gz"]]
    assert first_sent[name] == len(data)
    assert server.sent == first_sent
    assert not list(tmp_path.glob("*.part"))


def test_not_enough_disk_space_stops_before_downloading(archives, tmp_path, monkeypatch):
    import shutil
    from collections import namedtuple

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**6, 10**6 - 100, 100))
    with FaultyServer(archives) as server:
        with pytest.raises(DownloadError, match="only 0.00 GB are free"):
            download_all(remote_files([1], server.url, False), tmp_path, show_progress=False)
        assert not any(method == "GET" for method, _, _ in server.requests)


def test_archive_selection_and_nih_urls():
    assert parse_selection("1,2,5-7") == [1, 2, 5, 6, 7]
    assert parse_selection("all") == list(range(1, 13))
    with pytest.raises(ValueError, match="numbered 1 to 12"):
        parse_selection("13")
    with pytest.raises(ValueError, match="not like"):
        parse_selection("first")
    official = remote_files([1, 12], None, with_metadata=True)
    assert [r.name for r in official] == ["images_01.tar.gz", "images_12.tar.gz"]
    assert all(r.url.startswith("https://nihcc.box.com/") for r in official)
    mirrored = remote_files([3], "http://127.0.0.1:1/nih/", with_metadata=True)
    assert [r.url for r in mirrored][:2] == ["http://127.0.0.1:1/nih/images_03.tar.gz", "http://127.0.0.1:1/nih/Data_Entry_2017_v2020.csv"]


def test_extract_counts_images_and_is_idempotent(archives, tmp_path):
    for name, data in archives.items():
        (tmp_path / name).write_bytes(data)
    counts = extract_all(sorted(tmp_path.glob("*.tar.gz")), tmp_path / "images")
    assert counts == {"images_01.tar.gz": 6, "images_02.tar.gz": 6}
    images = sorted((tmp_path / "images").glob("*.png"))
    assert len(images) == 12 and images[0].name == "00000001_000.png"
    mtimes = [p.stat().st_mtime_ns for p in images]
    assert extract_all(sorted(tmp_path.glob("*.tar.gz")), tmp_path / "images") == counts
    assert [p.stat().st_mtime_ns for p in images] == mtimes


@pytest.mark.parametrize(
    "members, links, message",
    [
        ({"images/ok.png": b"x", "../escape.png": b"evil"}, None, "escaping the target.*'../escape.png'"),
        ({"/tmp/absolute.png": b"evil"}, None, "absolute path"),
        ({"images/ok.png": b"x"}, {"images/link.png": "/etc/passwd"}, "link in archive"),
    ],
)
def test_unsafe_members_are_rejected(tmp_path, members, links, message):
    archive = tmp_path / "images_01.tar.gz"
    archive.write_bytes(make_archive(members, links))
    target = tmp_path / "out" / "images"
    with pytest.raises(UnsafeArchiveError, match=message):
        extract_archive(archive, target)
    written = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()}
    assert written <= {"images_01.tar.gz", "out/images/ok.png"}  # nothing outside the target
    assert not (tmp_path / "escape.png").exists() and not (target / "link.png").exists()


def test_cli_download_with_a_local_metadata_copy(archives, tmp_path):
    import subprocess
    import sys

    mine = tmp_path / "mine"
    mine.mkdir()
    for name in ("Data_Entry_2017_v2020.csv", "train_val_list.txt", "test_list.txt"):
        (mine / name).write_text("placeholder\n")
    dest = tmp_path / "archives"
    with FaultyServer(archives) as server:
        done = subprocess.run(
            [sys.executable, "-m", "chestxray", "download", "--dest", str(dest), "--archives", "1-2", "--base-url", server.url,
             "--metadata", str(mine / "Data_Entry_2017_v2020.csv"), "--quiet"],
            capture_output=True, text=True,
        )
        assert done.returncode == 0, done.stderr
        assert {n for _, n, _ in server.requests} == {"images_01.tar.gz", "images_02.tar.gz"}  # metadata not fetched
    assert sorted(p.name for p in dest.iterdir()) == [
        "Data_Entry_2017_v2020.csv", "images_01.tar.gz", "images_02.tar.gz", "test_list.txt", "train_val_list.txt"]
    assert "2 file(s) ready" in done.stdout
