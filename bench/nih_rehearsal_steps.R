#!/usr/bin/env Rscript
# The report's evaluation, figure, key and Grad-CAM steps timed one by one on a render's
# outputs (bench/nih_rehearsal.py runs it in the render's project copy):
#   Rscript bench/nih_rehearsal_steps.R <render's _output folder> <its cache .npy>
# Prints one line per step: STEP,<name>,<seconds>,<R heap peak MB>,<note>. The heap peak is
# R's own ("max used" of gc(), reset before each step); Python's memory is measured apart.

source("R/run/python_env.R")
source("R/evaluate/metrics.R")
source("R/display/figures.R")
source("R/run/results_store.R")
use_project_python()

args <- commandArgs(trailingOnly = TRUE)
output_dir <- args[1]
cache_path <- args[2]

timed <- function(name, expr, note = "") {
  gc(reset = TRUE)
  seconds <- system.time(value <- force(expr))[["elapsed"]]
  used <- gc()
  peak_mb <- sum(used[, which(colnames(used) == "max used") + 1])
  cat(sprintf("STEP,%s,%.2f,%.0f,%s\n", name, seconds, peak_mb, note))
  invisible(value)
}

manifest <- utils::read.csv(file.path(output_dir, "manifest.csv"), stringsAsFactors = FALSE,
                            colClasses = c(patient_id = "character"))
test <- manifest[manifest$split == "test", ]
predictions <- utils::read.csv(file.path(output_dir, "predictions.csv"), colClasses = c(patient_id = "character"))
validation <- utils::read.csv(file.path(output_dir, "validation_predictions.csv"))
stopifnot(identical(predictions$image, test$image))
labels <- predictions$label
probabilities <- predictions$probability
note <- sprintf("%d test images (%d positive; %d patients)", length(labels), sum(labels),
                length(unique(test$patient_id)))

threshold <- timed("threshold on validation", choose_threshold(validation$label, validation$probability),
                   sprintf("%d validation images", nrow(validation)))
timed("test metrics + DeLong CI", binary_metrics(labels, probabilities, threshold), note)
timed("patient bootstrap (2000)", patient_bootstrap(labels, probabilities, test$patient_id, threshold,
                                                   replicates = BOOTSTRAP_REPLICATES, seed = 42L), note)
timed("subgroup AUROCs", subgroup_auroc(test, probabilities), note)
pr <- timed("PR curve points", pr_points(labels, probabilities), note)
# Baseline, measured in the same run: pr_points as it was before 2026-12-05 (one confusion
# count and one data frame per distinct threshold).
pr_points_per_threshold <- function(labels, probabilities) {
  thresholds <- sort(unique(probabilities), decreasing = TRUE)
  rows <- lapply(thresholds, function(t) {
    counts <- confusion_counts(labels, probabilities, t)
    data.frame(recall = ratio(counts$tp, counts$fn), precision = ratio(counts$tp, counts$fp))
  })
  rbind(data.frame(recall = 0, precision = 1), do.call(rbind, rows))
}
before <- timed("PR curve points: the loop before (baseline)", pr_points_per_threshold(labels, probabilities), note)
stopifnot(isTRUE(all.equal(before, pr, check.attributes = FALSE)))
roc <- timed("ROC curve points", roc_points(labels, probabilities), note)
bins <- timed("calibration bins", calibration_bins(labels, probabilities), note)

figure <- function(plot) {
  path <- tempfile(fileext = ".png")
  ggplot2::ggsave(path, plot, width = 7, height = 5, dpi = 96)
  unlink(path)
}
timed("figures (ROC + PR + calibration)", {
  figure(plot_roc_curve(roc, 0.5, c(0.4, 0.6)))
  figure(plot_pr_curve(pr, mean(labels)))
  figure(plot_calibration(bins, 0.1))
}, sprintf("%d ROC and %d PR points", nrow(roc), nrow(pr)))

results <- import_chestxray("results")
pandas <- reticulate::import("pandas", convert = FALSE)
table <- pandas$read_csv(file.path(output_dir, "manifest.csv"), dtype = list(patient_id = "str"))
timed("stored-results keys (data digests)", {
  results$table_digest(table, c("image", "label", "split", "content_sha256"))  # training_columns(), binary
  results$table_digest(table, c("image", "label", "split", "patient_id"))
}, sprintf("%d manifest rows", nrow(manifest)))

keras <- import_keras()
model <- keras$saving$load_model(file.path(output_dir, "model.keras"))
cases <- grad_cam_cases(labels, probabilities, threshold)
timed("Grad-CAM (with its figure)", figure(plot_grad_cam(import_chestxray("model.explain")$grad_cam_frame(
  model, cache_path, as.integer(test$cache_row[cases$index]), sprintf("case %d", seq_along(cases$index))))),
  sprintf("%d images", nrow(cases)))
