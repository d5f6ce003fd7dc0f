# The multi-label study's evaluation at the full release's size: 14 findings on NIH's official test list
# (25,596 images of 2,797 patients; validation 12,972 images), with synthetic scores, each finding at its
# NIH prevalence. Times per_finding_evaluation (thresholds, DeLong, the patient bootstrap per finding) and
# mean_auroc (its own patient bootstrap), the evaluation a finding=all render runs once per model, against
# the baseline measured in the same run: the binary report's evaluation of one finding on the same images
# (choose_threshold, binary_metrics and patient_bootstrap, as evaluate_predictions runs them).
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
one <- "Pneumothorax"
threshold <- choose_threshold(validation$labels[[one]], validation$scores[[one]])
binary <- c(binary_metrics(test$labels[[one]], test$scores[[one]], threshold),
            patient_bootstrap(test$labels[[one]], test$scores[[one]], patient_ids, threshold, replicates, 42L))
binary_seconds <- as.numeric(difftime(Sys.time(), started, units = "secs"))
started <- Sys.time()
rows <- per_finding_evaluation(findings, validation$labels, validation$scores, test$labels, test$scores,
                               patient_ids, replicates = replicates)
per_finding <- as.numeric(difftime(Sys.time(), started, units = "secs"))
started <- Sys.time()
mean <- mean_auroc(findings, test$labels, test$scores, patient_ids, replicates = replicates)
mean_seconds <- as.numeric(difftime(Sys.time(), started, units = "secs"))
cat(sprintf(paste("%d test images, %d patients, %d findings, %d replicates: binary evaluation of one finding %.1f s;",
                  "per_finding_evaluation %.1f s, mean_auroc %.1f s; all findings / one = %.1f\n"),
            test_images, patients, length(findings), replicates, binary_seconds, per_finding, mean_seconds,
            (per_finding + mean_seconds) / binary_seconds))
