"""Download the NIH ChestX-ray14 release: 12 image archives, metadata and split lists.

Each file is fetched into ``<name>.part``, resumed with HTTP Range requests
after a dropped connection, retried with exponential back-off on time-outs and
5xx answers, checked (length, and gzip + tar integrity for archives) and only
then renamed to its final name. A finished file is never fetched again.
"""

from __future__ import annotations

import csv
import gzip
import os
import re
import shutil
import sys
import tarfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.client import HTTPException
from importlib import resources
from pathlib import Path
from typing import Callable

from tqdm.auto import tqdm

METADATA_FILES = ("Data_Entry_2017_v2020.csv", "train_val_list.txt", "test_list.txt")
# Progress goes to the process's own stderr: inside a knitr/reticulate chunk,
# sys.stderr is captured into the document, which should not hold progress bars.
PROGRESS_STREAM = sys.__stderr__ or sys.stderr
CHUNK = 1 << 20


class DownloadError(RuntimeError):
    """A file could not be downloaded and verified."""


@dataclass(frozen=True)
class Remote:
    name: str
    url: str


def nih_archives() -> list[Remote]:
    """The 12 archives of the NIH release, with NIH's own URLs (shipped with the package)."""
    with resources.files("chestxray").joinpath("nih_archives.csv").open() as f:
        return [Remote(row["archive"], row["url"]) for row in csv.DictReader(f)]


def parse_selection(text: str | None, count: int = 12) -> list[int]:
    """'1,2,5-7' -> [1, 2, 5, 6, 7]; None or 'all' -> every archive."""
    if text is None or text.strip().lower() == "all":
        return list(range(1, count + 1))
    chosen = set()
    for part in text.split(","):
        match = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", part)
        if not match:
            raise ValueError(f"archive selection '{text}' is not like 1,2,5-7")
        low, high = int(match.group(1)), int(match.group(2) or match.group(1))
        if not 1 <= low <= high <= count:
            raise ValueError(f"archives are numbered 1 to {count}; '{part.strip()}' is out of range")
        chosen.update(range(low, high + 1))
    return sorted(chosen)


def remote_files(archives: list[int], base_url: str | None, with_metadata: bool) -> list[Remote]:
    """What to fetch: chosen archives (NIH URLs, or ``base_url/<name>``) and, from a mirror, the metadata."""
    official = nih_archives()
    chosen = [official[i - 1] for i in archives]
    if base_url:
        base = base_url.rstrip("/")
        chosen = [Remote(r.name, f"{base}/{r.name}") for r in chosen]
        if with_metadata:
            chosen += [Remote(name, f"{base}/{name}") for name in METADATA_FILES]
    return chosen


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


def verify_archive(path: Path) -> int:
    """Read the whole tar.gz stream; return its member count or raise DownloadError."""
    try:
        with tarfile.open(path, "r:gz") as archive:
            return sum(1 for _ in archive)
    except (tarfile.TarError, OSError, EOFError, gzip.BadGzipFile) as error:
        raise DownloadError(f"{path.name}: not a complete gzip/tar archive ({error})") from error


def _verify(path: Path, name: str) -> None:
    if name.endswith(".tar.gz"):
        verify_archive(path)


class _Transient(Exception):
    """Worth retrying: time-out, dropped connection, 5xx, short body."""


def _fetch_once(url: str, part: Path, timeout: float, progress: Callable[[int], None]) -> None:
    offset = part.stat().st_size if part.exists() else 0
    headers = {"Range": f"bytes={offset}-"} if offset else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout) as response:
            if offset and response.status == 200:  # server ignored the range: start over
                offset = 0
            total = _content_range_total(response.headers.get("Content-Range")) if response.status == 206 else None
            if total is None and response.headers.get("Content-Length"):
                total = offset + int(response.headers["Content-Length"])
            with open(part, "ab" if offset else "wb") as out:
                while chunk := response.read(CHUNK):
                    out.write(chunk)
                    progress(len(chunk))
    except urllib.error.HTTPError as error:
        if error.code == 416 and offset:  # nothing left to send from here
            total = _content_range_total((error.headers.get("Content-Range") or "").replace("*", "0-0", 1))
            if total == offset:
                return
            raise _Transient(f"server cannot resume at byte {offset}; it announces {total} bytes") from error
        if error.code >= 500 or error.code == 429:
            raise _Transient(f"HTTP {error.code}") from error
        raise DownloadError(f"{url}: HTTP {error.code} {error.reason}") from error
    except (urllib.error.URLError, HTTPException, TimeoutError, ConnectionError, OSError) as error:
        raise _Transient(str(error)) from error
    size = part.stat().st_size
    if total is not None and size < total:
        raise _Transient(f"connection closed at {size} of {total} bytes")
    if total is not None and size > total:
        raise DownloadError(f"{url}: received {size} bytes but the server announced {total}")


def download_file(
    remote: Remote, dest_dir: Path, retries: int = 6, backoff: float = 1.0, timeout: float = 60,
    bar: tqdm | None = None, overall: tqdm | None = None,
) -> Path:
    """Fetch one file into ``dest_dir`` (resume, retry, verify, rename); return its path."""
    target = dest_dir / remote.name
    if target.exists():
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
            _fetch_once(remote.url, part, timeout, progress)
            break
        except _Transient as error:
            if attempt == retries:
                raise DownloadError(f"{remote.name}: gave up after {retries + 1} attempts ({error}); re-run to resume") from error
            time.sleep(backoff * 2**attempt)
    try:
        _verify(part, remote.name)
    except DownloadError:
        # Keep the bytes for inspection under a name that is never resumed.
        os.replace(part, dest_dir / f"{remote.name}.corrupt")
        raise
    os.replace(part, target)
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
        raise DownloadError(f"need {needed / 1e9:.2f} GB in '{dest_dir}' but only {free / 1e9:.2f} GB are free")
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
                   file=PROGRESS_STREAM)

    def one(indexed: tuple[int, Remote]) -> Path:
        i, remote = indexed
        with tqdm(total=remote_size(remote.url, timeout), unit="B", unit_scale=True, desc=remote.name,
                  position=i % max(1, jobs) + 1, leave=False, disable=not show_progress, file=PROGRESS_STREAM) as bar:
            return download_file(remote, dest, retries, backoff, timeout, bar, overall)

    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            return list(pool.map(one, enumerate(remotes)))
    finally:
        overall.close()
