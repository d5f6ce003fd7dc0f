# The multi-label study's evaluation (finding = "all"). Each finding is its own binary problem,
# evaluated as the binary report evaluates its one: the threshold chosen on validation, then on
# test the AUROC with DeLong's interval, sensitivity and specificity at that threshold, and the
# patient bootstrap. The mean AUROC is over findings (each counts once, whatever its prevalence,
# as CheXNet's table averages), with a patient-bootstrap interval in which each replicate draws
# the same patients for every finding.

# One row per finding. `validation`, `test`: one 0/1 column per finding; `validation_probabilities`,
# `test_probabilities`: one probability column per finding; `patients`: the test images' patients.
per_finding_evaluation <- function(findings, validation, validation_probabilities, test, test_probabilities,
                                   patients, rule = "youden", target_sensitivity = 0.9,
                                   replicates = BOOTSTRAP_REPLICATES, seed = 42L) {
  rows <- lapply(findings, function(finding) {
    threshold <- choose_threshold(validation[[finding]], validation_probabilities[[finding]], rule,
                                  target_sensitivity)
    finding_row(finding, test[[finding]], test_probabilities[[finding]], patients, threshold, replicates, seed)
  })
  do.call(rbind, rows)
}

finding_row <- function(finding, labels, probabilities, patients, threshold, replicates, seed) {
  metrics <- binary_metrics(labels, probabilities, threshold)
  bootstrap <- patient_bootstrap(labels, probabilities, patients, threshold, replicates, seed)
  data.frame(
    finding = finding, test_images = sum(labels == 1), test_patients = length(unique(patients[labels == 1])),
    prevalence = metrics$prevalence, auroc = metrics$auroc,
    auroc_delong_low = metrics$auroc_ci95_delong[1], auroc_delong_high = metrics$auroc_ci95_delong[2],
    auroc_bootstrap_low = bootstrap$auroc_ci95_patient_bootstrap[1],
    auroc_bootstrap_high = bootstrap$auroc_ci95_patient_bootstrap[2],
    threshold = threshold, sensitivity = metrics$sensitivity, specificity = metrics$specificity,
    stringsAsFactors = FALSE
  )
}

# The mean of the findings' test AUROCs and its 95% patient-bootstrap percentile interval; a
# replicate in which some finding lacks positives or negatives is left out (and counted): its
# rank_auroc is 0/0, NaN, and so is the mean.
mean_auroc <- function(findings, test, test_probabilities, patients, replicates = BOOTSTRAP_REPLICATES,
                       seed = 42L) {
  aurocs_of <- function(rows) {
    vapply(findings, function(finding) rank_auroc(test[[finding]][rows], test_probabilities[[finding]][rows]),
           numeric(1))
  }
  images_of <- unname(split(seq_len(nrow(test)), as.character(patients)))
  estimates <- vapply(patient_draws(length(images_of), replicates, seed), function(drawn) {
    mean(aurocs_of(unlist(images_of[drawn], use.names = FALSE)))
  }, numeric(1))
  usable <- !is.na(estimates)
  list(
    mean_auroc = mean(aurocs_of(seq_len(nrow(test)))),
    mean_auroc_ci95_patient_bootstrap = if (any(usable)) {
      as.numeric(stats::quantile(estimates[usable], c(0.025, 0.975), names = FALSE))
    } else {
      c(NA_real_, NA_real_)
    },
    replicates = as.integer(replicates), replicates_used = sum(usable)
  )
}

# The multi-label study's evaluation of one trained model (evaluate_predictions' counterpart): each
# finding's row, the mean AUROC, and the thresholds chosen on validation, one per finding.
evaluate_findings <- function(trained, prepared, p) {
  findings <- colnames(trained$test_probabilities)
  as_frame <- function(matrix) stats::setNames(as.data.frame(matrix), findings)
  test <- as_frame(prepared$labels("test"))
  patients <- as.character(prepared$part("test")$patient_id)
  rows <- per_finding_evaluation(findings, as_frame(prepared$labels("validation")),
                                 as_frame(trained$validation_probabilities), test,
                                 as_frame(trained$test_probabilities), patients, p$operating_point,
                                 p$target_sensitivity, seed = p$seed)
  mean <- mean_auroc(findings, test, as_frame(trained$test_probabilities), patients, seed = p$seed)
  list(threshold = stats::setNames(rows$threshold, rows$finding), metrics = list(findings = rows, mean = mean))
}
