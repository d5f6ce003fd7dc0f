# One model, start to finish: build, train, choose the operating point on
# validation, evaluate on test, on the same split for every model. The report
# runs it through the results store (stored_fit_and_evaluate, R/run/results_store.R),
# which reuses what its keys say is unchanged; fit_and_evaluate is the same
# without the store (R/evaluate/learning_check.R).

# The images' folder for the chosen data source (the demo's per draw: chestxray.sources.phantoms.demo_folder).
data_folder <- function(p) {
  switch(p$data,
    demo = if (identical(p$finding, "all")) {
      as.character(import_chestxray("sources.multilabel_demo")$multilabel_demo_folder(p$data_dir, multilabel_images(p),
                                                                                      p$seed))
    } else {
      as.character(import_chestxray("sources.phantoms")$demo_folder(p$data_dir, p$n_per_class, p$seed))
    },
    nih = p$nih_dir,
    p$data_dir
  )
}

# The multi-label study's images: the demo's films, and the most in training and in validation each
# (whole patients). Four per n_per_class: with 2 x n_per_class (the binary demo's count) the CNN stayed
# near chance on the five-finding demo after 15 epochs (each finding has 8-27 % of the films); with 4 x
# its mean validation AUROC rose to 0.66 by epoch 15 (seed 42, 128 px).
multilabel_images <- function(p) 4L * p$n_per_class

# The model against other labels of its test images: radiologists' (data = nih with adjudicated_labels)
# and, on the demo, the generator's truth; NULL where a kind does not apply.
expert_agreement <- function(p, test_table, main, data_root) {
  against <- function(labels_path) {
    adjudicated_agreement(test_table, main$test_probabilities, main$threshold,
                          read_adjudicated_labels(labels_path, p$finding))
  }
  list(adjudicated = if (p$data == "nih" && nzchar(p$adjudicated_labels)) against(p$adjudicated_labels),
       demo_truth = if (p$data == "demo") against(file.path(data_root, demo_truth_file())))
}

# Where data = nih's metadata and official test list come from (chestxray.sources.nih); NULL for other data.
nih_metadata_source <- function(p) {
  if (p$data == "nih") import_chestxray("sources.nih")$metadata_source(p$nih_metadata)
}

# Each split's prevalence before the cap, and whether one drifts (chestxray.preparation.split): measured
# against training and validation together where the test split is NIH's official list (data = nih).
split_prevalence <- function(prepared, p) {
  import_chestxray("preparation.split")$prevalence_by_split(prepared$eligible, official_test = p$data == "nih")
}

fit_and_evaluate <- function(name, prepared, p, output_dir) {
  trained <- train_and_predict(name, prepared, p, output_dir)
  result <- c(trained, evaluate_predictions(trained, prepared, p))
  say_result(result)
  result
}
