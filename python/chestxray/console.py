"""Progress for the person watching a render or a command: one line per step.

Lines go to the process's own stderr with the time since the process started,
so they reach the console from a knitr/reticulate chunk (whose sys.stdout and
sys.stderr are captured into the document) and never into the report.
"""

from __future__ import annotations

import sys
import time

STARTED = time.monotonic()


def elapsed(seconds: float) -> str:
    minutes, seconds = divmod(int(round(seconds)), 60)
    return f"{minutes:02d}:{seconds:02d}"


def stream():
    """The process's own stderr: inside a knitr/reticulate chunk sys.stderr is captured into
    the document, which should hold neither progress lines nor progress bars."""
    return sys.__stderr__ or sys.stderr


def step(message: str) -> None:
    print(f"[{elapsed(time.monotonic() - STARTED)}] {message}", file=stream(), flush=True)
