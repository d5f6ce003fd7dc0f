# Bind reticulate to the project's virtual environment before Python starts.
# RETICULATE_PYTHON (from .Rprofile, _environment or the Makefile) wins; the
# project's .venv is the fallback so RStudio's Render button finds it too.

project_python <- function(root = ".") {
  configured <- Sys.getenv("RETICULATE_PYTHON")
  if (nzchar(configured)) {
    # _environment gives a relative path; reticulate needs an absolute one. Only
    # the folder is normalised: resolving the venv's python symlink would leave the venv.
    return(file.path(normalizePath(dirname(configured)), basename(configured)))
  }
  # Not normalizePath(venv): resolving the symlink would leave the virtual environment.
  venv <- file.path(normalizePath(root), ".venv", "bin", "python")
  if (file.exists(venv)) return(venv)
  stop("no project Python found: run `make setup` (creates .venv) or set RETICULATE_PYTHON", call. = FALSE)
}

use_project_python <- function(root = ".") {
  python <- project_python(root)
  # Embedded Python skips .pth files, so the package folder goes on PYTHONPATH.
  package_dir <- normalizePath(file.path(root, "python"))
  path <- Sys.getenv("PYTHONPATH")
  if (!grepl(package_dir, path, fixed = TRUE)) {
    Sys.setenv(PYTHONPATH = paste(c(package_dir, if (nzchar(path)) path), collapse = ":"))
  }
  Sys.setenv(RETICULATE_PYTHON = python)
  reticulate::use_python(python, required = TRUE)
  invisible(python)
}

# Keras, imported once for the whole project without TensorFlow's start-up notices
# (chestxray.model.backend), and the project's Python package.
import_keras <- function() import_chestxray("model.backend")$import_keras()
import_chestxray <- function(module) reticulate::import(paste0("chestxray.", module))

# One progress line on the console (never in the report), timed from the start.
console_step <- function(format, ...) {
  import_chestxray("support.console")$step(sprintf(format, ...))
  invisible(NULL)
}

# Data inputs that can be checked before any download or training (archive numbers,
# metadata file and its columns, folders, the demo's one finding): chestxray.sources.preflight,
# stopping with the parameter's name.
check_inputs <- function(p) {
  preflight <- import_chestxray("sources.preflight")
  tryCatch(
    preflight$check_report_inputs(p$data, p$data_dir, p$nih_archives, p$nih_metadata, p$adjudicated_labels,
                                  p$finding),
    error = function(e) stop(sub("^.*InputError: ", "", conditionMessage(e)), call. = FALSE)
  )
  invisible(p)
}
