# Which R packages the project uses, found in its source, for renv.lock and its test.

BASE_PACKAGES <- rownames(utils::installed.packages(priority = "base"))

# Developer tools the scripts use but the report does not: lintr (scripts/lint_r.R, `make lint`; Debian's
# r-cran-lintr), kept out of the lockfiles as ruff is kept out of the pinned Python sets (requirements-lint.txt).
DEVELOPER_R_PACKAGES <- "lintr"

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
  sort(setdiff(unique(unlist(found)), c(BASE_PACKAGES, DEVELOPER_R_PACKAGES)))
}

# R packages used from outside R code: the notebook's kernel and its display (scripts/setup.sh registers
# IRkernel; scripts/make_notebook.py's cells call IRdisplay and repr).
NOTEBOOK_R_PACKAGES <- c("IRkernel", "IRdisplay", "repr")

# What the lockfiles record: the packages the code uses and the notebook's.
locked_r_packages <- function(root = ".") sort(unique(c(project_r_packages(root), NOTEBOOK_R_PACKAGES)))

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

# Which lockfile records this system's R packages: renv.lock Debian 13's (R 4.5, today's versions),
# renv-debian12.lock Debian 12's (R 4.2); NA on any other system, whose packages no lockfile records.
RENV_LOCKFILES <- c("debian 13" = "renv.lock", "debian 12" = "renv-debian12.lock")
renv_lockfile_for_system <- function(os_release = "/etc/os-release") {
  fields <- if (file.exists(os_release)) readLines(os_release, warn = FALSE) else character()
  value <- function(key) {
    gsub('"', "", sub(paste0("^", key, "="), "", grep(paste0("^", key, "="), fields, value = TRUE)[1]))
  }
  unname(RENV_LOCKFILES[paste(value("ID"), value("VERSION_ID"))])
}
