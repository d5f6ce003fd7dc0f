# Numbers as the report's Spanish text writes them, in sentences, tables, figure labels
# and (assets/explorer.js, held to these in a browser test) the explorer. The rules of the
# RAE's Ortografía (2010) and ISO 80000-1: a decimal comma; digits grouped in threes by a
# space only when the whole part has more than four (2024, 60 361); a space before % (82,2 %).
# The spaces are non-breaking so a number never splits across lines. A missing value is a dash.

NBSP <- "\u00a0"
MISSING_NUMBER <- "–"
# "IC 95 %", the tables' and figures' name for a 95 % confidence interval.
CI_95 <- paste0("IC 95", NBSP, "%")

# x with `digits` decimals; digits = NULL writes the value as R would print it (0,0003, 0,5, 3).
es_number <- function(x, digits = NULL) {
  shown <- if (is.null(digits)) {
    format_plain <- function(v) format(v, scientific = FALSE, trim = TRUE, digits = 15)
    vapply(abs(x), format_plain, "")
  } else {
    formatC(abs(x), format = "f", digits = digits)
  }
  whole <- sub("\\..*$", "", shown)
  decimals <- ifelse(grepl(".", shown, fixed = TRUE), sub("^[^.]*\\.", ",", shown), "")
  grouped <- ifelse(nchar(whole) > 4, group_thousands(whole), whole)
  sign <- ifelse(!is.na(x) & x < 0 & grepl("[1-9]", shown), "-", "")  # never "-0,0"
  ifelse(is.na(x), MISSING_NUMBER, paste0(sign, grouped, decimals))
}

# "8553602" -> "8 553 602" (non-breaking spaces).
group_thousands <- function(digits) {
  vapply(digits, function(d) {
    starts <- rev(seq(nchar(d), 1, by = -3))
    pieces <- substring(d, pmax(starts - 2, 1), starts)
    paste(pieces, collapse = NBSP)
  }, "", USE.NAMES = FALSE)
}

# A proportion as a percentage: 0.8224 -> "82,2 %".
es_percent <- function(x, digits = 1L) ifelse(is.na(x), MISSING_NUMBER, paste0(es_number(100 * x, digits), NBSP, "%"))

# An interval "low–high" in one format (es_number's or es_percent's), or a dash when it could not be computed.
es_interval <- function(low, high, format = es_number, ...) {
  ifelse(is.na(low) | is.na(high), MISSING_NUMBER, paste0(format(low, ...), "–", format(high, ...)))
}

# A count of epochs or images in words, as Spanish prose writes small numbers ("seis épocas").
spanish_count <- function(n) {
  words <- c("una", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve", "diez")
  if (n %in% seq_along(words)) words[n] else es_number(n)
}
