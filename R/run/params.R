# Report parameters: each one's rule is declared once, in
# python/chestxray/support/report_params.yml (read by Python too); defaults live in
# report.qmd's `params:`. check_params() applies the rules before anything runs.

PARAMS_FILE <- file.path("python", "chestxray", "support", "report_params.yml")

# name -> rule (type, values, min, max, pattern, accepts, meaning, section), in report.qmd's order.
param_rules <- local({
  rules <- NULL
  function() {
    if (is.null(rules)) rules <<- lapply(yaml::read_yaml(PARAMS_FILE), resolve_values)
    rules
  }
})

# values_from: the first column of a CSV beside the definitions (findings.csv), then `values` if any.
resolve_values <- function(rule) {
  if (!is.null(rule$values_from)) {
    table <- utils::read.csv(file.path(dirname(PARAMS_FILE), rule$values_from), stringsAsFactors = FALSE,
                             encoding = "UTF-8")
    rule$values <- c(table[[1]], unlist(rule$values))
  }
  rule
}

# What a parameter accepts, in the words errors and the README use.
describe_rule <- function(rule) {
  if (!is.null(rule$accepts)) return(rule$accepts)
  switch(rule$type,
    choice = paste0("one of: ", paste(rule$values, collapse = ", ")),
    integer = sprintf("an integer from %d to %d", as.integer(rule$min), as.integer(rule$max)),
    selection = sprintf("'all' or numbers from %d to %d such as 1 or 1,2,5-7", as.integer(rule$min),
                        as.integer(rule$max)),
    number = sprintf("a number from %g to %g", rule$min, rule$max),
    text = "a non-empty text",
    optional = "a text, or empty",
    stop(sprintf("%s: unknown parameter type '%s'", PARAMS_FILE, rule$type), call. = FALSE)
  )
}

# Stop with a message naming the parameter and what it accepts; return the value with its R type.
check_param <- function(name, value) {
  rule <- param_rules()[[name]]
  if (is.null(rule)) {
    stop(sprintf("unknown parameter '%s'; known parameters: %s", name,
                 paste(names(param_rules()), collapse = ", ")), call. = FALSE)
  }
  bad <- function() {
    stop(sprintf("parameter '%s' is '%s' but must be %s", name, paste(value, collapse = " "), describe_rule(rule)),
         call. = FALSE)
  }
  if (length(value) != 1 || is.na(value)) bad()
  if (rule$type %in% c("integer", "number")) {
    number <- suppressWarnings(as.numeric(value))
    if (is.na(number) || number < rule$min || number > rule$max) bad()
    if (rule$type == "number") return(number)
    if (number != round(number)) bad()
    return(as.integer(number))
  }
  text <- as.character(value)
  # A selection's grammar and range are chestxray.sources.download.parse_selection's, the one parser (the
  # download's): the preflight (check_inputs) applies it right after these checks, naming the parameter.
  if (rule$type == "selection" && !nzchar(trimws(text))) bad()
  if (rule$type == "choice" && !text %in% rule$values) bad()
  if (rule$type == "text" && !nzchar(text)) bad()
  if (!is.null(rule$pattern) && !grepl(rule$pattern, text)) bad()
  text
}

# Validate every parameter; returns a plain list with proper R types.
check_params <- function(params) {
  params <- as.list(params)
  checked <- Map(check_param, names(params), params)
  missing <- setdiff(names(param_rules()), names(checked))
  if (length(missing)) stop(sprintf("missing parameter(s): %s", paste(missing, collapse = ", ")), call. = FALSE)
  checked
}

# The README's parameter table for one section, with the defaults of report.qmd.
readme_param_table <- function(section, defaults) {
  rules <- Filter(function(rule) identical(rule$section, section), param_rules())
  cell <- function(text) gsub("|", "\\|", gsub("\\s+", " ", trimws(text)), fixed = TRUE)
  default_cell <- function(value) if (is.null(value) || !nzchar(value)) "" else sprintf("`%s`", value)
  rows <- vapply(names(rules), function(name) {
    rule <- rules[[name]]
    sprintf("| `%s` | %s | %s | %s |", name, default_cell(defaults[[name]]), cell(describe_rule(rule)),
            cell(rule$meaning))
  }, "")
  c("| parameter | default | accepts | meaning |", "|---|---|---|---|", unname(rows))
}
