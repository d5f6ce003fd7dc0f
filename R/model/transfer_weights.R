# Provenance of transfer-learning weights: what a transfer model loads, checked
# before any data work, and recorded next to the metrics.

# Which models load transfer weights: TRANSFER_MODELS (R/model/build.R, from transfer_models.yml).

# The weights a transfer model will load (chestxray.model.transfer_weights.locate).
# When they cannot be found, on_missing_weights "stop" stops with a message
# saying how to provide them; "random" goes on, recorded as source "random".
transfer_weights <- function(name, image_size, weights, on_missing_weights = "stop") {
  found <- import_chestxray("model.transfer_weights")$locate(name, as.integer(image_size), weights)
  if (is.null(found$error)) return(found)
  if (on_missing_weights == "stop") stop(missing_weights_message(name, found), call. = FALSE)
  found$source <- "random"
  found
}

missing_weights_message <- function(name, found) {
  problem <- sprintf("could not load '%s' weights for %s (%s).", found$requested, name, found$error)
  how <- if (identical(found$requested, "imagenet")) {
    sprintf(paste("Keras expects the file %s (%s): copy it to %s, where Keras caches it, or give its path",
                  "with weights=/path/to/%s."), found$expected_file, found$url, found$cache_path, found$expected_file)
  } else {
    "Give the path of an existing weights file (weights=/path/to/file.h5), or weights=imagenet."
  }
  paste(problem, how,
        "To train from random initialisation instead, set on_missing_weights=random (the report says so).")
}

# The record for models that load no pretrained weights (baseline, cnn).
no_pretrained_weights <- function() {
  list(requested = NULL, source = "none", file = NULL, sha256 = NULL, error = NULL)
}

# Provenance attached to a model by build_transfer; other models load none.
weights_loaded <- function(model) {
  loaded <- attr(model, "weights_loaded")
  if (is.null(loaded)) no_pretrained_weights() else loaded
}

# Run right after the parameters are read: missing weights stop the report in
# seconds, before data preparation or training.
check_transfer_weights <- function(p) {
  if (!p$model %in% TRANSFER_MODELS) return(no_pretrained_weights())
  loaded <- transfer_weights(p$model, p$image_size, p$weights, p$on_missing_weights)
  console_step("Transfer weights for %s: %s", p$model, describe_weights(loaded))
  loaded
}

describe_weights <- function(loaded) {
  switch(loaded$source,
    none = "none (random initialisation, as requested)",
    random = sprintf("'%s' unavailable (%s); random initialisation (on_missing_weights=random)",
                     loaded$requested, loaded$error),
    sprintf("%s, file %s (SHA-256 %s)", loaded$source, loaded$file, loaded$sha256)
  )
}
