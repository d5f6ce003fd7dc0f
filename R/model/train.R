# Training: seeds, class weights (or, for the multi-label study, a loss weighted per finding),
# callbacks; returns the history as a data frame.

# One model built, trained and run on validation and test: everything that
# depends on training (R/run/results_store.R stores exactly this). The model then
# holds the evaluated epoch's weights (train_model's one rule).
train_and_predict <- function(name, prepared, p, output_dir) {
  set_training_seed(p$seed)
  findings <- study_findings(prepared)
  # The model takes the images the data were prepared at (the cache's side), not a second copy of the parameter.
  model <- compile_model(build_model(name, prepared$image_size, p$weights, p$on_missing_weights,
                                     findings = max(1L, length(findings))),
                         loss = study_loss(prepared))
  console_step("Training %s (%s parameters, at most %d epochs)", name,
               format(count_parameters(model), big.mark = ","), p$epochs)
  started <- Sys.time()
  history <- train_model(
    model,
    # The original's dense network is trained as it was, without augmentation.
    train_batches = split_batches(prepared, "train", p$batch_size, shuffle = TRUE, augment = name != "baseline"),
    validation_batches = split_batches(prepared, "validation", p$batch_size),
    labels = prepared$labels("train"),
    validation_labels = prepared$labels("validation"),
    epochs = p$epochs,
    checkpoint = file.path(output_dir, "checkpoints", paste0(name, ".keras")),
    name = name
  )
  list(
    name = name, model = model, history = history,
    seconds = as.numeric(difftime(Sys.time(), started, units = "secs")),
    evaluated_epoch = history$epoch[history$evaluated], weights_loaded = weights_loaded(model),
    validation_probabilities = predict_probabilities(model, split_batches(prepared, "validation", p$batch_size),
                                                     findings),
    test_probabilities = predict_probabilities(model, split_batches(prepared, "test", p$batch_size), findings),
    parameters = count_parameters(model)
  )
}

# Keras batches of one split of the prepared data (chestxray.model.batches), seeded by its seed.
split_batches <- function(prepared, split, batch_size, shuffle = FALSE, augment = FALSE) {
  import_chestxray("model.batches")$split_batches(prepared, split, as.integer(batch_size), shuffle, augment)
}

# A vector (the binary study) or, with `findings`, a matrix with a column per finding.
predict_probabilities <- function(model, batches, findings = NULL) {
  training <- import_chestxray("model.training")
  if (is.null(findings)) return(as.numeric(training$predict_probability(model, batches)))
  probabilities <- training$predict_findings(model, batches)
  colnames(probabilities) <- findings
  probabilities
}

# The multi-label study's outputs, in order (chestxray.preparation.multilabel's PreparedMultilabel);
# NULL for the binary study, whose prepared data have one label per image.
study_findings <- function(prepared) {
  if (reticulate::py_has_attr(prepared, "findings")) as.character(unlist(prepared$findings))
}

# The multi-label study's loss, CheXNet's: each finding's cross-entropy weighted for its share of the
# training images (chestxray.model.losses); NULL (compile_model's choice) for the binary study.
study_loss <- function(prepared) {
  findings <- study_findings(prepared)
  if (is.null(findings)) return(NULL)
  losses <- import_chestxray("model.losses")
  losses$FindingWeightedCrossEntropy(losses$positive_shares(prepared$labels("train"), findings))
}

# Seed Python, NumPy and the backend once, and ask TensorFlow for deterministic
# kernels, so the same seed gives the same metrics on the same machine.
set_training_seed <- function(seed) {
  keras <- import_keras()
  keras$utils$set_random_seed(as.integer(seed))
  if (identical(keras$backend$backend(), "tensorflow")) {
    reticulate::import("tensorflow")$config$experimental$enable_op_determinism()
  }
  invisible(seed)
}

# Inverse-frequency weights so both classes count equally in the loss (NIH has
# about 11 No Finding images per pneumothorax, 3 to 266 for the other findings).
class_weights <- function(labels) {
  counts <- table(factor(labels, levels = c(0, 1)))
  if (any(counts == 0)) stop("training labels hold only one class", call. = FALSE)
  stats::setNames(as.numeric(sum(counts) / (2 * counts)), c("0", "1"))
}

# Adam's initial learning rate (the report quotes it): with 1e-3 the CNN sat at
# chance for 6-8 epochs on the demo's phantoms before finding the sign; with 3e-4
# it climbs from the start.
INITIAL_LEARNING_RATE <- 3e-4

# Early stopping watches the validation AUROC only after a warm-up (small CNNs from
# scratch often sit near chance for a few epochs before the sign is found) and stops
# after PATIENCE epochs without improvement; the learning rate is multiplied by
# PLATEAU_FACTOR after PLATEAU_PATIENCE epochs without improvement. The report quotes them.
EARLY_STOPPING_WARMUP <- 6L
EARLY_STOPPING_PATIENCE <- 6L
PLATEAU_FACTOR <- 0.5
PLATEAU_PATIENCE <- 4L
MIN_LEARNING_RATE <- 1e-5

compile_model <- function(model, learning_rate = INITIAL_LEARNING_RATE, loss = NULL) {
  keras <- import_keras()
  if (is.null(loss)) {
    loss <- if (is_two_class_softmax(model)) "sparse_categorical_crossentropy" else "binary_crossentropy"
  }
  model$compile(optimizer = keras$optimizers$Adam(learning_rate = learning_rate), loss = loss,
                metrics = list("accuracy"))
  model
}

# Fit with validation AUROC computed each epoch (scikit-learn) and one rule for
# the evaluated epoch (chestxray.model.training.BestEpoch: the highest validation AUROC
# of all epochs, saved to the checkpoint and restored at the end); early stopping
# after a warm-up only decides when to stop; the learning rate halves on
# plateaus. Returns one row per epoch; column `evaluated` marks the epoch whose
# weights the model holds afterwards.
train_model <- function(model, train_batches, validation_batches, labels, validation_labels, epochs,
                        checkpoint = NULL, name = "model", verbose = 0L) {
  keras <- import_keras()
  training <- import_chestxray("model.training")
  training$check_batches(model, train_batches)  # a cache of another image_size stops here, named
  training$check_batches(model, validation_batches)
  best <- training$BestEpoch(checkpoint)
  callbacks <- list(
    training$ValidationAUROC(validation_batches, as.array(validation_labels)),
    training$ConsoleProgress(name, as.integer(epochs)),
    best,
    keras$callbacks$EarlyStopping(monitor = "val_auroc", mode = "max", patience = EARLY_STOPPING_PATIENCE,
                                  start_from_epoch = EARLY_STOPPING_WARMUP),
    keras$callbacks$ReduceLROnPlateau(monitor = "val_auroc", mode = "max", factor = PLATEAU_FACTOR,
                                      patience = PLATEAU_PATIENCE, min_lr = MIN_LEARNING_RATE)
  )
  history <- model$fit(
    train_batches,
    validation_data = validation_batches,
    epochs = as.integer(epochs),
    # A label matrix (finding = "all") is balanced by the loss's weights per finding instead.
    class_weight = if (!is.matrix(labels)) reticulate::py_dict(list(0L, 1L), as.list(class_weights(labels))),
    callbacks = callbacks,
    verbose = as.integer(verbose)
  )
  history <- history_frame(history$history)
  if (is.null(best$best_epoch)) stop("no epoch had a validation AUROC to choose the evaluated weights", call. = FALSE)
  history$evaluated <- history$epoch == best$best_epoch
  history
}

# How the evaluated epoch is chosen, in words (for metrics.json).
evaluated_epoch_rule <- function() import_chestxray("model.training")$BestEpoch$RULE

history_frame <- function(history) {
  metrics <- names(history)
  values <- lapply(history, function(v) as.numeric(unlist(v)))
  data.frame(epoch = seq_along(values[[1]]), values, check.names = FALSE)[, c("epoch", metrics)]
}
