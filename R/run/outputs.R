# Everything published next to the report in _output/: the model and its card, the
# predictions, the history and metrics.json; every file written under a temporary
# name and renamed when complete.

# The files a render publishes in _output/ beside the report: one table (assets/output_files.csv: file and
# what it holds, in the report's words) for the console, the report and `make site`.
OUTPUT_FILES_TABLE <- "assets/output_files.csv"
output_files <- function() utils::read.csv(OUTPUT_FILES_TABLE, stringsAsFactors = FALSE, encoding = "UTF-8")

save_outputs <- function(main, results, prepared, p, output_dir, subgroups = NULL, agreement = NULL, versions = NULL) {
  main$model$save(file.path(output_dir, "model.keras"))
  write_model_card(main, p, file.path(output_dir, "model-card.json"))
  test_table <- prepared$part("test")
  write_predictions(test_table, main$test_probabilities, file.path(output_dir, "predictions.csv"))
  write_predictions(prepared$part("validation"), main$validation_probabilities,
                    file.path(output_dir, "validation_predictions.csv"))
  histories <- lapply(results, `[[`, "history")
  write_atomically(file.path(output_dir, "history.csv"), function(tmp) {
    rows <- lapply(names(histories), function(n) cbind(model = n, histories[[n]]))
    utils::write.csv(do.call(rbind, rows), tmp, row.names = FALSE)
  })
  write_json_file(c(main$metrics, list(
    model = p$model, threshold_rule = p$operating_point,
    threshold_method = threshold_rule_text(p$operating_point, p$target_sensitivity, "en"),
    calibration = calibration_bins(prepared$labels("test"), main$test_probabilities),
    comparison = comparison_table(results), subgroups = subgroups, adjudicated = agreement,
    split_sizes = as.list(table(prepared$table$split)), eligible_before_cap = prepared$eligible,
    data_integrity = prepared$integrity(), parameters = p, seed = p$seed,
    training_seconds = main$seconds, epochs_run = nrow(main$history), evaluated_epoch = main$evaluated_epoch,
    evaluated_epoch_rule = evaluated_epoch_rule(), weights_loaded = json_record(main$weights_loaded),
    stored_results = stored_results_record(results), versions = versions
  )), file.path(output_dir, "metrics.json"))
  say_outputs(output_dir)
}

# The multi-label study's outputs (finding = "all"): the same files, with a column, a row and a threshold
# per finding (predictions.csv: label_<finding>, probability_<finding>; metrics.json: each finding and
# the mean AUROC; the model card: the thresholds `predict` applies).
save_multilabel_outputs <- function(main, prepared, p, output_dir, versions = NULL) {
  findings <- study_findings(prepared)
  main$model$save(file.path(output_dir, "model.keras"))
  write_multilabel_model_card(main, p, findings, file.path(output_dir, "model-card.json"))
  write_multilabel_predictions(prepared$part("test"), findings, main$test_probabilities,
                               file.path(output_dir, "predictions.csv"))
  write_multilabel_predictions(prepared$part("validation"), findings, main$validation_probabilities,
                               file.path(output_dir, "validation_predictions.csv"))
  write_atomically(file.path(output_dir, "history.csv"), function(tmp) {
    utils::write.csv(cbind(model = main$name, main$history), tmp, row.names = FALSE)
  })
  write_json_file(c(multilabel_metrics_record(main$metrics$findings, main$metrics$mean), list(
    model = p$model, study = "multi-label: one sigmoid output per finding", findings = findings,
    loss = "binary cross-entropy per finding weighted by its training share (CheXNet)",
    threshold_rule = p$operating_point,
    threshold_method = threshold_rule_text(p$operating_point, p$target_sensitivity, "en"),
    split_counts = prepared$counts(), eligible_before_cap = prepared$eligible,
    data_integrity = prepared$integrity(), parameters = p, seed = p$seed,
    training_seconds = main$seconds, epochs_run = nrow(main$history), evaluated_epoch = main$evaluated_epoch,
    evaluated_epoch_rule = evaluated_epoch_rule(), weights_loaded = json_record(main$weights_loaded),
    stored_results = stored_results_record(list(main)), versions = versions
  )), file.path(output_dir, "metrics.json"))
  say_outputs(output_dir)
}

say_outputs <- function(output_dir) {
  written <- output_files()$file
  console_step("Outputs in %s/: %s", output_dir,
               paste(written[file.exists(file.path(output_dir, written))], collapse = ", "))
}

write_multilabel_model_card <- function(result, p, findings, path) {
  rows <- result$metrics$findings
  write_json_file(list(
    model = result$name, image_size = model_image_size(result$model), findings = findings,
    thresholds = multilabel_thresholds(rows[match(findings, rows$finding), ]),
    operating_point = p$operating_point, target_sensitivity = p$target_sensitivity,
    positive_class = p$finding, negative_class = NEGATIVE_CLASS,
    preprocessing = PREPROCESSING, data = p$data, seed = p$seed, evaluated_epoch = result$evaluated_epoch,
    weights_loaded = json_record(result$weights_loaded),
    test_auroc = stats::setNames(as.list(rows$auroc), rows$finding),
    test_mean_auroc = result$metrics$mean$mean_auroc
  ), path)
}

# How images are read before the model sees them (the model cards say it).
PREPROCESSING <- paste("chestxray.preparation.images.load_grey: 8-bit grey (RGBA on black, 16-bit stretched),",
                       "box resize, /255")

# Model card beside model.keras: what `python -m chestxray predict` needs.
write_model_card <- function(result, p, path) {
  write_json_file(list(
    model = result$name, image_size = model_image_size(result$model), threshold = result$threshold,
    operating_point = p$operating_point, target_sensitivity = p$target_sensitivity,
    positive_class = p$finding, negative_class = NEGATIVE_CLASS,
    preprocessing = PREPROCESSING,
    data = p$data, seed = p$seed, evaluated_epoch = result$evaluated_epoch,
    weights_loaded = json_record(result$weights_loaded), test_auroc = result$metrics$auroc,
    test_auroc_ci95_delong = result$metrics$auroc_ci95_delong,
    test_auroc_ci95_patient_bootstrap = result$metrics$auroc_ci95_patient_bootstrap
  ), path)
}

# NULL fields would become {} in JSON; NA becomes null.
json_record <- function(record) lapply(record, function(value) if (is.null(value)) NA else value)

# Per model: trained in this render or reused, the store folder and keys (R/run/results_store.R);
# absent for results computed without the store.
stored_results_record <- function(results) {
  stored <- Filter(Negate(is.null), lapply(results, `[[`, "store"))
  if (length(stored)) stored
}

# One row per image of a split: image, patient, true label, predicted probability.
write_predictions <- function(table, probabilities, path) {
  predictions <- data.frame(
    image = table$image, patient_id = table$patient_id,
    label = as.integer(table$label), probability = probabilities
  )
  write_atomically(path, function(tmp) utils::write.csv(predictions, tmp, row.names = FALSE))
  invisible(predictions)
}

# The multi-label study's predictions: one row per image of a split, its patient, then for each
# finding its true label and predicted probability (`label_<finding>`, `probability_<finding>`).
write_multilabel_predictions <- function(table, findings, probabilities, path) {
  probabilities <- as.matrix(probabilities)
  columns <- lapply(seq_along(findings), function(j) {
    stats::setNames(data.frame(as.integer(table[[findings[j]]]), as.numeric(probabilities[, j])),
                    paste0(c("label_", "probability_"), findings[j]))
  })
  predictions <- do.call(cbind, c(list(data.frame(image = table$image, patient_id = table$patient_id)), columns))
  write_atomically(path, function(tmp) utils::write.csv(predictions, tmp, row.names = FALSE))
  invisible(predictions)
}

# metrics.json's part for the multi-label study: each finding's row (R/evaluate/multilabel.R) under
# its name, and the mean AUROC over findings with its interval.
multilabel_metrics_record <- function(rows, mean) {
  list(
    findings = stats::setNames(lapply(seq_len(nrow(rows)), function(i) as.list(rows[i, names(rows) != "finding"])),
                               rows$finding),
    mean_auroc = mean$mean_auroc, mean_auroc_ci95_patient_bootstrap = mean$mean_auroc_ci95_patient_bootstrap,
    mean_auroc_bootstrap = list(replicates = mean$replicates, replicates_used = mean$replicates_used,
                                method = "the mean of the findings' AUROCs over patient resamples (all findings)")
  )
}

# The model card's thresholds: each finding's, chosen on validation, as `predict` applies them.
multilabel_thresholds <- function(rows) stats::setNames(as.list(rows$threshold), rows$finding)

write_json_file <- function(value, path) {
  write_atomically(path, function(tmp) {
    jsonlite::write_json(value, tmp, auto_unbox = TRUE, digits = NA, pretty = TRUE, na = "null")
  })
}

# `writer(tmp)` writes a hidden `.<name>.<pid>.partial` sibling, renamed onto `path` only
# when it finishes (as chestxray.support.atomic does in Python): a failed write leaves
# nothing behind, and two processes writing one file never share a temporary file.
write_atomically <- function(path, writer) {
  dir.create(dirname(path), recursive = TRUE, showWarnings = FALSE)
  tmp <- file.path(dirname(path), sprintf(".%s.%d.partial", basename(path), Sys.getpid()))
  on.exit(unlink(tmp))  # nothing left once renamed; a failed write's partial file removed
  writer(tmp)
  if (!file.rename(tmp, path)) stop(sprintf("could not move %s to %s", tmp, path), call. = FALSE)
  invisible(path)
}

# The versions recorded in metrics.json.
package_versions <- function() {
  r_packages <- c("reticulate", "knitr", "rmarkdown", "ggplot2", "pROC", "jsonlite")
  versions <- reticulate::import("importlib.metadata")
  # The training key's numeric libraries (chestxray.results.NUMERIC_LIBRARIES) and the rest that runs.
  # TensorFlow is PyPI's CPU-only build on Linux x86-64 and the regular one elsewhere (requirements.in).
  python_packages <- c("keras", "tensorflow-cpu", "tensorflow", unlist(import_chestxray("results")$NUMERIC_LIBRARIES),
                       "pandas")
  python_versions <- vapply(python_packages, function(p) {
    tryCatch(versions$version(p), error = function(e) NA_character_)
  }, "")
  tensorflow_builds <- c("tensorflow-cpu", "tensorflow")
  python_versions <- python_versions[!(names(python_versions) %in% tensorflow_builds & is.na(python_versions))]
  list(
    R = paste(R.version$major, R.version$minor, sep = "."),
    python = as.character(reticulate::py_config()$version),  # a numeric_version from reticulate 1.41 on
    r_packages = as.list(vapply(r_packages, function(p) as.character(utils::packageVersion(p)), "")),
    python_packages = as.list(python_versions)
  )
}
