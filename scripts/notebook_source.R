#!/usr/bin/env Rscript
# What scripts/make_notebook.py needs from the R side, as JSON on stdout:
#   - the report's parameters, checked exactly as `make report` checks them
#     (a wrong name or value stops here, naming it, before any kernel starts),
#     each written as an R literal for the notebook's parameters cell;
#   - report.qmd with figures numbered and @fig- references resolved by the same
#     rule as the knitr route (number_figures), so both give "Figura N" alike,
#     and the title's inline R evaluated for these parameters;
#   - the R packages the project uses (for the Colab cell).
#
#   Rscript scripts/notebook_source.R [key=value ...]

source("R/run/params.R")
source("R/run/render.R")
source("R/run/r_dependencies.R")

overrides <- parse_overrides(commandArgs(trailingOnly = TRUE))
params <- merge_params(rmarkdown::yaml_front_matter("report.qmd")$params, overrides)
lines <- number_figures(study_source(readLines("report.qmd", encoding = "UTF-8"), params$finding),
                        prefix_captions = TRUE)
lines <- evaluate_title(lines, params)

cat(jsonlite::toJSON(list(
  params = lapply(params, function(value) jsonlite::unbox(deparse(value))),
  lines = lines,
  r_packages = project_r_packages(".")
)))
