"""What a person sees outside the report: a quiet console, and the same report
from Quarto and from the knitr fallback (HTML and PDF)."""

import os
import subprocess
import sys

import yaml

from conftest import ROOT, run_r

NOTICE_LINES = [
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n",
    "I0000 00:00:1795766866.793331    7038 port.cc:153] oneDNN custom operations are on. You may see slightly "
    "different numerical results due to floating-point round-off errors from different computation orders. "
    "To turn them off, set the environment variable `TF_ENABLE_ONEDNN_OPTS=0`.\n",
    "I0000 00:00:1795766866.947423    7038 cpu_feature_guard.cc:227] This TensorFlow binary is optimized to use "
    "available CPU instructions in performance-critical operations.\n",
    "To enable the following instructions: AVX2 AVX512F FMA, in other operations, rebuild TensorFlow with the "
    "appropriate compiler flags.\n",
]


def test_startup_notices_are_dropped_and_everything_else_kept():
    from chestxray.model.backend import without_startup_notices

    real = "E0000 something.cc:12] Could not load dynamic library 'libcudart.so.12'\n"
    assert without_startup_notices("".join(NOTICE_LINES) + real + NOTICE_LINES[1]) == real


def test_importing_keras_prints_nothing():
    code = "from chestxray.model.backend import import_keras; keras = import_keras(); print(keras.__version__)"
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("3.") and done.stderr == ""


def test_reticulate_conversion_warning_is_filtered_precisely():
    code = ("import warnings, chestxray; "
            "warnings.warn('Index.format is deprecated and will be removed', FutureWarning); "
            "warnings.warn('Something else is deprecated', FutureWarning)")
    done = subprocess.run([sys.executable, "-W", "default", "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert "Something else is deprecated" in done.stderr and "Index.format" not in done.stderr


def pandoc(markdown: str, to: str) -> str:
    done = subprocess.run(
        ["pandoc", "--from", "markdown", "--to", to, "--lua-filter", str(ROOT / "assets" / "warning-box.lua")],
        input=markdown,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def test_warning_box_is_framed_in_latex_and_a_plain_div_in_html():
    markdown = "::: {.warning-box}\n**Datos de demostración.** Texto.\n:::\n\n::: {.other}\nNada.\n:::\n"
    latex = pandoc(markdown, "latex")
    assert "\\fbox{\\begin{minipage}" in latex and "\\textbf{Datos de demostración.} Texto." in latex
    assert latex.count("\\fbox{") == 1  # other divs untouched
    html = pandoc(markdown, "html")
    assert '<div class="warning-box">' in html and "fbox" not in html


def test_quarto_configuration_needs_no_extra_latex_packages():
    """A callout in PDF makes Quarto load fontawesome5 (Debian: texlive-fonts-extra, ~500 MB), so the
    report has none; the PDF warning is the Lua-filtered box, in both renderers; no link to unrendered formats."""
    report = (ROOT / "report.qmd").read_text()
    assert ".callout" not in report and "{.warning-box}" in report
    config = yaml.safe_load((ROOT / "_quarto.yml").read_text())
    assert config["format"]["html"]["format-links"] is False
    assert config["format"]["pdf"]["pdf-engine"] == "xelatex"
    assert config["format"]["pdf"]["filters"] == ["assets/warning-box.lua"]
    args = run_r('fallback_format("pdf")$pandoc$args')
    assert str(ROOT / "assets" / "warning-box.lua") in args
