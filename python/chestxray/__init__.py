"""Data side of the pneumothorax report: everything up to the input pipeline.

The data flow follows the module names: ``phantoms`` (built-in demo data) or
``folders`` (class folders on disk) -> ``split`` (patient-disjoint parts) ->
``images`` (one decoding function shared by training and inference) ->
``cache`` (uint8 arrays on disk) -> ``pipeline`` (batches streamed to Keras).
"""

import os

# TensorFlow's C++ start-up chatter would otherwise end up in the report log.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

POSITIVE_CLASS = "Pneumothorax"
NEGATIVE_CLASS = "No Finding"

__version__ = "0.1.0"
