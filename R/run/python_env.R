# Bind reticulate to the project's virtual environment before Python starts.
# RETICULATE_PYTHON (from .Rprofile, _environment or the Makefile) wins; the
# project's .venv is the fallback so RStudio's Render button finds it too.

project_python <- function(root = ".") {
  configured <- Sys.getenv("RETICULATE_PYTHON")
  # _environment names the POSIX venv path (.venv/bin/python); on Windows the venv's own one is used.
  if (nzchar(configured) && file.exists(configured)) {
    # _environment gives a relative path; reticulate needs an absolute one. Only
    # the folder is normalised: resolving the venv's python symlink would leave the venv.
    return(file.path(normalizePath(dirname(configured)), basename(configured)))
  }
  venv <- venv_python(root)
  if (!is.na(venv)) return(venv)
  if (nzchar(configured)) stop("RETICULATE_PYTHON names ", configured, ", which does not exist", call. = FALSE)
  stop("no project Python found: run `make setup` (creates .venv) or set RETICULATE_PYTHON", call. = FALSE)
}

# The project's virtual environment's interpreter: bin/python (Linux, macOS) or Scripts/python.exe
# (Windows); NA when there is none. Not normalizePath(venv): resolving the symlink would leave the venv.
venv_python <- function(root = ".") {
  candidates <- file.path(normalizePath(root), ".venv", c("bin/python", "Scripts/python.exe"))
  found <- candidates[file.exists(candidates)]
  if (length(found)) found[[1]] else NA_character_
}

use_project_python <- function(root = ".") {
  python <- project_python(root)
  # Embedded Python skips .pth files, so the package folder goes on PYTHONPATH.
  package_dir <- normalizePath(file.path(root, "python"))
  path <- Sys.getenv("PYTHONPATH")
  if (!grepl(package_dir, path, fixed = TRUE)) {
    Sys.setenv(PYTHONPATH = paste(c(package_dir, if (nzchar(path)) path), collapse = .Platform$path.sep))
  }
  Sys.setenv(RETICULATE_PYTHON = python)
  reticulate::use_python(python, required = TRUE)
  convert_pandas3()
  invisible(python)
}

# pandas 3 names its classes by their public module (pandas.DataFrame, not pandas.core.frame.DataFrame)
# and keeps text in its own string arrays: reticulate 1.41 (Debian 13) then hands frames back
# unconverted, or text columns as Python objects. Frames and series go through reticulate's own
# pandas converters with text columns as object arrays, as pandas 2 held them (chestxray.support.r_frames);
# a reticulate that converts pandas 3 itself keeps its methods.
convert_pandas3 <- function() {
  reticulate_ns <- asNamespace("reticulate")
  pandas2_classes <- c(DataFrame = "pandas.core.frame.DataFrame", Series = "pandas.core.series.Series")
  for (name in names(pandas2_classes)) {
    pandas3_class <- paste0("pandas.", name)
    if (!is.null(utils::getS3method("py_to_r", pandas3_class, optional = TRUE, envir = reticulate_ns))) next
    converter <- utils::getS3method("py_to_r", pandas2_classes[[name]], envir = reticulate_ns)
    registerS3method("py_to_r", pandas3_class, pandas_text_as_object(converter), envir = reticulate_ns)
  }
  invisible(NULL)
}

pandas_text_as_object <- function(converter) {
  force(converter)
  function(x) {
    text_to_object <- reticulate::py_get_attr(reticulate::import("chestxray.support.r_frames", convert = FALSE),
                                              "text_to_object")
    converter(text_to_object(x))
  }
}

# Keras, imported once for the whole project without TensorFlow's start-up notices
# (chestxray.model.backend), and the project's Python package.
import_keras <- function() import_chestxray("model.backend")$import_keras()
import_chestxray <- function(module) reticulate::import(paste0("chestxray.", module))

# The demo's label noise and its truth file, owned by the phantom generator (chestxray.sources.phantoms).
demo_label_noise <- function() import_chestxray("sources.phantoms")$LABEL_NOISE
demo_truth_file <- function() import_chestxray("sources.phantoms")$TRUTH_FILE
