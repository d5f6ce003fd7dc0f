"""Progress for the person watching a render or a command: one line per step.

Lines go to the process's own stderr with the time since the process started,
so they reach the console from a knitr/reticulate chunk (whose sys.stdout and
sys.stderr are captured into the document) and never into the report.
"""

from __future__ import annotations

import sys
import time

from tqdm.auto import tqdm

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


def progress_bar(total: int, unit: str, desc: str, initial: int = 0, scale: bool = False) -> tqdm:
    """Count, rate and ETA of a long step on the console; shown on a terminal only (not in
    logs or tests), redrawn at most every 2 s, cleared when done (a step line follows).
    ``scale``: counts are bytes, shown as kB, MB, GB."""
    return tqdm(total=total, initial=initial, unit=unit, desc=desc, file=stream(), disable=None,
                mininterval=2, leave=False, unit_scale=scale, unit_divisor=1000)


def human_size(n: float) -> str:
    """Bytes for people, as the progress bars show them (tqdm's own formatter, decimal units): '1.50kB', '45.1GB'."""
    return tqdm.format_sizeof(n, "B", 1000)


def duration(seconds: float) -> str:
    """A duration for a person: '45 s', '3 min 20 s', '2 h 05 min'."""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
