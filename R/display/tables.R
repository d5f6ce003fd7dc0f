# Tables whose shape is chosen to fit a printed page: in the PDF, pandoc gives a
# wide pipe table proportional column widths, and a header word longer than its
# column prints over the next one. So wide tables are transposed or short.

# Thresholds written with as many decimals (3 to 8) as it takes to tell them apart:
# the demo's probabilities crowd near 0 and 1.
threshold_text <- function(thresholds) {
  for (digits in 3:8) {
    shown <- es_number(thresholds, digits)
    if (!anyDuplicated(shown)) break
  }
  shown
}

# An AUROC (or any 3-decimal measure) and its interval.
auroc_cell <- function(x) es_number(x, 3)
interval_cell <- function(low, high) es_interval(low, high, digits = 3)

# Rows for the comparison table: same split, same operating-point rule.
comparison_table <- function(results) {
  rows <- do.call(rbind, lapply(results, function(r) {
    m <- r$metrics
    data.frame(
      model = r$name, parameters = r$parameters, epochs = nrow(r$history), evaluated_epoch = r$evaluated_epoch,
      seconds = round(r$seconds), auroc = m$auroc, ci_low = m$auroc_ci95_delong[1], ci_high = m$auroc_ci95_delong[2],
      boot_low = m$auroc_ci95_patient_bootstrap[1], boot_high = m$auroc_ci95_patient_bootstrap[2],
      sensitivity = m$sensitivity, specificity = m$specificity, ppv = m$ppv, npv = m$npv, brier = m$brier
    )
  }))
  rownames(rows) <- NULL
  rows
}

# The model comparison with one column per model and one row per measure, so it
# stays three columns wide however many measures it shows.
comparison_kable <- function(comparison) {
  rows <- list(
    "Parámetros" = es_number(comparison$parameters),
    "Épocas (evaluada)" = paste0(comparison$epochs, " (", comparison$evaluated_epoch, ")"),
    "Segundos de entrenamiento" = es_number(comparison$seconds, 0),
    "AUROC" = auroc_cell(comparison$auroc),
    "IC 95\u00a0% DeLong" = interval_cell(comparison$ci_low, comparison$ci_high),  # CI_95's words
    "IC 95\u00a0% bootstrap por paciente" = interval_cell(comparison$boot_low, comparison$boot_high),
    "Sensibilidad" = es_percent(comparison$sensitivity), "Especificidad" = es_percent(comparison$specificity),
    "VPP" = es_percent(comparison$ppv), "VPN" = es_percent(comparison$npv),
    "Brier" = auroc_cell(comparison$brier)
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
      Umbral = threshold_text(table$threshold), Criterio = operating_point_rule(table$target_sensitivity),
      Sens = es_percent(table$sensitivity), Espec = es_percent(table$specificity),
      VPP = es_percent(table$ppv), VPP2 = es_percent(table$ppv_at_prevalence),
      VPN2 = es_percent(table$npv_at_prevalence)
    ),
    col.names = c("Umbral", "Criterio", "Sensib.", "Especif.", "VPP test",
                  paste("VPP", es_percent(prevalence)), paste("VPN", es_percent(prevalence))),
    align = c("r", "l", rep("r", 5)),
    caption = sentence("Puntos de trabajo en test: sensibilidad, especificidad y valor predictivo positivo con la",
                       "prevalencia del test ({es_percent(test_prevalence)}), y valores predictivos con una",
                       "prevalencia de {es_percent(prevalence)}.")
  )
}

# How an operating point was chosen: on validation (no target), or the highest test threshold reaching a target.
operating_point_rule <- function(target_sensitivity) {
  ifelse(is.na(target_sensitivity), "validación", paste("sens. test >=", es_percent(target_sensitivity, 0)))
}

# A percentage interval, "12,5 %–40,0 %", or "–" when it could not be computed.
percent_interval <- function(ci) es_interval(ci[1], ci[2], es_percent)

# Images and patients per split and class (PreparedData.counts), splits in their order.
split_counts_kable <- function(counts, integrity) {
  counts$split <- factor(counts$split, levels = names(SPLIT_NAMES_ES), labels = SPLIT_NAMES_ES)
  counts <- counts[order(counts$split, counts$class_name), ]
  knitr::kable(counts, row.names = FALSE, col.names = c("Parte", "Clase", "Imágenes", "Pacientes"),
               caption = paste("Imágenes y pacientes por parte y clase.",
                               if (integrity$images_with_unknown_patient == 0) {
                                 "Ningún paciente aparece en dos partes."
                               } else {
                                 "Ningún paciente conocido aparece en dos partes."
                               }))
}

# The main model's test metrics (m: its metrics), each count beside its percentage, with both AUROC intervals.
metrics_kable <- function(m, finding_lower, model, evaluated_epoch) {
  with_counts <- function(value, numerator, denominator) {
    paste0(es_percent(value), " (", es_number(numerator), "/", es_number(denominator), ")")
  }
  n <- m$counts
  knitr::kable(
    data.frame(
      Medida = c("AUROC", "Exactitud", "Sensibilidad", "Especificidad",
                 paste("Prevalencia de", finding_lower, "en test"),
                 "Valor predictivo positivo", "Valor predictivo negativo", "Brier", "Umbral (de validación)"),
      Valor = c(auroc_cell(m$auroc), es_percent(m$accuracy),
                with_counts(m$sensitivity, n$tp, n$tp + n$fn), with_counts(m$specificity, n$tn, n$tn + n$fp),
                with_counts(m$prevalence, n$positives, n$positives + n$negatives),
                with_counts(m$ppv, n$tp, n$tp + n$fp), with_counts(m$npv, n$tn, n$tn + n$fn),
                auroc_cell(m$brier), auroc_cell(m$threshold)),
      DeLong = c(interval_cell(m$auroc_ci95_delong[1], m$auroc_ci95_delong[2]), rep("–", 8)),
      Bootstrap = c(interval_cell(m$auroc_ci95_patient_bootstrap[1], m$auroc_ci95_patient_bootstrap[2]), "–",
                    percent_interval(m$sensitivity_ci95_patient_bootstrap),
                    percent_interval(m$specificity_ci95_patient_bootstrap), rep("–", 5))
    ),
    col.names = c("Medida", "Valor", paste(CI_95, "DeLong (imágenes independientes)"),
                  paste(CI_95, "bootstrap por paciente")),
    caption = sentence("Modelo `{model}` en test ({es_number(n$positives)} imágenes con {finding_lower},",
                       "{es_number(n$negatives)} sin hallazgos, de",
                       "{es_number(m$patient_bootstrap$patients)} pacientes;",
                       "época {evaluated_epoch}).")
  )
}

# Test AUROC per view, sex and age band (subgroup_auroc); nothing when the data have none.
subgroups_kable <- function(subgroups, finding_lower) {
  if (is.null(subgroups) || nrow(subgroups) == 0) return(invisible(NULL))
  knitr::kable(
    data.frame(Variable = SUBGROUP_NAMES_ES[subgroups$variable], Grupo = subgroups$group,
               Imágenes = es_number(subgroups$images), Positivas = es_number(subgroups$positives),
               AUROC = auroc_cell(subgroups$auroc),
               DeLong = interval_cell(subgroups$ci_low, subgroups$ci_high),
               check.names = FALSE),
    col.names = c("Variable", "Grupo", "Imágenes", paste("Con", finding_lower), "AUROC", paste(CI_95, "DeLong")),
    caption = "AUROC en test por proyección, sexo y grupo de edad (– : el grupo no tiene las dos clases)."
  )
}
