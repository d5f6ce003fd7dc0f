# Rendering: parameter overrides, Quarto when present, knitr fallback otherwise.

# "key=value" strings -> named list of strings.
parse_overrides <- function(args) {
  args <- args[nzchar(args)]
  malformed <- args[!grepl("^[A-Za-z_][A-Za-z0-9_]*=", args)]
  if (length(malformed)) {
    stop(sprintf("parameters must be written key=value; got '%s'", malformed[1]), call. = FALSE)
  }
  values <- sub("^[^=]*=", "", args)
  stats::setNames(as.list(values), sub("=.*$", "", args))
}

# Declared defaults overridden by the user's values, every one validated.
merge_params <- function(defaults, overrides) {
  unknown <- setdiff(names(overrides), names(defaults))
  if (length(unknown)) {
    stop(sprintf("unknown parameter '%s'; known parameters: %s", unknown[1],
                 paste(names(defaults), collapse = ", ")), call. = FALSE)
  }
  defaults[names(overrides)] <- overrides
  check_params(defaults)
}

# Where every render writes (also _quarto.yml's output-dir, checked by a test).
OUTPUT_DIR <- "_output"

# The render options, for both renderers: Quarto reads them itself, the knitr fallback from here.
QUARTO_CONFIG <- "_quarto.yml"
quarto_config <- function(path = QUARTO_CONFIG) yaml::read_yaml(path)

render_report <- function(to, params, overrides, input = "report.qmd", output_dir = OUTPUT_DIR) {
  if (nzchar(Sys.which("quarto")) && Sys.getenv("REPORT_RENDERER") != "knitr") {
    return(render_with_quarto(to, overrides, input, output_dir))
  }
  render_with_knitr(to, params, input, output_dir)
}

render_with_quarto <- function(to, overrides, input, output_dir) {
  flags <- unlist(lapply(names(overrides), function(k) c("-P", paste0(k, ":", overrides[[k]]))))
  status <- system2("quarto", c("render", input, "--to", to, flags))
  if (status != 0) stop("quarto render failed", call. = FALSE)
  file.path(output_dir, paste0(tools::file_path_sans_ext(basename(input)), ".", to))
}

# Quarto numbers figures whose label starts with "fig-" and turns @fig-x into
# "Figura N". knitr does neither, so the fallback rewrites the source first:
# references become "Figura N" and, for HTML, captions start with "Figura N: "
# (LaTeX numbers PDF captions itself, in the same order). A caption is a quoted
# text or an R expression (`!expr 'sprintf(...)'`, single-quoted for YAML).
# "Figura" and the non-breaking space Quarto puts before the number (lang: es).
FIGURE <- "Figura\u00a0"

number_figures <- function(lines, prefix_captions) {
  labels <- sub("^#\\|\\s*label:\\s*", "", grep("^#\\|\\s*label:\\s*fig-", lines, value = TRUE))
  labels <- trimws(labels)
  current <- NA_integer_
  for (i in seq_along(lines)) {
    if (grepl("^#\\|\\s*label:", lines[i])) current <- match(trimws(sub("^#\\|\\s*label:\\s*", "", lines[i])), labels)
    if (prefix_captions && !is.na(current)) lines[i] <- prefix_caption(lines[i], current)
  }
  for (n in rev(seq_along(labels))) {
    lines <- gsub(sprintf("@%s\\b", labels[n]), paste0(FIGURE, n), lines, perl = TRUE)
  }
  unresolved <- grep("@fig-", lines, value = TRUE, fixed = TRUE)
  if (length(unresolved)) stop(sprintf("unresolved figure reference: %s", unresolved[1]), call. = FALSE)
  lines
}

# report.qmd's lines with the inline R of the front matter's title and subtitle
# evaluated for these parameters, as knitr does when it renders; for routes that
# show the title as plain text (the notebook's title cell).
evaluate_title <- function(lines, params) {
  front_matter <- seq_len(which(lines == "---")[2])
  for (i in grep("^(title|subtitle):", lines[front_matter])) {
    env <- new.env()
    env$params <- params
    lines[i] <- knitr::knit(text = lines[i], envir = env, quiet = TRUE)
  }
  lines
}

# report.qmd's lines for one study, for the routes that rewrite the source before knitting (the knitr
# fallback, the notebook): for the multi-label study (finding = "all") the lines up to the chunk that
# includes MULTILABEL_CHILD, then that file's lines (knitr's child option would knit it unseen by
# number_figures); otherwise without the two chunks that include it and stop after it.
MULTILABEL_CHILD <- "_multilabel.qmd"

study_source <- function(lines, finding, child = MULTILABEL_CHILD) {
  include <- chunk_lines(lines, "multilabel-study")
  if (identical(finding, "all")) {
    return(c(lines[seq_len(min(include) - 1L)], readLines(child, encoding = "UTF-8")))
  }
  lines[-c(include, chunk_lines(lines, "multilabel-end"))]
}

# The line numbers of the chunk labelled `label`, fences included.
chunk_lines <- function(lines, label) {
  at <- grep(sprintf("^#\\|\\s*label:\\s*%s\\s*$", label), lines)
  if (length(at) != 1) stop(sprintf("report.qmd needs one chunk labelled '%s'", label), call. = FALSE)
  opening <- max(grep("^```\\{", lines[seq_len(at)]))
  closing <- at + min(grep("^```\\s*$", lines[-seq_len(at)]))
  opening:closing
}

# A fig-cap option line with "Figura n: " in front of its text; other lines unchanged.
prefix_caption <- function(line, n) {
  expression <- "^(#\\|\\s*fig-cap:\\s*)!expr\\s+(.*)$"
  if (grepl(expression, line)) {
    code <- sprintf("paste0(\"%s%d: \", %s)", FIGURE, n, yaml::yaml.load(sub(expression, "\\2", line)))
    return(sprintf("%s!expr '%s'", sub(expression, "\\1", line), gsub("'", "''", code, fixed = TRUE)))
  }
  if (!grepl("^#\\|\\s*fig-cap:\\s*\"", line)) return(line)
  sub("fig-cap:\\s*\"", sprintf("fig-cap: \"%s%d: ", FIGURE, n), line)
}

# rmarkdown's format with _quarto.yml's options for `to` (format: html or pdf), its language,
# and its chunk options (execute: and knitr: opts_chunk:).
fallback_format <- function(to, config = quarto_config()) {
  options <- config$format[[to]]
  language <- c("--metadata", paste0("lang=", config$lang))
  format <- if (to == "html") {
    # No MathJax: the report has no equations, and rmarkdown would load it from the
    # web (Quarto adds it only to pages with math), breaking the offline promise.
    rmarkdown::html_document(
      toc = options$toc, toc_depth = options[["toc-depth"]], number_sections = options[["number-sections"]],
      self_contained = options[["embed-resources"]], mathjax = NULL, fig_caption = TRUE,
      css = normalizePath(options$css), pandoc_args = language
    )
  } else {
    rmarkdown::pdf_document(
      toc = options$toc, number_sections = options[["number-sections"]], fig_caption = TRUE,
      latex_engine = options[["pdf-engine"]],
      pandoc_args = c(language, "-V", paste0("papersize=", options$papersize),
                      "-V", paste0("geometry=", options$geometry),
                      unlist(lapply(options$filters, function(f) c("--lua-filter", normalizePath(f)))))
    )
  }
  format$knitr$opts_chunk <- utils::modifyList(as.list(format$knitr$opts_chunk), quarto_chunk_options(config))
  format
}

# The chunk options Quarto applies from _quarto.yml: execute's, named as knitr names them, and knitr's own.
quarto_chunk_options <- function(config = quarto_config()) {
  c(config$execute[intersect(names(config$execute), c("echo", "warning", "message", "error", "eval"))],
    config$knitr$opts_chunk)
}

render_with_knitr <- function(to, params, input, output_dir) {
  source_copy <- paste0(".", tools::file_path_sans_ext(basename(input)), "-knitr.Rmd")
  lines <- study_source(readLines(input, encoding = "UTF-8"), params$finding)
  writeLines(number_figures(lines, prefix_captions = to == "html"), source_copy)
  on.exit(unlink(source_copy), add = TRUE)
  output_file <- paste0(tools::file_path_sans_ext(basename(input)), ".", to)
  scratch <- tempfile("render-")
  dir.create(scratch)
  on.exit(unlink(scratch, recursive = TRUE), add = TRUE)
  rmarkdown::render(
    source_copy, output_format = fallback_format(to), output_file = output_file,
    output_dir = output_dir, intermediates_dir = scratch, knit_root_dir = getwd(),
    params = params, envir = new.env(), quiet = TRUE
  )
}
