"""make requirements: resolve requirements.in into each pinned set the set-up may install.

    .venv/bin/python scripts/pin_requirements.py        # rewrites requirements.txt and requirements-numpy1.txt

uv resolves every set from PyPI (from any machine: it reads wheel metadata, it installs nothing), with
wheels only, for the Python versions scripts/requirements_set.py names, then checks that each pin has
a wheel for every platform the set serves. Only rpy2's compiled part, which PyPI ships as source
alone, is built on the user's machine (the set's own `--no-binary` line).
"""
from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from requirements_set import CURRENT, NUMPY1, PinnedSet  # noqa: E402

LINUX = ("x86_64-manylinux_2_28", "aarch64-manylinux_2_28")
# requirements.txt also serves Docker on Apple silicon (Linux arm64) and R users on macOS and Windows.
PLATFORMS = {CURRENT.file: LINUX + ("aarch64-apple-darwin", "x86_64-pc-windows-msvc"),
             NUMPY1.file: LINUX[:1]}
HEADERS = {
    CURRENT.file: "# Today's versions (NumPy 2) for an R whose reticulate is 1.38 or newer: Debian 13, the container,\n"
    "# CRAN's R on macOS and Windows. Wheels for Python 3.12 and 3.13 on Linux x86-64 and arm64, macOS\n"
    "# arm64, Windows x86-64.",
    NUMPY1.file: "# NumPy 1 and pandas 2 for an R whose reticulate is older than 1.38 "
    "(Debian 12: 1.28; Ubuntu 24.04).\n"
    "# Wheels for Python 3.11 and 3.12 on Linux x86-64.",
}


def dotted(version: tuple[int, int]) -> str:
    return ".".join(map(str, version))


def uv() -> str:
    found = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if not found:
        raise SystemExit("pin_requirements: uv is missing: .venv/bin/pip install -r requirements-dev.txt")
    return found


def inputs_line(pinned: PinnedSet) -> str:
    """The unpinned inputs a set was resolved from, by digest: a test fails when one changed since."""
    digests = ", ".join(
        f"{name} {hashlib.sha256((ROOT / name).read_bytes()).hexdigest()[:16]}" for name in pinned.inputs
    )
    return f"# resolved from (SHA-256): {digests}\n"


def build_options(pinned: PinnedSet) -> list[str]:
    return ["--only-binary", ":all:", "--no-binary", pinned.built_from_source]


def resolve(pinned: PinnedSet, output: Path) -> None:
    target = (["--universal", "--python-version", dotted(pinned.oldest_python)] if pinned is CURRENT else
              ["--python-version", dotted(pinned.oldest_python), "--python-platform", PLATFORMS[pinned.file][0]])
    subprocess.run([uv(), "pip", "compile", "--quiet", *target, *build_options(pinned),
                    "--custom-compile-command", "make requirements", "--output-file", str(output),
                    pinned.inputs[0]], cwd=ROOT, check=True)


def check_wheels(pinned: PinnedSet, pins: Path) -> None:
    """Each pin, as pinned, has a wheel for every Python and platform the set serves."""
    for minor in range(pinned.oldest_python[1], pinned.newest_python[1] + 1):
        for platform in PLATFORMS[pinned.file]:
            done = subprocess.run([uv(), "pip", "compile", "--quiet", "--python-version", f"3.{minor}",
                                   "--python-platform", platform, *build_options(pinned), "--no-deps",
                                   "--output-file", "/dev/null", str(pins)], cwd=ROOT, capture_output=True, text=True)
            if done.returncode != 0:
                raise SystemExit(f"pin_requirements: {pinned.file} lacks a wheel for Python 3.{minor} on {platform}:\n"
                                 f"{done.stderr.strip()}")
            print(f"pin_requirements: {pinned.file}: wheels for Python 3.{minor} on {platform}")


def pin(pinned: PinnedSet) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        draft = Path(scratch) / pinned.file
        resolve(pinned, draft)
        check_wheels(pinned, draft)
        lines = draft.read_text().splitlines(keepends=True)
        # uv's two header lines, what the set is for, then pip's options in the order pip needs them: a later
        # `--only-binary :all:` would clear the exception (pip's FormatControl.handle_mutual_excludes).
        options = f"--only-binary :all:\n--no-binary {pinned.built_from_source}\n"
        text = "".join(lines[:2]) + HEADERS[pinned.file] + "\n" + inputs_line(pinned) + options + "".join(lines[2:])
        (ROOT / pinned.file).write_text(text)
    print(f"pin_requirements: wrote {pinned.file}")


if __name__ == "__main__":
    for each in (CURRENT, NUMPY1):
        pin(each)
