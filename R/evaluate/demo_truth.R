# The demo's labels are wrong for a known share of images, as NIH's report-mined
# labels are for an unknown one; the phantom generator knows the truth
# (chestxray.sources.phantoms: LABEL_NOISE, TRUTH_FILE), so the report can show what
# label noise does to the measured AUROC.

demo_label_noise <- function() import_chestxray("sources.phantoms")$LABEL_NOISE
demo_truth_file <- function() import_chestxray("sources.phantoms")$TRUTH_FILE

# agreement: adjudicated_agreement() against the generator's truth.
demo_truth_text <- function(agreement, label_noise) {
  auroc <- function(x) if (is.na(x)) "–" else sprintf("%.3f", x)
  sprintf(paste(
    "**Etiquetas con ruido, verdad conocida.** Como las del NIH, extraídas de informes, las etiquetas de la demo",
    "son erróneas en una parte de las imágenes: el generador cambia a propósito la clase de un %.0f %% de ellas.",
    "A diferencia del NIH, sabe cuál es la verdad. En las %d imágenes de test, la etiqueta coincide con la verdad",
    "en el %.1f %%; el modelo, entrenado y evaluado con las etiquetas ruidosas como cualquier estudio, obtiene un",
    "AUROC de %s frente a ellas y de %s frente a la verdad. Con etiquetas erróneas, parte de los «errores» del",
    "modelo son aciertos y al revés: el AUROC medido subestima (o, si el ruido se parece a lo que el modelo",
    "aprende, sobreestima) lo que el modelo sabe hacer."),
    100 * label_noise, agreement$images, 100 * agreement$label_agreement,
    auroc(agreement$auroc_vs_nih), auroc(agreement$auroc_vs_expert))
}
