# The explorer for the HTML report: the data (counts at every threshold of the
# test split and at the validation threshold), the controls and outputs, and
# assets/explorer.js, all inline so the page stays self-contained and offline.
# `negative`: the other column's heading; `script = FALSE` leaves the script (and the HTML block's
# fence) to the caller, for several explorers on one page (the multi-label study's).
explorer_html <- function(labels, probabilities, validation_threshold, finding_es, negative = "Sin hallazgos",
                          script = TRUE) {
  counts <- threshold_counts(labels, probabilities, also = validation_threshold)
  data <- list(thresholds = counts$threshold, tp = counts$tp, fp = counts$fp,
               positives = sum(labels == 1), negatives = sum(labels == 0),
               validation_threshold = validation_threshold)
  json <- jsonlite::toJSON(data, auto_unbox = TRUE, digits = NA)
  template <- paste(readLines("assets/explorer.html", encoding = "UTF-8"), collapse = "\n")
  filled <- gsub("{{finding}}", finding_es, template, fixed = TRUE)
  filled <- gsub("{{negative}}", negative, filled, fixed = TRUE)
  filled <- gsub("{{data}}", gsub("</", "<\\/", json, fixed = TRUE), filled, fixed = TRUE)
  if (!script) return(filled)
  code <- paste(readLines("assets/explorer.js", encoding = "UTF-8"), collapse = "\n")
  paste0("\n```{=html}\n", filled, "\n<script>\n", code, "\n</script>\n```\n")
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
