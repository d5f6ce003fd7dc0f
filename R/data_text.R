# Sentences of the report about the data a split rests on (Spanish, like the report).

PATIENT_SOURCE_NAMES <- c(metadata = "metadatos", nih_file_name = "nombre de archivo del NIH", unknown = "desconocido")

# Prevalence kept by the test split, patients that are unknown, identical files across splits.
# finding_es: the finding's Spanish name, mid-sentence (finding_names()$es_lower).
split_integrity_text <- function(eligible, integrity, n_per_class, finding_es) {
  test <- eligible$test
  all_images <- sum(vapply(eligible, function(e) e$images, 0))
  all_positives <- sum(vapply(eligible, function(e) e$positives, 0))
  percent <- function(a, b) sprintf("%.1f %%", 100 * a / b)
  prevalence <- sprintf(paste(
    "El límite de %d imágenes por clase solo se aplica a entrenamiento y validación: el test conserva todas sus",
    "imágenes, %d de %d con %s (%s), la prevalencia de los datos elegibles (%d de %d, %s)."),
    n_per_class, test$positives, test$images, finding_es, percent(test$positives, test$images), all_positives, all_images,
    percent(all_positives, all_images))
  unknown <- integrity$images_with_unknown_patient
  sources <- unlist(integrity$patient_sources)
  patients <- if (unknown > 0) {
    sprintf(paste(
      "**%d imágenes no tienen paciente conocido** (ni en `metadata.csv` ni en un nombre de archivo del NIH) y",
      "cuentan cada una como un paciente distinto: si varias fueran del mismo paciente, podrían estar en partes",
      "distintas, y para ellas la separación por paciente no está garantizada."), unknown)
  } else {
    sprintf("El paciente de cada imagen se conoce (fuente: %s), así que ningún paciente aparece en dos partes.",
            paste(unname(PATIENT_SOURCE_NAMES[names(sources)]), collapse = ", "))
  }
  groups <- integrity$identical_images_across_splits
  identical <- if (length(groups) > 0) {
    listed <- vapply(utils::head(groups, 5), function(g) sprintf("%s (%s)", paste(g$images, collapse = " = "),
                                                                 paste(g$splits, collapse = " y ")), "")
    sprintf(paste("**Atención: %d grupos de imágenes idénticas (mismo contenido, SHA-256) están en partes distintas**:",
                  "%s%s. Es una fuga que los identificadores de paciente no muestran."),
            length(groups), paste(listed, collapse = "; "), if (length(groups) > 5) "…" else "")
  } else {
    "Ningún archivo con el mismo contenido (SHA-256) aparece en dos partes."
  }
  paste(prevalence, patients, identical)
}

# The split rule's shares of patients (chestxray.split), in whole percentages, for the narrative.
split_percentages <- function() {
  split <- import_chestxray("split")
  shares <- c(validation = split$VALIDATION_SHARE, test = split$TEST_SHARE)
  round(100 * c(train = 1 - sum(shares), shares))
}
