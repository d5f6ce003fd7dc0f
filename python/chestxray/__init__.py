"""Data side of the chest X-ray report (one NIH finding against No Finding):
everything up to the input pipeline.

The data flow follows the module names: ``phantoms`` (built-in demo data) or
``folders`` (class folders on disk) -> ``split`` (patient-disjoint parts) ->
``images`` (one decoding function shared by training and inference) ->
``cache`` (uint8 arrays on disk) -> ``batches`` (batches streamed to Keras).
"""

import os
import warnings

# TensorFlow's informational C++ log lines stay out of the console; its warnings
# and errors still show. (The notices printed while it loads are filtered by
# chestxray.backend.import_keras.)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")

# reticulate 1.28 converts pandas frames with Index.format(), which pandas 2.2+
# deprecates: a warning about reticulate's internals, not about this analysis.
warnings.filterwarnings("ignore", message="Index.format is deprecated", category=FutureWarning)

# The original use case's finding: the default positive class of the package's
# functions and commands (the report's own default is in report.qmd's params).
DEFAULT_FINDING = "Pneumothorax"
NEGATIVE_CLASS = "No Finding"

__version__ = "0.1.0"
