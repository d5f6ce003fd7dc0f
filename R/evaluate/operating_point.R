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
  rules <- c("validación", sprintf("sens. test >= %.0f %%", 100 * TABLE_SENSITIVITIES))
  rows <- lapply(which(!is.na(thresholds)), function(i) {
    as.data.frame(c(list(rule = rules[i], target_sensitivity = targets[i]),
                    operating_point(labels, probabilities, thresholds[i], prevalence)))
  })
  table <- do.call(rbind, rows)
  table[!duplicated(table[c("tp", "fp")]), , drop = FALSE]
}

# The explorer for the HTML report: the data (counts at every threshold of the
# test split and at the validation threshold), the controls and outputs, and
# assets/explorer.js, all inline so the page stays self-contained and offline.
explorer_html <- function(labels, probabilities, validation_threshold, finding_es) {
  counts <- threshold_counts(labels, probabilities, also = validation_threshold)
  data <- list(thresholds = counts$threshold, tp = counts$tp, fp = counts$fp,
               positives = sum(labels == 1), negatives = sum(labels == 0),
               validation_threshold = validation_threshold)
  json <- jsonlite::toJSON(data, auto_unbox = TRUE, digits = NA)
  template <- paste(readLines("assets/explorer.html", encoding = "UTF-8"), collapse = "\n")
  filled <- gsub("{{finding}}", finding_es, template, fixed = TRUE)
  filled <- gsub("{{data}}", gsub("</", "<\\/", json, fixed = TRUE), filled, fixed = TRUE)
  script <- paste(readLines("assets/explorer.js", encoding = "UTF-8"), collapse = "\n")
  paste0("\n```{=html}\n", filled, "\n<script>\n", script, "\n</script>\n```\n")
}

# The explorer where the output is HTML; elsewhere (PDF, notebook) the static table.
operating_point_view <- function(labels, probabilities, validation_threshold, finding_es,
                                 prevalence = REFERENCE_PREVALENCE) {
  if (knitr::is_html_output()) {
    return(knitr::asis_output(explorer_html(labels, probabilities, validation_threshold, finding_es)))
  }
  operating_point_kable(operating_point_table(labels, probabilities, validation_threshold, prevalence),
                        prevalence, mean(labels == 1))
}
