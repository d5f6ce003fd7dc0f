# Evaluation statistics: predictions, operating point chosen on validation,
# test metrics with pROC, and the files published next to the report.

predict_probabilities <- function(model, batches) {
  as.numeric(model$predict(batches, verbose = 0L))
}

# Youden's J on the validation split: the test split never influences the threshold.
choose_threshold <- function(labels, probabilities) {
  curve <- pROC::roc(labels, probabilities, levels = c(0, 1), direction = "<", quiet = TRUE)
  best <- pROC::coords(curve, "best", best.method = "youden", ret = "threshold", transpose = FALSE)
  as.numeric(best$threshold[1])
}

confusion_counts <- function(labels, probabilities, threshold) {
  predicted <- as.integer(probabilities >= threshold)
  list(
    tp = sum(predicted == 1 & labels == 1), fp = sum(predicted == 1 & labels == 0),
    tn = sum(predicted == 0 & labels == 0), fn = sum(predicted == 0 & labels == 1)
  )
}

# AUROC with a DeLong 95% interval plus threshold metrics on one split.
binary_metrics <- function(labels, probabilities, threshold) {
  curve <- pROC::roc(labels, probabilities, levels = c(0, 1), direction = "<", quiet = TRUE)
  interval <- as.numeric(pROC::ci.auc(curve, method = "delong"))
  counts <- confusion_counts(labels, probabilities, threshold)
  ratio <- function(a, b) if (a + b > 0) a / (a + b) else NA_real_
  list(
    auroc = as.numeric(pROC::auc(curve)),
    auroc_ci95 = interval[c(1, 3)],
    accuracy = (counts$tp + counts$tn) / length(labels),
    sensitivity = ratio(counts$tp, counts$fn),
    specificity = ratio(counts$tn, counts$fp),
    threshold = threshold,
    counts = c(counts, list(positives = sum(labels == 1), negatives = sum(labels == 0)))
  )
}

roc_points <- function(labels, probabilities) {
  curve <- pROC::roc(labels, probabilities, levels = c(0, 1), direction = "<", quiet = TRUE)
  data.frame(specificity = curve$specificities, sensitivity = curve$sensitivities)
}

package_versions <- function() {
  r_packages <- c("reticulate", "knitr", "rmarkdown", "ggplot2", "pROC", "jsonlite")
  versions <- reticulate::import("importlib.metadata")
  python_packages <- c("keras", "tensorflow-cpu", "numpy", "pandas", "pillow", "scikit-learn")
  list(
    R = paste(R.version$major, R.version$minor, sep = "."),
    python = reticulate::py_config()$version,
    r_packages = as.list(vapply(r_packages, function(p) as.character(utils::packageVersion(p)), "")),
    python_packages = as.list(vapply(python_packages, function(p) {
      tryCatch(versions$version(p), error = function(e) NA_character_)
    }, ""))
  )
}

# predictions.csv (one row per test image) and metrics.json, written atomically.
write_predictions <- function(test_table, probabilities, path) {
  predictions <- data.frame(
    image = test_table$image, patient_id = test_table$patient_id,
    label = as.integer(test_table$label), probability = probabilities
  )
  write_atomically(path, function(tmp) utils::write.csv(predictions, tmp, row.names = FALSE))
  invisible(predictions)
}

write_metrics <- function(metrics, path) {
  write_atomically(path, function(tmp) jsonlite::write_json(metrics, tmp, auto_unbox = TRUE, digits = NA, pretty = TRUE))
}

write_atomically <- function(path, writer) {
  dir.create(dirname(path), recursive = TRUE, showWarnings = FALSE)
  tmp <- file.path(dirname(path), paste0(".", basename(path), ".partial"))
  writer(tmp)
  if (!file.rename(tmp, path)) stop(sprintf("could not move %s to %s", tmp, path), call. = FALSE)
  invisible(path)
}
