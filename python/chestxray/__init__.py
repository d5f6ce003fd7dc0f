"""Python side of the chest X-ray report (one NIH finding against No Finding).

The data flow follows the subpackages, each importing only those before it:
``support`` (files, console, the shared tables) -> ``sources`` (NIH archives and
metadata, the demo's phantoms, class folders) -> ``preparation`` (manifest and
split, decoding, the image cache) -> ``model`` (Keras batches, training
callbacks, Grad-CAM, prediction). ``cli`` (the command line) and ``results``
(the stored results' keys) sit on top. ARCHITECTURE.md at the project's root
says who owns each decision.
"""

import os
import warnings

# TensorFlow's informational C++ log lines stay out of the console; its warnings
# and errors still show. (The notices printed while it loads are filtered by
# chestxray.model.backend.import_keras.)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")

# reticulate 1.28 converts pandas frames with Index.format(), which pandas 2.2+
# deprecates: a warning about reticulate's internals, not about this analysis.
warnings.filterwarnings("ignore", message="Index.format is deprecated", category=FutureWarning)

# The original use case's finding: the default positive class of the package's
# functions and commands (the report's own default is in report.qmd's params).
DEFAULT_FINDING = "Pneumothorax"
NEGATIVE_CLASS = "No Finding"
# The report's finding=all: the multi-label study, one network for every finding.
ALL_FINDINGS = "all"

__version__ = "0.1.0"
