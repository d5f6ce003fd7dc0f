# Stored results: each model's training (weights, history, predictions) and its
# evaluation (threshold, metrics) are kept under data/results/ with a key made
# from everything they depend on, so a render reuses them and an input change
# recomputes exactly what it touches:
#
#   data/results/<model>-<training key>/
#     model.keras                       the evaluated weights
#     training.rds                      history, seconds, evaluated epoch, weights provenance,
#                                       validation and test probabilities, when trained
#     training-key.json                 what went into the training key, readable
#     evaluation-<evaluation key>.rds   threshold and metrics for one evaluation rule
#
# report.qmd is in no key: editing the prose reuses everything. REPORT_RETRAIN=1
# (or deleting data/results) recomputes it all; make clean deletes data/results.

RESULTS_DIR <- file.path("data", "results")
STORE_FORMAT <- 2L  # bump when the stored files change shape: older results are then not read

# The code whose text enters the keys is derived, not listed: the R files defining every
# project function reachable from an entry point, and the Python files of every chestxray
# module those functions import, with all that those import in turn. A helper or module that
# training starts to use enters the key by itself. Any edit to them, comments included,
# recomputes: a false alarm costs a training, a missed dependency a wrong report.
TRAINING_ENTRY <- "train_and_predict"
# The prepared data training reads (rows, labels, seed, pixels read back from the cache) is
# built by report.qmd's Python chunk, not through an R call: its module is named here.
TRAINING_DATA_MODULES <- c("chestxray.preparation.dataset", "chestxray.preparation.multilabel")
EVALUATION_ENTRY <- "evaluate_predictions"

training_code <- function(root = ".") code_files(TRAINING_ENTRY, TRAINING_DATA_MODULES, root)
evaluation_code <- function(root = ".") code_files(EVALUATION_ENTRY, character(), root)

code_files <- function(entry, modules, root) {
  defined <- project_definitions(root)
  reached <- reachable_definitions(entry, defined)
  bodies <- unlist(lapply(reached, function(name) deparse(defined[[name]]$definition)))
  imports <- unlist(regmatches(bodies, gregexpr('import_chestxray\\("[^"]+"\\)', bodies)))
  named <- gsub('^import_chestxray\\("|"\\)$', "", imports)
  modules <- unique(c(modules, if (length(named) > 0) paste0("chestxray.", named)))
  r_files <- unique(vapply(reached, function(name) defined[[name]]$file, ""))
  python_files <- as.character(import_chestxray("results")$module_files(modules, root))
  sort(c(r_files, python_files))
}

# Every top-level `name <- value` of R/*.R (functions, and constants such as a list of
# builders or a learning rate): its file and its definition.
project_definitions <- function(root = ".") {
  defined <- list()
  for (file in sort(list.files(file.path(root, "R"), pattern = "\\.R$", recursive = TRUE))) {
    for (expr in as.list(parse(file.path(root, "R", file), keep.source = FALSE))) {
      if (is.call(expr) && identical(expr[[1]], as.name("<-")) && is.name(expr[[2]])) {
        defined[[as.character(expr[[2]])]] <- list(file = file.path("R", file), definition = expr[[3]])
      }
    }
  }
  defined
}

# The entry function and every project definition the definitions reached name, in turn (a
# function passed as an argument counts, as in lapply(x, f); a local variable named like a
# definition only adds a file: a false alarm, never a miss).
reachable_definitions <- function(entry, defined) {
  reached <- character()
  frontier <- entry
  while (length(frontier) > 0) {
    reached <- union(reached, frontier)
    named <- unique(unlist(lapply(frontier, function(name) all.names(defined[[name]]$definition))))
    frontier <- setdiff(intersect(named, names(defined)), reached)
  }
  reached
}

# Manifest columns a training depends on, row by row in order: which image file
# (by content), its label (the multi-label study's: one column per finding) and its split.
# Patients matter only to the evaluation.
training_columns <- function(prepared) c("image", label_columns(prepared), "split", "content_sha256")
label_columns <- function(prepared) {
  findings <- study_findings(prepared)
  if (is.null(findings)) "label" else findings
}

retrain_requested <- function() Sys.getenv("REPORT_RETRAIN") %in% c("1", "true", "TRUE", "yes")

# Everything a model's training and predictions depend on. Data parameters
# (data, n_per_class, ...) enter through the manifest's content, not by name.
training_inputs <- function(name, p, prepared, root = ".") {
  results <- import_chestxray("results")
  list(
    format = STORE_FORMAT, model = name, finding = p$finding,
    image_size = p$image_size, epochs = p$epochs, batch_size = p$batch_size, seed = p$seed,
    weights = weights_inputs(name, p),
    data = results$data_digest(prepared, training_columns(prepared)),
    code = results$source_digests(root, training_code(root)),
    versions = results$library_versions()
  )
}

# Only transfer models load weights: for the others the weights parameters are no input.
weights_inputs <- function(name, p) {
  if (!name %in% TRANSFER_MODELS) return("none")
  loaded <- transfer_weights(name, p$image_size, p$weights, p$on_missing_weights)
  list(requested = p$weights, on_missing_weights = p$on_missing_weights, source = loaded$source,
       sha256 = loaded$sha256)
}

# Everything an evaluation depends on besides the trained model (its training key).
evaluation_inputs <- function(training_key, p, prepared, root = ".") {
  results <- import_chestxray("results")
  list(
    format = STORE_FORMAT, training = training_key, operating_point = p$operating_point,
    # The target sensitivity plays no part in Youden's rule.
    target_sensitivity = if (p$operating_point == "sensitivity") p$target_sensitivity else "unused",
    bootstrap = list(replicates = BOOTSTRAP_REPLICATES, seed = p$seed),
    patients = results$data_digest(prepared, c("image", label_columns(prepared), "split", "patient_id")),
    code = results$source_digests(root, evaluation_code(root)),
    versions = list(R = R.version$version.string, pROC = as.character(utils::packageVersion("pROC")))
  )
}

result_key <- function(inputs) import_chestxray("results")$key_of(inputs)

# fit_and_evaluate with the store: each part is read back when its key matches,
# computed (and stored) otherwise. The result is the same list, plus `store`:
# where it lives, whether this render trained or reused it, and when it was trained.
stored_fit_and_evaluate <- function(name, prepared, p, output_dir, store = RESULTS_DIR,
                                    retrain = retrain_requested()) {
  trained <- stored_training(name, prepared, p, output_dir, store, retrain)
  evaluation <- stored_evaluation(trained, prepared, p, retrain)
  result <- c(trained[names(trained) != "store"], evaluation)
  say_result(result)
  result
}

stored_training <- function(name, prepared, p, output_dir, store, retrain) {
  inputs <- training_inputs(name, p, prepared)
  key <- result_key(inputs)
  folder <- file.path(store, paste0(name, "-", key))
  trained <- if (!retrain && is_stored_training(folder)) read_training(folder)
  if (!is.null(trained)) {
    console_step("Reusing %s results from %s (trained %s)", name, folder, trained$store$trained_at)
    restore_checkpoint(folder, name, output_dir)
    return(trained)
  }
  if (retrain && is_stored_training(folder)) {
    console_step("REPORT_RETRAIN is set: training %s again instead of reusing %s", name, folder)
  }
  trained <- train_and_predict(name, prepared, p, output_dir)
  trained$store <- list(key = key, folder = folder, training = "trained",
                        trained_at = format(Sys.time(), "%Y-%m-%d %H:%M UTC", tz = "UTC"))
  write_training(trained, inputs, folder)
  trained
}

stored_evaluation <- function(trained, prepared, p, retrain) {
  key <- result_key(evaluation_inputs(trained$store$key, p, prepared))
  path <- file.path(trained$store$folder, paste0("evaluation-", key, ".rds"))
  evaluation <- if (!retrain && file.exists(path)) read_checked_rds(path, "evaluating again")
  reuse <- !is.null(evaluation)
  if (!reuse) {
    if (identical(trained$store$training, "reused")) {
      console_step("Evaluating %s again: its evaluation inputs changed (%s)", trained$name, basename(path))
    }
    evaluation <- evaluate_predictions(trained, prepared, p)
    write_checked_rds(evaluation, path)
  }
  # The store record travels with the result (metrics.json and the report say it).
  list(threshold = evaluation$threshold, metrics = evaluation$metrics,
       store = c(trained$store, evaluation_key = key, evaluation = if (reuse) "reused" else "computed"))
}

is_stored_training <- function(folder) {
  all(file.exists(file.path(folder, c("model.keras", "training.rds"))))
}

# NULL, with a console line, when the stored files are not as written (their manifest,
# chestxray.support.integrity) or cannot be read: the model is then trained again and the folder replaced.
read_training <- function(folder) {
  problems <- checked_files()$damaged_files(folder)
  if (length(problems) > 0) {
    checked_files()$announce_damage(paste("the stored result in", folder), problems, "training again")
    return(NULL)
  }
  tryCatch({
    trained <- readRDS(file.path(folder, "training.rds"))
    import_chestxray("model.losses")  # registers the multi-label study's loss, which model.keras names
    trained$model <- import_keras()$saving$load_model(file.path(folder, "model.keras"))
    trained$store$training <- "reused"
    trained
  }, error = function(e) {
    console_step("Cannot read the stored result in %s (%s): training again", folder, conditionMessage(e))
    NULL
  })
}

# The stored weights are the evaluated epoch's, which is what the checkpoint holds.
restore_checkpoint <- function(folder, name, output_dir) {
  checkpoint <- file.path(output_dir, "checkpoints", paste0(name, ".keras"))
  dir.create(dirname(checkpoint), recursive = TRUE, showWarnings = FALSE)
  file.copy(file.path(folder, "model.keras"), checkpoint, overwrite = TRUE)
}

# Written into a temporary folder renamed at the end: a folder with the final
# name is always complete, even if the render is interrupted while writing.
write_training <- function(trained, inputs, folder) {
  dir.create(dirname(folder), recursive = TRUE, showWarnings = FALSE)
  tmp <- file.path(dirname(folder), sprintf(".%s.%d.partial", basename(folder), Sys.getpid()))
  unlink(tmp, recursive = TRUE)
  dir.create(tmp)
  on.exit(unlink(tmp, recursive = TRUE), add = TRUE)
  trained$model$save(file.path(tmp, "model.keras"))
  saveRDS(trained[setdiff(names(trained), "model")], file.path(tmp, "training.rds"))
  write_json_file(list(key = trained$store$key, trained_at = trained$store$trained_at, inputs = inputs),
                  file.path(tmp, "training-key.json"))
  checked_files()$write_manifest(tmp, c("model.keras", "training.rds", "training-key.json"))
  unlink(folder, recursive = TRUE)  # an older result under this key (REPORT_RETRAIN)
  if (!file.rename(tmp, folder)) stop(sprintf("could not move %s to %s", tmp, folder), call. = FALSE)
  invisible(folder)
}

# An R object stored with its own manifest (<file>.manifest.json) and read back only when whole;
# NULL, with a console line saying what is done instead, when it is not.
write_checked_rds <- function(object, path) {
  write_atomically(path, function(tmp) saveRDS(object, tmp))
  checked_files()$write_manifest(dirname(path), basename(path), manifest = paste0(basename(path), ".manifest.json"))
}

read_checked_rds <- function(path, action) {
  problems <- checked_files()$damaged_files(dirname(path), manifest = paste0(basename(path), ".manifest.json"))
  if (length(problems) > 0) {
    checked_files()$announce_damage(paste("the stored", basename(path)), problems, action)
    return(NULL)
  }
  readRDS(path)
}

checked_files <- function() import_chestxray("support.integrity")
