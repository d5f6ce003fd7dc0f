# One model, start to finish: build, train, choose the operating point on
# validation, evaluate on test, on the same split for every model. The report
# runs it through the results store (stored_fit_and_evaluate, R/run/results_store.R),
# which reuses what its keys say is unchanged; fit_and_evaluate is the same
# without the store (R/evaluate/learning_check.R).

# The images' folder for the chosen data source (the demo's per draw: chestxray.sources.phantoms.demo_folder).
data_folder <- function(p) {
  switch(p$data,
    demo = as.character(import_chestxray("sources.phantoms")$demo_folder(p$data_dir, p$n_per_class, p$seed)),
    nih = p$nih_dir,
    p$data_dir
  )
}

fit_and_evaluate <- function(name, prepared, p, output_dir) {
  trained <- train_and_predict(name, prepared, p, output_dir)
  result <- c(trained, evaluate_predictions(trained, prepared, p))
  say_result(result)
  result
}

say_result <- function(result) {
  metrics <- result$metrics
  console_step(paste("%s: %d epochs in %.0f s; test AUROC %.3f (95%% CI DeLong %.3f-%.3f, patient bootstrap",
                     "%.3f-%.3f) at the evaluated epoch %d"),
               result$name, nrow(result$history), result$seconds, metrics$auroc, metrics$auroc_ci95_delong[1],
               metrics$auroc_ci95_delong[2], metrics$auroc_ci95_patient_bootstrap[1],
               metrics$auroc_ci95_patient_bootstrap[2], result$evaluated_epoch)
}

# Rows for the comparison table: same split, same operating-point rule.
comparison_table <- function(results) {
  rows <- do.call(rbind, lapply(results, function(r) {
    m <- r$metrics
    data.frame(
      model = r$name, parameters = r$parameters, epochs = nrow(r$history), evaluated_epoch = r$evaluated_epoch,
      seconds = round(r$seconds), auroc = m$auroc, ci_low = m$auroc_ci95_delong[1], ci_high = m$auroc_ci95_delong[2],
      boot_low = m$auroc_ci95_patient_bootstrap[1], boot_high = m$auroc_ci95_patient_bootstrap[2],
      sensitivity = m$sensitivity, specificity = m$specificity, ppv = m$ppv, npv = m$npv, brier = m$brier
    )
  }))
  rownames(rows) <- NULL
  rows
}

