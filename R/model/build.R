# Model definitions, built layer by layer from R through reticulate. Every model
# takes (size, size, 1) images in [0, 1].

# The transfer-learning models, one entry each: keras.applications builder, preprocessing and
# ImageNet weights file. The one list of them, read by Python too (chestxray.model.transfer_models).
TRANSFER_MODELS_FILE <- file.path("python", "chestxray", "model", "transfer_models.yml")
TRANSFER_MODEL_TABLE <- yaml::read_yaml(TRANSFER_MODELS_FILE)
TRANSFER_MODELS <- names(TRANSFER_MODEL_TABLE)

# One builder per value of the `model` parameter (python/chestxray/support/report_params.yml;
# a test checks both name the same models): the two networks written here, then one per transfer model.
MODEL_BUILDERS <- c(
  list(
    cnn = function(image_size, findings = 1L, ...) build_cnn(image_size, findings = findings),
    baseline = function(image_size, findings = 1L, ...) build_baseline(image_size, findings)
  ),
  lapply(setNames(nm = TRANSFER_MODELS), function(name) {
    force(name)
    function(image_size, ...) build_transfer(name, image_size, ...)
  })
)

# A transfer model's entry in TRANSFER_MODEL_TABLE; an unknown name stops, naming the known ones.
transfer_model <- function(name) {
  entry <- TRANSFER_MODEL_TABLE[[name]]
  if (is.null(entry)) {
    stop(sprintf("unknown transfer model '%s'; transfer models: %s", name, paste(TRANSFER_MODELS, collapse = ", ")),
         call. = FALSE)
  }
  entry
}

# The side in pixels of the square images a built model takes (its input's shape), as its card says.
model_image_size <- function(model) as.integer(model$input_shape[[2]])

# `findings`: 1, the binary report's one sigmoid; more, the multi-label study's one sigmoid per finding.
build_model <- function(name, image_size, weights = "imagenet", on_missing_weights = "stop", findings = 1L) {
  builder <- MODEL_BUILDERS[[name]]
  if (is.null(builder)) {
    stop(sprintf("unknown model '%s'; models: %s", name, paste(names(MODEL_BUILDERS), collapse = ", ")), call. = FALSE)
  }
  builder(image_size, weights = weights, on_missing_weights = on_missing_weights, findings = findings)
}

# The last layer: the probability of the report's finding, or in the multi-label study
# (findings > 1) one independent probability per finding, as CheXNet's.
sigmoid_output <- function(x, findings = 1L) {
  layers <- import_keras()$layers
  if (findings == 1L) return(layers$Dense(1L, activation = "sigmoid", name = "positive_class")(x))
  layers$Dense(as.integer(findings), activation = "sigmoid", name = "findings")(x)
}

# The original report's network: flattened pixels, dense layers of these units, each
# followed by its dropout, and a softmax over the two classes (the report quotes the units).
BASELINE_DENSE <- data.frame(units = c(512L, 256L, 128L), dropout = c(0.4, 0.3, 0.2))

build_baseline <- function(image_size, findings = 1L) {
  if (findings != 1L) {
    stop("the baseline is the original's two-class network; the multi-label study trains the cnn or a transfer model",
         call. = FALSE)
  }
  keras <- import_keras()
  layers <- keras$layers
  inputs <- keras$Input(shape = list(as.integer(image_size), as.integer(image_size), 1L), name = "radiograph")
  x <- layers$Flatten()(inputs)
  for (i in seq_len(nrow(BASELINE_DENSE))) {
    x <- layers$Dense(BASELINE_DENSE$units[i], activation = "relu")(x)
    x <- layers$Dropout(BASELINE_DENSE$dropout[i])(x)
  }
  outputs <- layers$Dense(2L, activation = "softmax", name = "classes")(x)
  keras$Model(inputs, outputs, name = "baseline")
}

# The CNN's filters per block (the report quotes them). On the demo's phantoms
# 8-64 learns as well as 16-128 at half the time per epoch (BENCHMARKS.md, render time).
CNN_FILTERS <- c(8L, 16L, 32L, 64L)

# A small convolutional network for greyscale radiographs, sized for CPUs:
# four conv blocks (CNN_FILTERS), global average pooling, dropout and a
# single sigmoid output (probability of the positive class, the report's
# finding). Augmentation is not part of the model: the input pipeline does it
# (chestxray.model.augment), so the saved model holds no random layers and trains as
# fast on a GPU as without it.
build_cnn <- function(image_size, filters = CNN_FILTERS, dropout = 0.3, findings = 1L) {
  keras <- import_keras()
  layers <- keras$layers
  inputs <- keras$Input(shape = list(as.integer(image_size), as.integer(image_size), 1L), name = "radiograph")
  x <- inputs
  for (n in as.integer(filters)) {
    x <- layers$Conv2D(n, 3L, padding = "same", use_bias = FALSE)(x)
    # Momentum 0.9: with a few hundred images the default 0.99 leaves the
    # moving statistics far from the data and validation predictions constant.
    x <- layers$BatchNormalization(momentum = 0.9)(x)
    x <- layers$Activation("relu")(x)
    x <- layers$Conv2D(n, 3L, padding = "same", activation = "relu")(x)
    x <- layers$MaxPooling2D(2L)(x)
  }
  x <- layers$GlobalAveragePooling2D()(x)
  x <- layers$Dropout(dropout)(x)
  keras$Model(inputs, sigmoid_output(x, findings), name = "cnn")
}

# keras.applications networks expect 3 channels with their own input scaling;
# both are done with layers so the saved model carries them. One scaling per
# keras.applications module a transfer model names as its preprocessing: what that
# module's preprocess_input does to 0-255 pixels, done to our [0, 1] (a test compares them).
IMAGENET_SCALING <- list(
  densenet = function(layers) {  # ImageNet's mean and standard deviation per channel
    layers$Normalization(mean = c(0.485, 0.456, 0.406), variance = c(0.229, 0.224, 0.225)^2, name = "imagenet_scaling")
  },
  mobilenet_v2 = function(layers) {  # to the interval from -1 to 1
    layers$Rescaling(2, offset = -1, name = "imagenet_scaling")
  }
)

imagenet_input <- function(name, x) {
  preprocessing <- transfer_model(name)$preprocessing
  scaling <- IMAGENET_SCALING[[preprocessing]]
  if (is.null(scaling)) {
    stop(sprintf("no input scaling for keras.applications.%s (model %s); scalings: %s", preprocessing, name,
                 paste(names(IMAGENET_SCALING), collapse = ", ")), call. = FALSE)
  }
  layers <- import_keras()$layers
  x <- layers$Concatenate(name = "grey_to_rgb")(list(x, x, x))
  scaling(layers)(x)
}

# Transfer learning. weights: "imagenet" (from Keras' cache, downloaded there
# once), a local weights file, or "none". When they cannot be loaded,
# on_missing_weights "stop" stops; "random" goes on from random initialisation
# with a warning. What was loaded travels with the model (weights_loaded()).
build_transfer <- function(name, image_size, weights = "imagenet", on_missing_weights = "stop", findings = 1L) {
  keras <- import_keras()
  size <- as.integer(image_size)
  inputs <- keras$Input(shape = list(size, size, 1L), name = "radiograph")
  x <- imagenet_input(name, inputs)
  application <- keras$applications[[transfer_model(name)$builder]]

  loaded <- transfer_weights(name, size, weights, on_missing_weights)
  if (identical(loaded$source, "random")) {
    warning(sprintf("could not load '%s' weights for %s (%s): training from random initialisation",
                    weights, name, loaded$error), call. = FALSE)
  }
  base <- tryCatch(application(include_top = FALSE, weights = loaded$file, input_tensor = x, pooling = "avg"),
                   error = function(e) {
    if (is.null(loaded$file)) stop(e)
    stop(sprintf("the weights file %s does not fit %s: %s", loaded$file, name,
                 trimws(gsub("\\s+", " ", conditionMessage(e)))), call. = FALSE)
  })
  y <- keras$layers$Dropout(0.3)(base$output)
  model <- keras$Model(inputs, sigmoid_output(y, findings), name = name)
  attr(model, "weights_loaded") <- loaded
  model
}

count_parameters <- function(model) as.integer(model$count_params())

is_two_class_softmax <- function(model) identical(as.integer(model$output$shape[[2]]), 2L)
