# What a render reads from the user before it trusts it: the data its parameters
# name, checked before any download or training, and the radiologists' labels.

# Data inputs that can be checked before any download or training (archive numbers,
# metadata file and its columns, folders, the demo's one finding): chestxray.sources.preflight,
# stopping with the parameter's name.
check_inputs <- function(p) {
  preflight <- import_chestxray("sources.preflight")
  tryCatch(
    preflight$check_report_inputs(p$data, p$data_dir, p$nih_archives, p$nih_metadata, p$adjudicated_labels,
                                  p$finding, p$model),
    error = function(e) stop(sub("^.*InputError: ", "", conditionMessage(e)), call. = FALSE)
  )
  invisible(p)
}

# Labels read by radiologists (e.g. Majkowska et al., Radiology 2019, for Pneumothorax): a CSV with
# 'Image Index' and a column named after the finding, YES for positive. Returns image and label (0/1).
read_adjudicated_labels <- function(labels_path, finding) {
  adjudicated <- utils::read.csv(labels_path, check.names = FALSE, stringsAsFactors = FALSE)
  if (!all(c("Image Index", finding) %in% names(adjudicated))) {
    stop(sprintf("'%s' lacks the 'Image Index' and '%s' columns", labels_path, finding), call. = FALSE)
  }
  data.frame(image = adjudicated[["Image Index"]], label = as.integer(adjudicated[[finding]] == "YES"),
             stringsAsFactors = FALSE)
}
