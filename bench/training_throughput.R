#!/usr/bin/env Rscript
# Training throughput of the report's CNN fed by the project's input pipeline
# (batches streamed from the uint8 cache) against model$fit on in-memory float
# arrays of the same images, same model, same batch size, in one run.
#
#   Rscript bench/training_throughput.R [n_per_class] [image_size] [epochs]
#   (target: pipeline >= 0.90 x in-memory)

for (f in list.files("R", pattern = "\\.R$", full.names = TRUE, recursive = TRUE)) source(f)
use_project_python()
args <- as.integer(commandArgs(trailingOnly = TRUE))
n_per_class <- if (length(args) >= 1) args[1] else 300L
size <- if (length(args) >= 2) args[2] else 128L
epochs <- if (length(args) >= 3) args[3] else 3L
batch <- 32L

dataset <- import_chestxray("preparation.dataset")
prepared <- dataset$prepare_dataset("demo", data_folder(list(data = "demo", data_dir = "data/demo",
                                    n_per_class = n_per_class, seed = 42L)), n_per_class, size, 42L)
train <- prepared$part("train")
np <- reticulate::import("numpy", convert = FALSE)
images <- import_chestxray("preparation.images")
cache <- import_chestxray("preparation.cache")$open_cache(prepared$cache_path)
x <- images$to_model_input(cache$`__getitem__`(np$array(as.integer(train$cache_row))))
y <- np$array(as.numeric(train$label), dtype = "float32")

time_fit <- function(fit) {
  set_training_seed(42L)
  model <- compile_model(build_cnn(size))
  fit(model, 1L)  # warm-up: graph tracing and first allocations
  started <- Sys.time()
  fit(model, epochs)
  nrow(train) * epochs / as.numeric(difftime(Sys.time(), started, units = "secs"))
}
pipeline <- function(model, e) {
  model$fit(split_batches(prepared, "train", batch, shuffle = TRUE, augment = TRUE), epochs = e, verbose = 0L)
}
in_memory <- function(model, e) model$fit(x, y, batch_size = batch, epochs = e, shuffle = TRUE, verbose = 0L)

rates <- list()
for (round in 1:2) {  # alternate to even out machine noise; best of two
  rates$memory <- max(rates$memory, time_fit(in_memory))
  rates$pipeline <- max(rates$pipeline, time_fit(pipeline))
}
cat(sprintf(paste("%d training images at %d px, batch %d, %d epochs: in-memory arrays %.1f img/s,",
                  "pipeline %.1f img/s, ratio %.2f\n"),
            nrow(train), size, batch, epochs, rates$memory, rates$pipeline, rates$pipeline / rates$memory))
