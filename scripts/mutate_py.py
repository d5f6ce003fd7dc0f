"""Mutation testing of python/chestxray with mutmut 3, on the fast test tier.

    nice -n 10 .venv/bin/python scripts/mutate_py.py                        # the compute/train modules
    nice -n 10 .venv/bin/python scripts/mutate_py.py 'chestxray.preparation.split.*'    # some functions' mutants only
    nice -n 10 .venv/bin/python scripts/mutate_py.py --report               # table + CSV of the last run

mutmut names modules after their path and strips only a leading src/, so the
project is laid out for it in .mutmut/ (git-ignored): python/ copied to src/, the
rest of the project beside it, the settings from setup.cfg's [mutmut] section.
mutmut copies that into .mutmut/mutants/ and mutates the copy; there python/ is a
link to the mutated src/ and .venv a link to the project's, so the tests, R (which
puts <project>/python on PYTHONPATH) and every subprocess import the mutants.
Results: a table per module and bench/results/mutation_py.csv (one row per mutant).
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mutate_r import write_csv  # noqa: E402  (the R script's CSV writer, one for both)

ROOT = Path(__file__).resolve().parents[1]
STAGE = ROOT / ".mutmut"
DEFAULT_CSV = ROOT / "bench" / "results" / "mutation_py.csv"
MUTMUT = ROOT / ".venv" / "bin" / "mutmut"

# Mutants no test can tell from the original, with the reason (keys: mutmut's names, which
# number each function's mutants in order: re-check this list whenever the function changes).
SQUARE_CACHE = "caches are written only by build_cache, of load_grey's (size, size) images: shape[1] == shape[2]"
NEGATIVE_RESHAPE = ("numpy takes any negative size in reshape as the one inferred, as -1 "
                    "(checked: 1.26.4, the numpy1 set, and 2.4.1)")
SILENT_NONE = ("verbose=None: Keras 3.15 does add its progress-bar callback (None != 0), but ProgbarLogger and Progbar "
               "print only for verbose 1 or 2: nothing is written, as with 0")
LAST_PART = "the last part takes the folds left: its share is never read"
NAN_SPELLING = "float('NAN') is float('nan')"
PYDATASET_DEFAULT = "workers=1 and use_multiprocessing=False are keras.utils.PyDataset's defaults (None is falsy)"
INTEGER_ROWS = ("the rows reach the cache only through CacheReader.__getitem__, which casts them to int64 itself; "
                "elsewhere only their length is read")
FLOAT_LABELS = ("the batches' labels are read only by Keras, which casts them to the output's dtype in the loss and "
                "the accuracy metric, and rounds them to int32 for class weights")
FLOAT_STRETCH = "low and high are Python floats: the stretch is computed in float64 whatever the array's dtype"
SUM_BOUND = "both shares above 0 and their sum below 1 already keep each share below 1"
DRAINED_READERS = ("fit sees the same epochs with Keras' reader threads or processes: its enqueuer drains before "
                   "on_epoch_end reshuffles (tests/python/model/test_batches.py: "
                   "test_fit_trains_each_epoch_on_one_seeded_permutation_of_the_rows passes with either)")
DEAD_MAP = "a map whose peak is 0 is all zeros (ReLU): divided by 1 or 2 it stays 0, without a warning"
UTF8_SPELLING = "'UTF-8' and 'utf-8' name one codec (codecs.lookup normalises the name): the same bytes"
OWN_PACKAGE = ("the clause leaves out only an __init__.py's own folder, whose name _module_file resolves back to "
               "that same __init__.py (a name reaches X/__init__.py only when X.py does not exist), already seen")
ROWS_THROUGH_INT = ("each row number passes through int(row) before its offset is computed: an index array of "
                    "numpy's default dtype (int64, float64 from R, bool) gives the same integers, truncated toward "
                    "zero as the int64 cast truncates (the float rows are pinned by a test)")
FLOATX = ("the project sets no dtype policy, so every model's outputs are float32, Keras' floatx: a tensor made or "
          "cast with no dtype is floatx, the same float32 as y_pred's")
FLOAT32_THRESHOLD = ("under NumPy 1 (the set this machine's reticulate 1.28 installs) a float32 probability is "
                     "compared with a Python float in float64 (value-based casting), as after the cast; under NumPy 2 "
                     "the comparison would be float32's: test_a_multilabel_probability_is_compared_with_its_threshold_"
                     "in_float64 kills it there")
AUTO_NAME = ("a Keras Loss given no name takes its class name in snake case, finding_weighted_cross_entropy: the "
             "name the constructor passes")
EQUIVALENT: dict[str, str] = {
    "chestxray.model.explain.x_grad_cam_frame__mutmut_11": SQUARE_CACHE,
    "chestxray.model.explain.x_grad_cam_frame__mutmut_28": SQUARE_CACHE,
    "chestxray.model.explain.x_grad_cam_frame__mutmut_16": "the cache reader casts rows to int64 itself",
    "chestxray.model.explain.x_grad_cam_frame__mutmut_18": "the cache reader casts rows to int64 itself",
    "chestxray.model.explain.x_grad_cam__mutmut_21":
        "every caller passes to_model_input's float32 (the cast is a no-op)",
    "chestxray.model.explain.x_grad_cam__mutmut_23":
        "every caller passes to_model_input's float32 (the cast is a no-op)",
    "chestxray.model.explain.x_grad_cam__mutmut_26": "training=None is Keras' inference mode outside fit, as False",
    "chestxray.model.explain.x_grad_cam__mutmut_28":
        "no training argument is Keras' inference mode outside fit, as False",
    "chestxray.model.explain.x_grad_cam__mutmut_31":
        "the bias does not change the logit's gradient with respect to the feature maps",
    "chestxray.model.explain.x_grad_cam__mutmut_45": "logits are 2-D: shape[+1] is shape[1], the class axis",
    "chestxray.model.explain.x_grad_cam__mutmut_80": "bilinear is tf.image.resize's default method",
    "chestxray.model.explain.x_grad_cam__mutmut_99": NEGATIVE_RESHAPE,
    "chestxray.model.explain.x_grad_cam__mutmut_102": NEGATIVE_RESHAPE,
    "chestxray.model.explain.x_grad_cam__mutmut_111": DEAD_MAP,
    "chestxray.model.explain.x_grad_cam__mutmut_122": DEAD_MAP,
    "chestxray.model.losses.xǁFindingWeightedCrossEntropyǁ__init____mutmut_3": AUTO_NAME,
    "chestxray.model.losses.xǁFindingWeightedCrossEntropyǁ__init____mutmut_4": AUTO_NAME,
    "chestxray.model.losses.xǁFindingWeightedCrossEntropyǁcall__mutmut_3": FLOATX,
    "chestxray.model.losses.xǁFindingWeightedCrossEntropyǁcall__mutmut_5": FLOATX,
    "chestxray.model.losses.xǁFindingWeightedCrossEntropyǁcall__mutmut_8": FLOATX,
    "chestxray.model.losses.xǁFindingWeightedCrossEntropyǁcall__mutmut_39":
        "the outputs are 2-D (images x findings): axis +1 is axis -1",
    "chestxray.model.training.x_predict_findings__mutmut_10": SILENT_NONE,
    "chestxray.model.predict.x_scored_row__mutmut_14": FLOAT32_THRESHOLD,
    "chestxray.model.predict.x_scored_row__mutmut_16": FLOAT32_THRESHOLD,
    "chestxray.model.augment.x_affine_for__mutmut_34": "a scalar centre broadcasts to the same point (c, c)",
    "chestxray.model.augment.x_augment_batch__mutmut_4": "batches hold square images: shape[1] == shape[2]",
    "chestxray.model.augment.x_augment_batch__mutmut_25": "mode='constant' is ndimage.affine_transform's default",
    "chestxray.model.augment.x_augment_batch__mutmut_26": "cval=0.0 is ndimage.affine_transform's default",
    "chestxray.preparation.multilabel.x_nih_images_on_disk__mutmut_13":
        "fetch_nih_images' show_progress defaults to True, the value passed",
    "chestxray.preparation.multilabel.x_nih_images_on_disk__mutmut_29": (
        "fetch_nih_images extracts at least one archive (parse_selection refuses an empty selection) and "
        "extract_archive makes the images folder first, so it always exists here"),
    "chestxray.model.predict.x_predict_files__mutmut_56": SILENT_NONE,
    "chestxray.model.predict.x_predict_files__mutmut_23":
        "every saved model ends in a Dense layer: output_shape is (None, outputs), so index +1 is index -1",
    "chestxray.model.predict.x_predict_files__mutmut_106":
        "csv writes None as an empty field, as the empty string restval gives",
    "chestxray.model.predict.x_predict_files__mutmut_109": "the empty string is DictWriter's default restval",
    "chestxray.support.r_frames.x_text_to_object__mutmut_17": "axis=0 is DataFrame.set_axis's default",
    "chestxray.preparation.split.x_group_folds__mutmut_35": "numpy reads a sort kind by its first letter, in any case",
    "chestxray.preparation.split.x__best_fold__mutmut_2": (
        "classes come from np.unique of the labels, so every class total is at "
        "least 1 and every spread finite: fold 0 always replaces the start"
    ),
    "chestxray.preparation.split.x__best_fold__mutmut_13": (
        "< or <= at exactly numpy's isclose tolerance: a float equality that "
        "spreads of image counts do not produce (equal spreads differ by 0)"
    ),
    "chestxray.model.training.xǁConsoleProgressǁon_epoch_end__mutmut_26": NAN_SPELLING,
    "chestxray.model.training.xǁConsoleProgressǁon_epoch_end__mutmut_35": NAN_SPELLING,
    "chestxray.model.training.xǁConsoleProgressǁon_epoch_end__mutmut_44": NAN_SPELLING,
    "chestxray.model.training.x_predict_probability__mutmut_7": SILENT_NONE,
    "chestxray.model.training.x_positive_probability__mutmut_17": NEGATIVE_RESHAPE,
    "chestxray.model.batches.xǁCacheBatchesǁ__init____mutmut_6": PYDATASET_DEFAULT,
    "chestxray.model.batches.xǁCacheBatchesǁ__init____mutmut_7": PYDATASET_DEFAULT,
    "chestxray.model.batches.xǁCacheBatchesǁ__init____mutmut_8": PYDATASET_DEFAULT,
    "chestxray.model.batches.xǁCacheBatchesǁ__init____mutmut_9": DRAINED_READERS,
    "chestxray.model.batches.xǁCacheBatchesǁ__init____mutmut_10": DRAINED_READERS,
    "chestxray.model.batches.xǁCacheBatchesǁ__init____mutmut_15": INTEGER_ROWS,
    "chestxray.model.batches.xǁCacheBatchesǁ__init____mutmut_17": INTEGER_ROWS,
    "chestxray.model.batches.xǁCacheBatchesǁ__init____mutmut_20": FLOAT_LABELS,
    "chestxray.model.batches.xǁCacheBatchesǁ__init____mutmut_22": FLOAT_LABELS,
    "chestxray.preparation.images.x_to_grey8__mutmut_4": FLOAT_STRETCH,
    "chestxray.preparation.images.x_to_grey8__mutmut_6": FLOAT_STRETCH,
    "chestxray.results.x_key_of__mutmut_5": (
        "json's encoder reads ensure_ascii by truth value (json.encoder: if self.ensure_ascii): None writes "
        "letters unescaped, as False (checked: Python 3.11, the same text)"
    ),
    "chestxray.results.x_key_of__mutmut_6": (
        "json's encoder reads allow_nan by truth value (floatstr's 'if not allow_nan', the C encoder's 'p' "
        "argument): None refuses NaN and infinities, as False (checked: the same ValueError)"
    ),
    "chestxray.results.x_key_of__mutmut_20": UTF8_SPELLING,
    "chestxray.results.x_table_digest__mutmut_11": (
        "pandas reads to_csv's index by truth value (CSVFormatter: if self.index): None writes no index "
        "column, as False (checked: pandas 2.3.3, the same text)"
    ),
    "chestxray.results.x_table_digest__mutmut_21": UTF8_SPELLING,
    "chestxray.results.x_module_files__mutmut_44": OWN_PACKAGE,
    "chestxray.results.x_module_files__mutmut_45": OWN_PACKAGE,
    "chestxray.results.x__chestxray_imports__mutmut_9": UTF8_SPELLING,
    "chestxray.preparation.split.x__part_shares__mutmut_6": SUM_BOUND,
    "chestxray.preparation.split.x__part_shares__mutmut_7": SUM_BOUND,
    "chestxray.preparation.split.x__part_shares__mutmut_10": SUM_BOUND,
    "chestxray.preparation.split.x__part_shares__mutmut_11": SUM_BOUND,
    "chestxray.preparation.split.x__part_shares__mutmut_22": LAST_PART,
    "chestxray.preparation.split.x__part_shares__mutmut_23": LAST_PART,
    "chestxray.preparation.split.x__part_shares__mutmut_24": LAST_PART,
    "chestxray.preparation.split.x_group_folds__mutmut_46": (
        "the guard replaces a column's total by 1 where it is not above 0 (> 0) or not above 1 (> 1): the totals "
        "are whole counts, so they differ only at a total of exactly 1, replaced by 1"
    ),
    "chestxray.preparation.split.x_group_folds__mutmut_49": (
        "an empty column's counts are 0 in every fold: divided by 1 or by 2 its shares stay 0"
    ),
    "chestxray.preparation.split.x__carve_out_shares__mutmut_11": LAST_PART,
    "chestxray.preparation.split.x__carve_out_shares__mutmut_12": LAST_PART,
    "chestxray.preparation.split.x_multilabel_counts__mutmut_2": (
        "the flags only ever meet numpy through np.add.at into float arrays made by np.zeros (group_folds, "
        "_assign_by_counts): label_matrix's 0/1 integers, read without the float cast, add the same counts"
    ),
    "chestxray.preparation.cache.x_build_cache__mutmut_53": (
        "the stale manifest left in place during a rebuild is never trusted for other bytes: it is checked file "
        "by file (size and SHA-256), the rebuild writes the same key's files from the same inputs (the key covers "
        "each image's path, size and mtime, the decoder and the size), and the new manifest replaces it last; a "
        "file it still matches is byte for byte what a whole build writes, so no damaged cache reads as whole"
    ),
    "chestxray.preparation.cache.x__load_status__mutmut_13": (
        "numpy stores None into a bool array as False (np.array([True])[0] = None gives False): the same mask"
    ),
    "chestxray.preparation.cache.xǁCacheReaderǁ__getitem____mutmut_4": ROWS_THROUGH_INT,
    "chestxray.preparation.cache.xǁCacheReaderǁ__getitem____mutmut_6": ROWS_THROUGH_INT,
}


def git_files(root: Path) -> list[str]:
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=root, check=True,
                            capture_output=True, text=True).stdout.split("\0")
    return [name for name in listed if name and (root / name).is_file()]


def lay_out_stage(all_modules: bool) -> None:
    """A fresh .mutmut/: the project with python/ as src/, and mutants/ prepared with its links."""
    shutil.rmtree(STAGE, ignore_errors=True)
    for name in git_files(ROOT):
        target = STAGE / re.sub(r"^python/", "src/", name)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    settings = (STAGE / "setup.cfg").read_text(encoding="utf-8")
    if all_modules:  # drop only_mutate: every module of the package
        settings = re.sub(r"\nonly_mutate =\n(    .*\n)+", "\n", settings)
    # What the tests read beside the package (R/, report.qmd, .github/, ...), whatever the branch holds.
    top_level = sorted({name.split("/")[0] for name in git_files(ROOT)} - {"python", "tests", "setup.cfg"})
    settings = settings.replace("[mutmut]\n", "[mutmut]\nalso_copy =\n" + "".join(f"    {n}\n" for n in top_level), 1)
    (STAGE / "setup.cfg").write_text(settings, encoding="utf-8")
    mutants = STAGE / "mutants"
    mutants.mkdir()
    (mutants / "python").symlink_to("src")
    # mutmut copies only the package into mutants/src/; the files beside it (pyproject.toml) are read by tests.
    for beside in (STAGE / "src").iterdir():
        if beside.is_file():
            (mutants / "src").mkdir(exist_ok=True)
            shutil.copy2(beside, mutants / "src" / beside.name)
    (mutants / ".venv").symlink_to(ROOT / ".venv")


def refresh_tests() -> None:
    """The project's tests/ into the stage and its mutants/ (links followed, as lay_out_stage copies
    them): mutmut keeps every verdict, maps the new tests to functions, and a rerun of the survivors
    by name then meets the new tests."""
    for target in (STAGE / "tests", STAGE / "mutants" / "tests"):
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(ROOT / "tests", target, ignore=shutil.ignore_patterns("__pycache__"))


def run_mutmut(names: list[str], max_children: int) -> int:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MUTANT_UNDER_TEST")}
    return subprocess.run([str(MUTMUT), "run", "--max-children", str(max_children), *names], cwd=STAGE,
                          env=env).returncode


def mutant_results() -> list[dict]:
    """One row per mutant of the last run: module, function, mutant, status, and the diff of each survivor."""
    shown = subprocess.run([str(MUTMUT), "results", "--all", "true"], cwd=STAGE, check=True, capture_output=True,
                           text=True).stdout
    rows = []
    for name, status in re.findall(r"^\s+(\S+__mutmut_\d+): (.+)$", shown, re.MULTILINE):
        module, _, function = name.partition("__mutmut_")[0].rpartition(".")
        equivalent = name in EQUIVALENT and status == "survived"  # a killed mutant was not equivalent after all
        row = {"module": module, "function": function.removeprefix("x_").replace("ǁ", "."), "mutant": name,
               "status": "equivalent" if equivalent else status,
               "equivalent_because": EQUIVALENT[name] if equivalent else "", "diff": ""}
        if status == "survived":
            diff = subprocess.run([str(MUTMUT), "show", name], cwd=STAGE, capture_output=True, text=True).stdout
            row["diff"] = " | ".join(
                line for line in diff.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")
            )
        rows.append(row)
    return rows


def earlier_verdicts(rows: list[dict], path: Path) -> list[dict]:
    """A run restricted to some mutants leaves the others "not checked": each of those takes its row from
    the results already in ``path``, so a partial run updates the record instead of blanking it (the
    unchanged source of a function keeps its mutants' numbers)."""
    if not path.exists():
        return rows
    with path.open(newline="", encoding="utf-8") as existing:
        earlier = {row["mutant"]: row for row in csv.DictReader(existing)}
    return [earlier.get(row["mutant"], row) if row["status"] == "not checked" else row for row in rows]


STATUSES = ["killed", "timeout", "survived", "no tests", "equivalent"]


def summary_table(rows: list[dict]) -> str:
    """Markdown table per module; score = (killed + timeout) / (all but equivalent and not run)."""
    lines = ["| module | " + " | ".join(STATUSES) + " | other | score |", "|---" * (len(STATUSES) + 3) + "|"]
    for module in sorted({r["module"] for r in rows}) + ["all"]:
        counts = Counter(r["status"] for r in rows if module in ("all", r["module"]))
        other = sum(n for s, n in counts.items() if s not in STATUSES)
        counted = sum(counts[s] for s in STATUSES if s != "equivalent")
        score = f"{100 * (counts['killed'] + counts['timeout']) / counted:.0f} %" if counted else "-"
        lines.append(f"| {module} | " + " | ".join(str(counts[s]) for s in STATUSES) + f" | {other} | {score} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "names", nargs="*", help="mutmut mutant names or patterns, e.g. 'chestxray.preparation.split.*'"
    )
    parser.add_argument("--max-children", type=int, default=2, help="mutants tested at once (default 2)")
    parser.add_argument("--resume", action="store_true", help="keep .mutmut/ and its results (same code only)")
    parser.add_argument("--all-modules", action="store_true", help="every module, not only setup.cfg's only_mutate")
    parser.add_argument("--refresh-tests", action="store_true",
                        help="with --resume: copy tests/ into .mutmut/ first (after adding tests; source unchanged)")
    parser.add_argument("--report", action="store_true", help="only print and write the last run's results")
    parser.add_argument(
        "--csv", type=Path, default=DEFAULT_CSV, help=f"results (default {DEFAULT_CSV.relative_to(ROOT)})"
    )
    args = parser.parse_args(argv)
    if not MUTMUT.exists():
        raise SystemExit(f"mutate_py: {MUTMUT} is missing: .venv/bin/pip install -r requirements-dev.txt")
    started = time.monotonic()
    if not args.report:
        if not args.resume:
            lay_out_stage(args.all_modules)
        elif args.refresh_tests:
            refresh_tests()
        code = run_mutmut(args.names, args.max_children)
        if code != 0:
            raise SystemExit(f"mutate_py: mutmut run exited with {code}")
    rows = mutant_results()
    if not rows:
        raise SystemExit("mutate_py: mutmut reports no mutants")
    rows = earlier_verdicts(rows, args.csv)
    write_csv(rows, args.csv)
    print(summary_table(rows))
    print(f"{len(rows)} mutants in {(time.monotonic() - started) / 60:.1f} min; results in {args.csv}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
