# Does the model learn? The report's own training on phantoms, once with the
# recorded labels (wrong for a known share, as the report's demo) and once with
# labels permuted within each split (nothing to learn): the first should reach a
# high test AUROC, against its labels and more so against the generator's truth,
# the second stay near 0.5. Used by a test
# (small, seeded) and by bench/phantom_learning.R (the report's defaults).

# batch_size: the report's default unless given.
learning_check <- function(n_per_class, image_size, epochs, seed, work_dir, model = "cnn",
                           batch_size = rmarkdown::yaml_front_matter("report.qmd")$params$batch_size) {
  dataset <- import_chestxray("preparation.dataset")
  demo_dir <- data_folder(list(data = "demo", data_dir = file.path(work_dir, "demo"), n_per_class = n_per_class,
                               seed = seed))
  prepared <- dataset$prepare_dataset("demo", demo_dir,
                                      as.integer(n_per_class), as.integer(image_size), as.integer(seed),
                                      cache_dir = file.path(work_dir, "cache"))
  p <- list(seed = as.integer(seed), epochs = as.integer(epochs), batch_size = as.integer(batch_size),
            image_size = as.integer(image_size), weights = "none", on_missing_weights = "stop",
            operating_point = "youden", target_sensitivity = 0.9)
  run <- function(data, label) {
    result <- fit_and_evaluate(model, data, p, file.path(work_dir, label))
    truth <- adjudicated_agreement(data$part("test"), result$test_probabilities, result$threshold,
                                   read_adjudicated_labels(file.path(demo_dir, demo_truth_file()), "Pneumothorax"))
    list(test_auroc = result$metrics$auroc, test_auroc_ci95_delong = result$metrics$auroc_ci95_delong,
         test_auroc_vs_truth = truth$auroc_vs_expert, test_true_labels = truth_labels(data$part("test"), demo_dir),
         epochs_run = nrow(result$history), seconds = result$seconds,
         test_images = length(result$test_probabilities), test_positives = sum(data$labels("test")),
         test_labels = as.integer(data$labels("test")), test_probabilities = result$test_probabilities)
  }
  list(model = model, n_per_class = as.integer(n_per_class), image_size = as.integer(image_size),
       max_epochs = as.integer(epochs), seed = as.integer(seed),
       recorded_labels = run(prepared, "recorded-labels"),
       permuted_labels = run(prepared$with_permuted_labels(as.integer(seed)), "permuted-labels"))
}

# The generator's true label (1/0) of each image of a table, from the demo's truth file.
truth_labels <- function(table, demo_dir) {
  truth <- utils::read.csv(file.path(demo_dir, demo_truth_file()), check.names = FALSE, stringsAsFactors = FALSE)
  as.integer(truth[[2]][match(table$image, truth[["Image Index"]])] == "YES")
}
