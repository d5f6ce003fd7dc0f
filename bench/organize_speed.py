"""organize on the full real metadata (112,120 rows) for Pneumothorax (any) vs No Finding,
over a tree of empty placeholder files, against a plain os.link loop over the same files.

    .venv/bin/python bench/organize_speed.py      (target: organize <= 10 s on 2 cores)
"""

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from chestxray.preparation.organize import organize
from chestxray.sources.metadata import read_metadata, select_task

METADATA = Path(__file__).resolve().parents[1].parent / "shared/data/nih/metadata/Data_Entry_2017_v2020.csv.gz"


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="organize-bench-"))
    try:
        images = root / "images"
        images.mkdir()
        for name in read_metadata(METADATA)["image"]:
            (images / name).touch()
        started = time.perf_counter()
        report = organize(METADATA, images, root / "task", "Pneumothorax", match="any", seed=1)
        organize_s = time.perf_counter() - started

        names = select_task(read_metadata(METADATA), "Pneumothorax", match="any")["image"]
        plain = root / "plain"
        plain.mkdir()
        started = time.perf_counter()
        for name in names:
            os.link(images / name, plain / name)
        plain_s = time.perf_counter() - started
        print(f"organize: {report.images} links + manifest in {organize_s:.2f} s; "
              f"plain os.link loop over the same files: {plain_s:.2f} s; ratio {organize_s / plain_s:.2f} "
              f"({os.cpu_count()} cores)")
        sys.exit(0 if organize_s <= 10 else 1)
    finally:
        shutil.rmtree(root)


if __name__ == "__main__":
    main()
