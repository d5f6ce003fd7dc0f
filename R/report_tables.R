# Tables whose shape is chosen to fit a printed page: in the PDF, pandoc gives a
# wide pipe table proportional column widths, and a header word longer than its
# column prints over the next one. So wide tables are transposed or short.

percent_cell <- function(x) ifelse(is.na(x), "–", sprintf("%.1f %%", 100 * x))
# Thresholds written with as many decimals (3 to 8) as it takes to tell them apart:
# the demo's probabilities crowd near 0 and 1.
threshold_text <- function(thresholds) {
  for (digits in 3:8) {
    shown <- sprintf("%.*f", digits, thresholds)
    if (!anyDuplicated(shown)) break
  }
  shown
}

interval_cell <- function(low, high) ifelse(is.na(low), "–", sprintf("%.3f–%.3f", low, high))

# The model comparison with one column per model and one row per measure, so it
# stays three columns wide however many measures it shows.
comparison_kable <- function(comparison) {
  rows <- list(
    "Parámetros" = format(comparison$parameters, big.mark = "."),
    "Épocas (evaluada)" = sprintf("%d (%d)", comparison$epochs, comparison$evaluated_epoch),
    "Segundos de entrenamiento" = as.character(comparison$seconds),
    "AUROC" = sprintf("%.3f", comparison$auroc),
    "IC 95 % DeLong" = interval_cell(comparison$ci_low, comparison$ci_high),
    "IC 95 % bootstrap por paciente" = interval_cell(comparison$boot_low, comparison$boot_high),
    "Sensibilidad" = percent_cell(comparison$sensitivity), "Especificidad" = percent_cell(comparison$specificity),
    "VPP" = percent_cell(comparison$ppv), "VPN" = percent_cell(comparison$npv),
    "Brier" = sprintf("%.3f", comparison$brier)
  )
  cells <- do.call(rbind, rows)
  table <- data.frame(Medida = names(rows), cells, check.names = FALSE, row.names = NULL)
  names(table) <- c("Medida", comparison$model)
  knitr::kable(table, align = c("l", rep("r", nrow(comparison))),
               caption = "Modelos entrenados sobre la misma partición por paciente, con la misma regla de umbral.")
}

# The operating points of R/operating_point.R, seven short columns.
operating_point_kable <- function(table, prevalence, test_prevalence) {
  knitr::kable(
    data.frame(
      Umbral = threshold_text(table$threshold), Criterio = table$rule,
      Sens = percent_cell(table$sensitivity), Espec = percent_cell(table$specificity),
      VPP = percent_cell(table$ppv), VPP2 = percent_cell(table$ppv_at_prevalence),
      VPN2 = percent_cell(table$npv_at_prevalence)
    ),
    col.names = c("Umbral", "Criterio", "Sensib.", "Especif.", "VPP test",
                  sprintf("VPP %s", percent_cell(prevalence)), sprintf("VPN %s", percent_cell(prevalence))),
    align = c("r", "l", rep("r", 5)),
    caption = sprintf(paste("Puntos de trabajo en test: sensibilidad, especificidad y valor predictivo positivo",
                            "con la prevalencia del test (%s), y valores predictivos con una prevalencia de %s."),
                      percent_cell(test_prevalence), percent_cell(prevalence))
  )
}
