#!/usr/bin/env Rscript
# Render report.qmd: with Quarto when it is installed, otherwise with knitr +
# rmarkdown + pandoc (what Quarto runs for a document with R chunks).
#
#   Rscript scripts/render.R [--to html|pdf] [key=value ...]
#
# Parameters (defaults in report.qmd's `params:`) are checked against their
# definitions (python/chestxray/support/report_params.yml), and the data they name
# against the disk (chestxray.sources.preflight), before anything runs.

source("R/run/params.R")
source("R/run/python_env.R")
source("R/run/console.R")
source("R/run/inputs.R")
source("R/run/render.R")

args <- commandArgs(trailingOnly = TRUE)
to <- "html"
if (length(args) >= 2 && args[1] == "--to") {
  to <- args[2]
  args <- args[-(1:2)]
}
if (!to %in% c("html", "pdf")) stop(sprintf("--to must be html or pdf, not '%s'", to), call. = FALSE)

overrides <- parse_overrides(args)
params <- merge_params(rmarkdown::yaml_front_matter("report.qmd")$params, overrides)
use_project_python()
check_inputs(params)
started <- Sys.time()
output <- render_report(to, params, overrides)
message(sprintf("report written to %s in %s", output, format_duration(Sys.time() - started)))
