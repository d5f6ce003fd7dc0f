# One model, start to finish: build, train, choose the operating point on
# validation, evaluate on test. The report calls this once per model so every
# model sees the same split.

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

# Model card beside model.keras: what `python -m chestxray predict` needs.
write_model_card <- function(result, p, path) {
  write_json_file(list(
    model = result$name, image_size = p$image_size, threshold = result$threshold,
    operating_point = p$operating_point, target_sensitivity = p$target_sensitivity,
    positive_class = p$finding, negative_class = "No Finding",
    preprocessing = "chestxray.preparation.images.load_grey: 8-bit grey (RGBA on black, 16-bit stretched), box resize, /255",
    data = p$data, seed = p$seed, evaluated_epoch = result$evaluated_epoch,
    weights_loaded = json_record(result$weights_loaded), test_auroc = result$metrics$auroc,
    test_auroc_ci95_delong = result$metrics$auroc_ci95_delong,
    test_auroc_ci95_patient_bootstrap = result$metrics$auroc_ci95_patient_bootstrap
  ), path)
}

# NULL fields would become {} in JSON; NA becomes null.
json_record <- function(record) lapply(record, function(value) if (is.null(value)) NA else value)

# Per model: trained in this render or reused, the store folder and keys (R/results_store.R);
# absent for results computed without the store.
stored_results_record <- function(results) {
  stored <- Filter(Negate(is.null), lapply(results, `[[`, "store"))
  if (length(stored)) stored
}

# Everything published next to the report: model, card, predictions, history, metrics.json.
save_outputs <- function(main, results, prepared, p, output_dir, subgroups = NULL, agreement = NULL, versions = NULL) {
  main$model$save(file.path(output_dir, "model.keras"))
  write_model_card(main, p, file.path(output_dir, "model-card.json"))
  test_table <- prepared$part("test")
  write_predictions(test_table, main$test_probabilities, file.path(output_dir, "predictions.csv"))
  write_predictions(prepared$part("validation"), main$validation_probabilities,
                    file.path(output_dir, "validation_predictions.csv"))
  histories <- lapply(results, `[[`, "history")
  write_atomically(file.path(output_dir, "history.csv"), function(tmp) {
    rows <- lapply(names(histories), function(n) cbind(model = n, histories[[n]]))
    utils::write.csv(do.call(rbind, rows), tmp, row.names = FALSE)
  })
  rule <- if (p$operating_point == "youden") "Youden index on the validation split" else
    sprintf("highest threshold with sensitivity >= %.2f on the validation split", p$target_sensitivity)
  write_json_file(c(main$metrics, list(
    model = p$model, threshold_rule = p$operating_point, threshold_method = rule,
    calibration = calibration_bins(prepared$labels("test"), main$test_probabilities),
    comparison = comparison_table(results), subgroups = subgroups, adjudicated = agreement,
    split_sizes = as.list(table(prepared$table$split)), eligible_before_cap = prepared$eligible,
    data_integrity = prepared$integrity(), parameters = p, seed = p$seed,
    training_seconds = main$seconds, epochs_run = nrow(main$history), evaluated_epoch = main$evaluated_epoch,
    evaluated_epoch_rule = evaluated_epoch_rule(), weights_loaded = json_record(main$weights_loaded),
    stored_results = stored_results_record(results), versions = versions
  )), file.path(output_dir, "metrics.json"))
  console_step("Outputs in %s/: model.keras, model-card.json, predictions.csv, validation_predictions.csv, history.csv, metrics.json",
               output_dir)
}
