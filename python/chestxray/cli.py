"""Command line: ``python -m chestxray <command> --help``.

The NIH pipeline, step by step (each step resumes and can be re-run):

  download  -> data/nih/archives/ (images_01.tar.gz ...; from a mirror, also its metadata and split lists)
  extract   -> data/nih/images/*.png (never modified afterwards)
  organize  -> data/nih/<task>/manifest.csv + class folders of hard links
  split     -> re-split a manifest (official lists, or seeded patient-wise)
  prepare   -> data/cache/<size>/<key>.npy (uint8, streamed during training)
  predict   -> probabilities for new images with a trained model.keras
"""

from __future__ import annotations

import argparse
import inspect
import logging
import signal
import sys
import threading
from pathlib import Path

from chestxray import DEFAULT_FINDING, NEGATIVE_CLASS
from chestxray.preparation.cache import CacheBuildError, build_cache, require_usable, write_failed
from chestxray.preparation.images import MAX_SIZE, MIN_SIZE, ImageReadError
from chestxray.preparation.organize import ManifestError, MissingImagesError, OrganizeError, organize, read_manifest
from chestxray.preparation.split import TEST_SHARE, VALIDATION_SHARE, SplitError, official_split, patient_split
from chestxray.sources.download import METADATA_FILES, DownloadError, download_all, parse_selection, remote_files
from chestxray.sources.extract import UnsafeArchiveError, extract_all
from chestxray.sources.folders import DatasetError
from chestxray.sources.metadata import MATCHES, MetadataError, read_image_list
from chestxray.sources.nih import locate_metadata, official_metadata, packaged_folder
from chestxray.sources.phantoms import write_demo_dataset
from chestxray.support.atomic import atomic_path
from chestxray.support.report_params import report_defaults

# ValueError covers the named errors of every module (MetadataError, ManifestError, ImageReadError, ...);
# OSError the file system's own (missing, unreadable, full).
USER_ERRORS = (ValueError, DownloadError, UnsafeArchiveError, MetadataError, MissingImagesError, DatasetError,
               SplitError, ImageReadError, ManifestError, OrganizeError, CacheBuildError, OSError)


class Terminated(BaseException):
    """SIGTERM arrived: unwind like Ctrl-C, so worker processes are stopped and progress kept."""


def _on_sigterm(signum, frame) -> None:
    raise Terminated


def _demo(args: argparse.Namespace) -> int:
    out = write_demo_dataset(args.out, n_per_class=args.n_per_class, seed=args.seed, size=args.size)
    print(f"wrote {2 * args.n_per_class} phantom radiographs to {out}")
    return 0


def _download(args: argparse.Namespace) -> int:
    dest = Path(args.dest)
    archives = parse_selection(args.archives)
    remotes = remote_files(archives, args.base_url, with_metadata=args.metadata is None and args.base_url is not None)
    if args.metadata:  # before any download: a wrong path stops at once
        dest.mkdir(parents=True, exist_ok=True)
        locate_metadata(dest, args.metadata)  # copies it (and the split lists beside it) next to the archives
    paths = download_all(remotes, dest, jobs=args.jobs, retries=args.retries, show_progress=not args.quiet)
    if not args.metadata:
        print(_metadata_note(args.base_url, dest), file=sys.stderr)
    print(f"{len(paths)} file(s) ready in {dest}")
    return 0


def _metadata_note(base_url: str | None, dest: Path) -> str:
    """Which metadata organize will use after a download without --metadata."""
    if base_url is None:
        return (f"note: NIH's metadata and split lists ship with this package ({packaged_folder()}): "
                "organize uses them when --metadata is not given")
    return (f"note: the mirror's metadata and split lists are in {dest}; organize uses the package's copy of NIH's "
            f"unless given --metadata {dest / METADATA_FILES[0]}")


def _extract(args: argparse.Namespace) -> int:
    archives = sorted(Path(args.archives_dir).glob("images_*.tar.gz"))
    if not archives:
        raise FileNotFoundError(f"no images_*.tar.gz archives in '{args.archives_dir}'")
    counts = extract_all(archives, args.images)
    for name, count in counts.items():
        print(f"{name}: {count} images")
    print(f"total: {sum(counts.values())} images in {args.images}")
    return 0


def _organize(args: argparse.Namespace) -> int:
    metadata, test_list = args.metadata, args.test_list
    if metadata is None:  # the package's checked copy of NIH's metadata, with NIH's official test list
        packaged = official_metadata()
        metadata, test_list = packaged.metadata, test_list or packaged.test_list
    report = organize(
        metadata, args.images, args.out, positive=args.positive, negative=args.negative, match=args.match,
        strict=args.strict, test_list=None if args.random_split else test_list, seed=args.seed,
        validation=args.validation, test=args.test,
    )
    print(report)
    return 0


def _split(args: argparse.Namespace) -> int:
    manifest = read_manifest(args.manifest, required=("image", "patient_id", "label"))
    if args.test_list and not args.random_split:
        manifest = official_split(manifest, read_image_list(args.test_list), args.seed, args.validation)
    else:
        manifest = patient_split(manifest, args.seed, args.validation, args.test)
    with atomic_path(args.manifest) as tmp:
        manifest.to_csv(tmp, index=False)
    print(manifest.groupby(["split", "label"]).size().rename("images").to_string())
    return 0


def _prepare(args: argparse.Namespace) -> int:
    manifest = read_manifest(args.manifest, required=("path",))
    cache = build_cache(manifest["path"].tolist(), args.size, args.cache_dir, workers=args.workers)
    if not cache.failed_csv.exists():  # a cache finished before the list was written with it
        write_failed(cache.failed, cache.failed_csv)
    require_usable(cache)
    print(f"{int(cache.valid.sum())} images cached in {cache.path}"
          + (f"; {len(cache.failed)} unreadable, listed in {cache.failed_csv}" if cache.failed else ""))
    return 0


def _predict(args: argparse.Namespace) -> int:
    from chestxray.model.predict import predict_files

    done, failed = predict_files(args.model, args.paths, args.out)
    print(f"{done} image(s) scored -> {args.out}")
    if failed:
        print(f"error: {failed} file(s) could not be read; their rows in {args.out} say why", file=sys.stderr)
        return 1
    return 0


def image_side(text: str) -> int:
    """argparse type of --size: whole pixels within the decoder's range."""
    try:
        size = int(text)
    except ValueError:
        size = None
    if size is None or not MIN_SIZE <= size <= MAX_SIZE:
        raise argparse.ArgumentTypeError(
            f"must be a whole number of pixels from {MIN_SIZE} to {MAX_SIZE}, not '{text}'"
        )
    return size


def positive_count(text: str) -> int:
    try:
        count = int(text)
    except ValueError:
        count = 0
    if count < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, not '{text}'")
    return count


# demo --size is the side phantoms are drawn at, not the report's image_size (the side images are resized
# to for training, prepare --size): the report draws its demo at write_demo_dataset's own size, so does demo.
PHANTOM_SIZE = inspect.signature(write_demo_dataset).parameters["size"].default


def build_parser() -> argparse.ArgumentParser:
    # Options that mean what a report parameter means default to the report's value (report.qmd's params).
    report = report_defaults()
    parser = argparse.ArgumentParser(prog="python -m chestxray", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="write synthetic phantom radiographs in class folders")
    demo.add_argument("--out", required=True, help="output folder (Pneumothorax/, No-Finding/, metadata.csv); "
                      "phantoms show a pneumothorax-like sign only")
    demo.add_argument("--n-per-class", type=int, default=report["n_per_class"],
                      help="phantoms per class (default %(default)s, as the report's n_per_class)")
    demo.add_argument("--seed", type=int, default=report["seed"], help="default %(default)s, as the report's seed")
    demo.add_argument("--size", type=int, default=PHANTOM_SIZE, help="side in pixels the phantoms are drawn at "
                      "(default %(default)s, as the report's demo; training resizes them to image_size)")
    demo.set_defaults(run=_demo)

    download = commands.add_parser("download", help="download NIH archives (resumable, verified)")
    download.add_argument("--dest", default="data/nih/archives", help="folder for the archives")
    download.add_argument("--archives", default="all", help="which of the 12 archives, e.g. 1 or 1,2,5-7 (default all, "
                          "about 42 GB; the report's nih_archives defaults to 1)")
    download.add_argument("--base-url", help="mirror holding images_NN.tar.gz and, unless --metadata is given, "
                          "NIH's metadata and split lists, fetched too")
    download.add_argument(
        "--metadata", help="a Data_Entry_2017_v2020.csv you already have (split lists beside it are used too)"
    )
    download.add_argument("--jobs", type=int, default=2, help="parallel downloads")
    download.add_argument("--retries", type=int, default=6, help="retries per file on time-outs and 5xx")
    download.add_argument("--quiet", action="store_true", help="no progress bars")
    download.set_defaults(run=_download)

    extract = commands.add_parser("extract", help="safely extract downloaded archives into one images folder")
    extract.add_argument("--archives-dir", default="data/nih/archives")
    extract.add_argument("--images", default="data/nih/images")
    extract.set_defaults(run=_extract)

    def add_split_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--test-list", help="NIH test_list.txt: official patient-wise test set (default when given)")
        p.add_argument(
            "--random-split", action="store_true", help="seeded patient-wise split instead of the official lists"
        )
        p.add_argument(
            "--validation",
            type=float,
            default=VALIDATION_SHARE,
            help="share of each class's images for validation, whole patients at a time (default %(default)s)",
        )
        p.add_argument("--test", type=float, default=TEST_SHARE,
                       help="share of each class's images for test, whole patients at a time, when no official "
                       "test list is used (default %(default)s)")
        p.add_argument("--seed", type=int, default=report["seed"], help="default %(default)s, as the report's seed")

    org = commands.add_parser("organize", help="manifest.csv and class folders (hard links) for one finding")
    org.add_argument("--metadata", help="Data_Entry_2017_v2020.csv (or NIH's 2017 file), .gz accepted; default: the "
                     "package's copy of NIH's metadata, with NIH's official test list")
    org.add_argument("--images", required=True, help="folder of extracted images")
    org.add_argument("--out", required=True, help="task folder: manifest.csv and class folders")
    org.add_argument("--positive", default=DEFAULT_FINDING, help="one of the 14 findings (default %(default)s)")
    org.add_argument(
        "--negative", default=NEGATIVE_CLASS, help="'No Finding' or 'rest' (all images without the finding)"
    )
    org.add_argument(
        "--match",
        default=report["match"],
        choices=MATCHES,
        help="the finding among an image's labels (any) or as "
        "its only label (exact, the original's choice); default %(default)s, as the report's match",
    )
    org.add_argument("--strict", action="store_true", help="fail if any listed image is missing from disk")
    add_split_options(org)
    org.set_defaults(run=_organize)

    split = commands.add_parser("split", help="re-split a manifest by patient")
    split.add_argument("--manifest", required=True)
    add_split_options(split)
    split.set_defaults(run=_split)

    prepare = commands.add_parser("prepare", help="decode and resize a manifest's images into a uint8 cache")
    prepare.add_argument("--manifest", required=True)
    prepare.add_argument(
        "--size",
        type=image_side,
        default=report["image_size"],
        help=f"image side in pixels, {MIN_SIZE} to {MAX_SIZE} (default %(default)s, as the report's image_size)",
    )
    prepare.add_argument("--cache-dir", default="data/cache")
    prepare.add_argument("--workers", type=positive_count, default=None, help="processes (default: all cores)")
    prepare.set_defaults(run=_prepare)

    predict = commands.add_parser("predict", help="probability and class for new images with a saved model")
    predict.add_argument("--model", required=True, help="model.keras written by the report (model-card.json beside it)")
    predict.add_argument("--out", required=True, help="CSV: path, probability, predicted_class, error")
    predict.add_argument(
        "paths", nargs="+", help="image files or folders (PNG/JPEG, any size; grey, RGB, RGBA, 16-bit)"
    )
    predict.set_defaults(run=_predict)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    args = build_parser().parse_args(argv)
    in_main_thread = threading.current_thread() is threading.main_thread()  # signal handlers live there only
    previous = signal.signal(signal.SIGTERM, _on_sigterm) if in_main_thread else None
    try:
        return args.run(args)
    except USER_ERRORS as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, Terminated) as stop:
        print("interrupted: re-run the same command to resume", file=sys.stderr)
        return 130 if isinstance(stop, KeyboardInterrupt) else 128 + signal.SIGTERM
    finally:
        if in_main_thread:  # None: a handler installed outside Python, which cannot be restored
            signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)
