# Which R packages the project uses, found in its source, for renv.lock and its test.

BASE_PACKAGES <- rownames(utils::installed.packages(priority = "base"))

# Packages named as pkg::fn, library(pkg) or requireNamespace("pkg") in R code,
# the report and the scripts.
project_r_packages <- function(root = ".") {
  files <- c(
    list.files(file.path(root, c("R", "scripts", "tests")), pattern = "\\.(R|r)$", full.names = TRUE, recursive = TRUE),
    list.files(root, pattern = "\\.(qmd|Rmd)$", full.names = TRUE)
  )
  code <- unlist(lapply(files, readLines, warn = FALSE))
  code <- sub("#.*$", "", code)  # comments name packages without using them
  found <- c(
    regmatches(code, gregexpr("\\b[A-Za-z][A-Za-z0-9.]*(?=:::?)", code, perl = TRUE)),
    lapply(regmatches(code, gregexpr("(library|require|requireNamespace)\\(\"?[A-Za-z][A-Za-z0-9.]*", code)),
           function(m) sub(".*\\(\"?", "", m))
  )
  sort(setdiff(unique(unlist(found)), BASE_PACKAGES))
}

direct_dependencies <- function(pkg) {
  fields <- utils::packageDescription(pkg)[c("Depends", "Imports", "LinkingTo")]
  deps <- unlist(lapply(fields[!vapply(fields, is.null, logical(1))], function(f) {
    trimws(sub("\\(.*", "", strsplit(gsub("\n", " ", f), ",")[[1]]))
  }))
  sort(setdiff(unique(deps[nzchar(deps)]), c("R", BASE_PACKAGES)))
}

# The packages and everything they need, recursively (Depends, Imports, LinkingTo).
with_dependencies <- function(packages) {
  seen <- character()
  queue <- packages
  while (length(queue)) {
    pkg <- queue[1]
    queue <- queue[-1]
    if (pkg %in% seen) next
    seen <- c(seen, pkg)
    queue <- c(queue, setdiff(direct_dependencies(pkg), seen))
  }
  sort(seen)
}

# Which lockfile records this system's R packages: renv-debian12.lock on Debian 12 (R 4.2, reticulate
# 1.28), renv.lock elsewhere (Debian 13 and today's versions).
renv_lockfile_for_system <- function(os_release = "/etc/os-release") {
  fields <- if (file.exists(os_release)) readLines(os_release) else character()
  debian12 <- any(fields == "ID=debian") && any(fields %in% c("VERSION_ID=\"12\"", "VERSION_ID=12"))
  if (debian12) "renv-debian12.lock" else "renv.lock"
}
