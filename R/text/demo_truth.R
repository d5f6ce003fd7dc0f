# The demo's labels are wrong for a known share of images, as NIH's report-mined
# labels are for an unknown one; the phantom generator knows the truth
# (chestxray.sources.phantoms: LABEL_NOISE, TRUTH_FILE), so the report can show what
# label noise does to the measured AUROC.


# agreement: adjudicated_agreement() against the generator's truth.
demo_truth_text <- function(agreement, label_noise) {
  sentence(
    "**Etiquetas con ruido, verdad conocida.** Como las del NIH, extraídas de informes, las etiquetas de la demo",
    "son erróneas en una parte de las imágenes: el generador cambia a propósito la clase de un",
    "{es_percent(label_noise, 0)} de ellas. A diferencia del NIH, sabe cuál es la verdad. En las",
    "{es_number(agreement$images)} imágenes de test, la etiqueta coincide con la verdad en el",
    "{es_percent(agreement$label_agreement)}; el modelo, entrenado y evaluado con las etiquetas ruidosas como",
    "cualquier estudio, obtiene un AUROC de {es_number(agreement$auroc_vs_nih, 3)} frente a ellas y de",
    "{es_number(agreement$auroc_vs_expert, 3)} frente a la verdad. Con etiquetas erróneas, parte de los «errores»",
    "del modelo son aciertos y al revés: el AUROC medido subestima (o, si el ruido se parece a lo que el modelo",
    "aprende, sobreestima) lo que el modelo sabe hacer.")
}
