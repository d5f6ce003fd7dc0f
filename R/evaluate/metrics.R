# Evaluation statistics: an operating point chosen on validation, test metrics
# with pROC, the patient bootstrap, calibration, subgroups and agreement with
# radiologists. Pure computations: files are read by R/run/inputs.R and written by R/run/outputs.R.

# Patient-bootstrap replicates. Measured on one core: 0.2 s for the default demo's
# test split (90 images), 3 s for 3,000 test images, 8 s for 10,000.
BOOTSTRAP_REPLICATES <- 2000L

# The evaluation of a trained model's predictions: the operating point chosen on
# validation, then the test metrics at it (R/run/results_store.R stores exactly this).
evaluate_predictions <- function(trained, prepared, p) {
  if (is.matrix(trained$test_probabilities)) return(evaluate_findings(trained, prepared, p))
  threshold <- choose_threshold(prepared$labels("validation"), trained$validation_probabilities,
                                p$operating_point, p$target_sensitivity)
  test_labels <- prepared$labels("test")
  metrics <- c(
    binary_metrics(test_labels, trained$test_probabilities, threshold),
    patient_bootstrap(test_labels, trained$test_probabilities, prepared$part("test")$patient_id, threshold,
                      replicates = BOOTSTRAP_REPLICATES, seed = p$seed)
  )
  list(threshold = threshold, metrics = metrics)
}

roc_curve <- function(labels, probabilities) {
  pROC::roc(labels, probabilities, levels = c(0, 1), direction = "<", quiet = TRUE)
}

# The operating point is chosen on the validation split only: Youden's J, or
# the highest threshold that reaches a target sensitivity.
choose_threshold <- function(labels, probabilities, rule = "youden", target_sensitivity = 0.9) {
  curve <- roc_curve(labels, probabilities)
  if (rule == "youden") {
    best <- pROC::coords(curve, "best", best.method = "youden", ret = "threshold", transpose = FALSE)
    return(as.numeric(best$threshold[1]))
  }
  points <- pROC::coords(curve, "all", ret = c("threshold", "sensitivity"), transpose = FALSE)
  points <- points[is.finite(points$threshold) & points$sensitivity >= target_sensitivity, ]
  as.numeric(max(points$threshold))
}

confusion_counts <- function(labels, probabilities, threshold) {
  predicted <- as.integer(probabilities >= threshold)
  list(
    tp = sum(predicted == 1 & labels == 1), fp = sum(predicted == 1 & labels == 0),
    tn = sum(predicted == 0 & labels == 0), fn = sum(predicted == 0 & labels == 1)
  )
}

ratio <- function(a, b) if (a + b > 0) a / (a + b) else NA_real_

# AUROC with a DeLong 95% interval (which treats images as independent),
# threshold metrics with their counts, Brier score.
binary_metrics <- function(labels, probabilities, threshold) {
  curve <- roc_curve(labels, probabilities)
  interval <- as.numeric(pROC::ci.auc(curve, method = "delong"))
  counts <- confusion_counts(labels, probabilities, threshold)
  list(
    auroc = as.numeric(pROC::auc(curve)),
    auroc_ci95_delong = interval[c(1, 3)],
    accuracy = (counts$tp + counts$tn) / length(labels),
    sensitivity = ratio(counts$tp, counts$fn),
    specificity = ratio(counts$tn, counts$fp),
    ppv = ratio(counts$tp, counts$fp),
    npv = ratio(counts$tn, counts$fn),
    # PPV, NPV, accuracy and Brier hold only at this prevalence of the positive class.
    prevalence = mean(labels == 1),
    brier = mean((probabilities - labels)^2),
    threshold = threshold,
    counts = c(counts, list(positives = sum(labels == 1), negatives = sum(labels == 0)))
  )
}

# AUROC as the Mann-Whitney statistic (ties count one half): the same value as
# pROC::auc, fast enough for thousands of bootstrap replicates.
rank_auroc <- function(labels, probabilities) {
  positives <- labels == 1
  n_pos <- sum(positives)
  n_neg <- length(labels) - n_pos
  (sum(rank(probabilities)[positives]) - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
}

# 95% percentile intervals for AUROC, sensitivity and specificity from a
# patient-level (cluster) bootstrap: patients are drawn with replacement and
# bring all their images, because films of one patient are correlated. The
# threshold stays fixed (it came from validation). Replicates whose resample
# lacks a class are counted and left out of all three intervals.
patient_bootstrap <- function(labels, probabilities, patients, threshold, replicates = BOOTSTRAP_REPLICATES,
                              seed = 42L) {
  images_of <- unname(split(seq_along(labels), as.character(patients)))
  predicted <- probabilities >= threshold
  estimates <- vapply(patient_draws(length(images_of), replicates, seed), function(drawn) {
    i <- unlist(images_of[drawn], use.names = FALSE)
    y <- labels[i]
    if (all(y == 1) || all(y == 0)) return(c(NA_real_, NA_real_, NA_real_))
    c(rank_auroc(y, probabilities[i]), mean(predicted[i][y == 1]), mean(!predicted[i][y == 0]))
  }, numeric(3))
  usable <- !is.na(estimates[1, ])
  interval <- function(row) {
    if (!any(usable)) return(c(NA_real_, NA_real_))
    as.numeric(stats::quantile(estimates[row, usable], c(0.025, 0.975), names = FALSE))
  }
  list(
    auroc_ci95_patient_bootstrap = interval(1),
    sensitivity_ci95_patient_bootstrap = interval(2),
    specificity_ci95_patient_bootstrap = interval(3),
    patient_bootstrap = list(
      method = paste("percentile intervals; patients drawn with replacement, each with all their test images;",
                     "threshold fixed"),
      replicates = as.integer(replicates), replicates_used = sum(usable),
      replicates_without_both_classes = sum(!usable), seed = as.integer(seed),
      patients = length(images_of), images = length(labels)
    )
  )
}

# The bootstrap's resamples: `replicates` draws, with replacement, of `patients` patient numbers.
patient_draws <- function(patients, replicates, seed) {
  withr::with_seed(seed, lapply(seq_len(replicates), function(r) sample.int(patients, patients, replace = TRUE)))
}

roc_points <- function(labels, probabilities) {
  curve <- roc_curve(labels, probabilities)
  data.frame(specificity = curve$specificities, sensitivity = curve$sensitivities)
}

# Precision-recall pairs at every distinct threshold (highest first), after the point
# (recall 0, precision 1), from threshold_counts (O(n log n): one confusion count per
# threshold would be quadratic with NIH's thousands of distinct test probabilities).
pr_points <- function(labels, probabilities) {
  counts <- threshold_counts(labels, probabilities)  # images at or above each distinct probability
  positives <- sum(labels == 1)
  recall <- if (positives > 0) counts$tp / positives else rep(NA_real_, nrow(counts))
  rbind(data.frame(recall = 0, precision = 1),
        data.frame(recall = recall, precision = counts$tp / (counts$tp + counts$fp)))
}

# Reliability: observed positive rate against mean predicted probability in
# equal-width probability bins, with counts.
calibration_bins <- function(labels, probabilities, bins = 10) {
  bin <- cut(probabilities, breaks = seq(0, 1, length.out = bins + 1), include.lowest = TRUE)
  groups <- split(seq_along(labels), bin, drop = TRUE)
  do.call(rbind, lapply(groups, function(i) {
    data.frame(predicted = mean(probabilities[i]), observed = mean(labels[i]), n = length(i))
  }))
}

age_band <- function(age) {
  cut(as.numeric(age), breaks = c(-Inf, 39, 59, Inf), labels = c("<40", "40-59", ">=60"))
}

# The test subgroups' AUROCs where the data say view, sex or age (NIH's metadata); NULL where they say none.
test_subgroups <- function(test_table, probabilities) {
  if (any(c("view_position", "patient_sex", "patient_age") %in% names(test_table))) {
    subgroup_auroc(test_table, probabilities)
  }
}

# AUROC per subgroup (view, sex, age band) with counts; NA where a group lacks a class.
subgroup_auroc <- function(table, probabilities) {
  groupings <- list(
    view = table$view_position,
    sex = table$patient_sex,
    age = if (!is.null(table$patient_age)) age_band(table$patient_age) else NULL
  )
  groupings <- groupings[!vapply(groupings, function(g) is.null(g) || all(is.na(g)), logical(1))]
  rows <- list()
  for (name in names(groupings)) {
    values <- groupings[[name]]
    levels <- if (is.factor(values)) levels(droplevels(values)) else sort(unique(stats::na.omit(values)))
    for (level in levels) {
      i <- which(values == level)
      labels <- table$label[i]
      both <- length(unique(labels)) == 2
      interval <- if (both && min(table(labels)) >= 2) {
        as.numeric(pROC::ci.auc(roc_curve(labels, probabilities[i]), method = "delong"))[c(1, 3)]
      } else {
        c(NA, NA)
      }
      rows[[length(rows) + 1]] <- data.frame(
        variable = name, group = level, images = length(i), positives = sum(labels == 1),
        auroc = if (both) as.numeric(pROC::auc(roc_curve(labels, probabilities[i]))) else NA_real_,
        ci_low = interval[1], ci_high = interval[2]
      )
    }
  }
  do.call(rbind, rows)
}

# Test images also read by radiologists (e.g. Majkowska et al., Radiology 2019, for
# Pneumothorax): agreement of NIH's mined label with theirs, and the model against both.
# expert: read_adjudicated_labels' table (image, label: 1 where they saw the finding).
adjudicated_agreement <- function(test_table, probabilities, threshold, expert_labels) {
  matched <- match(test_table$image, expert_labels$image)
  covered <- which(!is.na(matched))
  if (!length(covered)) return(NULL)
  expert <- expert_labels$label[matched[covered]]
  nih <- test_table$label[covered]
  p <- probabilities[covered]
  both <- function(labels) length(unique(labels)) == 2
  list(
    images = length(covered), expert_positives = sum(expert), nih_positives = sum(nih),
    label_agreement = mean(expert == nih),
    auroc_vs_expert = if (both(expert)) as.numeric(pROC::auc(roc_curve(expert, p))) else NA_real_,
    auroc_vs_nih = if (both(nih)) as.numeric(pROC::auc(roc_curve(nih, p))) else NA_real_,
    sensitivity_vs_expert = if (any(expert == 1)) mean(p[expert == 1] >= threshold) else NA_real_,
    specificity_vs_expert = if (any(expert == 0)) mean(p[expert == 0] < threshold) else NA_real_
  )
}

# Test images for the Grad-CAM figure: up to `per_outcome` true positives, false
# positives and false negatives (in that order), each the most confident of its
# kind (farthest from the threshold). Returns row indices and outcomes (OUTCOME_NAMES_ES's names).
grad_cam_cases <- function(labels, probabilities, threshold, per_outcome = 2L) {
  predicted <- probabilities >= threshold
  outcome <- ifelse(predicted & labels == 1, "true_positive",
             ifelse(predicted & labels == 0, "false_positive",
             ifelse(!predicted & labels == 1, "false_negative", NA)))
  kinds <- c("true_positive", "false_positive", "false_negative")
  index <- unlist(lapply(kinds, function(kind) {
    i <- which(outcome == kind)
    i[order(-abs(probabilities[i] - threshold))][seq_len(min(per_outcome, length(i)))]
  }))
  data.frame(index = as.integer(index), outcome = outcome[index], stringsAsFactors = FALSE)
}
