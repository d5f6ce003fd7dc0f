# Short teaching notes in Spanish placed next to the evaluation figures, with the
# numbers of this render: what the threshold trades, why PPV falls with
# prevalence, what the calibration plot says.



false_alarms <- function(n) if (n == 1) "1 falsa alarma" else sprintf("%d falsas alarmas", n)

# The validation threshold against one other operating point of the static
# table: the most sensitive one when it lies below the validation threshold,
# else the least sensitive (so the note always shows a real trade).
threshold_note <- function(table, finding_es) {
  chosen <- table[1, ]
  others <- table[-1, , drop = FALSE]
  if (!nrow(others)) return("")
  lower <- others[others$threshold < chosen$threshold, , drop = FALSE]
  other <- if (nrow(lower)) lower[which.min(lower$threshold), ] else others[which.max(others$threshold), ]
  direction <- if (other$threshold < chosen$threshold) "Bajarlo" else "Subirlo"
  shown <- threshold_text(c(chosen$threshold, other$threshold))
  sprintf(paste(
    "**Qué cambia el umbral.** Con el umbral elegido en validación (%s) el modelo señala %d de las %d",
    "radiografías de test con %s (sensibilidad %s) y da %s entre las %d sin hallazgos",
    "(especificidad %s). %s a %s, el umbral más alto que detecta en test al menos el %.0f %% de los casos,",
    "señalaría %d y daría %s: cada punto de la curva ROC cambia casos detectados por falsas",
    "alarmas, y dónde quedarse depende del coste de cada error, no del modelo."),
    shown[1], chosen$tp, chosen$tp + chosen$fn, finding_es, percent_cell(chosen$sensitivity), false_alarms(chosen$fp),
    chosen$fp + chosen$tn, percent_cell(chosen$specificity), direction, shown[2], 100 * other$target_sensitivity,
    other$tp, false_alarms(other$fp))
}

# PPV at the test split's prevalence against PPV at `prevalence`, with the
# sensitivity and specificity of the validation threshold; the wording follows
# whether `prevalence` is below the test's (PPV falls) or above it (PPV rises).
prevalence_note <- function(table, test_prevalence, prevalence, finding_es) {
  chosen <- table[1, ]
  elsewhere <- predictive_values(chosen$sensitivity, chosen$specificity, prevalence)
  heading <- "**Por qué el VPP depende de la prevalencia.**"
  if (is.na(chosen$ppv) || is.na(elsewhere$ppv)) {
    return(paste(heading, "Con el umbral de validación el modelo no señala",
                 "ninguna radiografía de test, así que aquí no hay valor predictivo positivo que comparar."))
  }
  rarer <- prevalence < test_prevalence
  sprintf(paste(
    heading, "La sensibilidad y la especificidad no dependen de cuántos casos",
    "haya; el valor predictivo positivo, sí. Con las de este modelo, el VPP es %s con la prevalencia del test",
    "(%s) y %s a %s donde %sel %s de las radiografías tuviera %s%s: de cada 100 radiografías señaladas,",
    "unas %.0f serían falsas alarmas. El VPN, en cambio, pasaría de %s a %s."),
    percent_cell(chosen$ppv), percent_cell(test_prevalence), if (rarer) "caería" else "subiría",
    percent_cell(elsewhere$ppv), if (rarer) "solo " else "", percent_cell(prevalence),
    finding_es, if (rarer) "" else ", más que en este test", 100 * (1 - elsewhere$ppv),
    percent_cell(chosen$npv), percent_cell(elsewhere$npv))
}

# The calibration bin (of at least `min_images` images) farthest from the
# diagonal, read out in words, with the Brier score.
calibration_note <- function(bins, brier, prevalence, finding_es, min_images = 5L) {
  usable <- bins[bins$n >= min_images, , drop = FALSE]
  if (!nrow(usable)) return("")
  worst <- usable[which.max(abs(usable$observed - usable$predicted)), ]
  sprintf(paste(
    "**Cómo leer la calibración.** Cada punto es un intervalo de probabilidad predicha: si el modelo estuviera",
    "bien calibrado, caería sobre la diagonal. El más alejado aquí es el de %d radiografías con probabilidad",
    "media %.2f, de las que tenían %s el %s. Un modelo puede ordenar bien los casos (AUROC alto) y aun así",
    "dar probabilidades que no se deben leer como riesgos; su Brier es %.3f, frente a %.3f de una predicción",
    "constante igual a la prevalencia."),
    worst$n, worst$predicted, finding_es, percent_cell(worst$observed), brier, prevalence * (1 - prevalence))
}
