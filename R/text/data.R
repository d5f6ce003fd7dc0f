# Sentences of the report about the data a split rests on (Spanish, like the report).

PATIENT_SOURCE_NAMES <- c(metadata = "metadatos", nih_file_name = "nombre de archivo del NIH", unknown = "desconocido")

# Each split's prevalence (and whether it drifts), patients that are unknown, identical files across splits.
# finding_es: the finding's Spanish name, mid-sentence (finding_names()$es_lower); prevalence:
# chestxray.preparation.split.prevalence_by_split(eligible, official_test).
split_integrity_text <- function(eligible, integrity, n_per_class, finding_es, prevalence) {
  test <- eligible$test
  cap <- sentence(
    "El límite de {es_number(n_per_class)} imágenes por clase solo se aplica a entrenamiento y validación: el test",
    "conserva todas sus imágenes, {es_number(test$positives)} de {es_number(test$images)} con {finding_es}.")
  paste(cap, prevalence_text(prevalence, finding_es), patient_text(integrity), identical_text(integrity))
}

# The split names (chestxray.preparation.split.SPLITS, in its order; a test holds them equal) in Spanish.
SPLIT_NAMES_ES <- c(train = "entrenamiento", validation = "validación", test = "test")
# The outcomes of grad_cam_cases (R/evaluate/metrics.R) in Spanish.
OUTCOME_NAMES_ES <- c(true_positive = "verdadero positivo", false_positive = "falso positivo",
                      false_negative = "falso negativo")
# The subgroups of subgroup_auroc (R/evaluate/metrics.R) in Spanish.
SUBGROUP_NAMES_ES <- c(view = "Proyección", sex = "Sexo", age = "Edad")

# Prevalence of each split before the cap against the reference prevalence_by_split measured drift from (the
# data's, or training and validation's together when the test split is NIH's official list); says where one drifts.
prevalence_text <- function(prevalence, finding_es) {
  splits <- unlist(prevalence$splits)
  each <- paste(SPLIT_NAMES_ES[names(splits)], es_percent(splits), collapse = ", ")
  stated <- sentence("Prevalencia de {finding_es} por parte, antes del límite por clase: {each}; en los datos",
                     "elegibles, {es_percent(prevalence$data)}.")
  reference <- "la de los datos"
  if (isTRUE(prevalence$official_test)) {
    stated <- paste(stated, sentence(
      "Entrenamiento y validación se reparten, por paciente, las imágenes que no están en la lista oficial de test",
      "del NIH (prevalencia {es_percent(prevalence$reference)}), y cada parte se compara con esa cifra."))
    reference <- "la de entrenamiento y validación juntos"
  }
  tolerance <- es_percent(prevalence$tolerance, 0)
  drifting <- unlist(prevalence$drifting)
  if (length(drifting) == 0) {
    return(paste(stated, sentence("Ninguna parte se aparta más de un {tolerance} de {reference}.")))
  }
  parts <- spanish_list(SPLIT_NAMES_ES[drifting])
  paste(stated, sentence(
    "**La prevalencia de {parts} se aparta más de un {tolerance} de {reference}**:",
    "{drift_reasons(drifting, prevalence)}. La exactitud, los valores predictivos y la calibración de test",
    "describen la prevalencia de test."))
}

# Why the drifting splits drift: the official test list keeps its own prevalence; parts the rule deals out drift
# because patients are not divided between parts.
drift_reasons <- function(drifting, prevalence) {
  official <- isTRUE(prevalence$official_test)
  reasons <- c(
    if (official && "test" %in% drifting) {
      "la lista oficial de test del NIH se conserva tal cual, con su propia prevalencia"
    },
    if (!official || any(drifting != "test"))
      "los pacientes no se dividen entre partes y algunos reúnen muchas imágenes de una misma clase")
  paste(reasons, collapse = "; ")
}

patient_text <- function(integrity) {
  unknown <- integrity$images_with_unknown_patient
  sources <- unlist(integrity$patient_sources)
  nowhere <- "(ni en `metadata.csv` ni en un nombre de archivo del NIH)"
  if (unknown == 1) {
    paste("**1 imagen no tiene paciente conocido**", nowhere, "y cuenta como un paciente distinto: si fuera de",
          "un paciente con otras imágenes, podría estar en otra parte que ellas, y para ella la separación por",
          "paciente no está garantizada.")
  } else if (unknown > 1) {
    sentence(
      "**{es_number(unknown)} imágenes no tienen paciente conocido** {nowhere} y cuentan cada una como un",
      "paciente distinto: si varias fueran del mismo paciente, podrían estar en partes distintas, y para ellas la",
      "separación por paciente no está garantizada.")
  } else {
    named <- paste(unname(PATIENT_SOURCE_NAMES[names(sources)]), collapse = ", ")
    sentence("El paciente de cada imagen se conoce (fuente: {named}), así que ningún paciente aparece en dos partes.")
  }
}

identical_text <- function(integrity) {
  groups <- integrity$identical_images_across_splits
  if (length(groups) > 0) {
    listed <- vapply(utils::head(groups, 5), function(g) {
      paste0(paste(g$images, collapse = " = "), " (", spanish_list(SPLIT_NAMES_ES[unlist(g$splits)]), ")")
    }, "")
    more <- if (length(groups) > 5) "…" else ""
    sentence("**Atención: {es_number(length(groups))} grupos de imágenes idénticas (mismo contenido, SHA-256) están",
             "en partes distintas**: {paste(listed, collapse = '; ')}{more}. Es una fuga que los identificadores de",
             "paciente no muestran.")
  } else {
    "Ningún archivo con el mismo contenido (SHA-256) aparece en dos partes."
  }
}

# The split rule's shares of each class's images, whole patients at a time (chestxray.preparation.split).
split_shares <- function() {
  split <- import_chestxray("preparation.split")
  shares <- c(validation = split$VALIDATION_SHARE, test = split$TEST_SHARE)
  c(train = 1 - sum(shares), shares)
}

# How many groups of whole patients the split rule deals out (chestxray.preparation.split.FOLDS).
split_folds <- function() import_chestxray("preparation.split")$FOLDS

# The original use case's published test result, which the report quotes: 21 right of 50 test images.
ORIGINAL_TEST_CORRECT <- 21L
ORIGINAL_TEST_IMAGES <- 50L

# NIH's release: images and patients (chestxray.sources.nih, which checks the metadata against them).
nih_release <- function() {
  nih <- import_chestxray("sources.nih")
  list(images = nih$NIH_IMAGES, patients = nih$NIH_PATIENTS)
}

# Where data=nih's metadata and official test list come from (chestxray.sources.nih.metadata_source's fields).
nih_metadata_text <- function(packaged, metadata, nih_sha1, test_list_packaged) {
  if (packaged) {
    release <- nih_release()
    return(sentence(
      "Los metadatos (`Data_Entry_2017_v2020.csv`) y las listas oficiales de partición (`train_val_list.txt`,",
      "`test_list.txt`) vienen con el paquete, en `python/chestxray/sources/nih_metadata/`, y se comprueban al",
      "cargarlos: las listas son byte a byte las del NIH (SHA-1) y los metadatos, la copia que distribuye",
      "torchxrayvision 1.5.7, con las mismas {es_number(release$images)} filas de {es_number(release$patients)}",
      "pacientes que el archivo del NIH (reescrita por pandas, por eso su SHA-1 difiere; su `PROVENANCE.md` lo",
      "detalla)."))
  }
  copy <- if (nih_sha1) "byte a byte el archivo del NIH (SHA-1 comprobado)" else
    "que no es byte a byte el archivo del NIH (su SHA-1 difiere) y se usa tal cual"
  test_list <- if (test_list_packaged) "la del NIH que viene con el paquete" else "la que acompaña a esa copia"
  sentence("Los metadatos son la copia indicada en `nih_metadata` (`{metadata}`), {copy}; la lista oficial de test",
           "es {test_list}.")
}
