# The multi-label study's evaluation at the full release's size: 14 findings on NIH's official test list
# (25,596 images of 2,797 patients; validation 12,972 images), with synthetic scores, each finding at its
# NIH prevalence. Times per_finding_evaluation (thresholds, DeLong, the patient bootstrap per finding) and
# mean_auroc (its own patient bootstrap), the evaluation a finding=all render runs once per model.
#
#   Rscript bench/multilabel_evaluation.R [test_images] [patients] [replicates]
args <- as.integer(commandArgs(TRUE))
test_images <- if (length(args) >= 1) args[1] else 25596L
patients <- if (length(args) >= 2) args[2] else 2797L
replicates <- if (length(args) >= 3) args[3] else 2000L
for (file in list.files("R", pattern = "\\.R$", full.names = TRUE, recursive = TRUE)) source(file)
findings_table <- utils::read.csv(FINDINGS_FILE, stringsAsFactors = FALSE)
findings <- findings_table$finding
prevalence <- findings_table$nih_images / 112120
set.seed(1)
part <- function(n) {
  labels <- as.data.frame(stats::setNames(lapply(prevalence, function(q) rbinom(n, 1, q)), findings))
  scores <- as.data.frame(stats::setNames(lapply(labels, function(y) plogis(rnorm(n, 1.2 * y - 1.5))), findings))
  list(labels = labels, scores = scores)
}
validation <- part(12972L)
test <- part(test_images)
patient_ids <- sort(sample(seq_len(patients), test_images, replace = TRUE))
started <- Sys.time()
rows <- per_finding_evaluation(findings, validation$labels, validation$scores, test$labels, test$scores,
                               patient_ids, replicates = replicates)
per_finding <- as.numeric(difftime(Sys.time(), started, units = "secs"))
started <- Sys.time()
mean <- mean_auroc(findings, test$labels, test$scores, patient_ids, replicates = replicates)
mean_seconds <- as.numeric(difftime(Sys.time(), started, units = "secs"))
cat(sprintf(paste("%d test images, %d patients, %d findings, %d replicates: per_finding_evaluation %.1f s,",
                  "mean_auroc %.1f s\n"), test_images, patients, length(findings), replicates, per_finding,
            mean_seconds))
