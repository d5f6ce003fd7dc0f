"""Shared fixtures: project paths, the real radiographs in tests/fixtures (and,
where it exists, the larger real data in ../shared), an embedded R session
(rpy2) with the project's R functions, and a renderer that works on a copy of
the project so tests never touch the user's _output/."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

# rpy2 is installed in cffi's ABI mode (scripts/setup.sh: nothing compiled); asking for it here spares
# rpy2 3.6 its try of the API mode, which it reports on stderr.
os.environ.setdefault("RPY2_CFFI_MODE", "ABI")

ROOT = Path(__file__).resolve().parents[1]
# The tests' shared helpers (servers, forgers, browser, expected Spanish texts), one folder, imported by name.
HELPERS = ROOT / "tests" / "helpers"
sys.path.insert(0, str(HELPERS))
FIXTURES = ROOT / "tests" / "fixtures"
NIH_IMAGES = FIXTURES / "nih" / "images"  # real NIH radiographs; labels.csv describes them
NIH_METADATA = FIXTURES / "nih" / "metadata"
SHARED_DATA = ROOT.parent / "shared" / "data"  # more real data beside the team's clones, not a user's
PROJECT_FILES = ["report.qmd", "_multilabel.qmd", "_quarto.yml", "R", "python", "scripts", "assets"]
TINY_PARAMS = ["n_per_class=24", "image_size=48", "epochs=2", "batch_size=16", "seed=7"]


def flat_png(path: Path, value: int = 0, side: int = 16, height: int | None = None) -> Path:
    """A PNG of one grey value, side x side (or side wide, height tall); its folders are made."""
    import numpy as np
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((height or side, side), value, dtype=np.uint8)).save(path)
    return path


def fixture(*parts: str) -> Path:
    path = FIXTURES.joinpath(*parts)
    assert path.exists(), f"test fixture missing: {path}"
    return path


def shared_data(*parts: str) -> Path:
    """Larger real data that only the team's machines have: a test using it is
    skipped elsewhere and counted in the closing summary."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{SHARED_MISSING_REASON}: {path}")
    return path


SHARED_MISSING_REASON = "needs ../shared/data beside the clone"


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_terminal_summary(terminalreporter):
    yield  # after pytest's own summary, so this is the last line before the counts
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if SHARED_MISSING_REASON in str(r.longrepr)]
    if skipped:
        terminalreporter.write_line(
            f"{len(skipped)} test(s) on the larger real data were not run: ../shared/data is not beside this clone "
            "(the same behaviours are tested on tests/fixtures)."
        )


@pytest.fixture(scope="session")
def r_session():
    """Embedded R (rpy2) with R/*.R sourced, for the R functions that stay in R.

    R code that creates Python objects runs in ``run_r`` instead: reticulate 1.28
    finalises them during R's garbage collection without taking Python's GIL,
    which rpy2 has released, and that aborts the process.
    """
    os.environ["RETICULATE_PYTHON"] = os.path.abspath(sys.executable)
    # R's exit handler would run reticulate finalizers without Python's GIL and
    # abort the interpreter after the tests; the process is ending anyway.
    import atexit

    from rpy2 import rinterface, robjects

    atexit.unregister(rinterface.endr)
    robjects.r(f'setwd("{ROOT}")')
    robjects.r('for (f in list.files("R", pattern = "\\\\.R$", full.names = TRUE, recursive = TRUE)) source(f)')
    return robjects.r


def run_r(code: str, timeout: int = 600) -> dict:
    """Run R code in a fresh Rscript with the project's functions and Python;
    the code's last value is returned through JSON."""
    script = (
        'for (f in list.files("R", pattern = "\\\\.R$", full.names = TRUE, recursive = TRUE)) source(f)\n'
        "use_project_python()\n"
        f"result <- local({{\n{code}\n}})\n"
        'cat("\\n<<JSON>>", jsonlite::toJSON(result, auto_unbox = TRUE, digits = NA), sep = "")\n'
    )
    env = dict(os.environ, RETICULATE_PYTHON=str(ROOT / ".venv" / "bin" / "python"))
    done = subprocess.run(["Rscript", "-e", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise AssertionError(f"R failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.rsplit("<<JSON>>", 1)[1])


def tiny_training_r(work: Path, epochs: int, checkpoint: Path) -> str:
    """R code training a tiny CNN on 16 phantoms per class at 32 px (seeded) into `tiny`
    and `history`, with `prepared` for its batches: for the tests of training itself."""
    return f"""
      ds <- import_chestxray("preparation.dataset")
      prepared <- ds$prepare_dataset("demo", "{work}/demo", 16L, 32L, 3L, cache_dir = "{work}/cache")
      set_training_seed(3L)
      tiny <- compile_model(build_cnn(32L, filters = c(4L, 8L)))
      history <- train_model(tiny, split_batches(prepared, "train", 8L, TRUE),
                             split_batches(prepared, "validation", 8L),
                             prepared$labels("train"), prepared$labels("validation"), epochs = {epochs}L,
                             checkpoint = "{checkpoint}")
    """


def copy_project(dest: Path) -> Path:
    dest.mkdir(parents=True)
    for name in PROJECT_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, dest / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy2(source, dest / name)
    return dest


def render(project: Path, *params: str, to: str = "html", timeout: int = 900) -> subprocess.CompletedProcess:
    """Run the project's render command (scripts/render.R) in a project copy."""
    env = dict(os.environ, RETICULATE_PYTHON=str(ROOT / ".venv" / "bin" / "python"), REPORT_RENDERER="knitr")
    env.pop("PYTHONPATH", None)
    return subprocess.run(
        ["Rscript", "scripts/render.R", "--to", to, *params],
        cwd=project, env=env, capture_output=True, text=True, timeout=timeout,
    )


@pytest.fixture
def project_copy(tmp_path) -> Path:
    return copy_project(tmp_path / "project")
