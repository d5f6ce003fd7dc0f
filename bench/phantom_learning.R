#!/usr/bin/env Rscript
# Does the report's model learn? Test AUROC on phantoms with the recorded labels
# (wrong for the demo's known share) and with labels permuted within each split
# (a negative control), against those labels and against the generator's truth,
# at the report's default demo parameters unless given, seeded.
#
#   Rscript bench/phantom_learning.R [n_per_class] [image_size] [epochs] [seed] [model]
#   -> bench/results/phantom_learning_<model>.json and one line per run

for (f in list.files("R", pattern = "\\.R$", full.names = TRUE, recursive = TRUE)) source(f)
use_project_python()
args <- commandArgs(trailingOnly = TRUE)
defaults <- rmarkdown::yaml_front_matter("report.qmd")$params
number <- function(i, default) if (length(args) >= i) as.integer(args[i]) else as.integer(default)
result <- learning_check(
  n_per_class = number(1, defaults$n_per_class), image_size = number(2, defaults$image_size),
  epochs = number(3, defaults$epochs), seed = number(4, defaults$seed), work_dir = "data/bench-learning",
  model = if (length(args) >= 5) args[5] else defaults$model
)
path <- sprintf("bench/results/phantom_learning_%s.json", result$model)
write_json_file(result, path)
for (run in c("recorded_labels", "permuted_labels")) {
  r <- result[[run]]
  cat(sprintf(paste("%s, %s: test AUROC %.3f (95%% CI DeLong %.3f-%.3f) against the recorded labels, %.3f against",
                     "the truth, %d test images (%d positive as recorded), %d epochs, %.0f s\n"),
              result$model, run, r$test_auroc, r$test_auroc_ci95_delong[1], r$test_auroc_ci95_delong[2],
              r$test_auroc_vs_truth, r$test_images, r$test_positives, r$epochs_run, r$seconds))
}
cat("written to", path, "\n")
