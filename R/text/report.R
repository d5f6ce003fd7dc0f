# The report's sentences that depend on the render's parameters, data and results
# (Spanish, like the report): each chunk of report.qmd calls one of these, so they
# are tested without rendering (tests/test_report_text.py). Tables are in
# R/display/tables.R, the data's sentences in R/text/data.R.

# The box at the top: which data these results come from and what they can say.
data_warning_text <- function(p, label_noise) {
  if (p$data == "demo") {
    paste("**Datos de demostración.** Esta versión del informe se ha generado con *fantomas*: radiografías",
          "sintéticas que el propio proyecto dibuja (contorno corporal, pulmones, mediastino, costillas,",
          "diafragma, electrodos de ECG en ambas clases y, en la clase positiva, un signo similar al neumotórax,",
          "de evidente a apenas visible). Como las del NIH, parte de las etiquetas son erróneas: el generador",
          sprintf("cambia la clase de un %.0f %% de las imágenes y guarda la verdad, que se usa al final.", 100 * label_noise),
          "Sirven para comprobar que toda la cadena funciona en cualquier ordenador y sin conexión. **Los",
          "resultados sobre fantomas no dicen nada sobre el rendimiento clínico** del modelo con radiografías reales.")
  } else if (p$data == "nih") {
    paste(sprintf("**Datos reales del NIH (archivos %s de 12).**", archives_text(p$nih_archives)),
          "Las etiquetas proceden del procesamiento automático de los informes y contienen errores; un modelo",
          "entrenado con una parte del conjunto y a baja resolución no es un dispositivo médico.")
  } else {
    paste(sprintf("**Datos propios.** Las imágenes proceden de las carpetas de clase de `%s`.", p$data_dir),
          "Un modelo entrenado con pocas imágenes no es un dispositivo médico: los resultados describen solo",
          "este conjunto de datos.")
  }
}

# The archives an nih_archives selection names, in runs: "all" is "1-12", "3,1,2,7" is "1-3, 7".
archives_text <- function(selection) {
  rule <- param_rules()$nih_archives
  numbers <- selection_numbers(selection, rule$min, rule$max)
  runs <- split(numbers, cumsum(c(1, diff(numbers) != 1)))
  paste(vapply(runs, function(run) if (length(run) == 1) as.character(run) else sprintf("%d-%d", run[1], max(run)), ""),
        collapse = ", ")
}

# Which images this render uses. nih_source: chestxray.sources.nih.metadata_source's
# fields (packaged, metadata, nih_sha1, test_list_packaged), for data = nih only.
data_source_text <- function(p, nih_source = NULL) {
  if (p$data == "demo") {
    sprintf(paste(
      "En esta versión se usan **%d fantomas por clase** generados con la semilla %d. Como en los datos",
      "reales, algunos pacientes tienen varias radiografías (de 1 a 3), a veces de clases distintas, y cada",
      "paciente conserva su anatomía entre estudios: si la partición no fuera por paciente, el modelo podría",
      "«reconocer» al paciente en lugar del hallazgo."), p$n_per_class, p$seed)
  } else if (p$data == "nih") {
    paste(sprintf(paste(
      "En esta versión se usan las imágenes de los archivos **%s** de la publicación del NIH, con *%s* como clase",
      "positiva (%s) frente a `No Finding`, y la partición oficial del NIH: su lista de test, separada por",
      "paciente, tal cual, y una validación por paciente extraída del resto. Entrenamiento y validación usan como",
      "máximo %d imágenes por clase; el test conserva todas las suyas."),
      archives_text(p$nih_archives), p$finding,
      if (p$match == "any") "entre las etiquetas de la imagen" else "como única etiqueta", p$n_per_class),
      nih_metadata_text(nih_source$packaged, nih_source$metadata, nih_source$nih_sha1,
                        nih_source$test_list_packaged))
  } else {
    sprintf(paste("En esta versión se usan las imágenes de `%s` (carpetas `%s/` y `No-Finding/`): como máximo",
                  "**%d por clase** en entrenamiento y en validación, y todas las de los pacientes de test, con la",
                  "proporción de clases de los datos."),
            p$data_dir, p$finding, p$n_per_class)
  }
}

# Images and patients per class of the prepared table, and the unreadable images left out.
data_summary_text <- function(table, unreadable, finding_lower) {
  by_class <- function(label) sprintf("%d imágenes de %d pacientes", sum(table$label == label),
                                      length(unique(table$patient_id[table$label == label])))
  paste0(sprintf("En total se usan %s con %s y %s sin hallazgos.", by_class(1), finding_lower, by_class(0)),
         if (unreadable > 0) sprintf(" Se han descartado %d imágenes ilegibles (se registran en el log con su ruta).",
                                     unreadable))
}

# The main model in words (the `model` parameter; CNN_FILTERS, R/model/build.R).
model_description_text <- function(model, finding_lower) {
  switch(model,
    cnn = paste(
      "una red convolucional pequeña, pensada para entrenarse en un portátil: cuatro bloques de convolución",
      sprintf("(%s y %d filtros)", paste(head(CNN_FILTERS, -1), collapse = ", "), tail(CNN_FILTERS, 1)),
      "con normalización por lotes y *max-pooling*, un promedio global y una única",
      sprintf("salida sigmoide que da la probabilidad de %s. Durante el entrenamiento se aplican aumentos",
              finding_lower),
      "propios de radiografías (pequeñas rotaciones, desplazamientos, zoom y cambios de contraste; nunca",
      "volteos, porque la anatomía no es simétrica)."),
    baseline = "la propia red densa del original, para estudiarla sola.",
    paste(sprintf("una red **%s** de `keras.applications` pensada para el aprendizaje por transferencia,", model),
          "con la imagen en gris replicada en tres canales y la escala de entrada de ImageNet.",
          "Los pesos con que empieza el entrenamiento son los que se indican a continuación.")
  )
}

# What a transfer model actually loaded (check_transfer_weights), in plain words.
initial_weights_text <- function(weights_used) {
  switch(weights_used$source,
    none = "**Pesos iniciales:** ninguno preentrenado (`weights=none`); la red parte de pesos aleatorios.",
    random = sprintf(paste(
      "**Atención: esta red no usa pesos preentrenados.** Se pidieron los pesos `%s`, pero no pudieron",
      "cargarse (`%s`). Como se eligió `on_missing_weights=random`, la red se entrena desde pesos",
      "aleatorios: **no hay aprendizaje por transferencia** y sus resultados no son los de una red",
      "preentrenada en ImageNet. Para usar esos pesos, descargue el archivo `%s` y páselo con",
      "`weights=/ruta/al/archivo` o cópielo en `%s`."),
      weights_used$requested, weights_used$error, weights_used$expected_file, weights_used$cache_path),
    imagenet = sprintf(paste("**Pesos iniciales:** los preentrenados en ImageNet que distribuye Keras, del",
                             "archivo `%s` (SHA-256 `%s`)."), weights_used$file, weights_used$sha256),
    sprintf("**Pesos iniciales:** los del archivo local `%s` (SHA-256 `%s`).", weights_used$file, weights_used$sha256)
  )
}

# One line per model: parameters, epochs run, seconds, the evaluated epoch and its validation AUROC.
training_summary_lines <- function(results, max_epochs) {
  vapply(results, function(r) {
    best <- r$history[r$history$evaluated, ]
    sprintf("- `%s`: %s parámetros, %d épocas (máximo %d) en %.0f segundos; se evalúa la **época %d** (AUROC de validación %.3f).\n",
            r$name, format(r$parameters, big.mark = ".", decimal.mark = ","), nrow(r$history), max_epochs,
            r$seconds, r$evaluated_epoch, best$val_auroc)
  }, "", USE.NAMES = FALSE)
}

# The class weights training gives the loss (class_weights, R/model/train.R) with the training counts they come from;
# NIH's imbalance is quoted for context, since the per-class cap can balance training and leave both weights at 1.
class_weight_text <- function(train_labels, finding) {
  counts <- table(factor(train_labels, levels = c(0, 1)))
  weights <- sub(".", ",", sprintf("%.2f", class_weights(train_labels)), fixed = TRUE)
  sprintf(paste(
    "en este entrenamiento, %s radiografías sin hallazgos y %s con %s dan pesos de %s y %s (en todos los datos",
    "del NIH hay unas %s sin hallazgos por cada una con %s)"),
    es_number(counts[["0"]]), es_number(counts[["1"]]), finding$es_lower, weights[1], weights[2],
    es_number(round(NIH_NO_FINDING_IMAGES / finding$nih_images)), finding$es_lower)
}

# What the learning-rate schedule does on a plateau (PLATEAU_FACTOR, R/model/train.R).
plateau_text <- function(factor) {
  if (factor == 0.5) "se reduce a la mitad" else sprintf("se multiplica por %s", es_number(factor))
}

# The threshold rule (choose_threshold, R/evaluate/metrics.R, applies it) in words: Spanish for
# the report, English for metrics.json.
threshold_rule_text <- function(operating_point, target_sensitivity, language = "es") {
  youden <- operating_point == "youden"
  switch(language,
    es = if (youden) "el índice de Youden (el punto que maximiza sensibilidad + especificidad − 1)" else
      sprintf("el umbral más alto que alcanza una sensibilidad del %.0f %%", 100 * target_sensitivity),
    en = if (youden) "Youden index on the validation split" else
      sprintf("highest threshold with sensitivity >= %.2f on the validation split", target_sensitivity)
  )
}

# The two AUROC intervals and what the patient bootstrap did (b: metrics$patient_bootstrap).
bootstrap_text <- function(b) {
  paste0(sprintf(paste(
    "El AUROC se acompaña de dos intervalos de confianza del 95 %%. El de **DeLong** (paquete `pROC`) es",
    "analítico y trata cada imagen como independiente. Pero un mismo paciente",
    "aporta a menudo varias radiografías al test (aquí, %d imágenes de %d pacientes) y sus imágenes se parecen",
    "entre sí más que las de pacientes distintos: contarlas como independientes exagera la información",
    "disponible y puede estrechar el intervalo. El **bootstrap por paciente** remuestrea pacientes con",
    "reemplazo, cada uno con todas sus imágenes (%s réplicas con la semilla %d, intervalos de percentiles), y",
    "da también intervalos para la sensibilidad y la especificidad. Cuando los dos intervalos del AUROC",
    "difieren, el del bootstrap por paciente es el que respeta cómo se obtuvieron los datos. El umbral se",
    "mantiene fijo, así que estos intervalos no incluyen la incertidumbre de haberlo elegido en validación. "),
    b$images, b$patients, format(b$replicates, big.mark = "."), b$seed),
    if (b$replicates_without_both_classes > 0) {
      sprintf(paste("En %d de las %s réplicas el remuestreo no contenía las dos clases; en ellas no se pueden",
                    "calcular el AUROC, la sensibilidad ni la especificidad, así que los intervalos se basan en",
                    "las %s réplicas restantes."),
              b$replicates_without_both_classes, format(b$replicates, big.mark = "."),
              format(b$replicates_used, big.mark = "."))
    } else {
      "Todas las réplicas contenían las dos clases."
    })
}

# The chest-tube shortcut, documented for pneumothorax only.
shortcut_text <- function(is_pneumothorax) {
  if (is_pneumothorax) {
    paste("En el neumotórax hay además un atajo documentado: en ChestX-ray14 muchos neumotórax de las imágenes",
          "positivas ya están **tratados**, y el tubo de drenaje torácico es mucho más fácil de ver que el propio",
          "neumotórax, así que un modelo puede aprender a detectar el tubo (Oakden-Rayner, 2020).")
  } else {
    ""
  }
}

# The model against radiologists' labels (adjudicated_agreement), or how to get them with data = nih.
adjudicated_text <- function(agreement, finding, finding_lower) {
  if (!is.null(agreement)) {
    sprintf(paste(
      "**Etiquetas revisadas por radiólogos.** Las etiquetas de `adjudicated_labels` (radiólogos que releyeron",
      "las imágenes, como Majkowska *et al.*, Radiology 2019, para el neumotórax) cubren %d imágenes de test",
      "de este informe: ven %s en %d, frente a %d según la etiqueta del NIH (acuerdo del",
      "%.0f %%). Frente a su criterio, el modelo obtiene un AUROC de %s (frente a %s con la etiqueta del NIH),",
      "con sensibilidad %s y especificidad %s al umbral de validación."),
      agreement$images, finding_lower, agreement$expert_positives, agreement$nih_positives,
      100 * agreement$label_agreement,
      ifelse(is.na(agreement$auroc_vs_expert), "–", sprintf("%.3f", agreement$auroc_vs_expert)),
      ifelse(is.na(agreement$auroc_vs_nih), "–", sprintf("%.3f", agreement$auroc_vs_nih)),
      percent_cell(agreement$sensitivity_vs_expert), percent_cell(agreement$specificity_vs_expert))
  } else {
    paste("Con el parámetro `adjudicated_labels` (etiquetas de radiólogos: un CSV con `Image Index` y una columna",
          sprintf("`%s`, como las de Majkowska *et al.*, 2019, para el neumotórax) este apartado", finding),
          "compara además el modelo con el criterio de radiólogos en las imágenes de test que revisaron.")
  }
}

# What the Grad-CAM figure shows, or why there is none. figure: the cross-reference as written in
# report.qmd ("@fig-gradcam"), where the knitr fallback numbers it.
grad_cam_text <- function(has_cam, finding_lower, is_pneumothorax, figure) {
  if (has_cam) {
    paste("Grad-CAM (Selvaraju *et al.*, 2017) marca las zonas de la imagen que más empujan la predicción hacia",
          sprintf("«%s» en la última capa convolucional. La %s muestra ejemplos de test de verdaderos", finding_lower, figure),
          "positivos, falsos positivos y falsos negativos: en un modelo sano el calor debería caer sobre",
          if (is_pneumothorax) "el borde pleural y el espacio sin trama pulmonar," else "el propio hallazgo,",
          "no sobre marcas, tubos o bordes de la placa.")
  } else {
    "Grad-CAM necesita una red convolucional y algún acierto o error positivo en test; no se muestra aquí."
  }
}

# The conclusions' numbers: the main model against the original's dense network, on the same test split.
conclusions_text <- function(main, baseline_metrics, test_images, model, is_demo) {
  m <- main$metrics
  paste0(sprintf(paste(
    "Con %d imágenes de test de %d pacientes que el modelo nunca vio, el modelo `%s` (pesos de la época %d)",
    "alcanza un AUROC de **%.3f** (IC 95 %%: %.3f–%.3f por bootstrap por paciente; %.3f–%.3f por DeLong) y, con",
    "el umbral fijado en validación, una sensibilidad del %.0f %% (IC 95 %% por paciente: %s) y una especificidad",
    "del %.0f %% (%s); la red densa del original, entrenada igual y sobre la misma partición, se queda en un",
    "AUROC de %.3f (%.3f–%.3f por paciente). "),
    test_images, m$patient_bootstrap$patients, model, main$evaluated_epoch, m$auroc,
    m$auroc_ci95_patient_bootstrap[1], m$auroc_ci95_patient_bootstrap[2], m$auroc_ci95_delong[1],
    m$auroc_ci95_delong[2], 100 * m$sensitivity, percent_interval(m$sensitivity_ci95_patient_bootstrap),
    100 * m$specificity, percent_interval(m$specificity_ci95_patient_bootstrap), baseline_metrics$auroc,
    baseline_metrics$auroc_ci95_patient_bootstrap[1], baseline_metrics$auroc_ci95_patient_bootstrap[2]),
    if (identical(main$weights_loaded$source, "random")) {
      sprintf(paste("**La red `%s` se entrenó sin los pesos preentrenados que se pidieron** (`on_missing_weights=random`):",
                    "estas cifras no son las de un aprendizaje por transferencia. "), model)
    },
    if (is_demo) {
      paste("Estas cifras solo demuestran que la cadena completa —datos, partición por paciente, modelos,",
            "entrenamiento y evaluación— funciona y aprende un signo visual; **no** son una estimación del",
            "rendimiento clínico, porque los fantomas son mucho más simples que una radiografía real.")
    })
}
