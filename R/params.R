# Report parameters: the allowed values live here, checked before anything runs.

PARAM_RULES <- list(
  data = list(values = c("demo", "folder", "nih")),
  data_dir = list(type = "character"),
  nih_dir = list(type = "character"),
  nih_archives = list(type = "character", pattern = "^(all|[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*)$",
                      describe = "'all' or archive numbers 1-12 such as 1 or 1,2,5-7"),
  nih_base_url = list(type = "optional"),
  nih_metadata = list(type = "optional"),
  match = list(values = c("any", "exact")),
  model = list(values = c("cnn", "baseline", "densenet121", "mobilenetv2")),
  weights = list(type = "character", describe = "'imagenet', 'none' or the path of a weights file"),
  on_missing_weights = list(values = c("stop", "random")),
  operating_point = list(values = c("youden", "sensitivity")),
  target_sensitivity = list(type = "number", min = 0.5, max = 0.999),
  adjudicated_labels = list(type = "optional"),
  n_per_class = list(type = "integer", min = 10L, max = 100000L),
  image_size = list(type = "integer", min = 32L, max = 512L),
  epochs = list(type = "integer", min = 1L, max = 500L),
  batch_size = list(type = "integer", min = 1L, max = 1024L),
  seed = list(type = "integer", min = 0L, max = .Machine$integer.max)
)

describe_rule <- function(rule) {
  if (!is.null(rule$describe)) return(rule$describe)
  if (!is.null(rule$values)) return(paste0("one of: ", paste(rule$values, collapse = ", ")))
  if (identical(rule$type, "integer")) return(sprintf("an integer from %d to %d", rule$min, rule$max))
  if (identical(rule$type, "number")) return(sprintf("a number from %g to %g", rule$min, rule$max))
  "a non-empty text"
}

# Stop with a message naming the parameter and what it accepts.
check_param <- function(name, value) {
  rule <- PARAM_RULES[[name]]
  if (is.null(rule)) {
    stop(sprintf("unknown parameter '%s'; known parameters: %s", name,
                 paste(names(PARAM_RULES), collapse = ", ")), call. = FALSE)
  }
  bad <- function() stop(sprintf("parameter '%s' is '%s' but must be %s", name,
                                 paste(value, collapse = " "), describe_rule(rule)), call. = FALSE)
  if (length(value) != 1 || is.na(value)) bad()
  if (!is.null(rule$values)) {
    if (!as.character(value) %in% rule$values) bad()
    return(as.character(value))
  }
  if (identical(rule$type, "integer")) {
    number <- suppressWarnings(as.numeric(value))
    if (is.na(number) || number != round(number) || number < rule$min || number > rule$max) bad()
    return(as.integer(number))
  }
  if (identical(rule$type, "number")) {
    number <- suppressWarnings(as.numeric(value))
    if (is.na(number) || number < rule$min || number > rule$max) bad()
    return(number)
  }
  if (identical(rule$type, "optional")) return(as.character(value))
  if (!nzchar(as.character(value))) bad()
  if (!is.null(rule$pattern) && !grepl(rule$pattern, as.character(value))) bad()
  as.character(value)
}

# Validate every parameter; returns a plain list with proper R types.
check_params <- function(params) {
  params <- as.list(params)
  checked <- Map(check_param, names(params), params)
  missing <- setdiff(names(PARAM_RULES), names(checked))
  if (length(missing)) stop(sprintf("missing parameter(s): %s", paste(missing, collapse = ", ")), call. = FALSE)
  checked
}
