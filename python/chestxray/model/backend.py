"""Keras, imported once for the whole project without TensorFlow's start-up notices.

TensorFlow 2.21's C++ libraries write their notices while they load, before
TF_CPP_MIN_LOG_LEVEL is read: "All log messages before absl::InitializeLog()
is called are written to STDERR", the oneDNN notice and the CPU-instructions
notice, each twice. They go straight to file descriptor 2, so Python's
warnings and logging cannot filter them. ``import_keras`` captures that
descriptor while Keras (and with it TensorFlow) loads, drops exactly these
known notices and passes every other line on, so a real error still shows.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile

STARTUP_NOTICES = re.compile(
    r"All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|port\.cc:\d+\] oneDNN custom operations are on"
    r"|cpu_feature_guard\.cc:\d+\] This TensorFlow binary is optimized"
    r"|^To enable the following instructions: .* rebuild TensorFlow with the appropriate compiler flags\.$"
)


def without_startup_notices(text: str) -> str:
    return "".join(line for line in text.splitlines(keepends=True) if not STARTUP_NOTICES.search(line))


def import_keras():
    """The ``keras`` module; the first call loads it with the notices filtered out."""
    if "keras" in sys.modules:
        return sys.modules["keras"]
    stderr_fd = 2
    saved = os.dup(stderr_fd)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), stderr_fd)
        try:
            import keras
        finally:
            os.dup2(saved, stderr_fd)
            os.close(saved)
            captured.seek(0)
            rest = without_startup_notices(captured.read().decode(errors="replace"))
            if rest:
                os.write(stderr_fd, rest.encode())
    return keras
