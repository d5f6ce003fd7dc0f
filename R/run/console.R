# The console of a render, read by the person running it (never the report): one
# progress line per step, timed from the start (chestxray.support.console, shared with
# the Python commands), in English.

# One progress line on the console (never in the report), timed from the start.
console_step <- function(format, ...) {
  import_chestxray("support.console")$step(sprintf(format, ...))
  invisible(NULL)
}

# A duration for a person ("45 s", "3 min 20 s"): chestxray.support.console's, the one formatter.
format_duration <- function(elapsed) {
  import_chestxray("support.console")$duration(as.numeric(elapsed, units = "secs"))
}

# A model's result in one line.
say_result <- function(result) {
  metrics <- result$metrics
  if (!is.null(metrics$mean)) {
    return(console_step(paste("%s: %d epochs in %.0f s; mean test AUROC over %d findings %.3f (95%% CI patient",
                              "bootstrap %.3f-%.3f) at the evaluated epoch %d"),
                        result$name, nrow(result$history), result$seconds, nrow(metrics$findings),
                        metrics$mean$mean_auroc, metrics$mean$mean_auroc_ci95_patient_bootstrap[1],
                        metrics$mean$mean_auroc_ci95_patient_bootstrap[2], result$evaluated_epoch))
  }
  console_step(paste("%s: %d epochs in %.0f s; test AUROC %.3f (95%% CI DeLong %.3f-%.3f, patient bootstrap",
                     "%.3f-%.3f) at the evaluated epoch %d"),
               result$name, nrow(result$history), result$seconds, metrics$auroc, metrics$auroc_ci95_delong[1],
               metrics$auroc_ci95_delong[2], metrics$auroc_ci95_patient_bootstrap[1],
               metrics$auroc_ci95_patient_bootstrap[2], result$evaluated_epoch)
}
