"""The Jupyter twin (`make notebook`): report.qmd converted into an R notebook
(IRkernel) by scripts/make_notebook.py, executed by a real Jupyter kernel."""

import base64
import importlib.util
import json
import os
import re
import subprocess
import sys

import nbformat
import pandas as pd
import pytest

from conftest import ROOT, TINY_PARAMS, copy_project, render
from spanish import es_number
from test_render import SECTIONS

spec = importlib.util.spec_from_file_location("make_notebook", ROOT / "scripts" / "make_notebook.py")
make_notebook = sys.modules["make_notebook"] = importlib.util.module_from_spec(spec)
spec.loader.exec_module(make_notebook)

TINY = dict(p.split("=") for p in TINY_PARAMS)


def run_make_notebook(project, *args, timeout=900):
    """What `make notebook PARAMS=...` runs, in a project copy."""
    env = dict(os.environ, RETICULATE_PYTHON=str(ROOT / ".venv" / "bin" / "python"))
    env.pop("PYTHONPATH", None)
    return subprocess.run([sys.executable, "scripts/make_notebook.py", *args], cwd=project, env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def generated():
    """The notebook for the tiny parameters, not executed."""
    source = make_notebook.report_source(TINY_PARAMS)
    return make_notebook.build_notebook(source["lines"], source["params"], repository="someone/chestxray",
                                        branch="main", r_packages=source["r_packages"]), source


def code_cells(notebook):
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def headings(notebook):
    return [line[2:].strip() for cell in notebook.cells[1:] if cell.cell_type == "markdown"
            for line in cell.source.splitlines() if line.startswith("# ")]


def chunk_labels():
    """report.qmd's chunks, but the two that include the multi-label study (the binary notebook has neither)."""
    labels = re.findall(r"^#\|\s*label:\s*(\S+)", (ROOT / "report.qmd").read_text(), re.M)
    return [label for label in labels if label not in ("multilabel-study", "multilabel-end")]


# ---------------------------------------------------------------------------
# The conversion (fast)


def test_notebook_has_the_reports_sections_chunks_and_kernel(generated):
    notebook, _ = generated
    nbformat.validate(notebook)
    assert notebook.metadata.kernelspec["name"] == "ir" and notebook.metadata.kernelspec["language"] == "R"
    assert headings(notebook) == SECTIONS
    ids = [cell.id for cell in notebook.cells]
    assert len(ids) == len(set(ids))
    for label in chunk_labels():  # every chunk is a cell, under its label
        assert label in ids, label
    assert ids.index("setup") < ids.index("prepare-data") < ids.index("train") < ids.index("save")


def test_first_cells_colab_then_checked_parameters(generated):
    notebook, _ = generated
    colab, parameters, helpers = code_cells(notebook)[:3]
    assert notebook.cells[0].cell_type == "markdown" and notebook.cells[1] is colab
    assert 'nzchar(Sys.getenv("COLAB_RELEASE_TAG"))' in colab.source.splitlines()[3]  # does nothing elsewhere
    assert "https://github.com/" in colab.source and '"someone/chestxray"' in colab.source
    assert '"pROC"' in colab.source and '"reticulate"' in colab.source
    assert parameters.metadata["tags"] == ["parameters"]  # papermill's convention
    assert re.search(r"^  n_per_class\s+= 24L,$", parameters.source, re.M)
    assert re.search(r"^  target_sensitivity\s+= 0.9,$", parameters.source, re.M)
    assert 'data               = "demo"' in parameters.source
    assert "python_cell <- function" in helpers.source and "show_markdown <- function" in helpers.source
    setup = next(cell for cell in notebook.cells if cell.id == "setup")
    assert "p <- check_params(params)" in setup.source


def test_narrative_is_kept_and_no_quarto_syntax_is_left(generated):
    notebook, source = generated
    markdown = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    everything = "\n".join(cell.source for cell in notebook.cells)
    for syntax in ("#|", "@fig-", ":::", "`r "):
        assert syntax not in everything, syntax
    assert "*Figura\u00a02: Curvas de entrenamiento" in markdown  # captions numbered as in the HTML
    assert 'paste0("Figura\u00a01: ", sentence("Tres radiografías de cada clase' in everything  # computed ones too
    assert "La Figura\u00a03 muestra la curva ROC en test, la Figura\u00a04" in markdown
    # every narrative line of report.qmd is in a markdown cell, or displayed by an inline-R cell
    _, body = make_notebook.split_front_matter(source["lines"])
    for block in make_notebook.read_blocks(body):
        if isinstance(block, make_notebook.Markdown):
            for line in block.lines:
                if line.strip() and "`r " not in line:
                    assert line in everything, line


def test_chunk_options_become_cell_behaviour(generated):
    notebook, _ = generated
    cells = {cell.id: cell for cell in notebook.cells}
    def hidden(cell):
        return cell.metadata.get("jupyter", {}).get("source_hidden") and "remove-input" in cell.metadata["tags"]

    assert hidden(cells["setup"]) and cells["setup"].metadata["jupyter"]["outputs_hidden"]  # include: false
    assert hidden(cells["metrics-table"]) and not hidden(cells["fig-roc"])  # echo: false / default
    assert cells["train"].metadata["jupyter"] == {"outputs_hidden": True}  # results: hide
    warning = cells["data-warning"].source
    assert warning.startswith("show_markdown({") and warning.endswith("}, quote = TRUE)")  # in the warning box
    assert cells["data-summary"].source.endswith("})")  # asis outside the warning box: not quoted
    assert cells["prepare-data"].source.startswith(
        'python_cell(r"(\nfrom chestxray.preparation.dataset import prepare_dataset'
    )
    assert cells["fig-examples"].source.startswith("options(repr.plot.width = 8, repr.plot.height = 5.5)\n")
    assert "if (has_cam) {\n  plot_grad_cam(grad_cam_panels(" in cells["fig-gradcam"].source  # eval: !expr has_cam
    assert cells["fig-gradcam-caption"].source.startswith("if (has_cam) show_markdown(")
    inline = [cell for cell in notebook.cells if cell.id.startswith("inline-")]
    assert len(inline) == len(prose_paragraphs_with_inline_r()) and any(
        "toString(p$image_size)" in cell.source for cell in inline
    )


def prose_paragraphs_with_inline_r() -> list[str]:
    """Paragraphs of report.qmd's narrative (outside chunks and front matter) holding inline R."""
    text = (ROOT / "report.qmd").read_text().split("\n---\n", 1)[1]
    prose = re.sub(r"```\{.*?\n```", "", text, flags=re.S)
    return [paragraph for paragraph in re.split(r"\n\s*\n", prose) if "`r " in paragraph]


def test_title_parameters_and_captions_follow_the_finding():
    source = make_notebook.report_source(["data=folder", "data_dir=my-images", "finding=Effusion"])
    notebook = make_notebook.build_notebook(source["lines"], source["params"])
    cells = {cell.id: cell for cell in notebook.cells}
    assert cells["title"].source.startswith("# Clasificación de radiografías de tórax: derrame pleural frente a "
                                            "«sin hallazgos»")
    assert re.search(r'^  finding\s+= "Effusion",$', cells["parameters"].source, re.M)
    assert "finding$es_lower" in cells["fig-gradcam-caption"].source  # computed when the cell runs


def test_every_code_cell_is_valid_r(generated, tmp_path):
    notebook, _ = generated
    files = []
    for n, cell in enumerate(code_cells(notebook)):
        path = tmp_path / f"{n:02d}-{cell.id}.R"
        path.write_text(cell.source)
        files.append(str(path))
    code = ("for (f in commandArgs(TRUE)) "
            "tryCatch(parse(f), error = function(e) cat('BAD', f, conditionMessage(e), '\\n'))")
    done = subprocess.run(["Rscript", "-e", code, *files], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "BAD" not in done.stdout, done.stdout + done.stderr


def test_generation_is_deterministic(generated):
    notebook, source = generated
    again = make_notebook.build_notebook(source["lines"], source["params"], repository="someone/chestxray",
                                         branch="main", r_packages=source["r_packages"])
    assert nbformat.writes(notebook) == nbformat.writes(again)


def test_small_documents_convert_sensibly():
    qmd = """---
title: "T"
params:
  a: 1
---

::: {.warning-box}
Texto **en caja** con `r x + 1` y más.
:::

```{r}
#| label: hidden
#| eval: false
#| echo: false
stop("never")
```

```{python}
#| label: py
s = ')"'
```
""".splitlines()
    notebook = make_notebook.build_notebook(qmd, {"a": "1L"})
    cells = {cell.id: cell for cell in notebook.cells}
    inline = next(cell for cell in notebook.cells if cell.id.startswith("inline-"))
    assert '"Texto **en caja** con ",\n    toString(x + 1),\n    " y más."' in inline.source
    assert inline.source.endswith(", quote = TRUE)")
    assert cells["hidden"].source == 'if (FALSE) {\n  stop("never")\n}'
    assert cells["py"].source == 'python_cell(r"-(\ns = \')"\'\n)-")'  # the raw string cannot end early
    assert "params <- list(\n  a = 1L\n)" in cells["parameters"].source


@pytest.mark.parametrize("chunk, message", [
    ("```{r}\n#| label: x\n#| code-fold: true\n1\n```", "chunk x: option 'code-fold' has no notebook equivalent"),
    ("```{bash}\n#| label: y\nls\n```", "chunk y: engine 'bash' has no notebook equivalent"),
    ("```{r}\n#| label: z\n1\n", "chunk never closed"),
])
def test_unsupported_chunks_are_named(chunk, message):
    with pytest.raises(make_notebook.NotebookError, match=re.escape(message)):
        make_notebook.build_notebook(chunk.splitlines(), {"a": "1L"})


@pytest.mark.parametrize("bad, message", [
    ("epochs=zero", "parameter 'epochs' is 'zero' but must be an integer from 1 to 500"),
    ("image_sise=64", "unknown parameter 'image_sise'; known parameters: data, data_dir"),
    ("epochs", "parameters must be written key=value"),
])
def test_bad_parameter_stops_before_any_kernel_starts(tmp_path, bad, message):
    output = tmp_path / "report.ipynb"
    done = run_make_notebook(ROOT, "--output", str(output), bad, timeout=60)
    assert done.returncode == 1
    assert f"notebook: {message}" in done.stderr
    assert "executing" not in done.stderr and not output.exists()


def test_notebook_is_written_atomically(tmp_path, monkeypatch):
    target = tmp_path / "report.ipynb"
    target.write_text("the previous notebook")
    notebook = make_notebook.build_notebook(["# A"], {"a": "1L"})

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(make_notebook.nbformat, "write", broken)
    with pytest.raises(OSError):
        make_notebook.write_atomically(notebook, target)
    assert target.read_text() == "the previous notebook" and os.listdir(tmp_path) == ["report.ipynb"]


def test_make_target_and_setup():
    done = subprocess.run(["make", "-n", "notebook", "PARAMS=epochs=3 seed=1"], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 0 and ".venv/bin/python scripts/make_notebook.py epochs=3 seed=1" in done.stdout
    setup = (ROOT / "scripts" / "setup.sh").read_text()
    assert "r-cran-irkernel" in setup and 'IRkernel::installspec(prefix = ".venv")' in setup
    from jupyter_client.kernelspec import KernelSpecManager

    spec = KernelSpecManager().get_kernel_spec("ir")  # registered inside .venv by the set-up
    assert spec.language == "R" and "IRkernel::main()" in spec.argv


# ---------------------------------------------------------------------------
# Executed by the R kernel (slow)


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    project = copy_project(tmp_path_factory.mktemp("notebook") / "project")
    done = run_make_notebook(project, *TINY_PARAMS)
    assert done.returncode == 0, done.stderr[-4000:]
    path = project / "_output" / "report.ipynb"
    assert path.exists()
    return project, nbformat.read(path, as_version=4), done.stderr


@pytest.fixture(scope="module")
def html(tmp_path_factory):
    project = copy_project(tmp_path_factory.mktemp("html") / "project")
    done = render(project, *TINY_PARAMS)
    assert done.returncode == 0, done.stderr[-4000:]
    return project


def assert_ran_cleanly(notebook):
    cells = code_cells(notebook)
    assert [cell.execution_count for cell in cells] == list(range(1, len(cells) + 1))  # every cell, in order
    for cell in cells:
        for output in cell.outputs:
            assert output.output_type != "error", (cell.id, output.get("evalue"))
            assert output.output_type != "stream" or output.name != "stderr", (cell.id, output.text)


def figures(notebook):
    return [(cell.id, base64.b64decode(output.data["image/png"])) for cell in code_cells(notebook)
            for output in cell.outputs if "image/png" in output.get("data", {})]


def displayed_markdown(notebook):
    return "\n".join(output.data["text/markdown"] for cell in code_cells(notebook) for output in cell.outputs
                     if "text/markdown" in output.get("data", {}))


@pytest.mark.slow
def test_every_cell_ran_and_figures_are_embedded(executed):
    project, notebook, console = executed
    assert_ran_cleanly(notebook)
    assert notebook.metadata.language_info["name"] == "R"
    drawn = figures(notebook)
    assert len(drawn) >= 6  # examples, history, ROC, PR, confusion, calibration (+ Grad-CAM)
    assert [name for name, _ in drawn][:6] == ["fig-examples", "fig-history", "fig-roc", "fig-pr", "fig-confusion",
                                                "fig-calibration"]
    assert all(png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5_000 for _, png in drawn)
    assert headings(notebook) == SECTIONS
    shown = displayed_markdown(notebook)
    assert "> **Datos de demostración.**" in shown  # the warning box, as a block quote
    assert "reduce a 48×48 píxeles" in shown and "|Medida" in shown  # inline R computed; kable as a table
    assert re.search(r"\[\d\d:\d\d\] Report: data=demo, model=cnn", console)  # the report's progress lines
    assert re.search(r"cnn: 2 epochs in \d+ s; test AUROC", console)
    assert re.search(r"notebook written to \S+_output/report\.ipynb \(executed\) in \d+ s", console)
    for noise in ("Traceback", "Warning message", "absl::InitializeLog", "FutureWarning"):
        assert noise not in console, console


def assert_computed_here(metrics):
    """Every model was trained and evaluated by this run, none read back from data/results/:
    two routes reading one stored result would agree whatever each computes."""
    stored = metrics["stored_results"]
    assert set(stored) == {"cnn", "baseline"}
    for name, record in stored.items():
        assert (record["training"], record["evaluation"]) == ("trained", "computed"), name


@pytest.mark.slow
def test_notebook_and_html_report_give_the_same_results(executed, html):
    project, notebook, _ = executed
    assert project.parent != html.parent  # two project copies, two data/results/ folders
    ours = json.loads((project / "_output" / "metrics.json").read_text())
    theirs = json.loads((html / "_output" / "metrics.json").read_text())
    assert_computed_here(ours)
    assert_computed_here(theirs)
    assert ours["parameters"]["n_per_class"] == int(TINY["n_per_class"]) and ours["seed"] == int(TINY["seed"])
    assert ours["auroc"] == theirs["auroc"]
    for key in ("auroc_ci95_delong", "auroc_ci95_patient_bootstrap", "threshold", "counts", "brier"):
        assert ours[key] == theirs[key], key
    a = pd.read_csv(project / "_output" / "predictions.csv")
    b = pd.read_csv(html / "_output" / "predictions.csv")
    assert a["probability"].tolist() == b["probability"].tolist()
    # and the notebook shows the AUROC the HTML shows
    auroc = es_number(theirs["auroc"], 3)
    assert f"alcanza un AUROC de **{auroc}**" in " ".join(displayed_markdown(notebook).split())
    html_text = " ".join((html / "_output" / "report.html").read_text().split())  # pandoc wraps lines
    assert f"alcanza un AUROC de <strong>{auroc}</strong>" in html_text


@pytest.mark.slow
def test_opened_in_jupyter_and_run_all_it_reproduces_the_report(executed):
    """A person opens _output/report.ipynb (the kernel starts in _output/) and runs every cell."""
    from nbclient import NotebookClient

    project, notebook, _ = executed
    before = json.loads((project / "_output" / "metrics.json").read_text())
    again = nbformat.read(project / "_output" / "report.ipynb", as_version=4)
    for cell in code_cells(again):
        cell.outputs, cell.execution_count = [], None
    (project / ".venv").symlink_to(ROOT / ".venv")  # a clone after `make setup`
    env = {k: v for k, v in os.environ.items() if k not in ("RETICULATE_PYTHON", "PYTHONPATH")}  # it finds .venv
    env["REPORT_RETRAIN"] = "1"  # recompute: the first run's data/results/ would give back its own numbers
    client = NotebookClient(again, kernel_name="ir", timeout=600,
                            resources={"metadata": {"path": str(project / "_output")}})
    client.execute(env=env)
    assert_ran_cleanly(again)
    after = json.loads((project / "_output" / "metrics.json").read_text())
    assert_computed_here(after)
    for key in ("auroc", "auroc_ci95_delong", "auroc_ci95_patient_bootstrap", "threshold", "counts"):
        assert after[key] == before[key], key
    assert len(figures(again)) == len(figures(notebook))


@pytest.mark.slow
def test_colab_cell_clones_the_project_and_runs_the_report_on_colabs_python(tmp_path):
    """Every step of the Colab cell but Colab's and GitHub's servers: with COLAB_RELEASE_TAG set and the
    notebook opened in an empty folder (Colab's /content), git clones the repository (GitHub's address mapped
    onto a copy of this one by git's own url.insteadOf), no R package is missing (so CRAN, unreachable here, is
    not asked), reticulate is bound to the python3 on PATH (Colab's own Python with its packages; here the
    set-up's .venv/bin stands first on PATH in its place), and Run All renders the report in the clone."""
    from nbclient import NotebookClient

    mirror = copy_project(tmp_path / "github")  # the files as they are now, committed where GitHub would hold them
    git = ["git", "-C", str(mirror), "-c", "user.name=test", "-c", "user.email=test@localhost"]
    for command in (["init", "-q", "-b", "colab-test"], ["add", "-A"], ["commit", "-q", "-m", "the project"]):
        subprocess.run(git + command, check=True)
    head = subprocess.run(git + ["rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    gitconfig = tmp_path / "gitconfig"
    gitconfig.write_text(f'[url "file://{mirror}"]\n\tinsteadOf = https://github.com/someone/chestxray.git\n')
    source = make_notebook.report_source(TINY_PARAMS)
    notebook = make_notebook.build_notebook(source["lines"], source["params"], repository="someone/chestxray",
                                            branch="colab-test", r_packages=source["r_packages"])
    content = tmp_path / "content"
    content.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("RETICULATE_PYTHON", "PYTHONPATH")}
    env.update(COLAB_RELEASE_TAG="test", GIT_CONFIG_GLOBAL=str(gitconfig),
               PATH=f"{ROOT / '.venv' / 'bin'}{os.pathsep}{os.environ['PATH']}")
    client = NotebookClient(notebook, kernel_name="ir", timeout=900, resources={"metadata": {"path": str(content)}})
    client.execute(env=env)
    assert_ran_cleanly(notebook)
    clone = content / "proyecto"
    cloned = subprocess.run(["git", "-C", str(clone), "log", "-1", "--format=%H"], capture_output=True, text=True)
    assert cloned.stdout.strip() == head  # the repository's branch, cloned where Colab keeps files
    # The clone has no .venv: the report ran because the cell bound reticulate to the python3 on PATH (without
    # that line it stops with "no project Python found", as a run of this test without it showed).
    metrics = json.loads((clone / "_output" / "metrics.json").read_text())
    assert_computed_here(metrics)
    assert metrics["parameters"]["n_per_class"] == int(TINY["n_per_class"])
    assert len(figures(notebook)) >= 6


def test_the_multilabel_study_becomes_its_own_notebook():
    """finding=all: the notebook holds report.qmd's set-up, then _multilabel.qmd's cells, and none of the
    binary report's; its figures are numbered within the study and every code cell is valid R."""
    source = make_notebook.report_source(["finding=all", *TINY_PARAMS])
    notebook = make_notebook.build_notebook(source["lines"], source["params"])
    cells = {cell.id: cell for cell in notebook.cells}
    assert cells["title"].source.startswith("# Clasificación de radiografías de tórax: varios hallazgos a la vez")
    assert {"setup", "ml-prepare-data", "ml-train", "ml-results-table", "fig-ml-roc", "ml-save"} <= set(cells)
    assert not {"metrics-table", "comparison", "prepare-data", "multilabel-study", "multilabel-end"} & set(cells)
    assert "*Figura\u00a02: Curvas ROC en test, una por hallazgo" in cells["fig-ml-roc-caption"].source
    assert re.search(r'^  finding\s+= "all",$', cells["parameters"].source, re.M)
    code = "\n".join(f"parse(text = {json.dumps(cell.source)})" for cell in code_cells(notebook))
    done = subprocess.run(["Rscript", "-e", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
