"""Download, verify and extract against a real HTTP server on 127.0.0.1 with faults."""

import csv
import hashlib

import pytest
from tqdm import tqdm

from chestxray.sources.download import (
    DownloadError,
    Remote,
    download_all,
    download_file,
    nih_archives,
    parse_selection,
    remote_files,
)
from chestxray.sources.extract import UnsafeArchiveError, extract_all, extract_archive

from archives import make_archive, png_bytes
from http_faults import FaultyServer


@pytest.fixture(scope="module")
def archives():
    return {
        f"images_{i:02d}.tar.gz": make_archive(
            {f"images/{i:08d}_{j:03d}.png": png_bytes(i * 100 + j) for j in range(6)}
        )
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
        with pytest.raises(DownloadError, match=r"need \d+\.\dkB in .* but only 100B are free"):
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
            [
                sys.executable,
                "-m",
                "chestxray",
                "download",
                "--dest",
                str(dest),
                "--archives",
                "1-2",
                "--base-url",
                server.url,
                "--metadata",
                str(mine / "Data_Entry_2017_v2020.csv"),
                "--quiet",
            ],
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
        assert {n for _, n, _ in server.requests} == {"images_01.tar.gz", "images_02.tar.gz"}  # metadata not fetched
    assert sorted(p.name for p in dest.iterdir() if not p.name.startswith(".")) == [  # hidden: verification records
        "Data_Entry_2017_v2020.csv", "images_01.tar.gz", "images_02.tar.gz", "test_list.txt", "train_val_list.txt"]
    assert "2 file(s) ready" in done.stdout


# --- Checksums and content validation -------------------------------------------------------------------------

METADATA_CSV = b"Image Index,Finding Labels,Follow-up #,Patient ID\r\n00000001_000.png,No Finding,0,1\r\n"
SPLIT_LIST = b"00000001_000.png\n00000001_001.png"
HTML = b"<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body>Please sign in</body></html>\n"


def sha1(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


@pytest.fixture()
def mirror(archives):
    """What a mirror serves: two archives, the metadata and the split lists (a dict the test may change)."""
    return {**archives, "Data_Entry_2017_v2020.csv": METADATA_CSV, "train_val_list.txt": SPLIT_LIST,
            "test_list.txt": SPLIT_LIST}


def download_from(server, dest, names=(1,), metadata=True):
    remotes = remote_files(list(names), server.url, with_metadata=metadata)
    return download_all(remotes, dest, jobs=1, retries=1, backoff=0.01, timeout=5, show_progress=False)


def test_shipped_checksums_are_nih_s():
    from conftest import shared_data

    facts = {row["file"]: row for row in csv.DictReader(shared_data("nih", "archives.csv").open())}
    shipped = remote_files(list(range(1, 13)), "http://mirror", with_metadata=True)
    assert {r.name: r.sha1 for r in shipped} == {name: row["sha1"] for name, row in facts.items()}
    assert [(r.name, r.url, r.sha1) for r in nih_archives()] == [
        (name, row["url"], row["sha1"]) for name, row in facts.items() if row["url"]]
    assert all(r.from_nih for r in nih_archives()) and not any(r.from_nih for r in shipped)


def test_shipped_split_list_checksums_match_nih_s_real_files():
    """The fixtures hold NIH's own split lists: the SHA-1s shipped in the package are theirs."""
    import gzip

    from conftest import fixture

    shipped = {r.name: r.sha1 for r in remote_files([1], "http://mirror", with_metadata=True)}
    for name in ("train_val_list.txt", "test_list.txt"):
        content = gzip.decompress(fixture("nih", "metadata", f"{name}.gz").read_bytes())
        assert hashlib.sha1(content).hexdigest() == shipped[name]


def test_nih_file_with_a_wrong_sha1_is_an_error_and_kept_aside(archives, tmp_path):
    name = "images_01.tar.gz"
    data, wrong = archives[name], "0" * 40
    with FaultyServer(archives) as server:
        remote = Remote(name, f"{server.url}/{name}", sha1=wrong, from_nih=True)
        with pytest.raises(DownloadError, match=f"{name}: SHA-1 {sha1(data)} is not NIH's {wrong}"):
            download_file(remote, tmp_path, backoff=0.01, timeout=5)
        assert not (tmp_path / name).exists()
        assert (tmp_path / f"{name}.corrupt").read_bytes() == data
        right = Remote(name, remote.url, sha1=sha1(data), from_nih=True)
        assert download_file(right, tmp_path, backoff=0.01, timeout=5).read_bytes() == data


def test_mirror_sha1_mismatch_is_a_clear_warning(mirror, tmp_path, capfd):
    with FaultyServer(mirror) as server:
        paths = download_from(server, tmp_path)
        sent = dict(server.sent)
        assert download_from(server, tmp_path) == paths  # verified once: nothing fetched again
        assert server.sent == sent
    assert [p.read_bytes() for p in paths] == [mirror[p.name] for p in paths]
    err = capfd.readouterr().err
    data = mirror["images_01.tar.gz"]
    assert (f"warning: images_01.tar.gz from {server.url}/images_01.tar.gz has SHA-1 {sha1(data)}, "
            "not NIH's fef95a7a789bcb0013fbf966cb92c4d92c90becd") in err
    metadata_url = f"{server.url}/Data_Entry_2017_v2020.csv"
    assert f"Data_Entry_2017_v2020.csv from {metadata_url} has SHA-1 {sha1(METADATA_CSV)}" in err


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("Data_Entry_2017_v2020.csv", HTML, "not NIH's metadata: its header lacks 'Image Index'"),
        ("Data_Entry_2017_v2020.csv", b"\x1f\x8b\x08\x00binary", "not NIH's metadata"),
        ("test_list.txt", HTML, r"not a list of image names: line 1 is '<!DOCTYPE html>'"),
        ("train_val_list.txt", b"", "not a list of image names: it is empty"),
        ("images_01.tar.gz", HTML, "not a complete gzip/tar archive"),
    ],
)
def test_mirror_content_that_is_not_the_expected_file_fails_and_is_not_kept(mirror, tmp_path, name, content, message):
    good = mirror[name]
    mirror[name] = content
    with FaultyServer(mirror) as server:
        with pytest.raises(DownloadError, match=f"{name} from {server.url}/{name} is {message}"):
            download_from(server, tmp_path)
        assert not (tmp_path / name).exists()
        assert (tmp_path / f"{name}.corrupt").read_bytes() == content
        mirror[name] = good  # the mirror is fixed: the next run downloads that file again
        download_from(server, tmp_path)
    assert (tmp_path / name).read_bytes() == good


def test_a_bad_file_left_by_an_earlier_run_is_set_aside_and_downloaded_again(mirror, tmp_path):
    (tmp_path / "Data_Entry_2017_v2020.csv").write_bytes(HTML)  # an older version saved error pages
    with FaultyServer(mirror) as server:
        download_from(server, tmp_path)
        assert (tmp_path / "Data_Entry_2017_v2020.csv").read_bytes() == METADATA_CSV
        assert (tmp_path / "Data_Entry_2017_v2020.csv.corrupt").read_bytes() == HTML
        (tmp_path / "test_list.txt").write_bytes(HTML)  # changed after it was verified
        download_from(server, tmp_path)
    assert (tmp_path / "test_list.txt").read_bytes() == SPLIT_LIST


def test_verified_files_are_not_read_again_on_re_runs(mirror, tmp_path, monkeypatch):
    import chestxray.sources.download as download

    with FaultyServer(mirror) as server:
        download_from(server, tmp_path)

        def must_not_run(*args):
            raise AssertionError("a verified file was read again")

        monkeypatch.setattr(download, "read_and_check", must_not_run)
        download_from(server, tmp_path)


# --- Disk full, over-long partial files, sizes -----------------------------------------------------------------

def disk_full_open(real_open=open):
    import errno
    import os

    class FullFile:
        def __init__(self, path, mode):
            self.file = real_open(path, mode)

        def write(self, data):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.file.close()

    def fake_open(path, mode="r", *args, **kwargs):
        return FullFile(path, mode) if "w" in mode or "a" in mode else real_open(path, mode, *args, **kwargs)

    return fake_open


def test_no_space_left_fails_at_once_naming_file_folder_and_size(archives, tmp_path, monkeypatch):
    import chestxray.sources.download as download

    name = "images_01.tar.gz"
    monkeypatch.setattr(download, "open", disk_full_open(), raising=False)
    with FaultyServer(archives) as server:
        with pytest.raises(DownloadError, match=f"no space left on device writing {name} in '{tmp_path}': "
                                                f"{tqdm.format_sizeof(len(archives[name]), 'B', 1000)} more needed"):
            fetch(server, name, tmp_path, retries=3)
        assert sum(1 for m, n, _ in server.requests if m == "GET") == 1  # not retried


def test_a_partial_file_longer_than_the_remote_one_starts_again_from_zero(archives, tmp_path):
    name = "images_01.tar.gz"
    data = archives[name]
    (tmp_path / f"{name}.part").write_bytes(data + b"left over from another version")
    with FaultyServer(archives) as server:
        path = fetch(server, name, tmp_path, retries=0)
    assert path.read_bytes() == data
    ranges = [r for m, n, r in server.requests if m == "GET"]
    assert ranges == [f"bytes={len(data) + 30}-", None]


@pytest.mark.parametrize("text, runs", [("all", "1-12"), ("3,1,2,7", "1-3, 7"), ("5", "5"), ("1,3,5-6", "1, 3, 5-6"),
                                        (" 7 , 2-3, 2 ", "2-3, 7"), ("11-12,1", "1, 11-12")])
def test_a_selection_reads_as_runs_of_archives(text, runs):
    from chestxray.sources.download import selection_runs

    assert selection_runs(text) == runs


@pytest.mark.parametrize("size, text", [(100, "100B"), (1_500, "1.50kB"), (23_400_000, "23.4MB"),
                                        (45_100_000_000, "45.1GB"), (3_000_000_000_000, "3.00TB")])
def test_human_size(size, text):
    from chestxray.support.console import human_size

    assert human_size(size) == text


# --- The CLI: each failure ends in 'error: ...' and exit status 2 ----------------------------------------------

def run_download(capsys, *args):
    """The CLI in-process: an exception it does not turn into 'error: ...' would fail the test itself."""
    from chestxray.cli import main

    status = main(["download", "--quiet", "--retries", "1", *args])
    return status, capsys.readouterr().err


def test_cli_download_failures_exit_2_with_a_message(mirror, tmp_path, capsys, monkeypatch):
    import shutil
    from collections import namedtuple

    import chestxray.sources.download as download

    monkeypatch.setattr(download.time, "sleep", lambda seconds: None)
    mirror["test_list.txt"] = HTML
    with FaultyServer(mirror) as server:
        status, err = run_download(capsys, "--dest", str(tmp_path / "a"), "--archives", "1", "--base-url", server.url)
        assert status == 2 and err.startswith(f"error: test_list.txt from {server.url}/test_list.txt is not a list")

        nih = [Remote(r.name, f"{server.url}/{r.name}", sha1="0" * 40, from_nih=True) for r in nih_archives()]
        monkeypatch.setattr(download, "nih_archives", lambda: nih)
        status, err = run_download(capsys, "--dest", str(tmp_path / "b"), "--archives", "2")
        assert status == 2 and err.startswith("error: images_02.tar.gz: SHA-1")

        with monkeypatch.context() as patch:
            patch.setattr(download, "open", disk_full_open(), raising=False)
            status, err = run_download(capsys, "--dest", str(tmp_path / "c"), "--archives", "2")
        assert status == 2 and err.startswith("error: no space left on device writing images_02.tar.gz")

        usage = namedtuple("usage", "total used free")
        monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**6, 10**6 - 100, 100))
        status, err = run_download(capsys, "--dest", str(tmp_path / "d"), "--archives", "2")
        assert status == 2 and err.startswith("error: need ") and "only 100B are free" in err
