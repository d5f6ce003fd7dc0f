#!/usr/bin/env Rscript
# Write renv.lock (renv's lockfile format) from the R packages installed here.
# renv itself is not installable on Debian without CRAN, but its lockfile is
# plain JSON: with CRAN reachable, renv::restore() installs these versions.
#
#   Rscript scripts/write_renv_lock.R        (or: make renv-lock)

source("R/r_dependencies.R")

used <- project_r_packages(".")
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
tmp <- "renv.lock.partial"
jsonlite::write_json(lock, tmp, auto_unbox = TRUE, pretty = TRUE)
invisible(file.rename(tmp, "renv.lock"))
message(sprintf("renv.lock: %d packages (%d used directly: %s)", length(packages), length(used),
                paste(used, collapse = ", ")))
