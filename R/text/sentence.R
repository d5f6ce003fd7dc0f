# Spanish sentences from named placeholders (glue): the pieces are joined by single
# spaces, so a long sentence can be written over several lines of code, and every
# {expression} is evaluated where sentence() is called. Numbers go through es_number
# and es_percent (R/text/numbers.R) inside the braces.
sentence <- function(..., .envir = parent.frame()) {
  as.character(glue::glue(..., .sep = " ", .envir = .envir, .trim = FALSE))
}

# "8, 16, 32 y 64": a Spanish list of numbers or words.
spanish_list <- function(items) {
  items <- if (is.numeric(items)) es_number(items) else items
  if (length(items) < 2) return(items)
  paste(paste(utils::head(items, -1), collapse = ", "), "y", utils::tail(items, 1))
}
