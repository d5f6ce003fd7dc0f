"""A full-scale rehearsal of `data=nih`: 112,120 synthetic PNGs under NIH's real names, in
NIH's 12 archives (real order and counts), served by a mirror on 127.0.0.1, then every
step of the NIH route timed with its peak memory, at a chosen number of archives.

    .venv/bin/python bench/nih_rehearsal.py mirror              # build the 12 archives once
    nice -n 10 .venv/bin/python bench/nih_rehearsal.py run K    # every step on archives 1..K (K = 1, 4, 12)
    nice -n 10 .venv/bin/python bench/nih_rehearsal.py multilabel K   # the report with finding=all on 1..K
    .venv/bin/python bench/nih_rehearsal.py clean               # delete data/bench-nih/

Archive contents: NIH's metadata names sorted and cut into 4,999, 10,000 x 10 and 7,121
(`archive_sizes`); each image is a distinct 64 px noise PNG (the point is file counts,
names, metadata joins and orchestration, not pixels). Each step runs in a fresh process
under /usr/bin/time (wall seconds, peak RSS of the largest process): the command-line steps
(download, extract, organize, split, prepare, file hashes cold and reused, prediction),
then the report itself (`data=nih nih_archives=1-K`, first render and a prose-edit
re-render, its console's timed lines kept), then bench/nih_rehearsal_steps.R on the
render's outputs (evaluation, figures, keys, Grad-CAM). Rows are appended to
bench/results/nih_rehearsal.csv; the render logs go to bench/results/nih_rehearsal-K-*.log.
"""

from __future__ import annotations

import argparse
import csv
import functools
import gzip
import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
import threading
import time
from datetime import UTC, datetime
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "nih" / "metadata"
METADATA_GZ = FIXTURES / "Data_Entry_2017_v2020.csv.gz"
LISTS = ("train_val_list.txt", "test_list.txt")
BENCH_DIR = ROOT / "data" / "bench-nih"
MIRROR = BENCH_DIR / "mirror"
RESULTS = ROOT / "bench" / "results"
PYTHON = ROOT / ".venv" / "bin" / "python"
IMAGE_SIDE = 64
# The report's parameters for the rehearsal (tiny training; n_per_class from the command line:
# the test split keeps all its images whatever the cap).
RENDER_PARAMS = (f"image_size={IMAGE_SIDE}", "epochs=1", "batch_size=64", "seed=42")
# NIH's archives hold the images sorted by name: images_01 the first 4,999, each of the
# next ten 10,000, images_12 the last 7,121 (4,999 + 10 x 10,000 + 7,121 = 112,120).
FIRST, MIDDLE, LAST = 4_999, 10_000, 7_121


def archive_sizes(total: int) -> list[int]:
    """Images per archive, checked against the metadata's row count."""
    sizes = [FIRST, *[MIDDLE] * 10, LAST]
    if sum(sizes) != total:
        raise SystemExit(f"archive sizes sum to {sum(sizes)}, but the metadata lists {total} images")
    return sizes


def metadata_names() -> list[str]:
    with gzip.open(METADATA_GZ, "rt", newline="") as f:
        return sorted(row["Image Index"] for row in csv.DictReader(f))


def archive_members(names: list[str]) -> list[list[str]]:
    """The names of each archive, in NIH's order."""
    bounds = np.cumsum([0, *archive_sizes(len(names))])
    return [names[a:b] for a, b in zip(bounds[:-1], bounds[1:])]


def noise_png(rng: np.random.Generator) -> bytes:
    """A distinct 64 px grey PNG (16 grey levels: about 2.5 kB)."""
    pixels = (rng.integers(0, 16, (IMAGE_SIDE, IMAGE_SIDE), dtype=np.uint8) * 17)
    out = io.BytesIO()
    Image.fromarray(pixels, mode="L").save(out, format="PNG", compress_level=1)
    return out.getvalue()


def write_archive(path: Path, names: list[str], seed: int) -> None:
    rng = np.random.default_rng(seed)
    partial = path.with_name(path.name + ".partial")
    with tarfile.open(partial, "w:gz", compresslevel=1) as tar:
        for name in names:
            data = noise_png(rng)
            info = tarfile.TarInfo(f"images/{name}")
            info.size, info.mtime = len(data), 1_500_000_000
            tar.addfile(info, io.BytesIO(data))
    os.replace(partial, path)


def build_mirror() -> None:
    """images_01..12.tar.gz, the metadata CSV and both split lists under data/bench-nih/mirror."""
    MIRROR.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    for number, names in enumerate(archive_members(metadata_names()), start=1):
        path = MIRROR / f"images_{number:02d}.tar.gz"
        if not path.exists():
            write_archive(path, names, seed=number)
        print(f"images_{number:02d}.tar.gz: {len(names):,} images, {names[0]} .. {names[-1]}", flush=True)
    for name in ("Data_Entry_2017_v2020.csv", *LISTS):
        with gzip.open(FIXTURES / f"{name}.gz") as source, open(MIRROR / name, "wb") as target:
            shutil.copyfileobj(source, target)
    print(f"mirror built in {time.perf_counter() - started:.0f} s: {du(MIRROR)}", flush=True)


def du(path: Path) -> str:
    return subprocess.run(["du", "-sh", str(path)], capture_output=True, text=True).stdout.split()[0]


@functools.cache
def serve(directory: Path) -> str:
    """Serve ``directory`` over HTTP on 127.0.0.1 from a background thread; its base URL."""
    handler = functools.partial(QuietHandler, directory=str(directory))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{httpd.server_address[1]}"


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class Steps:
    """Runs each step in its own process under /usr/bin/time and appends a row per step."""

    def __init__(self, archives: int, images: int):
        self.archives, self.images = archives, images
        self.date = datetime.now(UTC).strftime("%Y-%m-%dT%H:%MZ")
        RESULTS.mkdir(parents=True, exist_ok=True)
        self.csv = RESULTS / "nih_rehearsal.csv"

    def run(self, step: str, command: list[str], cwd: Path = ROOT, log: Path | None = None) -> str:
        timing = BENCH_DIR / "time.txt"
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.pop("REPORT_RETRAIN", None)
        with open(log or os.devnull, "w") as out:
            done = subprocess.run(["/usr/bin/time", "-f", "%e %M", "-o", str(timing), *command], cwd=cwd, env=env,
                                  stdout=out, stderr=subprocess.STDOUT)
        if done.returncode:
            shown = log.read_text()[-3000:] if log else ""
            raise SystemExit(f"step {step} failed ({done.returncode}): {' '.join(command)}\n{shown}")
        seconds, peak_kb = timing.read_text().split()[-2:]
        self.last_seconds = float(seconds)
        self.record(step, self.last_seconds, int(peak_kb) / 1024)
        return log.read_text() if log else ""

    def record(self, step: str, seconds: float, peak_mb: float | None, note: str = "") -> None:
        new = not self.csv.exists()
        with open(self.csv, "a", newline="") as f:
            writer = csv.writer(f)
            if new:
                writer.writerow(
                    ["date", "cores", "load1", "archives", "archive_images", "step", "seconds", "peak_mb", "note"]
                )
            writer.writerow([self.date, os.cpu_count(), f"{os.getloadavg()[0]:.1f}", self.archives, self.images, step,
                             f"{seconds:.1f}", "" if peak_mb is None else f"{peak_mb:.0f}", note])
        print(f"  {step:<32} {seconds:8.1f} s  {'' if peak_mb is None else f'{peak_mb:7.0f} MB'}  {note}", flush=True)


def fresh_project(dest: Path) -> Path:
    """A copy of the project (as bench/render_time.sh makes): the user's data/ and _output/ stay untouched."""
    dest.mkdir(parents=True)
    for name in ("report.qmd", "_multilabel.qmd", "_quarto.yml", "_environment", "R", "python", "scripts", "assets"):
        source = ROOT / name
        (shutil.copytree if source.is_dir() else shutil.copy2)(source, dest / name)
    (dest / ".venv").symlink_to(ROOT / ".venv")
    return dest


def console_steps(log: str) -> list[tuple[int, str]]:
    """(seconds since start, message) of each timed line '[mm:ss] message' of a render's console."""
    lines = []
    for line in log.splitlines():
        if len(line) > 8 and line[0] == "[" and line[3] == ":" and line[6] == "]":
            lines.append((int(line[1:3]) * 60 + int(line[4:6]), line[8:]))
    return lines


# What each console line closes, whatever the scale's numbers in it.
CONSOLE_STEPS = (
    (r"Report:", "start-up (R; parameters)"),
    (r"\d+ images \(", "download; extract; organize (+ Keras import)"),
    (r"Image cache:", "image cache (prepare)"),
    (r"File hashes", "file hashes"),
    (r"Split by patient", "split summary"),
    (r"Training (\w+)", r"\1: data tables and figures; model built"),
    (r"Reusing (\w+) results", r"\1: reading stored results"),
    (r"\s*(\w+) epoch", r"\1: training epoch (with validation AUROC)"),
    (r"(\w+): \d+ epochs in", r"\1: predictions + evaluation (bootstrap; DeLong)"),
    (r"Outputs in", "figures; subgroups; Grad-CAM; outputs"),
)


def console_label(message: str) -> str:
    for pattern, label in CONSOLE_STEPS:
        if match := re.match(pattern, message):
            return match.expand(label)
    return message[:40]


def record_console(steps: Steps, label: str, log: str, total: float) -> None:
    """One row per console line: the seconds since the line before it (what that step took),
    then what came after the last line (the rest of the document and pandoc)."""
    previous = 0
    for at, message in console_steps(log):
        steps.record(f"{label}: {console_label(message)}", at - previous, None, message[:150].replace(",", ";"))
        previous = at
    steps.record(f"{label}: after the last line (rest of the document; pandoc)", total - previous, None)


PY = str(PYTHON)
# Timed inside too: importing chestxray.preparation.dataset imports Keras (most of the process's time and memory).
HASHES = (
    "import resource, sys, time, pandas as pd; from chestxray.preparation.dataset import content_hashes; "
    "paths = pd.read_csv(sys.argv[1])['path'].tolist(); before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss; "
    "t = time.perf_counter(); content_hashes(paths, memo_path=sys.argv[2]); "
    "print('CALL', time.perf_counter() - t, before / 1024, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)"
)
PREDICT = (
    "import sys, pandas as pd; from chestxray.model.backend import import_keras; from chestxray.model.batches import "
    "CacheBatches; "
    "from chestxray.model.training import predict_probability; t = pd.read_csv(sys.argv[2]); t = t[t.split == 'test']; "
    "m = import_keras().saving.load_model(sys.argv[1]); "
    "p = predict_probability(m, CacheBatches(sys.argv[3], t.cache_row, t.label, 64)); print(len(p), 'test images "
    "predicted')"
)


def start_rehearsal(archives: int, name: str, label: str = ""):
    """The mirror (built once), a fresh work folder, the mirror served: (selection, work, url, steps)."""
    if not (MIRROR / "test_list.txt").exists():
        build_mirror()
    selection = f"1-{archives}" if archives > 1 else "1"
    images = sum(archive_sizes(112_120)[:archives])
    work = BENCH_DIR / f"{name}-{archives}"
    shutil.rmtree(work, ignore_errors=True)
    url = serve(MIRROR)
    print(f"{label}{archives} archive(s), {images:,} images; mirror {url}; load {os.getloadavg()[0]:.1f}", flush=True)
    return selection, work, url, Steps(archives, images)


def rehearse(archives: int, n_per_class: int) -> None:
    selection, work, url, steps = start_rehearsal(archives, "run")
    nih, task, cache = work / "nih", work / "nih" / "task", work / "cache"
    archives_dir = nih / "archives"
    cli = [PY, "-m", "chestxray"]
    steps.run("download + verify", [*cli, "download", "--dest", str(archives_dir), "--archives", selection,
                                     "--base-url", url, "--quiet"])
    steps.run("extract", [*cli, "extract", "--archives-dir", str(archives_dir), "--images", str(nih / "images")])
    test_list = ["--test-list", str(archives_dir / "test_list.txt")]
    steps.run("organize", [*cli, "organize", "--metadata", str(archives_dir / "Data_Entry_2017_v2020.csv"),
                           "--images", str(nih / "images"), "--out", str(task), "--positive", "Pneumothorax",
                           "--negative", "No Finding", "--match", "any", *test_list])
    steps.run("split", [*cli, "split", "--manifest", str(task / "manifest.csv"), *test_list])
    steps.run("prepare (64 px)", [*cli, "prepare", "--manifest", str(task / "manifest.csv"), "--size", str(IMAGE_SIDE),
                                  "--cache-dir", str(cache)])
    for kind in ("computed", "reused"):
        log = steps.run(f"file hashes ({kind})", [PY, "-c", HASHES, str(task / "manifest.csv"),
                                                  str(cache / "content-sha256.json")], log=work / f"hashes-{kind}.log")
        seconds, before, after = map(float, log.split("CALL")[-1].split())
        steps.record(f"file hashes ({kind}): the call", seconds, after, f"peak before the call {before:.0f} MB")

    project = fresh_project(work / "project")
    render = ["Rscript", "scripts/render.R", "--to", "html", "data=nih", f"nih_dir={nih}", f"nih_archives={selection}",
              f"nih_base_url={url}", f"n_per_class={n_per_class}", *RENDER_PARAMS]
    steps.record(
        "render parameters", 0, None, " ".join(render[4:]).replace(str(ROOT) + "/", "").replace(url, "<mirror>")
    )
    log = steps.run("render (first)", render, cwd=project, log=RESULTS / f"nih_rehearsal-{archives}-first.log")
    record_console(steps, "first render", log, steps.last_seconds)
    with open(project / "report.qmd", "a") as f:
        f.write("\nUna frase añadida al texto: solo cambia la prosa.\n")
    log = steps.run("render (prose edit)", render, cwd=project, log=RESULTS / f"nih_rehearsal-{archives}-prose.log")
    record_console(steps, "prose-edit render", log, steps.last_seconds)

    output = project / "_output"
    cache_path = next((project / "data" / "cache" / str(IMAGE_SIDE)).glob("*.npy"))
    steps.run("prediction (test split)", [PY, "-c", PREDICT, str(output / "model.keras"), str(output / "manifest.csv"),
                                          str(cache_path)])
    r_log = steps.run(
        "R steps script",
        ["Rscript", str(ROOT / "bench" / "nih_rehearsal_steps.R"), str(output), str(cache_path)],
        cwd=project,
        log=RESULTS / f"nih_rehearsal-{archives}-steps.log",
    )
    for line in r_log.splitlines():
        if line.startswith("STEP,"):
            _, name, seconds, peak, note = line.split(",", 4)
            steps.record(name, float(seconds), float(peak), note)
    steps.record("disk: extracted images", 0, None, du(nih / "images"))
    steps.record("disk: cache (64 px)", 0, None, du(project / "data" / "cache"))


def rehearse_multilabel(archives: int, n_per_class: int) -> None:
    """finding=all at archives 1..K: the report alone, from the mirror (download, extract, the split over the 14
    findings, the cache, hashes, one epoch, the per-finding evaluation, figures), its console's timed lines kept."""
    selection, work, url, steps = start_rehearsal(archives, "multilabel", "finding=all, ")
    project = fresh_project(work / "project")
    render = ["Rscript", "scripts/render.R", "--to", "html", "data=nih", "finding=all", f"nih_dir={work / 'nih'}",
              f"nih_archives={selection}", f"nih_base_url={url}", f"n_per_class={n_per_class}", *RENDER_PARAMS]
    steps.record("finding=all render parameters", 0, None,
                 " ".join(render[4:]).replace(str(ROOT) + "/", "").replace(url, "<mirror>"))
    log = steps.run("finding=all render (first)", render, cwd=project,
                    log=RESULTS / f"nih_rehearsal-all-{archives}-first.log")
    record_console(steps, "finding=all render", log, steps.last_seconds)
    steps.record("disk: cache (64 px), finding=all", 0, None, du(project / "data" / "cache"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("mirror", help="build the 12 archives and the metadata files")
    run = sub.add_parser("run", help="every step on archives 1..K")
    run.add_argument("archives", type=int, choices=range(1, 13), metavar="K")
    run.add_argument("--n-per-class", type=int, default=2000, help="the report's cap per class in train and validation")
    multilabel = sub.add_parser("multilabel", help="the report with finding=all on archives 1..K")
    multilabel.add_argument("archives", type=int, choices=range(1, 13), metavar="K")
    multilabel.add_argument("--n-per-class", type=int, default=100000,
                            help="training and validation keep at most 4 x this many images (default: all)")
    sub.add_parser("clean", help="delete data/bench-nih/")
    args = parser.parse_args()
    if args.command == "mirror":
        build_mirror()
    elif args.command == "run":
        rehearse(args.archives, args.n_per_class)
    elif args.command == "multilabel":
        rehearse_multilabel(args.archives, args.n_per_class)
    else:
        shutil.rmtree(BENCH_DIR, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
