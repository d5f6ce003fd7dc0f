"""Download the NIH ChestX-ray14 release: 12 image archives, metadata and split lists.

Each file is fetched into ``<name>.part``, resumed with HTTP Range requests
after a dropped connection, retried with exponential back-off on time-outs and
5xx answers, verified and only then renamed to its final name. Verifying reads
the file once: its content must be what the name promises (a complete gzip/tar
archive, NIH's metadata header, a list of image names) and its SHA-1 is
compared with NIH's (shipped in ``nih_archives.csv``): a mismatch is an error
for a file from NIH's own URL and a warning for a mirror's copy. A file that
fails is kept aside as ``<name>.corrupt``, never under its final name. A
finished file is recorded (``.verified-<name>.json``: size, time, SHA-1, and
the SHA-256 of the record itself) and not fetched or read again while it stays
unchanged; a damaged record is named on the console and the file verified again.
"""

from __future__ import annotations

import csv
import errno
import gzip
import hashlib
import io
import os
import re
import shutil
import tarfile
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from http.client import HTTPException
from importlib import resources
from pathlib import Path
from typing import BinaryIO

from tqdm.auto import tqdm

from chestxray.sources.folders import NIH_NAME
from chestxray.sources.metadata import REQUIRED
from chestxray.support import console
from chestxray.support.files import BLOCK_BYTES
from chestxray.support.integrity import DamagedFileError, damage_message, read_checked_json, write_checked_json
from chestxray.support.report_params import definitions

METADATA_FILES = ("Data_Entry_2017_v2020.csv", "train_val_list.txt", "test_list.txt")
DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


class DownloadError(RuntimeError):
    """A file could not be downloaded and verified."""


@dataclass(frozen=True)
class Remote:
    name: str
    url: str
    sha1: str | None = None  # NIH's SHA-1 of this file, where known
    from_nih: bool = False  # NIH's own URL: a SHA-1 mismatch is an error, not a mirror's re-serialisation


@cache
def _nih_table() -> dict[str, dict[str, str]]:
    """file -> {sha1, url} for NIH's release (shipped with the package; url empty where NIH has no direct link)."""
    with resources.files(__package__).joinpath("nih_archives.csv").open() as f:
        return {row["file"]: row for row in csv.DictReader(f)}


def nih_sha1(name: str) -> str:
    """NIH's SHA-1 of one file of its release (an archive, the metadata or a split list)."""
    return _nih_table()[name]["sha1"]


def nih_archives() -> list[Remote]:
    """The 12 archives of the NIH release, with NIH's own URLs and SHA-1s."""
    return [Remote(name, row["url"], row["sha1"], from_nih=True)
            for name, row in _nih_table().items() if name.endswith(".tar.gz")]


def parse_selection(text: str | None, count: int | None = None) -> list[int]:
    """'1,2,5-7' -> [1, 2, 5, 6, 7]; None or 'all' -> every archive. The rule is the
    report's `nih_archives` (report_params.yml: numbers up to its ``max``), which R applies too."""
    count = count or definitions()["nih_archives"]["max"]
    if text is None or text.strip().lower() == "all":
        return list(range(1, count + 1))
    chosen = set()
    for part in text.split(","):
        match = re.fullmatch(r"\s*([0-9]+)\s*(?:-\s*([0-9]+)\s*)?", part)
        if not match:
            raise ValueError(f"archive selection '{text}' is not like 1,2,5-7")
        low, high = int(match.group(1)), int(match.group(2) or match.group(1))
        if not 1 <= low <= high <= count:
            raise ValueError(f"archives are numbered 1 to {count}; '{part.strip()}' is out of range")
        chosen.update(range(low, high + 1))
    return sorted(chosen)


def selection_runs(text: str | None, count: int | None = None) -> str:
    """The archives a selection names, in runs, for people: 'all' -> '1-12', '3,1,2,7' -> '1-3, 7'."""
    runs: list[list[int]] = []
    for number in parse_selection(text, count):
        if runs and number == runs[-1][-1] + 1:
            runs[-1].append(number)
        else:
            runs.append([number])
    return ", ".join(str(run[0]) if len(run) == 1 else f"{run[0]}-{run[-1]}" for run in runs)


def remote_files(archives: list[int], base_url: str | None, with_metadata: bool) -> list[Remote]:
    """What to fetch: chosen archives (NIH URLs, or ``base_url/<name>``) and, from a mirror, the metadata."""
    chosen = [nih_archives()[i - 1] for i in archives]
    if not base_url:
        return chosen
    base = base_url.rstrip("/")
    names = [r.name for r in chosen] + (list(METADATA_FILES) if with_metadata else [])
    return [Remote(name, f"{base}/{name}", _nih_table()[name]["sha1"]) for name in names]



def _content_range_total(header: str | None) -> int | None:
    match = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+|\*)", header or "")
    return int(match.group(3)) if match and match.group(3) != "*" else None


def remote_size(url: str, timeout: float = 30) -> int | None:
    """Length announced by the server (HEAD), or None when it does not say."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            return int(length) if length else None
    except (urllib.error.URLError, HTTPException, OSError, ValueError):
        return None


# --- Verification: content and SHA-1 in one streaming pass ---------------------------------------------------

class _BadContent(Exception):
    """The bytes are not the kind of file the name promises."""


class _Sha1Reader(io.RawIOBase):
    """A file read through this is hashed as it goes, so checking content and SHA-1 takes one pass."""

    def __init__(self, raw: BinaryIO):
        self.raw, self.sha1 = raw, hashlib.sha1()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = self.raw.readinto(buffer)
        self.sha1.update(memoryview(buffer)[:n])
        return n


def _check_archive(stream: BinaryIO) -> None:
    try:
        with gzip.GzipFile(fileobj=stream) as unzipped:
            with tarfile.open(fileobj=unzipped, mode="r|") as tar:
                for _ in tar:
                    pass
            while unzipped.read(BLOCK_BYTES):  # on to the gzip trailer, whose CRC and length are checked
                pass
    except (tarfile.TarError, OSError, EOFError, zlib.error) as error:
        raise _BadContent(f"not a complete gzip/tar archive ({error or type(error).__name__})") from error


def _check_metadata(stream: BinaryIO) -> None:
    header = stream.readline(64 * 1024).decode("utf-8-sig", errors="replace")
    columns = {c.strip() for c in next(csv.reader([header]), [])}
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise _BadContent(f"not NIH's metadata: its header lacks {', '.join(repr(c) for c in missing)}")


def _check_split_list(stream: BinaryIO) -> None:
    count = 0
    for number, line in enumerate(iter(lambda: stream.readline(256), b""), start=1):
        if not line.strip():
            continue
        if not NIH_NAME.fullmatch(line.strip().decode("ascii", errors="replace")):
            shown = line.strip()[:40].decode("utf-8", errors="replace")
            raise _BadContent(f"not a list of image names: line {number} is '{shown}', not like '00000001_000.png'")
        count += 1
    if not count:
        raise _BadContent("not a list of image names: it is empty")


def _content_check(name: str) -> Callable[[BinaryIO], None]:
    if name.endswith(".tar.gz"):
        return _check_archive
    if name.endswith(".csv"):
        return _check_metadata
    return _check_split_list


def read_and_check(path: Path, name: str) -> str:
    """Check that ``path`` holds what ``name`` promises; return its SHA-1 (streamed, not loaded)."""
    with open(path, "rb") as raw:
        hashing = _Sha1Reader(raw)
        stream = io.BufferedReader(hashing, BLOCK_BYTES)
        _content_check(name)(stream)
        while stream.read(BLOCK_BYTES):  # the rest of the file, for the SHA-1
            pass
        return hashing.sha1.hexdigest()


def _say(message: str) -> None:
    tqdm.write(message, file=console.stream())


def _check_sha1(remote: Remote, actual: str) -> None:
    if remote.sha1 is None or actual == remote.sha1:
        return
    if remote.from_nih:
        raise DownloadError(f"{remote.name}: SHA-1 {actual} is not NIH's {remote.sha1}: the file differs from NIH's")
    _say(f"warning: {remote.name} from {remote.url} has SHA-1 {actual}, not NIH's {remote.sha1}; its content "
         "was checked, but it is the mirror's copy, not byte for byte NIH's file")


def verify_file(path: Path, remote: Remote) -> str:
    """Content and SHA-1 of a downloaded file; its SHA-1, or DownloadError."""
    try:
        digest = read_and_check(path, remote.name)
    except _BadContent as error:
        raise DownloadError(f"{remote.name} from {remote.url} is {error}") from error
    _check_sha1(remote, digest)
    return digest


# --- Records of verified files -------------------------------------------------------------------------------

def _record_path(target: Path) -> Path:
    return target.with_name(f".verified-{target.name}.json")


def _recorded_sha1(target: Path) -> str | None:
    """The SHA-1 recorded when ``target`` was verified, if the file has not changed since
    (and the record is whole: a damaged one is never trusted)."""
    try:
        record = read_checked_json(_record_path(target))
    except DamagedFileError as error:
        _say(damage_message(f"the verification record of {target.name}", {error.path: error.problem},
                            f"ignoring it and verifying {target.name} again"))
        return None
    except OSError:
        return None
    try:
        stat = target.stat()
        unchanged = record["size"] == stat.st_size and record["mtime_ns"] == stat.st_mtime_ns
        return record["sha1"] if unchanged else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _record(target: Path, digest: str) -> None:
    stat = target.stat()
    try:
        write_checked_json(_record_path(target), {"file": target.name, "size": stat.st_size,
                                                  "mtime_ns": stat.st_mtime_ns, "sha1": digest})
    except OSError:
        pass  # only a shortcut: without it the file is verified again next time


def _set_aside(path: Path, name: str) -> Path:
    """Keep rejected bytes for inspection under a name that is never resumed nor used."""
    aside = path.with_name(f"{name}.corrupt")
    os.replace(path, aside)
    _record_path(path.with_name(name)).unlink(missing_ok=True)
    return aside


def _finished_file_is_good(target: Path, remote: Remote) -> bool:
    """A file left by an earlier run: verified (once, then recorded), or set aside to be fetched again."""
    try:
        digest = _recorded_sha1(target)
        if digest is None:
            digest = verify_file(target, remote)
            _record(target, digest)
        else:
            _check_sha1(remote, digest)
        return True
    except DownloadError as error:
        aside = _set_aside(target, remote.name)
        _say(f"warning: {error}; kept aside as '{aside}', downloading it again")
        return False


# --- Fetching ------------------------------------------------------------------------------------------------

class _Transient(Exception):
    """Worth retrying: time-out, dropped connection, 5xx, short body."""


def _disk_full(part: Path, name: str, total: int | None) -> DownloadError:
    size = part.stat().st_size if part.exists() else 0
    needed = (
        f"{console.human_size(total - size)} more needed" if total is not None else "the size still needed is unknown"
    )
    return DownloadError(f"no space left on device writing {name} in '{part.parent}': {needed} "
                         f"({console.human_size(size)} written to '{part.name}'); free some space and re-run to resume")


def _fetch_once(remote: Remote, part: Path, timeout: float, progress: Callable[[int], None]) -> None:
    offset = part.stat().st_size if part.exists() else 0
    headers = {"Range": f"bytes={offset}-"} if offset else {}
    total = None
    try:
        with urllib.request.urlopen(urllib.request.Request(remote.url, headers=headers), timeout=timeout) as response:
            if offset and response.status == 200:  # server ignored the range: start over
                offset = 0
            total = _content_range_total(response.headers.get("Content-Range")) if response.status == 206 else None
            if total is None and response.headers.get("Content-Length"):
                total = offset + int(response.headers["Content-Length"])
            with open(part, "ab" if offset else "wb") as out:
                while chunk := response.read(BLOCK_BYTES):
                    out.write(chunk)
                    progress(len(chunk))
    except urllib.error.HTTPError as error:
        if error.code == 416 and offset:  # nothing to send from this byte on
            total = _content_range_total((error.headers.get("Content-Range") or "").replace("*", "0-0", 1))
            if total == offset:
                return
            if total is None or total < offset:
                # Longer than the remote file (which changed since): it cannot be resumed, only started again.
                part.unlink()
                return _fetch_once(remote, part, timeout, progress)
            raise _Transient(f"server cannot resume at byte {offset}; it announces {total} bytes") from error
        if error.code >= 500 or error.code == 429:
            raise _Transient(f"HTTP {error.code}") from error
        raise DownloadError(f"{remote.url}: HTTP {error.code} {error.reason}") from error
    except (urllib.error.URLError, HTTPException, TimeoutError, ConnectionError, OSError) as error:
        if error.errno in DISK_FULL:  # waiting does not free space: say so at once
            raise _disk_full(part, remote.name, total) from error
        raise _Transient(str(error)) from error
    size = part.stat().st_size
    if total is not None and size < total:
        raise _Transient(f"connection closed at {size} of {total} bytes")
    if total is not None and size > total:
        raise DownloadError(f"{remote.url}: received {size} bytes but the server announced {total}")


def download_file(
    remote: Remote, dest_dir: Path, retries: int = 6, backoff: float = 1.0, timeout: float = 60,
    bar: tqdm | None = None, overall: tqdm | None = None,
) -> Path:
    """Fetch one file into ``dest_dir`` (resume, retry, verify, rename); return its path."""
    target = dest_dir / remote.name
    if target.exists() and _finished_file_is_good(target, remote):
        return target
    part = dest_dir / f"{remote.name}.part"

    def progress(n: int) -> None:
        for b in (bar, overall):
            if b is not None:
                b.update(n)

    if bar is not None and part.exists():
        bar.update(part.stat().st_size)
    for attempt in range(retries + 1):
        try:
            _fetch_once(remote, part, timeout, progress)
            break
        except _Transient as error:
            if attempt == retries:
                raise DownloadError(
                    f"{remote.name}: gave up after {retries + 1} attempts ({error}); re-run to resume"
                ) from error
            time.sleep(backoff * 2**attempt)
    try:
        digest = verify_file(part, remote)
    except DownloadError as error:
        aside = _set_aside(part, remote.name)
        raise DownloadError(f"{error}; kept aside as '{aside}', the next run downloads it again") from error
    os.replace(part, target)
    _record(target, digest)
    return target


def check_free_space(dest_dir: Path, remotes: list[Remote], timeout: float = 30) -> int:
    """Bytes still to download; raises DownloadError if the disk cannot hold them."""
    needed = 0
    for remote in remotes:
        if (dest_dir / remote.name).exists():
            continue
        size = remote_size(remote.url, timeout) or 0
        part = dest_dir / f"{remote.name}.part"
        needed += max(0, size - (part.stat().st_size if part.exists() else 0))
    free = shutil.disk_usage(dest_dir).free
    if needed > free:
        raise DownloadError(
            f"need {console.human_size(needed)} in '{dest_dir}' but only {console.human_size(free)} are free"
        )
    return needed


def download_all(
    remotes: list[Remote], dest_dir: str | Path, jobs: int = 2, retries: int = 6, backoff: float = 1.0,
    timeout: float = 60, show_progress: bool = True,
) -> list[Path]:
    """Download every file (``jobs`` at a time) with a bar per file and one overall."""
    dest = Path(dest_dir)
    dest.mkdir(parents=True, exist_ok=True)
    needed = check_free_space(dest, remotes, timeout)
    overall = tqdm(total=needed, unit="B", unit_scale=True, desc="total", position=0, disable=not show_progress,
                   file=console.stream())

    def one(indexed: tuple[int, Remote]) -> Path:
        i, remote = indexed
        with tqdm(total=remote_size(remote.url, timeout), unit="B", unit_scale=True, desc=remote.name,
                  position=i % max(1, jobs) + 1, leave=False, disable=not show_progress, file=console.stream()) as bar:
            return download_file(remote, dest, retries, backoff, timeout, bar, overall)

    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            return list(pool.map(one, enumerate(remotes)))
    finally:
        overall.close()
