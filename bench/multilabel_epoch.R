#!/usr/bin/env Rscript
# Cost of a training epoch of the multi-label CNN (one sigmoid per finding, CheXNet's weighted
# cross-entropy: chestxray.model.losses) against the binary report's CNN (one sigmoid, binary
# cross-entropy) on the same images, batch size and machine, in one run, rounds alternating.
# Labels are drawn at NIH's prevalence of each finding (findings.csv).
#
#   Rscript bench/multilabel_epoch.R [images] [image_size] [epochs] [rounds]
#   (target: multi-label per epoch <= 1.10 x binary)

for (f in list.files("R", pattern = "\\.R$", full.names = TRUE, recursive = TRUE)) source(f)
use_project_python()
args <- as.integer(commandArgs(trailingOnly = TRUE))
n_images <- if (length(args) >= 1) args[1] else 1024L
size <- if (length(args) >= 2) args[2] else 128L
epochs <- if (length(args) >= 3) args[3] else 2L
rounds <- if (length(args) >= 4) args[4] else 3L
batch <- 32L

np <- reticulate::import("numpy", convert = FALSE)
rng <- np$random$default_rng(0L)
x <- rng$random(list(n_images, size, size, 1L), dtype = "float32")
findings <- utils::read.csv(FINDINGS_FILE, stringsAsFactors = FALSE)
shares <- findings$nih_images / import_chestxray("sources.nih")$NIH_IMAGES
y_all <- np$less(rng$random(list(n_images, nrow(findings))), np$array(shares))$astype("float32")
y_one <- reticulate::py_eval("lambda y, j: y[:, j:j + 1].copy()")(y_all, which(findings$finding == "Pneumothorax") - 1L)
losses <- import_chestxray("model.losses")

seconds_per_epoch <- function(outputs) {
  set_training_seed(42L)
  model <- build_cnn(size, findings = outputs)
  multilabel <- outputs > 1L
  loss <- if (multilabel) losses$FindingWeightedCrossEntropy(shares) else "binary_crossentropy"
  model$compile(optimizer = import_keras()$optimizers$Adam(learning_rate = INITIAL_LEARNING_RATE), loss = loss)
  y <- if (multilabel) y_all else y_one
  model$fit(x, y, batch_size = batch, epochs = 1L, verbose = 0L)  # warm-up: tracing, first allocations
  started <- Sys.time()
  model$fit(x, y, batch_size = batch, epochs = epochs, shuffle = TRUE, verbose = 0L)
  as.numeric(difftime(Sys.time(), started, units = "secs")) / epochs
}

times <- list(binary = Inf, multilabel = Inf)
for (round in seq_len(rounds)) {  # alternate to even out machine noise; best of the rounds
  times$binary <- min(times$binary, seconds_per_epoch(1L))
  times$multilabel <- min(times$multilabel, seconds_per_epoch(nrow(findings)))
}
cat(sprintf(paste("%d images at %d px, batch %d, %d epochs x %d rounds: binary CNN %.2f s/epoch,",
                  "%d-finding CNN %.2f s/epoch, ratio %.3f\n"),
            n_images, size, batch, epochs, rounds, times$binary, nrow(findings), times$multilabel,
            times$multilabel / times$binary))
