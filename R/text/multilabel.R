# The multi-label study's sentences (finding = "all"), in Spanish like the report: what is studied,
# with which data, how it is trained, and how to read its numbers beside the published ones.

# The report's title for a finding, or for the multi-label study. Sourced on its own by report.qmd's
# title with findings.R, before the set-up chunk.
report_title <- function(finding) {
  if (identical(finding, "all")) {
    return("Clasificación de radiografías de tórax: varios hallazgos a la vez con una sola red")
  }
  paste0("Clasificación de radiografías de tórax: ", finding_in_title(finding), " frente a «sin hallazgos»")
}

# Each finding's Spanish name (findings.csv), for tables and figure panels.
finding_names_es <- function(findings) vapply(findings, function(f) finding_names(f)$es, "", USE.NAMES = FALSE)

# The box at the top in this mode: which data, and what they can say.
multilabel_warning_text <- function(p, label_noise) {
  if (p$data == "demo") {
    return(paste(
      "**Datos de demostración.** Esta versión del estudio multietiqueta se ha generado con *fantomas*: radiografías",
      "sintéticas que dibujan, solos o combinados, cinco signos (neumotórax, derrame pleural con su menisco,",
      "cardiomegalia, nódulo y masa), cada uno de evidente a apenas visible y con la frecuencia con que el NIH los",
      glue::glue("combina. En un {es_percent(label_noise, 0)} de las radiografías una etiqueta es errónea (sobra o"),
      "falta un hallazgo) y el generador guarda la verdad. **Los resultados sobre fantomas no dicen nada sobre el",
      "rendimiento clínico.**"))
  }
  data_warning_text(p, label_noise)
}

# Which images this render uses, and how they are split, in this mode.
multilabel_data_text <- function(p, findings, nih_source = NULL) {
  split_rule <- if (p$data == "nih") {
    paste("el test es la lista oficial del NIH tal cual (separada por paciente) y la validación se extrae del",
          "resto por pacientes enteros, repartiendo a la vez todos los hallazgos (sobre la publicación completa,",
          "de modo que la parte de cada imagen no depende de qué archivos se descarguen)")
  } else {
    sentence("cada paciente va entero a una parte ({es_percent(split_shares()[['train']], 0)},",
             "{es_percent(split_shares()[['validation']], 0)} y {es_percent(split_shares()[['test']], 0)}),",
             "repartiendo a la vez todos los hallazgos y las radiografías sin ninguno")
  }
  source_text <- switch(p$data,
    demo = sentence("**{es_number(multilabel_images(p))} fantomas** generados con la semilla {p$seed}"),
    nih = sentence("todas las imágenes de los archivos **{archives_text(p$nih_archives)}** del NIH, cada una con",
                   "todas sus etiquetas"),
    sentence("las imágenes de `{p$data_dir}` con las etiquetas de su `labels.csv`")
  )
  paste0(sentence(
    "En esta versión se usan {source_text}. La red tiene una salida por hallazgo ({spanish_count(length(findings))}:",
    "{spanish_list(finding_names_es(findings))}); una radiografía sin ninguno («No Finding») tiene todas sus",
    "etiquetas a cero. En la partición {split_rule}. Entrenamiento y validación se limitan a",
    "{es_number(multilabel_images(p))} imágenes cada una (pacientes enteros); el test conserva todas las suyas y, con",
    "ellas, la prevalencia de cada hallazgo."),
    if (p$data == "nih") {
      paste0(" ", nih_metadata_text(nih_source$packaged, nih_source$metadata, nih_source$nih_sha1,
                                   nih_source$test_list_packaged))
    })
}

# The loss, with each finding's weight as trained.
multilabel_loss_text <- function(shares, findings) {
  weights <- paste0(finding_names_es(findings), " ", es_percent(shares, 1), collapse = "; ")
  sentence(
    "La pérdida es la entropía cruzada binaria de cada hallazgo, ponderada como en CheXNet: el término de una",
    "imagen con el hallazgo pesa la fracción de imágenes de entrenamiento sin él, y el de una imagen sin él, la",
    "fracción con él, de modo que positivos y negativos de cada hallazgo pesan lo mismo por raro que sea",
    "(fracción de entrenamiento con cada hallazgo: {weights}). La época evaluada es la de mayor AUROC medio de",
    "validación (la media de los AUROC de los hallazgos).")
}

# The mean AUROC and its interval, with the replicates the bootstrap could use.
mean_auroc_text <- function(mean, findings) {
  left_out <- mean$replicates - mean$replicates_used
  paste0(sentence(
    "El **AUROC medio** de los {spanish_count(length(findings))} hallazgos en test es",
    "**{es_number(mean$mean_auroc, 3)}** ({CI_95} por bootstrap de pacientes",
    "{es_interval(mean$mean_auroc_ci95_patient_bootstrap[1], mean$mean_auroc_ci95_patient_bootstrap[2], digits = 3)}):",
    "cada hallazgo cuenta una vez, sea cual sea su prevalencia, como en la tabla de CheXNet."),
    if (left_out > 0) {
      sentence(" De {es_number(mean$replicates)} remuestreos, {es_number(left_out)} se descartan porque algún",
               "hallazgo quedaba sin positivos o sin negativos.")
    })
}

# Why the published AUROCs beside ours are not directly comparable (from the papers and READMEs only).
published_comparison_text <- function(p, test_images) {
  sentence(
    "Las columnas publicadas no son directamente comparables con las de este informe. Wang *et al.* (2017),",
    "CheXNet (Rajpurkar *et al.*, 2017) y reproduce-chexnet (Zech, reentrenado en 2022 con las etiquetas",
    "actualizadas del NIH) evalúan cada uno en su propia partición de las imágenes del NIH, no en la lista",
    "oficial de test que se usa aquí; CheXNet entrenó una DenseNet de 121 capas preentrenada en ImageNet con su",
    "parte de un conjunto de más de 100 000 radiografías, reducidas a 224×224 píxeles. Aquí se evalúan",
    "{es_number(test_images)} imágenes de test",
    "con la red `{p$model}` a {p$image_size}×{p$image_size} píxeles{caveat}",
    caveat = if (p$data == "nih") "." else ", y **sobre datos que no son los del NIH**: la comparación solo orienta.")
}

# What co-occurrence means for reading the table.
cooccurrence_text <- function(table, findings) {
  counts <- rowSums(as.matrix(table[findings]))
  with_any <- counts > 0
  sentence(
    "De las {es_number(sum(with_any))} imágenes con algún hallazgo, {es_number(sum(counts > 1))}",
    "({es_percent(mean(counts[with_any] > 1), 0)}) tienen más de uno. Cuando dos hallazgos suelen ir juntos, la",
    "red puede acertar uno por los signos del otro: un AUROC alto no prueba que el modelo vea ese signo, y los",
    "hallazgos frecuentes en compañía (como el derrame con otros) se leen con esa cautela.")
}

# The Grad-CAM paragraph for the chosen finding.
multilabel_grad_cam_text <- function(has_cam, finding_es, figure) {
  if (!has_cam) {
    return(sentence("No hay mapas Grad-CAM para {finding_es}: no hay casos de test que mostrar."))
  }
  sentence(
    "{figure} muestra, para **{finding_es}** (el hallazgo con más imágenes positivas en test), dónde mira la red",
    "en algunos verdaderos positivos, falsos positivos y falsos negativos con el umbral elegido en validación.")
}

# Did the network learn? On the demo the generator knows the truth, so chance is a fair yardstick.
multilabel_learning_text <- function(rows) {
  above <- rows$auroc_bootstrap_low > 0.5
  rest <- if (any(!above)) {
    sentence("; en los demás ({spanish_list(finding_names_es(rows$finding[!above]))}) este entrenamiento no",
             "distingue el hallazgo del azar con seguridad")
  } else {
    ""
  }
  sentence("En {es_number(sum(above))} de {es_number(nrow(rows))} hallazgos el intervalo del AUROC por bootstrap",
           "de pacientes queda por encima de 0,5 (el azar){rest}.")
}
