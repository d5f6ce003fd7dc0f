# Model definitions, built layer by layer from R through reticulate.

# A small convolutional network for greyscale radiographs, sized for CPUs:
# four conv blocks (16-32-64-128 filters), global average pooling, dropout and a
# single sigmoid output (probability of the positive class).
build_cnn <- function(image_size, filters = c(16L, 32L, 64L, 128L), dropout = 0.3) {
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
  outputs <- layers$Dense(1L, activation = "sigmoid", name = "pneumothorax")(x)
  keras$Model(inputs, outputs, name = "cnn")
}

count_parameters <- function(model) as.integer(model$count_params())
