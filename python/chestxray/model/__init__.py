"""Model tools: Keras (backend), batches streamed from the cache with augmentation,
the training callbacks and predictions, transfer weights, Grad-CAM (explain) and
inference on new images (predict). The model's architecture and training loop are
in R (R/model/build.R, R/model/train.R), which calls these."""
