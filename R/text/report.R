# The report's sentences that depend on the render's parameters, data and results
# (Spanish, like the report): each chunk of report.qmd calls one of these, so they
# are tested without rendering (tests/r/text/test_report_text.py). Tables are in
# R/display/tables.R, the data's sentences in R/text/data.R.

# The box at the top: which data these results come from and what they can say.
data_warning_text <- function(p, label_noise) {
  if (p$data == "demo") {
    paste("**Datos de demostración.** Esta versión del informe se ha generado con *fantomas*: radiografías",
          "sintéticas que el propio proyecto dibuja (contorno corporal, pulmones, mediastino, costillas,",
          "diafragma, electrodos de ECG en ambas clases y, en la clase positiva, un signo similar al neumotórax,",
          "de evidente a apenas visible). Como las del NIH, parte de las etiquetas son erróneas: el generador",
          glue::glue("cambia la clase de un {es_percent(label_noise, 0)} de las imágenes y guarda la verdad,"),
          "que se usa al final.",
          "Sirven para comprobar que toda la cadena funciona en cualquier ordenador y sin conexión. **Los",
          "resultados sobre fantomas no dicen nada sobre el rendimiento clínico** del modelo con radiografías reales.")
  } else if (p$data == "nih") {
    paste(sentence("**Datos reales del NIH (archivos {archives_text(p$nih_archives)} de",
                   "{param_rules()$nih_archives$max}).**"),
          "Las etiquetas proceden del procesamiento automático de los informes y contienen errores; un modelo",
          "entrenado con una parte del conjunto y a baja resolución no es un dispositivo médico.")
  } else {
    paste(glue::glue("**Datos propios.** Las imágenes proceden de las carpetas de clase de `{p$data_dir}`."),
          "Un modelo entrenado con pocas imágenes no es un dispositivo médico: los resultados describen solo",
          "este conjunto de datos.")
  }
}

# The archives an nih_archives selection names, in runs: "all" is "1-12", "3,1,2,7" is "1-3, 7".
archives_text <- function(selection) import_chestxray("sources.download")$selection_runs(selection)

# Which images this render uses. nih_source: chestxray.sources.nih.metadata_source's
# fields (packaged, metadata, nih_sha1, test_list_packaged), for data = nih only.
data_source_text <- function(p, nih_source = NULL) {
  if (p$data == "demo") {
    sentence(
      "En esta versión se usan **{es_number(p$n_per_class)} fantomas por clase** generados con la semilla {p$seed}.",
      "Como en los datos reales, algunos pacientes tienen varias radiografías (de 1 a 3), a veces de clases",
      "distintas, y cada paciente conserva su anatomía entre estudios: si la partición no fuera por paciente, el",
      "modelo podría «reconocer» al paciente en lugar del hallazgo.")
  } else if (p$data == "nih") {
    where <- if (p$match == "any") "entre las etiquetas de la imagen" else "como única etiqueta"
    paste(sentence(
      "En esta versión se usan las imágenes de los archivos **{archives_text(p$nih_archives)}** de la publicación",
      "del NIH, con *{p$finding}* como clase positiva ({where}) frente a `No Finding`, y la partición oficial del",
      "NIH: su lista de test, separada por paciente, tal cual, y una validación por paciente extraída del resto.",
      "Entrenamiento y validación usan como máximo {es_number(p$n_per_class)} imágenes por clase; el test",
      "conserva todas las suyas."),
      nih_metadata_text(nih_source$packaged, nih_source$metadata, nih_source$nih_sha1,
                        nih_source$test_list_packaged))
  } else {
    sentence("En esta versión se usan las imágenes de `{p$data_dir}` (carpetas `{p$finding}/` y `No-Finding/`):",
             "como máximo **{es_number(p$n_per_class)} por clase** en entrenamiento y en validación, y todas las de",
             "los pacientes de test, con la proporción de clases de los datos.")
  }
}

# Images and patients per class of the prepared table, and the unreadable images left out.
data_summary_text <- function(table, unreadable, finding_lower) {
  by_class <- function(label) {
    sentence("{es_number(sum(table$label == label))} imágenes de",
             "{es_number(length(unique(table$patient_id[table$label == label])))} pacientes")
  }
  paste0(sentence("En total se usan {by_class(1)} con {finding_lower} y {by_class(0)} sin hallazgos."),
         if (unreadable > 0) {
           sentence(" Se han descartado {es_number(unreadable)} imágenes ilegibles",
                    "(se registran en el log con su ruta).")
         })
}

# The main model in words (the `model` parameter; CNN_FILTERS, R/model/build.R).
model_description_text <- function(model, finding_lower) {
  switch(model,
    cnn = paste(
      sentence("una red convolucional pequeña, pensada para entrenarse en un portátil:",
               "{spanish_count(length(CNN_FILTERS))} bloques de convolución ({spanish_list(CNN_FILTERS)} filtros)",
               "con normalización por lotes y *max-pooling*, un promedio global y una única salida sigmoide que da",
               "la probabilidad de {finding_lower}. Durante el entrenamiento se aplican aumentos"),
      "propios de radiografías (pequeñas rotaciones, desplazamientos, zoom y cambios de contraste; nunca",
      "volteos, porque la anatomía no es simétrica)."),
    baseline = "la propia red densa del original, para estudiarla sola.",
    paste(glue::glue("una red **{model}** de `keras.applications` pensada para el aprendizaje por transferencia,"),
          "con la imagen en gris replicada en tres canales y la escala de entrada de ImageNet.",
          "Los pesos con que empieza el entrenamiento son los que se indican a continuación.")
  )
}

# What a transfer model actually loaded (check_transfer_weights), in plain words.
initial_weights_text <- function(weights_used) {
  switch(weights_used$source,
    none = "**Pesos iniciales:** ninguno preentrenado (`weights=none`); la red parte de pesos aleatorios.",
    random = with(weights_used, sentence(
      "**Atención: esta red no usa pesos preentrenados.** Se pidieron los pesos `{requested}`, pero no pudieron",
      "cargarse (`{error}`). Como se eligió `on_missing_weights=random`, la red se entrena desde pesos",
      "aleatorios: **no hay aprendizaje por transferencia** y sus resultados no son los de una red",
      "preentrenada en ImageNet. Para usar esos pesos, descargue el archivo `{expected_file}` y páselo con",
      "`weights=/ruta/al/archivo` o cópielo en `{cache_path}`.")),
    imagenet = with(weights_used, sentence("**Pesos iniciales:** los preentrenados en ImageNet que distribuye Keras,",
                                           "del archivo `{file}` (SHA-256 `{sha256}`).")),
    with(weights_used, sentence("**Pesos iniciales:** los del archivo local `{file}` (SHA-256 `{sha256}`)."))
  )
}

# The initial-weights paragraph, for transfer models only (the others start from random weights by design).
initial_weights_section <- function(model, weights_used) {
  if (model %in% TRANSFER_MODELS) paste0("\n\n", initial_weights_text(weights_used), "\n\n") else ""
}

# What the report says instead of the subgroup table when the data have no subgroups.
no_subgroups_text <- function(subgroups) {
  if (!is.null(subgroups)) return("")
  "Estos datos no traen proyección, sexo ni edad, así que no hay análisis por subgrupos."
}

# One line per model: parameters, epochs run, seconds, the evaluated epoch and its validation AUROC.
training_summary_lines <- function(results, max_epochs) {
  vapply(results, function(r) {
    best <- r$history[r$history$evaluated, ]
    paste0(sentence(
      "- `{r$name}`: {es_number(r$parameters)} parámetros, {nrow(r$history)} épocas (máximo {max_epochs}) en",
      "{es_number(r$seconds, 0)} segundos; se evalúa la **época {r$evaluated_epoch}** (AUROC de validación",
      "{es_number(best$val_auroc, 3)})."), "\n")
  }, "", USE.NAMES = FALSE)
}

# The class weights training gives the loss (class_weights, R/model/train.R) with the training counts they come from;
# NIH's imbalance is quoted for context, since the per-class cap can balance training and leave both weights at 1.
class_weight_text <- function(train_labels, finding) {
  counts <- table(factor(train_labels, levels = c(0, 1)))
  weights <- es_number(class_weights(train_labels), 2)
  sentence(
    "en este entrenamiento, {es_number(counts[['0']])} radiografías sin hallazgos y {es_number(counts[['1']])}",
    "con {finding$es_lower} dan pesos de {weights[1]} y {weights[2]} (en todos los datos del NIH hay unas",
    "{es_number(round(NIH_NO_FINDING_IMAGES / finding$nih_images))} sin hallazgos por cada una con",
    "{finding$es_lower})")
}

# What the learning-rate schedule does on a plateau (PLATEAU_FACTOR, R/model/train.R).
plateau_text <- function(factor) {
  if (factor == 0.5) "se reduce a la mitad" else sentence("se multiplica por {es_number(factor)}")
}

# The threshold rule (choose_threshold, R/evaluate/metrics.R, applies it) in words: Spanish for
# the report, English for metrics.json.
threshold_rule_text <- function(operating_point, target_sensitivity, language = "es") {
  youden <- operating_point == "youden"
  switch(language,
    es = if (youden) "el índice de Youden (el punto que maximiza sensibilidad + especificidad − 1)" else
      sentence("el umbral más alto que alcanza una sensibilidad del {es_percent(target_sensitivity, 0)}"),
    en = if (youden) "Youden index on the validation split" else
      paste("highest threshold with sensitivity >=", formatC(target_sensitivity, format = "f", digits = 2),
            "on the validation split")
  )
}

# The two AUROC intervals and what the patient bootstrap did (b: metrics$patient_bootstrap).
bootstrap_text <- function(b) {
  paste0(sentence(
    "El AUROC se acompaña de dos intervalos de confianza del {es_percent(0.95, 0)}. El de **DeLong** (paquete",
    "`pROC`) es analítico y trata cada imagen como independiente. Pero un mismo paciente aporta a menudo varias",
    "radiografías al test (aquí, {es_number(b$images)} imágenes de {es_number(b$patients)} pacientes) y sus",
    "imágenes se parecen",
    "entre sí más que las de pacientes distintos: contarlas como independientes exagera la información",
    "disponible y puede estrechar el intervalo. El **bootstrap por paciente** remuestrea pacientes con",
    "reemplazo, cada uno con todas sus imágenes ({es_number(b$replicates)} réplicas con la semilla {b$seed},",
    "intervalos de percentiles), y",
    "da también intervalos para la sensibilidad y la especificidad. Cuando los dos intervalos del AUROC",
    "difieren, el del bootstrap por paciente es el que respeta cómo se obtuvieron los datos. El umbral se",
    "mantiene fijo, así que estos intervalos no incluyen la incertidumbre de haberlo elegido en validación. "),
    if (b$replicates_without_both_classes > 0) {
      sentence("En {es_number(b$replicates_without_both_classes)} de las {es_number(b$replicates)} réplicas el",
               "remuestreo no contenía las dos clases; en ellas no se pueden calcular el AUROC, la sensibilidad ni la",
               "especificidad, así que los intervalos se basan en las {es_number(b$replicates_used)}",
               "réplicas restantes.")
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
    with(agreement, sentence(
      "**Etiquetas revisadas por radiólogos.** Las etiquetas de `adjudicated_labels` (radiólogos que releyeron",
      "las imágenes, como Majkowska *et al.*, Radiology 2019, para el neumotórax) cubren {es_number(images)}",
      "imágenes de test de este informe: ven {finding_lower} en {es_number(expert_positives)}, frente a",
      "{es_number(nih_positives)} según la etiqueta del NIH (acuerdo del {es_percent(label_agreement, 0)}). Frente",
      "a su criterio, el modelo obtiene un AUROC de {es_number(auroc_vs_expert, 3)} (frente a",
      "{es_number(auroc_vs_nih, 3)} con la etiqueta del NIH), con sensibilidad {es_percent(sensitivity_vs_expert)}",
      "y especificidad {es_percent(specificity_vs_expert)} al umbral de validación."))
  } else {
    paste("Con el parámetro `adjudicated_labels` (etiquetas de radiólogos: un CSV con `Image Index` y una columna",
          glue::glue("`{finding}`, como las de Majkowska *et al.*, 2019, para el neumotórax) este apartado"),
          "compara además el modelo con el criterio de radiólogos en las imágenes de test que revisaron.")
  }
}

# The section on other labels (experts: expert_agreement): the demo's known truth, radiologists' labels
# with data = nih, nothing for a folder of one's own.
expert_agreement_text <- function(p, experts, finding) {
  switch(p$data,
    demo = demo_truth_text(experts$demo_truth, demo_label_noise()),
    nih = adjudicated_text(experts$adjudicated, p$finding, finding$es_lower),
    "")
}

# The files published beside the report (assets/output_files.csv), one item each.
output_files_text <- function(output_dir = OUTPUT_DIR) {
  files <- output_files()
  paste0("- `", output_dir, "/", files$file, "`: ", files$description_es, ".", collapse = "\n")
}

# What the Grad-CAM figure shows, or why there is none. figure: the cross-reference as written in
# report.qmd ("@fig-gradcam"), where the knitr fallback numbers it.
grad_cam_text <- function(has_cam, finding_lower, is_pneumothorax, figure) {
  if (has_cam) {
    paste("Grad-CAM (Selvaraju *et al.*, 2017) marca las zonas de la imagen que más empujan la predicción hacia",
          glue::glue("«{finding_lower}» en la última capa convolucional."),
          glue::glue("La {figure} muestra ejemplos de test de verdaderos"),
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
  auroc_interval <- function(ci) es_interval(ci[1], ci[2], digits = 3)
  percent_ci <- function(ci) es_interval(ci[1], ci[2], es_percent)
  baseline <- baseline_metrics
  paste0(sentence(
    "Con {es_number(test_images)} imágenes de test de {es_number(m$patient_bootstrap$patients)} pacientes que el",
    "modelo nunca vio, el modelo `{model}` (pesos de la época {main$evaluated_epoch}) alcanza un AUROC de",
    "**{es_number(m$auroc, 3)}** (IC {es_percent(0.95, 0)}: {auroc_interval(m$auroc_ci95_patient_bootstrap)} por",
    "bootstrap por paciente; {auroc_interval(m$auroc_ci95_delong)} por DeLong) y, con el umbral fijado en",
    "validación, una sensibilidad del {es_percent(m$sensitivity, 0)} (IC {es_percent(0.95, 0)} por paciente:",
    "{percent_ci(m$sensitivity_ci95_patient_bootstrap)}) y una especificidad del {es_percent(m$specificity, 0)}",
    "({percent_ci(m$specificity_ci95_patient_bootstrap)}); la red densa del original, entrenada igual y sobre la",
    "misma partición, se queda en un AUROC de {es_number(baseline$auroc, 3)}",
    "({auroc_interval(baseline$auroc_ci95_patient_bootstrap)} por paciente). "),
    if (identical(main$weights_loaded$source, "random")) {
      sentence("**La red `{model}` se entrenó sin los pesos preentrenados que se pidieron**",
               "(`on_missing_weights=random`): estas cifras no son las de un aprendizaje por transferencia. ")
    },
    if (is_demo) {
      paste("Estas cifras solo demuestran que la cadena completa —datos, partición por paciente, modelos,",
            "entrenamiento y evaluación— funciona y aprende un signo visual; **no** son una estimación del",
            "rendimiento clínico, porque los fantomas son mucho más simples que una radiografía real.")
    })
}

# One sentence per model for the report (Spanish): trained in this render or
# reused, with its key.
stored_results_text <- function(results) {
  describe <- function(r) {
    s <- r$store
    if (identical(s$training, "reused")) {
      sentence("el resultado de `{r$name}` se ha reutilizado (entrenado el {s$trained_at}; `{s$folder}`)")
    } else {
      sentence("`{r$name}` se ha entrenado en esta ejecución y se ha guardado en `{s$folder}`")
    }
  }
  paste0(
    "**Resultados guardados.** El entrenamiento y la evaluación de cada modelo se guardan en `", RESULTS_DIR,
    "/` con una clave calculada a partir de todo lo que los determina: los parámetros de entrenamiento y ",
    "evaluación, el contenido de las imágenes y de la partición, el código que entrena y evalúa, y las ",
    "versiones de Keras y de su *backend*. Si nada de eso cambia, volver a generar el informe (por ejemplo, ",
    "tras corregir el texto) reutiliza los resultados en lugar de repetir el entrenamiento; si algo cambia, ",
    "se recalcula solo lo afectado. En esta ejecución, ", paste(vapply(results, describe, ""), collapse = "; "),
    ". Las cifras de un resultado reutilizado, incluidos los segundos de entrenamiento, son las del ",
    "entrenamiento original. Con la variable de entorno `REPORT_RETRAIN=1`, o borrando `", RESULTS_DIR,
    "/`, se entrena todo de nuevo.\n"
  )
}
