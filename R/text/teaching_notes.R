# Short teaching notes in Spanish placed next to the evaluation figures, with the
# numbers of this render: what the threshold trades, why PPV falls with
# prevalence, what the calibration plot says.



false_alarms <- function(n) if (n == 1) "1 falsa alarma" else sentence("{es_number(n)} falsas alarmas")

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
  sentence(
    "**Qué cambia el umbral.** Con el umbral elegido en validación ({shown[1]}) el modelo señala",
    "{es_number(chosen$tp)} de las {es_number(chosen$tp + chosen$fn)} radiografías de test con {finding_es}",
    "(sensibilidad {es_percent(chosen$sensitivity)}) y da {false_alarms(chosen$fp)} entre las",
    "{es_number(chosen$fp + chosen$tn)} sin hallazgos (especificidad {es_percent(chosen$specificity)}).",
    "{direction} a {shown[2]}, el umbral más alto que detecta en test al menos el",
    "{es_percent(other$target_sensitivity, 0)} de los casos, señalaría {es_number(other$tp)} y daría",
    "{false_alarms(other$fp)}: cada punto de la curva ROC cambia casos detectados por falsas alarmas, y dónde",
    "quedarse depende del coste de cada error, no del modelo.")
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
  moves <- if (rarer) "caería" else "subiría"
  only <- if (rarer) "solo " else ""
  than_test <- if (rarer) "" else ", más que en este test"
  sentence(
    heading, "La sensibilidad y la especificidad no dependen de cuántos casos haya; el valor predictivo",
    "positivo, sí. Con las de este modelo, el VPP es {es_percent(chosen$ppv)} con la prevalencia del test",
    "({es_percent(test_prevalence)}) y {moves} a {es_percent(elsewhere$ppv)} donde {only}el",
    "{es_percent(prevalence)} de las radiografías tuviera {finding_es}{than_test}: de cada 100 radiografías",
    "señaladas, unas {es_number(100 * (1 - elsewhere$ppv), 0)} serían falsas alarmas. El VPN, en cambio, pasaría",
    "de {es_percent(chosen$npv)} a {es_percent(elsewhere$npv)}.")
}

# The calibration bin (of at least `min_images` images) farthest from the
# diagonal, read out in words, with the Brier score.
calibration_note <- function(bins, brier, prevalence, finding_es, min_images = 5L) {
  usable <- bins[bins$n >= min_images, , drop = FALSE]
  if (!nrow(usable)) return("")
  worst <- usable[which.max(abs(usable$observed - usable$predicted)), ]
  sentence(
    "**Cómo leer la calibración.** Cada punto es un intervalo de probabilidad predicha: si el modelo estuviera",
    "bien calibrado, caería sobre la diagonal. El más alejado aquí es el de {es_number(worst$n)} radiografías con",
    "probabilidad media {es_number(worst$predicted, 2)}, de las que tenían {finding_es} el",
    "{es_percent(worst$observed)}. Un modelo puede ordenar bien los casos (AUROC alto) y aun así dar",
    "probabilidades que no se deben leer como riesgos; su Brier es {es_number(brier, 3)}, frente a",
    "{es_number(prevalence * (1 - prevalence), 3)} de una predicción constante igual a la prevalencia.")
}
