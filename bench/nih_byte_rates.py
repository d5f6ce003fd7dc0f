"""Byte-bound costs of the NIH route on real 1024 px NIH PNGs (../shared/data/nih/images-1024, read in
place), which the rehearsal's tiny synthetic PNGs cannot show: verifying an archive (gzip + tar + SHA-1 in
one pass), extracting it, and the SHA-256 of the extracted files.

    nice -n 10 .venv/bin/python bench/nih_byte_rates.py

One archive of the 135 real images repeated 8 times (1,080 files, about 450 MB) is built in a scratch
folder first (not timed). The report's own functions are timed: download.read_and_check,
extract.extract_archive and dataset.content_hashes (8 threads; the files are in the page cache, so this is
the CPU's rate, not the disk's).
"""

import os
import shutil
import tarfile
import tempfile
import time
from pathlib import Path

from chestxray.preparation.dataset import content_hashes
from chestxray.sources.download import read_and_check
from chestxray.sources.extract import extract_archive

REAL = Path(__file__).resolve().parents[1].parent / "shared/data/nih/images-1024"
REPEATS = 8


def timed(function, *args):
    started = time.perf_counter()
    value = function(*args)
    return value, time.perf_counter() - started


def main() -> None:
    sources = sorted(REAL.glob("*.png"))
    scratch = Path(tempfile.mkdtemp(prefix="nih-bytes-"))
    try:
        archive = scratch / "images_01.tar.gz"
        with tarfile.open(archive, "w:gz") as tar:
            for copy in range(REPEATS):
                for source in sources:  # distinct names, NIH-like: <8 digits>_<3 digits>.png
                    tar.add(source, arcname=f"images/{copy}{source.name[1:]}")
        megabytes = archive.stat().st_size / 1e6
        _, seconds = timed(read_and_check, archive, archive.name)
        print(f"verify (gzip + tar + SHA-1, one core): {megabytes / seconds:.0f} MB/s ({megabytes:.0f} MB)")
        images = scratch / "images"
        count, seconds = timed(extract_archive, archive, images)
        extracted = sum(p.stat().st_size for p in images.glob("*.png")) / 1e6
        print(f"extract (one core): {extracted / seconds:.0f} MB/s, {count / seconds:.0f} files/s ({count} files)")
        paths = [str(p) for p in sorted(images.glob("*.png"))]
        _, seconds = timed(content_hashes, paths)
        print(f"SHA-256 (8 threads, page cache): {extracted / seconds:.0f} MB/s, {len(paths) / seconds:.0f} files/s")
        print(f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}")
    finally:
        shutil.rmtree(scratch)


if __name__ == "__main__":
    main()
