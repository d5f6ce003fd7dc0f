"""prepare (build_cache) throughput against a plain Pillow decode-and-resize loop
spread over all cores with multiprocessing, on the same real 1024 px NIH PNGs, in one run.

    .venv/bin/python bench/prepare_speed.py [N]      (target: ratio >= 0.90)
"""

import os
import shutil
import sys
import tempfile
import time
from multiprocessing import Pool
from pathlib import Path

from PIL import Image

from chestxray.preparation.cache import build_cache

IMAGES = Path(__file__).resolve().parents[1].parent / "shared/data/nih/images-1024"
SIZE = 128


def plain(path: str) -> None:
    with Image.open(path) as image:
        image.convert("L").resize((SIZE, SIZE), Image.Resampling.BOX).tobytes()


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 540
    files = sorted(str(p) for p in IMAGES.glob("*.png"))
    paths = [files[i % len(files)] for i in range(n)]
    cache_dir = tempfile.mkdtemp(prefix="prepare-bench-")
    try:
        results = {}
        for _round in range(2):  # alternate to even out machine noise
            started = time.perf_counter()
            with Pool(os.cpu_count()) as pool:
                pool.map(plain, paths, chunksize=32)
            results.setdefault("plain", []).append(n / (time.perf_counter() - started))
            shutil.rmtree(cache_dir, ignore_errors=True)
            started = time.perf_counter()
            build_cache(paths, SIZE, cache_dir)
            results.setdefault("prepare", []).append(n / (time.perf_counter() - started))
        plain_rate, prepare_rate = max(results["plain"]), max(results["prepare"])
        print(f"{n} images 1024->{SIZE} px on {os.cpu_count()} cores: plain Pillow loop {plain_rate:.1f} img/s, "
              f"prepare {prepare_rate:.1f} img/s, ratio {prepare_rate / plain_rate:.2f}")
    finally:
        shutil.rmtree(cache_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
