# The report's finding in the report's words. The 14 NIH findings, their Spanish
# names and their counts in NIH's metadata are one table,
# python/chestxray/support/findings.csv, which the Python package reads too. This file
# is also sourced on its own by report.qmd's title, before the set-up chunk.

FINDINGS_FILE <- file.path("python", "chestxray", "support", "findings.csv")
# 'No Finding' images in Data_Entry_2017_v2020.csv (a test recounts it with findings.csv's counts).
NIH_NO_FINDING_IMAGES <- 60361L

# A finding's names and counts: label (NIH's, also its class folder's name), es
# (Spanish, capitalised), es_lower (mid-sentence), description (Spanish, what it
# is), nih_images (images with it among their labels), nih_images_only.
finding_names <- function(finding) {
  table <- utils::read.csv(FINDINGS_FILE, stringsAsFactors = FALSE, encoding = "UTF-8")
  row <- table[table$finding == finding, ]
  if (nrow(row) != 1) {
    stop("unknown finding '", finding, "'; findings: ", paste(table$finding, collapse = ", "), call. = FALSE)
  }
  list(label = finding, es = row$spanish, es_lower = lower_first(row$spanish),
       description = row$description_es, nih_images = row$nih_images, nih_images_only = row$nih_images_only,
       is_pneumothorax = finding == "Pneumothorax")
}

# Spanish mid-sentence name for report.qmd's title; an unknown finding is left
# as given, for check_params in the set-up chunk to stop on with its message.
finding_in_title <- function(finding) {
  tryCatch(finding_names(finding)$es_lower, error = function(e) finding)
}

lower_first <- function(text) paste0(tolower(substr(text, 1, 1)), substring(text, 2))

# The negative class's name in NIH's metadata, as chestxray.NEGATIVE_CLASS names it for
# Python (a test holds the two equal; R reads it without starting Python).
NEGATIVE_CLASS <- "No Finding"
