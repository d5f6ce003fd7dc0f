"""Mutation testing for the R code (no R mutation package is installable here).

A declared list of realistic edits to R/*.R, each applied alone to a temporary copy
of the project (never to the working tree), then the fast tests that call that R
file's functions are run on the copy; a failing test kills the mutant.

    .venv/bin/python scripts/mutate_r.py                  # all mutants, table + CSV
    .venv/bin/python scripts/mutate_r.py --check          # only check every edit still applies
    .venv/bin/python scripts/mutate_r.py --only evaluate  # ids or files containing this text

An edit whose old text is not found exactly once in its file stops the script before
anything runs: when the code changes, update the edit (or drop it) rather than
measuring a silently different mutant. Mutants marked `equivalent` (a reason given)
are not run: no test can tell them from the original. Results go to
bench/results/mutation_r.csv (one row per mutant; diff two runs to compare).
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CSV = ROOT / "bench" / "results" / "mutation_r.csv"


@dataclass(frozen=True)
class Mutant:
    id: str
    file: str
    old: str
    new: str
    description: str
    equivalent: str = ""  # why no test can kill it; such mutants are not run


# The tests that guard an R file follow from the layouts: R/<role>/<file>.R is guarded by the fast tests
# of tests/r/<role>/ (tests/ is laid out by what it guards). The run stops at the first failure (-x).
def role_tests(r_file: str) -> list[str]:
    return [f"tests/r/{Path(r_file).parent.name}/"]


TESTS_BY_FILE = {path.relative_to(ROOT).as_posix(): role_tests(path.relative_to(ROOT).as_posix())
                 for path in sorted((ROOT / "R").glob("*/*.R"))}

# The files by the letter of their mutants' ids (OP for O, which reads like a zero).
E, T, M, D = "R/evaluate/metrics.R", "R/model/train.R", "R/model/build.R", "R/text/data.R"
OP = "R/evaluate/operating_point.R"
OUT = "R/run/outputs.R"
ML = "R/evaluate/multilabel.R"
MUTANTS = [
    # R/evaluate/metrics.R: operating point
    Mutant("E01", E, 'if (rule == "youden") {', 'if (rule != "youden") {', "threshold rule: youden branch inverted"),
    Mutant("E02", E, "points$sensitivity >= target_sensitivity", "points$sensitivity > target_sensitivity",
           "target sensitivity: >= becomes >"),
    Mutant("E03", E, "as.numeric(max(points$threshold))", "as.numeric(min(points$threshold))",
           "sensitivity rule: lowest instead of highest threshold"),
    Mutant("E04", E, 'levels = c(0, 1), direction = "<"', 'levels = c(0, 1), direction = ">"',
           "ROC direction flipped"),
    Mutant("E05", E, 'best.method = "youden"', 'best.method = "closest.topleft"',
           "Youden replaced by closest-to-top-left"),
    # confusion matrix and threshold metrics
    Mutant("E06", E, "predicted <- as.integer(probabilities >= threshold)",
           "predicted <- as.integer(probabilities > threshold)", "confusion counts: >= threshold becomes >"),
    Mutant("E07", E, "tp = sum(predicted == 1 & labels == 1), fp = sum(predicted == 1 & labels == 0)",
           "tp = sum(predicted == 1 & labels == 0), fp = sum(predicted == 1 & labels == 1)",
           "confusion cells swapped: tp <-> fp"),
    Mutant("E08", E, "tn = sum(predicted == 0 & labels == 0), fn = sum(predicted == 0 & labels == 1)",
           "tn = sum(predicted == 0 & labels == 1), fn = sum(predicted == 0 & labels == 0)",
           "confusion cells swapped: tn <-> fn"),
    Mutant("E09", E, "if (a + b > 0) a / (a + b) else NA_real_", "if (a + b > 0) a / (a + b) else 0",
           "ratio of empty cells: 0 instead of NA"),
    Mutant("E10", E, "auroc_ci95_delong = interval[c(1, 3)]", "auroc_ci95_delong = interval[c(1, 2)]",
           "DeLong interval: upper bound replaced by the estimate"),
    Mutant("E11", E, "accuracy = (counts$tp + counts$tn) / length(labels)",
           "accuracy = (counts$tp + counts$fp) / length(labels)", "accuracy counts fp instead of tn"),
    Mutant("E12", E, "sensitivity = ratio(counts$tp, counts$fn),\n    specificity = ratio(counts$tn, counts$fp),",
           "sensitivity = ratio(counts$tn, counts$fp),\n    specificity = ratio(counts$tp, counts$fn),",
           "sensitivity and specificity swapped"),
    Mutant("E13", E, "ppv = ratio(counts$tp, counts$fp)", "ppv = ratio(counts$tp, counts$fn)",
           "PPV computed as sensitivity"),
    Mutant("E14", E, "npv = ratio(counts$tn, counts$fn)", "npv = ratio(counts$tn, counts$fp)",
           "NPV computed as specificity"),
    Mutant("E15", E, "prevalence = mean(labels == 1)", "prevalence = mean(labels == 0)",
           "prevalence of the negative class"),
    Mutant("E16", E, "brier = mean((probabilities - labels)^2)", "brier = mean(abs(probabilities - labels))",
           "Brier score as mean absolute error"),
    Mutant("E17", E, "positives = sum(labels == 1), negatives = sum(labels == 0)",
           "positives = sum(labels == 1), negatives = sum(labels == 1)", "negatives counted as positives"),
    # rank AUROC and the patient bootstrap
    Mutant("E18", E, "n_pos * (n_pos + 1) / 2", "n_pos * (n_pos - 1) / 2", "Mann-Whitney offset off by one"),
    Mutant("E19", E, "sum(rank(probabilities)[positives])",
           'sum(rank(probabilities, ties.method = "first")[positives])', "ties no longer count one half"),
    Mutant("E20", E, "sample.int(patients, patients, replace = TRUE)",
           "sample.int(patients, patients, replace = FALSE)", "bootstrap without replacement"),
    Mutant("E21", E, "i <- unlist(images_of[drawn], use.names = FALSE)",
           "i <- vapply(images_of[drawn], function(images) images[1], 1L)",
           "bootstrap keeps one image per drawn patient"),
    Mutant("E22", E, "mean(!predicted[i][y == 0])", "mean(predicted[i][y == 0])",
           "bootstrap specificity is the false-positive rate"),
    Mutant("E23", E, "c(0.025, 0.975), names = FALSE", "c(0.05, 0.95), names = FALSE",
           "95% interval becomes 90%"),
    Mutant("E24", E, "if (all(y == 1) || all(y == 0))", "if (all(y == 1) && all(y == 0))",
           "one-class resamples not left out",
           "rank_auroc of a one-class resample is 0/0 = NaN, which is.na() leaves out as the guard does"),
    Mutant("E25", E, "withr::with_seed(seed,", "withr::with_seed(seed + 1L,", "seed off by one"),
    Mutant("E26", E, "replicates_without_both_classes = sum(!usable)", "replicates_without_both_classes = sum(usable)",
           "count of one-class replicates inverted"),
    Mutant("E27", E, "BOOTSTRAP_REPLICATES <- 2000L", "BOOTSTRAP_REPLICATES <- 200L",
           "report's replicates 2000 -> 200"),
    Mutant("E28", E, "p$operating_point, p$target_sensitivity)", "p$operating_point)",
           "target_sensitivity parameter dropped"),
    Mutant("E29", E, 'prepared$labels("validation"), trained$validation_probabilities',
           'prepared$labels("test"), trained$test_probabilities', "threshold chosen on test instead of validation"),
    # curves, calibration, subgroups, agreement, Grad-CAM cases
    Mutant("E31", E, "data.frame(recall = 0, precision = 1)", "data.frame(recall = 0, precision = 0)",
           "PR curve start point precision 0"),
    Mutant("E32", E, "length.out = bins + 1), include.lowest = TRUE", "length.out = bins + 1), include.lowest = FALSE",
           "calibration drops probability 0"),
    Mutant("E33", E, "observed = mean(labels[i])", "observed = mean(probabilities[i])",
           "calibration observed rate is the predicted mean"),
    Mutant("E34", E, "breaks = c(-Inf, 39, 59, Inf)", "breaks = c(-Inf, 40, 60, Inf)", "age bands off by one year"),
    Mutant("E35", E, "both && min(table(labels)) >= 2", "both && min(table(labels)) >= 1",
           "subgroup CI with a single case of a class",
           "pROC's DeLong interval is NA when a class has a single case, as the guard's; the behaviour is "
           "pinned by test_a_subgroup_with_one_case_of_a_class_gets_no_interval"),
    Mutant("E36", E, "label_agreement = mean(expert == nih)", "label_agreement = mean(expert != nih)",
           "radiologist agreement inverted"),
    Mutant("E37", E, "mean(p[expert == 0] < threshold)", "mean(p[expert == 0] <= threshold)",
           "specificity vs expert: < becomes <="),
    Mutant("E38", E, "i[order(-abs(probabilities[i] - threshold))]", "i[order(abs(probabilities[i] - threshold))]",
           "Grad-CAM cases: least confident first"),
    Mutant("E39", E, 'ifelse(predicted & labels == 0, "false_positive"',
           'ifelse(!predicted & labels == 0, "false_positive"',
           "Grad-CAM false positives are true negatives"),
    Mutant("E40", OUT, 'sprintf(".%s.%d.partial", basename(path), Sys.getpid())', "basename(path)",
           "results written in place, not under a temporary name"),
    # R/model/train.R
    Mutant("T01", T, "sum(counts) / (2 * counts)", "counts / sum(counts)", "class weights proportional, not inverse"),
    Mutant("T02", T, 'as.numeric(sum(counts) / (2 * counts)), c("0", "1")',
           'as.numeric(sum(counts) / (2 * counts)), c("1", "0")', "class weights swapped between classes"),
    Mutant("T03", T, "if (any(counts == 0))", "if (all(counts == 0))", "one-class labels no longer stop"),
    Mutant("T04", T, "    class_weight = if (!is.matrix(labels)) reticulate::py_dict(list(0L, 1L), "
           "as.list(class_weights(labels))),\n", "", "class_weight dropped from fit"),
    Mutant("T05", T, "    best,\n", "", "BestEpoch callback dropped"),
    Mutant("T06", T, "start_from_epoch = EARLY_STOPPING_WARMUP", "start_from_epoch = 0L",
           "early stopping without warm-up"),
    Mutant("T07", T, 'EarlyStopping(monitor = "val_auroc", mode = "max"',
           'EarlyStopping(monitor = "val_auroc", mode = "min"',
           "early stopping watches for a falling AUROC"),
    Mutant("T08", T, "factor = PLATEAU_FACTOR,", "factor = 0.1,", "LR plateau factor 0.5 -> 0.1"),
    Mutant("T09", T, "history$evaluated <- history$epoch == best$best_epoch",
           "history$evaluated <- history$epoch == max(history$epoch)", "evaluated epoch is the last, not the best"),
    Mutant("T10", T, "data.frame(epoch = seq_along(values[[1]]), values",
           "data.frame(epoch = seq_along(values[[1]]) - 1L, values", "history epochs numbered from 0"),
    Mutant("T11", T, "INITIAL_LEARNING_RATE <- 3e-4", "INITIAL_LEARNING_RATE <- 3e-3", "learning rate 3e-4 -> 3e-3"),
    Mutant("T12", T, '"sparse_categorical_crossentropy" else "binary_crossentropy"',
           '"binary_crossentropy" else "sparse_categorical_crossentropy"', "losses swapped between output kinds"),
    Mutant("T13", T, "set_random_seed(as.integer(seed))", "set_random_seed(42L)", "training seed ignored"),
    Mutant("T14", T, "return(as.numeric(training$predict_probability(model, batches)))",
           "return(1 - as.numeric(training$predict_probability(model, batches)))",
           "predicted probability of the negative class"),
    Mutant("T15", T, 'augment = name != "baseline"', "augment = FALSE", "augmentation dropped for the CNN"),
    Mutant("T16", T, "  training$check_batches(model, train_batches)", "  NULL",
           "training batches' image size no longer checked"),
    Mutant("T17", T, "  training$check_batches(model, validation_batches)", "  NULL",
           "validation batches' image size no longer checked"),
    Mutant("T18", T, 'ReduceLROnPlateau(monitor = "val_auroc", mode = "max"',
           'ReduceLROnPlateau(monitor = "val_auroc", mode = "min"',
           "learning rate halves while the AUROC rises"),
    # R/model/build.R
    Mutant("M01", M, "BatchNormalization(momentum = 0.9)", "BatchNormalization(momentum = 0.99)",
           "batch-norm momentum back to Keras' default"),
    Mutant("M02", M, "CNN_FILTERS <- c(8L, 16L, 32L, 64L)", "CNN_FILTERS <- c(8L, 16L, 32L)",
           "CNN loses its last block"),
    Mutant("M03", M, "filters = CNN_FILTERS, dropout = 0.3,", "filters = CNN_FILTERS, dropout = 0.5,",
           "CNN dropout 0.3 -> 0.5"),
    Mutant("M04", M, 'return(layers$Dense(1L, activation = "sigmoid"',
           'return(layers$Dense(1L, activation = "relu"',
           "the binary output not a probability"),
    Mutant("M12", M, 'layers$Dense(as.integer(findings), activation = "sigmoid"',
           'layers$Dense(as.integer(findings), activation = "softmax"',
           "the findings' probabilities made to sum to one (softmax) instead of independent"),
    Mutant("M05", M, "layers$MaxPooling2D(2L)", "layers$MaxPooling2D(1L)", "CNN no longer downsamples"),
    Mutant("M06", M, "units = c(512L, 256L, 128L), dropout = c(0.4, 0.3, 0.2)",
           "units = c(512L, 256L), dropout = c(0.4, 0.3)",
           "baseline loses its 128-unit layer"),
    Mutant("M07", M, "variance = c(0.229, 0.224, 0.225)^2", "variance = c(0.229, 0.224, 0.225)",
           "ImageNet scaling: std used as variance"),
    Mutant("M08", M, 'pooling = "avg"', 'pooling = "max"', "transfer base pools by max"),
    Mutant("M09", M, "if (is.null(builder)) {", "if (!is.null(builder)) {", "unknown model check inverted"),
    Mutant("M10", M, "build_baseline(image_size, findings)", "build_cnn(image_size, findings = findings)",
           "baseline builds the CNN"),
    Mutant("M11", M, "identical(as.integer(model$output$shape[[2]]), 2L)",
           "identical(as.integer(model$output$shape[[2]]), 1L)", "two-class softmax detection inverted"),
    # R/evaluate/operating_point.R (the PR curve's counts too)
    Mutant("O01", OP, "sort(unique(c(probabilities, also)), decreasing = TRUE)",
           "sort(unique(c(probabilities, also)), decreasing = FALSE)", "thresholds walked from the lowest"),
    Mutant("O02", OP, "findInterval(thresholds, scores, left.open = TRUE)",
           "findInterval(thresholds, scores, left.open = FALSE)", "counts above, not at or above, the threshold"),
    Mutant("O03", OP, "tn = length(negatives) - fp, fn = length(positives) - tp",
           "tn = length(positives) - fp, fn = length(negatives) - tp", "negatives' and positives' totals swapped"),
    Mutant("O04", OP, "false_positive <- (1 - specificity) * (1 - prevalence)",
           "false_positive <- (1 - specificity) * prevalence", "Bayes' rule: false positives scaled by prevalence"),
    Mutant("O05", OP, "reaching <- counts$threshold[counts$tp / (counts$tp + counts$fn) >= sensitivity]",
           "reaching <- counts$threshold[counts$tp / (counts$tp + counts$fn) > sensitivity]",
           "test threshold must exceed the sensitivity, not reach it"),
    Mutant("O06", OP, "if (length(reaching)) max(reaching) else NA_real_",
           "if (length(reaching)) min(reaching) else NA_real_",
           "lowest instead of highest threshold reaching the sensitivity"),
    Mutant("O07", OP, 'table[!duplicated(table[c("tp", "fp")]), , drop = FALSE]', "table",
           "operating points reached twice shown twice"),
    Mutant("O08", "R/display/explorer.R", "validation_threshold = validation_threshold)\n  json",
           "validation_threshold = 0.5)\n  json",
           "explorer starts at 0.5, not the validation threshold"),
    # R/text/data.R
    Mutant("D01", D, "c(train = 1 - sum(shares), shares)", "c(train = sum(shares), shares)",
           "train share is the held-out share"),
    Mutant("D02", D, "es_percent(splits)", "es_percent(1 - splits)", "prevalence printed as its complement"),
    Mutant("D03", D, "} else if (unknown > 1) {", "} else if (unknown > 2) {", "two unknown patients not reported"),
    Mutant("D04", D, "if (unknown == 1) {", "if (unknown == 0) {", "one unknown patient not reported"),
    Mutant("D05", D, 'reference <- "la de entrenamiento y validación juntos"', 'reference <- "la de los datos"',
           "official test list: the parts said to be compared with the pooled data"),
    Mutant("D06", D, 'if (!official || any(drifting != "test"))', 'if (!official)',
           "official test list: a drifting training or validation part given no reason"),
    Mutant("D07", D, 'if (official && "test" %in% drifting)', 'if ("test" %in% drifting)',
           "the official list's reason given for a split the rule dealt out"),
    # R/text/teaching_notes.R, R/text/report.R, R/run/params.R: sentences with this render's numbers
    Mutant("N01", "R/text/teaching_notes.R", "rarer <- prevalence < test_prevalence",
           "rarer <- prevalence > test_prevalence",
           "PPV said to fall where the reference prevalence is above the test's"),
    Mutant("N02", "R/text/teaching_notes.R", "predictive_values(chosen$sensitivity, chosen$specificity, prevalence)",
           "predictive_values(chosen$specificity, chosen$sensitivity, prevalence)",
           "PPV at the reference prevalence with sensitivity and specificity swapped"),
    Mutant("X01", "R/text/report.R",
           "{es_number(counts[['0']])} radiografías sin hallazgos y {es_number(counts[['1']])}",
           "{es_number(counts[['1']])} radiografías sin hallazgos y {es_number(counts[['0']])}",
           "class counts swapped in the class-weight sentence"),
    # The selection's grammar is Python's (download.parse_selection, its runs download.selection_runs); R keeps
    # the form check and the count it writes.
    Mutant("X04", "R/text/report.R", "{param_rules()$nih_archives$max}", "{param_rules()$nih_archives$min}",
           "the archives' count written as the lowest number"),
    Mutant("P03", "R/run/params.R", 'rule$type == "selection" && !nzchar(trimws(text))',
           'rule$type == "selection" && !nzchar(text)', "a blank selection accepted"),
    # R/evaluate/multilabel.R: the slips a per-finding table invites
    Mutant("L01", ML, "choose_threshold(validation[[finding]], validation_probabilities[[finding]], rule,",
           "choose_threshold(test[[finding]], test_probabilities[[finding]], rule,", "thresholds chosen on test"),
    Mutant("L02", ML, "finding_row(finding, test[[finding]], test_probabilities[[finding]], patients,",
           "finding_row(finding, test[[finding]], test_probabilities[[rev(findings)[match(finding, findings)]]], "
           "patients,", "a finding's probabilities taken from another finding's column"),
    Mutant("L03", ML, "mean_auroc = mean(aurocs_of(seq_len(nrow(test)))),",
           "mean_auroc = rank_auroc(unlist(test[findings]), unlist(test_probabilities[findings])),",
           "the mean AUROC pooled over images instead of averaged over findings"),
    Mutant("L04", ML, "test_patients = length(unique(patients[labels == 1]))",
           "test_patients = length(unique(patients))", "patients with the finding counted as all test patients"),
    Mutant("L05", ML, "as.numeric(stats::quantile(estimates[usable], c(0.025, 0.975), names = FALSE))",
           "as.numeric(stats::quantile(estimates[usable], c(0.05, 0.95), names = FALSE))",
           "the mean AUROC's interval at 90 %"),
    Mutant("L06", ML, "mean(aurocs_of(unlist(images_of[drawn], use.names = FALSE)))",
           "mean(aurocs_of(unlist(images_of, use.names = FALSE)))", "the bootstrap ignores its draws"),
    Mutant("L07", ML, "sensitivity = metrics$sensitivity, specificity = metrics$specificity",
           "sensitivity = metrics$specificity, specificity = metrics$sensitivity",
           "sensitivity and specificity swapped"),
    # the finding=all mode's wiring: evaluation, training, stored-result keys, outputs, tables
    Mutant("L08", ML, 'rows <- per_finding_evaluation(findings, as_frame(prepared$labels("validation")),\n'
           '                                 as_frame(trained$validation_probabilities), test,',
           'rows <- per_finding_evaluation(findings, test,\n'
           '                                 as_frame(trained$test_probabilities), test,',
           "evaluate_findings: thresholds chosen on test"),
    Mutant("L09", ML, "findings <- colnames(trained$test_probabilities)",
           "findings <- rev(colnames(trained$test_probabilities))", "evaluate_findings: columns named in reverse"),
    Mutant("L10", ML, "threshold = stats::setNames(rows$threshold, rows$finding)",
           "threshold = stats::setNames(rev(rows$threshold), rows$finding)",
           "evaluate_findings: thresholds under other findings' names"),
    Mutant("T20", T, "losses$FindingWeightedCrossEntropy(losses$positive_shares(prepared$labels(\"train\"), findings))",
           "losses$FindingWeightedCrossEntropy(losses$positive_shares(prepared$labels(\"validation\"), findings))",
           "the loss weighted by validation's shares"),
    Mutant("T21", T, "if (is.null(findings)) return(as.numeric(training$predict_probability(model, batches)))",
           "if (TRUE) return(as.numeric(training$predict_probability(model, batches)))",
           "the multi-label probabilities flattened to one vector"),
    Mutant("T22", T, "findings = max(1L, length(findings))),", "findings = 1L),",
           "the multi-label model built with one output"),
    Mutant("S20", "R/run/results_store.R",
           'training_columns <- function(prepared) c("image", label_columns(prepared), "split", "content_sha256")',
           'training_columns <- function(prepared) c("image", "split", "content_sha256")',
           "the training key blind to the labels"),
    Mutant("S21", "R/run/results_store.R", 'if (is.null(findings)) "label" else findings',
           'if (is.null(findings)) "label" else findings[1]', "the training key sees only the first finding"),
    Mutant("O20", OUT, "thresholds = multilabel_thresholds(rows[match(findings, rows$finding), ]),",
           "thresholds = multilabel_thresholds(rows[rev(match(findings, rows$finding)), ]),",
           "the card's thresholds in the wrong order"),
    Mutant("O21", OUT, "write_multilabel_predictions(prepared$part(\"validation\"), findings, "
           "main$validation_probabilities,",
           "write_multilabel_predictions(prepared$part(\"validation\"), rev(findings), "
           "main$validation_probabilities,", "validation predictions under other findings' names"),
    Mutant("V20", "R/display/multilabel.R", "together / diag(together)", "t(together / diag(together))",
           "co-occurrence normalised by the column's finding"),
    Mutant("V21", "R/display/multilabel.R", "published <- published[match(rows$finding, published$finding), ]",
           "published <- published[seq_len(nrow(rows)), ]", "published AUROCs of other findings"),
]


class StaleMutant(ValueError):
    pass


def apply_mutant(text: str, mutant: Mutant) -> str:
    """The file's text with the edit made; the old text must occur exactly once."""
    found = text.count(mutant.old)
    if found != 1:
        raise StaleMutant(f"{mutant.id}: old text found {found} times in {mutant.file} (must be once): {mutant.old!r}")
    return text.replace(mutant.old, mutant.new)


def check_mutants(mutants: list[Mutant], root: Path, tests_by_file: dict | None = None, tool: str = "mutate_r") -> None:
    """Stop before running anything if any edit no longer applies exactly once."""
    tests_by_file = TESTS_BY_FILE if tests_by_file is None else tests_by_file
    problems = []
    ids = Counter(m.id for m in mutants)
    problems += [f"{i}: id used {n} times" for i, n in ids.items() if n > 1]
    for mutant in mutants:
        if mutant.file not in tests_by_file:
            problems.append(f"{mutant.id}: {mutant.file} has no entry in TESTS_BY_FILE")
            continue
        try:
            apply_mutant((root / mutant.file).read_text(encoding="utf-8"), mutant)
        except StaleMutant as error:
            problems.append(str(error))
    if problems:
        raise SystemExit(f"{tool}: these edits do not apply; update them:\n  " + "\n  ".join(problems))


def copy_project(root: Path, dest: Path) -> Path:
    """The files git knows (tracked, or new and not ignored), and the project's .venv by link."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=root, check=True,
                            capture_output=True, text=True).stdout.split("\0")
    for name in filter(None, listed):
        source = root / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    (dest / ".venv").symlink_to(root / ".venv")
    return dest


def run_tests(project: Path, tests: list[str], timeout: int) -> tuple[str, str, float]:
    """('passed' | 'failed' | 'timeout', first failing test, seconds) for the fast tests on the copy."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MUTANT_UNDER_TEST")}
    command = [str(project / ".venv" / "bin" / "python"), "-m", "pytest", "-x", "-q", "-m", "not slow",
               "-p", "no:cacheprovider", *tests]
    started = time.monotonic()
    try:
        done = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout", "", time.monotonic() - started
    seconds = time.monotonic() - started
    if done.returncode == 0:
        return "passed", "", seconds
    failed = re.search(r"^(?:FAILED|ERROR) (\S+)", done.stdout, re.MULTILINE)
    if done.returncode not in (1,) or not failed:  # 2-5: interrupted, usage or collection error
        tail = (done.stdout + done.stderr)[-2000:]
        reason = failed.group(1) if failed else tail.replace("\n", " | ")
        return "failed", f"pytest exit {done.returncode}: " + reason, seconds
    return "failed", failed.group(1), seconds


def run_mutants(mutants: list[Mutant], timeout: int, keep: bool, tests_by_file: dict | None = None,
                tool: str = "mutate_r") -> list[dict]:
    tests_by_file = TESTS_BY_FILE if tests_by_file is None else tests_by_file
    work = Path(tempfile.mkdtemp(prefix=tool.replace("_", "-") + "-"))
    project = copy_project(ROOT, work / "project")
    rows = []
    try:
        for file in sorted({m.file for m in mutants}):
            tests = tests_by_file[file]
            if tests:  # the copy must pass before its mutants mean anything
                status, failed, seconds = run_tests(project, tests, timeout)
                print(f"{file}: unmutated tests {status} in {seconds:.0f} s {failed}", flush=True)
                if status != "passed":
                    raise SystemExit(f"{tool}: the tests for unmutated {file} do not pass: {failed}")
            original = (project / file).read_text(encoding="utf-8")
            for mutant in (m for m in mutants if m.file == file):
                rows.append(run_one(project, mutant, original, tests, timeout))
                print(f"  {mutant.id} {rows[-1]['status']:<11} {rows[-1]['seconds']:>5} s  {mutant.description}"
                      f"  {rows[-1]['killed_by']}", flush=True)
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
    return rows


def run_one(project: Path, mutant: Mutant, original: str, tests: list[str], timeout: int) -> dict:
    row = {"id": mutant.id, "file": mutant.file, "description": mutant.description, "status": "", "killed_by": "",
           "seconds": 0, "equivalent_because": mutant.equivalent}
    if mutant.equivalent:
        return row | {"status": "equivalent"}
    if not tests:
        return row | {"status": "no tests"}
    (project / mutant.file).write_text(apply_mutant(original, mutant), encoding="utf-8")
    try:
        status, failed, seconds = run_tests(project, tests, timeout)
    finally:
        (project / mutant.file).write_text(original, encoding="utf-8")
    verdict = {"passed": "survived", "failed": "killed", "timeout": "timeout"}[status]
    return row | {"status": verdict, "killed_by": failed, "seconds": round(seconds)}


STATUSES = ["killed", "timeout", "survived", "no tests", "equivalent"]


def summary_table(rows: list[dict]) -> str:
    """Markdown table per file; score = (killed + timeout) / (all but equivalent)."""
    lines = ["| file | " + " | ".join(STATUSES) + " | score |", "|---" * (len(STATUSES) + 2) + "|"]
    for file in sorted({r["file"] for r in rows}) + ["all"]:
        counts = Counter(r["status"] for r in rows if file in ("all", r["file"]))
        counted = sum(counts.values()) - counts["equivalent"]
        score = f"{100 * (counts['killed'] + counts['timeout']) / counted:.0f} %" if counted else "-"
        lines.append(f"| {file} | " + " | ".join(str(counts[s]) for s in STATUSES) + f" | {score} |")
    return "\n".join(lines)


def write_csv(rows: list[dict], path: Path) -> None:
    """The results, written under the project's one temporary-name convention (chestxray.support.atomic)."""
    from chestxray.support.atomic import atomic_path

    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as partial, partial.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def merged_rows(rows: list[dict], path: Path, declared: set[str]) -> list[dict]:
    """A partial run's rows in place of the same mutants' rows of the results already in ``path`` (the others
    kept, in their order, while still ``declared``; new mutants last), so ``--only`` updates the record
    instead of replacing it."""
    if not path.exists():
        return rows
    with path.open(newline="", encoding="utf-8") as existing:
        old = [row for row in csv.DictReader(existing) if row["id"] in declared]
    fresh = {row["id"]: row for row in rows}
    kept = [fresh.pop(row["id"], row) for row in old]
    return kept + list(fresh.values())


def main(argv: list[str] | None = None, all_mutants: list[Mutant] = MUTANTS, tests_by_file: dict = TESTS_BY_FILE,
         default_csv: Path = DEFAULT_CSV, tool: str = "mutate_r", doc: str = __doc__) -> int:
    """The command line; mutate_js.py passes its own edits, tests, CSV, name and help."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only check that every edit applies exactly once")
    parser.add_argument("--only", action="append", default=[], help="ids or files containing this text (repeatable)")
    parser.add_argument("--timeout", type=int, default=900, help="seconds per mutant's test run (default 900)")
    parser.add_argument("--csv", type=Path, default=default_csv,
                        help=f"results (default {default_csv.relative_to(ROOT)})")
    parser.add_argument("--keep", action="store_true", help="keep the temporary project copy")
    args = parser.parse_args(argv)
    mutants = [m for m in all_mutants if not args.only or any(o in m.id or o in m.file for o in args.only)]
    check_mutants(mutants, ROOT, tests_by_file, tool)
    if args.check:
        print(f"{tool}: all {len(mutants)} edits apply exactly once")
        return 0
    started = time.monotonic()
    rows = run_mutants(mutants, args.timeout, args.keep, tests_by_file, tool)
    declared = {mutant.id for mutant in all_mutants}
    write_csv(merged_rows(rows, args.csv, declared) if args.only else rows, args.csv)
    print(summary_table(rows))
    print(f"{len(rows)} mutants in {(time.monotonic() - started) / 60:.1f} min; results in {args.csv}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
