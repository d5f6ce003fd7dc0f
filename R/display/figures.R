# ggplot2 figures for the report.

plot_training_history <- function(histories) {
  long <- do.call(rbind, lapply(names(histories), function(name) {
    h <- histories[[name]]
    rbind(
      data.frame(model = name, epoch = h$epoch, part = "entrenamiento", metric = "pérdida", value = h$loss),
      data.frame(model = name, epoch = h$epoch, part = "validación", metric = "pérdida", value = h$val_loss),
      data.frame(model = name, epoch = h$epoch, part = "validación", metric = "AUROC", value = h$val_auroc)
    )
  }))
  ggplot2::ggplot(long, ggplot2::aes(epoch, value, colour = model, linetype = part)) +
    ggplot2::geom_line() + ggplot2::geom_point(size = 0.8) +
    ggplot2::facet_wrap(~metric, scales = "free_y") +
    ggplot2::labs(x = "época", y = NULL, colour = "modelo", linetype = NULL) +
    ggplot2::theme_minimal(base_size = 11) + ggplot2::theme(legend.position = "bottom")
}

# interval: DeLong's; bootstrap, when given: the patient-level bootstrap interval.
plot_roc_curve <- function(points, auroc, interval, bootstrap = NULL) {
  label <- paste0("AUROC ", es_number(auroc, 3),
                  "\n", CI_95, " DeLong: ", es_interval(interval[1], interval[2], digits = 3))
  if (!is.null(bootstrap)) {
    label <- paste0(label, "\n", CI_95, " bootstrap por paciente: ",
                    es_interval(bootstrap[1], bootstrap[2], digits = 3))
  }
  ggplot2::ggplot(points[order(1 - points$specificity, points$sensitivity), ],
                  ggplot2::aes(1 - specificity, sensitivity)) +
    ggplot2::geom_abline(linetype = "dashed", colour = "grey60") +
    ggplot2::geom_step(colour = "#0b5394", linewidth = 0.9) +
    ggplot2::annotate("text", x = 0.55, y = 0.12, label = label, size = 3.5) +
    ggplot2::coord_equal() +
    ggplot2::labs(x = "1 - especificidad", y = "sensibilidad") +
    ggplot2::theme_minimal(base_size = 11)
}

# class_names: negative, then positive (the report's finding).
plot_confusion_matrix <- function(counts, class_names) {
  cells <- data.frame(
    truth = factor(class_names[c(2, 1, 2, 1)], levels = class_names),
    predicted = factor(class_names[c(2, 2, 1, 1)], levels = class_names),
    n = c(counts$tp, counts$fp, counts$fn, counts$tn)
  )
  ggplot2::ggplot(cells, ggplot2::aes(predicted, truth, fill = n)) +
    ggplot2::geom_tile(colour = "white") +
    ggplot2::geom_text(ggplot2::aes(label = n), size = 6) +
    ggplot2::scale_fill_gradient(low = "#f1f5fb", high = "#6d9eeb", guide = "none") +
    ggplot2::labs(x = "predicción", y = "verdad") +
    ggplot2::theme_minimal(base_size = 12)
}

plot_example_images <- function(pixels) {
  ggplot2::ggplot(pixels, ggplot2::aes(x, y, fill = value)) +
    ggplot2::geom_raster() +
    ggplot2::scale_fill_gradient(low = "black", high = "white", guide = "none") +
    ggplot2::facet_wrap(~ class_name + image, nrow = 2) +
    ggplot2::coord_equal() +
    ggplot2::theme_void(base_size = 9) +
    ggplot2::theme(strip.text = ggplot2::element_text(margin = ggplot2::margin(2, 0, 2, 0)))
}

plot_pr_curve <- function(points, prevalence) {
  ggplot2::ggplot(points, ggplot2::aes(recall, precision)) +
    ggplot2::geom_hline(yintercept = prevalence, linetype = "dashed", colour = "grey60") +
    ggplot2::geom_step(colour = "#0b5394", linewidth = 0.9, direction = "vh") +
    ggplot2::coord_equal(xlim = c(0, 1), ylim = c(0, 1)) +
    ggplot2::labs(x = "sensibilidad (recall)", y = "valor predictivo positivo (precisión)") +
    ggplot2::theme_minimal(base_size = 11)
}

plot_calibration <- function(bins, brier) {
  ggplot2::ggplot(bins, ggplot2::aes(predicted, observed)) +
    ggplot2::geom_abline(linetype = "dashed", colour = "grey60") +
    ggplot2::geom_line(colour = "#0b5394") +
    ggplot2::geom_point(ggplot2::aes(size = n), colour = "#0b5394") +
    ggplot2::annotate("text", x = 0.25, y = 0.9, label = paste("Brier", es_number(brier, 3))) +
    ggplot2::coord_equal(xlim = c(0, 1), ylim = c(0, 1)) +
    ggplot2::labs(x = "probabilidad predicha (media del intervalo)", y = "proporción observada de positivos",
                  size = "imágenes") +
    ggplot2::theme_minimal(base_size = 11)
}

# The Grad-CAM figure's panels for the chosen test cases (grad_cam_cases): each titled by its outcome,
# file and probability (chestxray.model.explain.grad_cam_frame computes the maps).
grad_cam_panels <- function(main, prepared, test_table, cases) {
  picks <- cases$index
  titles <- paste0(OUTCOME_NAMES_ES[cases$outcome], "\n", test_table$image[picks], ", p = ",
                   es_number(main$test_probabilities[picks], 2))
  import_chestxray("model.explain")$grad_cam_frame(main$model, prepared$cache_path,
                                                   as.integer(test_table$cache_row[picks]), titles)
}

# Radiographs with their Grad-CAM heat map overlaid; panels titled by outcome.
plot_grad_cam <- function(cams) {
  ggplot2::ggplot(cams, ggplot2::aes(x, y)) +
    ggplot2::geom_raster(ggplot2::aes(fill = value)) +
    ggplot2::scale_fill_gradient(low = "black", high = "white", guide = "none") +
    ggplot2::geom_raster(ggplot2::aes(alpha = heat), fill = "#ff3300") +
    ggplot2::scale_alpha_continuous(range = c(0, 0.6), guide = "none") +
    ggplot2::facet_wrap(~panel, nrow = 1) +
    ggplot2::coord_equal() +
    ggplot2::theme_void(base_size = 9)
}
