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

# The operating points of R/evaluate/operating_point.R, seven short columns.
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

# A percentage interval, "12.5 %–40.0 %", or "–" when it could not be computed.
percent_interval <- function(ci) ifelse(is.na(ci[1]), "–", sprintf("%s–%s", percent_cell(ci[1]), percent_cell(ci[2])))

# Images and patients per split and class (PreparedData.counts), splits in their order.
split_counts_kable <- function(counts, integrity) {
  counts$split <- factor(counts$split, levels = names(SPLIT_NAMES_ES), labels = SPLIT_NAMES_ES)
  counts <- counts[order(counts$split, counts$class_name), ]
  knitr::kable(counts, row.names = FALSE, col.names = c("Parte", "Clase", "Imágenes", "Pacientes"),
               caption = paste("Imágenes y pacientes por parte y clase.", if (integrity$images_with_unknown_patient == 0)
                 "Ningún paciente aparece en dos partes." else "Ningún paciente conocido aparece en dos partes."))
}

# The main model's test metrics (m: its metrics), each count beside its percentage, with both AUROC intervals.
metrics_kable <- function(m, finding_lower, model, evaluated_epoch) {
  with_counts <- function(value, numerator, denominator) sprintf("%s (%d/%d)", percent_cell(value), numerator, denominator)
  n <- m$counts
  knitr::kable(
    data.frame(
      Medida = c("AUROC", "Exactitud", "Sensibilidad", "Especificidad",
                 sprintf("Prevalencia de %s en test", finding_lower),
                 "Valor predictivo positivo", "Valor predictivo negativo", "Brier", "Umbral (de validación)"),
      Valor = c(sprintf("%.3f", m$auroc), percent_cell(m$accuracy),
                with_counts(m$sensitivity, n$tp, n$tp + n$fn), with_counts(m$specificity, n$tn, n$tn + n$fp),
                with_counts(m$prevalence, n$positives, n$positives + n$negatives),
                with_counts(m$ppv, n$tp, n$tp + n$fp), with_counts(m$npv, n$tn, n$tn + n$fn),
                sprintf("%.3f", m$brier), sprintf("%.3f", m$threshold)),
      DeLong = c(interval_cell(m$auroc_ci95_delong[1], m$auroc_ci95_delong[2]), rep("–", 8)),
      Bootstrap = c(interval_cell(m$auroc_ci95_patient_bootstrap[1], m$auroc_ci95_patient_bootstrap[2]), "–",
                    percent_interval(m$sensitivity_ci95_patient_bootstrap),
                    percent_interval(m$specificity_ci95_patient_bootstrap), rep("–", 5))
    ),
    col.names = c("Medida", "Valor", "IC 95 % DeLong (imágenes independientes)", "IC 95 % bootstrap por paciente"),
    caption = sprintf("Modelo `%s` en test (%d imágenes con %s, %d sin hallazgos, de %d pacientes; época %d).",
                      model, n$positives, finding_lower, n$negatives, m$patient_bootstrap$patients, evaluated_epoch)
  )
}

# Test AUROC per view, sex and age band (subgroup_auroc); nothing when the data have none.
subgroups_kable <- function(subgroups, finding_lower) {
  if (is.null(subgroups) || nrow(subgroups) == 0) return(invisible(NULL))
  knitr::kable(
    data.frame(Variable = subgroups$variable, Grupo = subgroups$group, Imágenes = subgroups$images,
               Positivas = subgroups$positives,
               AUROC = ifelse(is.na(subgroups$auroc), "–", sprintf("%.3f", subgroups$auroc)),
               `IC 95 % DeLong` = interval_cell(subgroups$ci_low, subgroups$ci_high),
               check.names = FALSE),
    col.names = c("Variable", "Grupo", "Imágenes", sprintf("Con %s", finding_lower), "AUROC", "IC 95 % DeLong"),
    caption = "AUROC en test por proyección, sexo y grupo de edad (– : el grupo no tiene las dos clases)."
  )
}
