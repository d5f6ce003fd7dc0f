"""Which pinned Python set the set-up installs, from the R and Python it finds.

The report's R chunks receive NumPy arrays and pandas frames through reticulate, so the Python
packages must be ones the installed reticulate can convert. reticulate converts NumPy 2 arrays
from 1.38.0 on (its NEWS: "Internal updates for NumPy 2.0", #1621); older ones need NumPy 1 and
pandas 2. (pandas 3 frames need R/run/python_env.R's bridge even with 1.41: chestxray.support.r_frames.) The
installed reticulate's own version is the signal, not the distribution's name: it is what does the
converting, and it also covers a reticulate installed from CRAN on any system.

    python3 scripts/requirements_set.py RETICULATE_VERSION [PYTHON_VERSION]   # prints the file name

Standard library only: it runs before the virtual environment exists.
"""
from __future__ import annotations

import platform
import re
import sys
from dataclasses import dataclass

NUMPY2_RETICULATE = (1, 38)
VERSION = re.compile(r"^\d+(\.\d+)*$")


@dataclass(frozen=True)
class PinnedSet:
    file: str                      # the pinned set, at the project's top level
    inputs: tuple[str, ...]        # its unpinned inputs, the first naming the others (make requirements)
    oldest_python: tuple[int, int]  # what the pins were resolved for (make requirements)
    newest_python: tuple[int, int]
    built_from_source: str         # the one package PyPI ships as source only (rpy2's R interface, built in ABI mode)


CURRENT = PinnedSet("requirements.txt", ("requirements.in",), (3, 12), (3, 13), "rpy2-rinterface")
NUMPY1 = PinnedSet("requirements-numpy1.txt", ("requirements-numpy1.in", "requirements.in"), (3, 11), (3, 12), "rpy2")
SETS = (CURRENT, NUMPY1)
# requirements.txt has wheels for Linux x86-64 and arm64 (and macOS, Windows); the NumPy 1 set for x86-64 only.
NUMPY1_MACHINES = ("x86_64", "amd64")


class NoPinnedSet(ValueError):
    pass


def version_tuple(text: str) -> tuple[int, ...]:
    if not VERSION.match(text.strip()):
        raise NoPinnedSet(f"not a version number: {text!r}")
    return tuple(int(part) for part in text.strip().split(".")[:3])


def pinned_set(reticulate: str, python: str, machine: str | None = None) -> PinnedSet:
    """The set for this reticulate, Python and machine: NumPy 2 where reticulate converts it."""
    reticulate_version, python_version = version_tuple(reticulate), version_tuple(python)
    if len(python_version) < 2:
        raise NoPinnedSet(f"not a Python version (major.minor): {python!r}")
    python_version = python_version[:2]
    wanted = CURRENT if reticulate_version[:2] >= NUMPY2_RETICULATE else NUMPY1
    # NumPy 2 on an older Python (a CRAN reticulate on Debian 12): the NumPy 1 set, which every reticulate converts.
    if wanted is CURRENT and python_version < CURRENT.oldest_python:
        wanted = NUMPY1
    if wanted is NUMPY1 and python_version > NUMPY1.newest_python:
        raise NoPinnedSet(
            f"reticulate {reticulate} cannot convert NumPy 2 arrays, and NumPy 1 has no wheels for Python {python}: "
            f"install reticulate 1.38 or newer (CRAN's), or use the project's container")
    if not wanted.oldest_python <= python_version <= wanted.newest_python:
        raise NoPinnedSet(
            f"Python {python} with reticulate {reticulate}: {wanted.file} is pinned for Python "
            f"{'.'.join(map(str, wanted.oldest_python))} to {'.'.join(map(str, wanted.newest_python))}; "
            f"add this Python to scripts/requirements_set.py and run `make requirements`")
    machine = (machine or platform.machine()).lower()
    if wanted is NUMPY1 and machine not in NUMPY1_MACHINES:
        raise NoPinnedSet(
            f"reticulate {reticulate} needs the NumPy 1 set, pinned for x86-64 only (this machine: {machine}): "
            f"install reticulate 1.38 or newer (CRAN's), or use the project's container")
    return wanted


def reason(chosen: PinnedSet, reticulate: str, python: str) -> str:
    numpy = "NumPy 2" if chosen is CURRENT else "NumPy 1"
    return f"reticulate {reticulate} and Python {python}: {chosen.file} ({numpy})"


def main(argv: list[str]) -> int:
    if len(argv) not in (1, 2):
        print("usage: python3 scripts/requirements_set.py RETICULATE_VERSION [PYTHON_VERSION]", file=sys.stderr)
        return 2
    python = argv[1] if len(argv) == 2 else f"{sys.version_info.major}.{sys.version_info.minor}"
    try:
        chosen = pinned_set(argv[0], python)
    except NoPinnedSet as error:
        print(f"setup: {error}", file=sys.stderr)
        return 1
    print(chosen.file)
    print(f"setup: {reason(chosen, argv[0], python)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
