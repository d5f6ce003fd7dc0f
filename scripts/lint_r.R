# lintr over the project's R code with the top-level .lintr: R/, scripts/*.R, bench/*.R and report.qmd's
# R chunks. Prints each finding as file:line:column and exits 1 when there is any (`make lint`).
#   Rscript scripts/lint_r.R
args <- commandArgs(trailingOnly = FALSE)
script <- sub("^--file=", "", args[startsWith(args, "--file=")])
setwd(file.path(dirname(normalizePath(script)), ".."))
if (!requireNamespace("lintr", quietly = TRUE)) {
  stop("lintr is missing (Debian: r-cran-lintr; elsewhere install.packages(\"lintr\"))", call. = FALSE)
}
files <- c(list.files("R", pattern = "\\.R$", recursive = TRUE, full.names = TRUE),
           Sys.glob("scripts/*.R"), Sys.glob("bench/*.R"), "report.qmd", "_multilabel.qmd")
findings <- unlist(lapply(files, function(file) {
  vapply(lintr::lint(file), function(lint) {
    sprintf("%s:%d:%d: %s [%s]\n  %s", file, lint$line_number, lint$column_number, lint$message, lint$linter,
            lint$line)
  }, character(1))
}))
if (length(findings)) {
  cat(findings, sep = "\n")
  cat(sprintf("lint_r: %d finding(s) in R code (configuration: .lintr)\n", length(findings)))
  quit(status = 1)
}
cat(sprintf("lint_r: %d files, no findings\n", length(files)))
