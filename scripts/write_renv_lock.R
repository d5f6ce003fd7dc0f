#!/usr/bin/env Rscript
# Write the lockfile (renv's format) of the R packages installed here: renv.lock from Debian 13 (R 4.5,
# today's versions: the container's, and closest to CRAN's for Windows and macOS), renv-debian12.lock
# from Debian 12 (R 4.2). renv itself is not installable on Debian without CRAN, but its lockfile is
# plain JSON: with CRAN reachable, renv::restore() installs these versions.
#
#   Rscript scripts/write_renv_lock.R        (or: make renv-lock)

source("R/run/r_dependencies.R")

lockfile <- renv_lockfile_for_system()
if (is.na(lockfile)) {
  stop("this system's R packages have no lockfile: renv.lock records Debian 13's, renv-debian12.lock ",
       "Debian 12's (R/run/r_dependencies.R, RENV_LOCKFILES)", call. = FALSE)
}
used <- locked_r_packages(".")
packages <- with_dependencies(used)
records <- lapply(packages, function(pkg) {
  description <- utils::packageDescription(pkg)
  list(
    Package = pkg,
    Version = description$Version,
    Source = "Repository",
    Repository = "CRAN",
    Requirements = as.list(direct_dependencies(pkg))
  )
})
names(records) <- packages
lock <- list(
  R = list(
    Version = paste(R.version$major, R.version$minor, sep = "."),
    Repositories = list(list(Name = "CRAN", URL = "https://cloud.r-project.org"))
  ),
  Packages = records
)
tmp <- paste0(lockfile, ".partial")
jsonlite::write_json(lock, tmp, auto_unbox = TRUE, pretty = TRUE)
invisible(file.rename(tmp, lockfile))
message(sprintf("%s: %d packages (%d used directly: %s)", lockfile, length(packages), length(used),
                paste(used, collapse = ", ")))
