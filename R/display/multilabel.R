# The multi-label study's tables and figures (finding = "all"): per part and finding, per finding
# beside the published AUROCs, ROC curves as small multiples, co-occurrence, and the explorer with
# a finding selector.

PUBLISHED_AUROCS_FILE <- file.path("python", "chestxray", "support", "published_aurocs.csv")
published_aurocs <- function() utils::read.csv(PUBLISHED_AUROCS_FILE, stringsAsFactors = FALSE)

# Images (and share) with each finding per part: the prevalence per split, before and after the cap.
multilabel_split_kable <- function(counts, findings) {
  counts <- as.data.frame(counts)
  labels <- c(findings, "No Finding", "all images")
  cell <- function(split, label) {
    row <- counts[counts$split == split & counts$label == label, ]
    if (label == "all images") {
      return(sentence("{es_number(row$images)} ({es_number(row$patients)} pac.)"))
    }
    sentence("{es_number(row$images)} ({es_percent(row$share, 1)})")
  }
  table <- data.frame(
    Etiqueta = c(finding_names_es(findings), "Sin hallazgos", "Total de imágenes"),
    Entrenamiento = vapply(labels, function(l) cell("train", l), ""),
    `Validación` = vapply(labels, function(l) cell("validation", l), ""),
    Test = vapply(labels, function(l) cell("test", l), ""),
    check.names = FALSE, row.names = NULL
  )
  knitr::kable(table, align = "lrrr")
}

# One row per finding: test images and patients with it, AUROC and its two intervals, the threshold
# chosen on validation with sensitivity and specificity there, and the published AUROCs.
multilabel_results_table <- function(rows) {
  published <- published_aurocs()
  published <- published[match(rows$finding, published$finding), ]
  data.frame(
    Hallazgo = finding_names_es(rows$finding),
    `Img. (pac.)` = sentence("{es_number(rows$test_images)} ({es_number(rows$test_patients)})"),
    AUROC = auroc_cell(rows$auroc),
    DeLong = interval_cell(rows$auroc_delong_low, rows$auroc_delong_high),
    Bootstrap = interval_cell(rows$auroc_bootstrap_low, rows$auroc_bootstrap_high),
    Umbral = threshold_text(rows$threshold),
    `Sens.` = es_percent(rows$sensitivity, 0), `Espec.` = es_percent(rows$specificity, 0),
    Wang = es_number(published$wang_2017, 3), CheXNet = es_number(published$chexnet_2017, 3),
    `R.-CheXNet` = es_number(published$reproduce_chexnet_2022, 3),
    check.names = FALSE, stringsAsFactors = FALSE
  )
}

multilabel_results_kable <- function(rows) {
  knitr::kable(multilabel_results_table(rows), align = "lrrrrrrrrrr")
}

# Test ROC curves, one panel per finding, each titled with its AUROC.
plot_roc_small_multiples <- function(labels, probabilities, rows) {
  findings <- colnames(probabilities)
  panels <- paste0(finding_names_es(findings), "\nAUROC ", auroc_cell(rows$auroc[match(findings, rows$finding)]))
  points <- do.call(rbind, lapply(seq_along(findings), function(j) {
    cbind(roc_points(labels[, j], probabilities[, j]), panel = panels[j])
  }))
  points$panel <- factor(points$panel, levels = panels)
  ticks <- c(0, 0.5, 1)  # few, in Spanish: the panels sit side by side
  ggplot2::ggplot(points[order(points$panel, 1 - points$specificity, points$sensitivity), ],
                  ggplot2::aes(1 - specificity, sensitivity)) +
    ggplot2::geom_abline(linetype = "dashed", colour = "grey60") +
    ggplot2::geom_step(colour = "#0b5394") +
    ggplot2::facet_wrap(~panel) +
    ggplot2::scale_x_continuous(breaks = ticks, labels = es_number(ticks)) +
    ggplot2::scale_y_continuous(breaks = ticks, labels = es_number(ticks)) +
    ggplot2::coord_equal() +
    ggplot2::labs(x = "1 − especificidad", y = "sensibilidad") +
    ggplot2::theme_minimal(base_size = 10) +
    ggplot2::theme(panel.spacing = ggplot2::unit(1, "lines"))
}

# P(column finding | row finding) over every image used: how often one finding comes with another.
cooccurrence_matrix <- function(table, findings) {
  marks <- as.matrix(table[findings]) == 1
  together <- crossprod(marks)
  together / diag(together)
}

plot_cooccurrence <- function(table, findings) {
  shares <- cooccurrence_matrix(table, findings)
  names_es <- finding_names_es(findings)
  cells <- data.frame(given = factor(rep(names_es, times = length(findings)), levels = rev(names_es)),
                      with = factor(rep(names_es, each = length(findings)), levels = names_es),
                      share = as.vector(shares))
  ggplot2::ggplot(cells, ggplot2::aes(with, given, fill = share)) +
    ggplot2::geom_tile(colour = "white") +
    ggplot2::geom_text(ggplot2::aes(label = es_percent(share, 0)), size = 3) +
    ggplot2::scale_fill_gradient(low = "#f3f6f9", high = "#0b5394", guide = "none") +
    ggplot2::labs(x = "... que también tienen", y = "De las imágenes con ...") +
    ggplot2::theme_minimal(base_size = 10) +
    ggplot2::theme(axis.text.x = ggplot2::element_text(angle = 30, hjust = 1))
}

# The explorer, one per finding, with a selector (HTML); elsewhere each finding's static table.
multilabel_explorer_view <- function(labels, probabilities, thresholds) {
  findings <- colnames(probabilities)
  names_es <- finding_names_es(findings)
  if (!knitr::is_html_output()) {
    tables <- vapply(seq_along(findings), function(j) {
      paste0("\n\n**", names_es[j], "**\n\n",
             paste(operating_point_kable(operating_point_table(labels[, j], probabilities[, j], thresholds[[j]],
                                                               REFERENCE_PREVALENCE),
                                         REFERENCE_PREVALENCE, mean(labels[, j] == 1)), collapse = "\n"))
    }, "")
    return(knitr::asis_output(paste(tables, collapse = "\n")))
  }
  panels <- vapply(seq_along(findings), function(j) {
    html <- explorer_html(labels[, j], probabilities[, j], thresholds[[j]], tolower(names_es[j]),
                          negative = paste("Sin", tolower(names_es[j])), script = FALSE)
    paste0('<div class="finding-explorer" data-finding="', findings[j], '"', if (j > 1) " hidden", ">", html,
           "</div>")
  }, "")
  options <- paste0('<option value="', findings, '">', names_es, "</option>")
  selector <- paste0('<label class="finding-selector">Hallazgo: <select name="finding">',
                     paste(options, collapse = ""), "</select></label>")
  script <- paste(readLines("assets/explorer.js", encoding = "UTF-8"), collapse = "\n")
  knitr::asis_output(paste0("\n```{=html}\n<div class=\"finding-explorers\">", selector, paste(panels, collapse = "\n"),
                            "</div>\n<script>\n", script, "\n</script>\n```\n"))
}

# The finding whose Grad-CAM the report shows: the one with the most positive test images.
grad_cam_finding <- function(rows) rows$finding[which.max(rows$test_images)]

# Grad-CAM panels for one finding's test cases (grad_cam_cases with its own threshold), from that
# finding's output; NULL when there is no case to show.
multilabel_grad_cam_panels <- function(main, prepared, finding) {
  output <- match(finding, colnames(main$test_probabilities))
  test_table <- prepared$part("test")
  probabilities <- main$test_probabilities[, output]
  cases <- grad_cam_cases(test_table[[finding]], probabilities, main$threshold[[finding]])
  if (nrow(cases) == 0) return(NULL)
  picks <- cases$index
  titles <- paste0(OUTCOME_NAMES_ES[cases$outcome], "\n", test_table$image[picks], ", p = ",
                   es_number(probabilities[picks], 2))
  import_chestxray("model.explain")$grad_cam_frame(main$model, prepared$cache_path,
                                                   as.integer(test_table$cache_row[picks]), titles,
                                                   output = output - 1L)
}
