# ggplot2 figures for the report.

plot_training_history <- function(history) {
  long <- rbind(
    data.frame(epoch = history$epoch, part = "entrenamiento", metric = "pérdida", value = history$loss),
    data.frame(epoch = history$epoch, part = "validación", metric = "pérdida", value = history$val_loss),
    data.frame(epoch = history$epoch, part = "entrenamiento", metric = "AUROC", value = history$auc),
    data.frame(epoch = history$epoch, part = "validación", metric = "AUROC", value = history$val_auc)
  )
  ggplot2::ggplot(long, ggplot2::aes(epoch, value, colour = part)) +
    ggplot2::geom_line() + ggplot2::geom_point(size = 1) +
    ggplot2::facet_wrap(~metric, scales = "free_y") +
    ggplot2::labs(x = "época", y = NULL, colour = NULL) +
    ggplot2::theme_minimal(base_size = 11) + ggplot2::theme(legend.position = "bottom")
}

plot_roc_curve <- function(points, auroc, interval) {
  label <- sprintf("AUROC %.3f (IC 95%%: %.3f-%.3f)", auroc, interval[1], interval[2])
  ggplot2::ggplot(points[order(1 - points$specificity, points$sensitivity), ],
                  ggplot2::aes(1 - specificity, sensitivity)) +
    ggplot2::geom_abline(linetype = "dashed", colour = "grey60") +
    ggplot2::geom_step(colour = "#0b5394", linewidth = 0.9) +
    ggplot2::annotate("text", x = 0.6, y = 0.1, label = label) +
    ggplot2::coord_equal() +
    ggplot2::labs(x = "1 - especificidad", y = "sensibilidad") +
    ggplot2::theme_minimal(base_size = 11)
}

plot_confusion_matrix <- function(counts, class_names = c("No Finding", "Pneumothorax")) {
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
