# What a threshold trades on the test split, and what the predictive values become
# at another prevalence: the numbers behind the report's operating-point explorer
# (HTML) and its static table (PDF, notebook), and the teaching notes beside them.

# An illustrative prevalence for a population other than the test split's.
REFERENCE_PREVALENCE <- 0.02

# Sensitivities the static table shows the highest test threshold for.
TABLE_SENSITIVITIES <- c(0.8, 0.9, 0.95)

# Confusion counts at every distinct probability taken as the threshold, and at
# `also` (e.g. the validation threshold): an image is predicted positive when its
# probability is >= the threshold, as in confusion_counts. From the highest
# threshold to the lowest, in O(n log n).
threshold_counts <- function(labels, probabilities, also = numeric()) {
  thresholds <- sort(unique(c(probabilities, also)), decreasing = TRUE)
  positives <- sort(probabilities[labels == 1])
  negatives <- sort(probabilities[labels == 0])
  at_or_above <- function(scores) length(scores) - findInterval(thresholds, scores, left.open = TRUE)
  tp <- at_or_above(positives)
  fp <- at_or_above(negatives)
  data.frame(threshold = thresholds, tp = tp, fp = fp,
             tn = length(negatives) - fp, fn = length(positives) - tp)
}

# Positive and negative predictive values at a prevalence, by Bayes' rule from a
# sensitivity and a specificity (which do not depend on prevalence).
predictive_values <- function(sensitivity, specificity, prevalence) {
  true_positive <- sensitivity * prevalence
  false_positive <- (1 - specificity) * (1 - prevalence)
  true_negative <- specificity * (1 - prevalence)
  false_negative <- (1 - sensitivity) * prevalence
  share <- function(a, b) ifelse(a + b > 0, a / (a + b), NA_real_)
  list(ppv = share(true_positive, false_positive), npv = share(true_negative, false_negative))
}

# Measures at one threshold: test counts, sensitivity, specificity, and PPV/NPV at
# the test split's prevalence and at `prevalence`.
operating_point <- function(labels, probabilities, threshold, prevalence = REFERENCE_PREVALENCE) {
  counts <- confusion_counts(labels, probabilities, threshold)
  sensitivity <- ratio(counts$tp, counts$fn)
  specificity <- ratio(counts$tn, counts$fp)
  elsewhere <- predictive_values(sensitivity, specificity, prevalence)
  c(list(threshold = threshold), counts,
    list(sensitivity = sensitivity, specificity = specificity,
         ppv = ratio(counts$tp, counts$fp), npv = ratio(counts$tn, counts$fn),
         ppv_at_prevalence = elsewhere$ppv, npv_at_prevalence = elsewhere$npv))
}

# The highest test threshold whose sensitivity reaches `sensitivity` (a threshold
# read off the test split: for teaching what the trade looks like, never for the
# reported metrics, whose threshold comes from validation).
threshold_for_sensitivity <- function(labels, probabilities, sensitivity) {
  counts <- threshold_counts(labels, probabilities)
  reaching <- counts$threshold[counts$tp / (counts$tp + counts$fn) >= sensitivity]
  if (length(reaching)) max(reaching) else NA_real_
}

# A few operating points for the PDF and the notebook: the validation threshold,
# then the highest test thresholds reaching TABLE_SENSITIVITIES; an operating
# point reached twice (the same counts) is shown once.
operating_point_table <- function(labels, probabilities, validation_threshold, prevalence = REFERENCE_PREVALENCE) {
  targets <- c(NA, TABLE_SENSITIVITIES)
  thresholds <- c(validation_threshold, vapply(TABLE_SENSITIVITIES, function(s) {
    threshold_for_sensitivity(labels, probabilities, s)
  }, numeric(1)))
  rows <- lapply(which(!is.na(thresholds)), function(i) {
    as.data.frame(c(list(target_sensitivity = targets[i]),
                    operating_point(labels, probabilities, thresholds[i], prevalence)))
  })
  table <- do.call(rbind, rows)
  table[!duplicated(table[c("tp", "fp")]), , drop = FALSE]
}
