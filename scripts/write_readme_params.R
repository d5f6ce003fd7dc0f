#!/usr/bin/env Rscript
# Write README.md's parameter tables from the parameters' definitions
# (python/chestxray/support/report_params.yml: what each accepts and means) and
# report.qmd's defaults. Each table sits between two markers:
#   <!-- parameters: general -->  ...  <!-- end of parameters: general -->
#
#   Rscript scripts/write_readme_params.R          # rewrite README.md (make readme-params)
#   Rscript scripts/write_readme_params.R --check  # exit 1 when README.md is out of date

source("R/run/params.R")

# README lines with each marked table replaced by the one generated from the definitions.
readme_with_param_tables <- function(lines, defaults) {
  for (section in unique(vapply(param_rules(), `[[`, "", "section"))) {
    start <- which(lines == sprintf("<!-- parameters: %s -->", section))
    end <- which(lines == sprintf("<!-- end of parameters: %s -->", section))
    if (length(start) != 1 || length(end) != 1 || end < start) {
      stop(sprintf(paste("README.md needs one '<!-- parameters: %s -->' line and one",
                         "'<!-- end of parameters: %s -->' below it"),
                   section, section), call. = FALSE)
    }
    lines <- c(lines[seq_len(start)], readme_param_table(section, defaults), lines[end:length(lines)])
  }
  lines
}

check_only <- identical(commandArgs(trailingOnly = TRUE), "--check")
current <- readLines("README.md", encoding = "UTF-8")
wanted <- readme_with_param_tables(current, rmarkdown::yaml_front_matter("report.qmd")$params)
if (check_only) {
  if (!identical(current, wanted)) {
    message("README.md's parameter tables differ from python/chestxray/support/report_params.yml and report.qmd: ",
            "run `make readme-params`")
    quit(status = 1)
  }
} else if (!identical(current, wanted)) {
  writeLines(wanted, "README.md", useBytes = TRUE)
  message("README.md: parameter tables rewritten")
}
