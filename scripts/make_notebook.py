#!/usr/bin/env python
"""The Jupyter twin of the report: report.qmd converted into an R notebook
(IRkernel) and executed by a real Jupyter kernel into _output/report.ipynb.

    .venv/bin/python scripts/make_notebook.py [--no-execute] [--output PATH] [key=value ...]

report.qmd stays the one source. Its parameters are checked by the project's R
code before anything runs (a wrong name or value stops here, naming it). The
notebook then has: a title cell (the title's inline R evaluated for the
parameters); a cell that only does something in Google Colab (fetches the
project and the missing R packages); a `parameters` cell
(papermill's tag) holding the checked values; a short notebook-only cell; and
then the report's chunks and narrative in order:

- R chunks become R cells; `{python}` chunks become cells that run the same
  Python code through reticulate (`python_cell(r"(...)")`), as knitr does, so
  `r.` objects and `py$` work the same;
- `results: asis` chunks and sentences with inline R become cells whose
  output is displayed as markdown (IRdisplay); `echo: false` and
  `include: false` hide the input (`jupyter.source_hidden`, tag
  `remove-input`), `results: hide` the output; `eval: !expr x` runs the code
  under `if (x)`; fig-width/fig-height set the plot size (repr.plot.*);
  figures are numbered and `@fig-` references resolved by the same R function
  as the knitr route, captions follow their figure (a computed one, `fig-cap:
  !expr`, is displayed by a cell);
- `::: {.class}` blocks become block quotes (the data warning).

Executed, the notebook writes the same _output/ files as the report
(model, predictions, metrics.json). It is written atomically.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from github_repository import github_repository  # noqa: E402

from chestxray.support.atomic import atomic_path  # noqa: E402
from chestxray.support.console import duration  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
KERNEL = {"name": "ir", "display_name": "R", "language": "R"}
SUPPORTED_OPTIONS = {"label", "echo", "eval", "include", "results", "warning", "message",
                     "fig-cap", "fig-alt", "fig-width", "fig-height"}
CHUNK_START = re.compile(r"^```\{(\w+)\s*\}\s*$")
CHUNK_END = re.compile(r"^```\s*$")
DIV_START = re.compile(r"^:::+\s*\{[^}]*\}\s*$")
DIV_END = re.compile(r"^:::+\s*$")
OPTION = re.compile(r"^#\|\s*([\w-]+)\s*:\s*(.*?)\s*$")
INLINE_R = re.compile(r"`r ([^`]+)`")


class NotebookError(Exception):
    """A problem the person running `make notebook` can act on."""


@dataclass
class Expr:
    """`!expr code` in a chunk option."""
    code: str


@dataclass
class Chunk:
    engine: str
    options: dict
    code: list[str]
    in_div: bool = False

    @property
    def label(self) -> str | None:
        return self.options.get("label")


@dataclass
class Markdown:
    lines: list[str] = field(default_factory=list)
    in_div: bool = False


# ---------------------------------------------------------------------------
# Reading report.qmd


def split_front_matter(lines: list[str]) -> tuple[dict, list[str]]:
    if not lines or lines[0].strip() != "---":
        return {}, lines
    end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    return yaml.safe_load("\n".join(lines[1:end])) or {}, lines[end + 1:]


def option_value(text: str):
    if text.startswith("!expr "):
        code = text[len("!expr "):].strip()
        quoted = code[:1] in ("'", '"')  # quoted for YAML when the code holds ': '
        return Expr(yaml.safe_load(code) if quoted else code)
    return yaml.safe_load(text) if text else None


def read_blocks(body: list[str]) -> list[Chunk | Markdown]:
    """The body as narrative and chunks, in order, each knowing whether it sits in a ::: block."""
    blocks: list[Chunk | Markdown] = []
    depth = 0
    i = 0
    while i < len(body):
        line = body[i]
        start = CHUNK_START.match(line)
        if start:
            end = next((j for j in range(i + 1, len(body)) if CHUNK_END.match(body[j])), None)
            if end is None:
                raise NotebookError(f"report.qmd line {i + 1}: chunk never closed")
            options, code = {}, []
            for chunk_line in body[i + 1:end]:
                match = OPTION.match(chunk_line)
                if match and not code:
                    options[match.group(1)] = option_value(match.group(2))
                else:
                    code.append(chunk_line)
            chunk = Chunk(start.group(1), options, code, in_div=depth > 0)
            check_chunk(chunk)
            blocks.append(chunk)
            i = end + 1
            continue
        if DIV_START.match(line):
            depth += 1
        elif DIV_END.match(line) and depth:
            depth -= 1
        else:
            if not blocks or not isinstance(blocks[-1], Markdown) or blocks[-1].in_div != (depth > 0):
                blocks.append(Markdown(in_div=depth > 0))
            blocks[-1].lines.append(line)
        i += 1
    return blocks


def check_chunk(chunk: Chunk) -> None:
    name = chunk.label or "(unlabelled)"
    if chunk.engine not in ("r", "python"):
        raise NotebookError(f"chunk {name}: engine '{chunk.engine}' has no notebook equivalent (r and python do)")
    unknown = sorted(set(chunk.options) - SUPPORTED_OPTIONS)
    if unknown:
        raise NotebookError(f"chunk {name}: option '{unknown[0]}' has no notebook equivalent yet "
                            f"(scripts/make_notebook.py handles: {', '.join(sorted(SUPPORTED_OPTIONS))})")
    if chunk.options.get("results") not in (None, "markup", "asis", "hide"):
        raise NotebookError(f"chunk {name}: results: {chunk.options['results']} is not handled")


# ---------------------------------------------------------------------------
# Writing cells


def r_string(text: str) -> str:
    """An R string literal (JSON's escapes are R's)."""
    return json.dumps(text, ensure_ascii=False)


def r_raw_string(text: str) -> str:
    """R's raw string r"(...)", with enough dashes that the text cannot end it."""
    dashes = ""
    while f'){dashes}"' in text:
        dashes += "-"
    return f'r"{dashes}(\n{text}\n){dashes}"'


def quote(lines: list[str]) -> list[str]:
    return [f"> {line}" if line.strip() else ">" for line in lines]


def cell_id(text: str, used: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-")[:60] or "cell"
    candidate, n = base, 2
    while candidate in used:
        candidate, n = f"{base}-{n}", n + 1
    used.add(candidate)
    return candidate


def paragraphs(lines: list[str]) -> list[list[str]]:
    groups, current = [], []
    for line in lines:
        if line.strip():
            current.append(line)
        elif current:
            groups.append(current)
            current = []
    if current:
        groups.append(current)
    return groups


def inline_r_code(text: str, in_div: bool) -> str:
    """A sentence with inline R (`r expr`) as R that displays it, the values computed."""
    pieces, last = [], 0
    for match in INLINE_R.finditer(text):
        if match.start() > last:
            pieces.append(r_string(text[last:match.start()]))
        pieces.append(f"toString({match.group(1).strip()})")
        last = match.end()
    if last < len(text):
        pieces.append(r_string(text[last:]))
    arguments = ",\n    ".join(pieces)
    return f"show_markdown(cat(\n    {arguments},\n    sep = \"\"\n){', quote = TRUE' if in_div else ''})"


class Builder:
    def __init__(self) -> None:
        self.cells: list = []
        self.ids: set[str] = set()

    def markdown(self, text: str, name: str | None = None) -> None:
        name = name or f"md-{len(self.cells)}"
        self.cells.append(nbformat.v4.new_markdown_cell(text, id=cell_id(name, self.ids)))

    def code(self, source: str, name: str, *, hide_input=False, hide_output=False, tags=()) -> None:
        metadata: dict = {}
        tags = list(tags)
        jupyter = {}
        if hide_input:
            jupyter["source_hidden"] = True
            tags.append("remove-input")
        if hide_output:
            jupyter["outputs_hidden"] = True
            tags.append("remove-output")
        if jupyter:
            metadata["jupyter"] = jupyter
        if tags:
            metadata["tags"] = tags
        self.cells.append(nbformat.v4.new_code_cell(source, id=cell_id(name, self.ids), metadata=metadata))

    def narrative(self, block: Markdown) -> None:
        """Narrative cells: a new cell at each heading; a paragraph with inline R becomes a code cell."""
        pending: list[list[str]] = []

        def flush() -> None:
            if pending:
                lines = [line for i, para in enumerate(pending) for line in ([""] if i else []) + para]
                self.markdown("\n".join(quote(lines) if block.in_div else lines))
                pending.clear()

        for para in paragraphs(block.lines):
            text = "\n".join(para)
            if INLINE_R.search(text):
                flush()
                self.code(inline_r_code(text, block.in_div), f"inline-{len(self.cells)}", hide_input=True)
            else:
                if para[0].startswith("#"):
                    flush()
                pending.append(para)
        flush()

    def chunk(self, chunk: Chunk) -> None:
        o = chunk.options
        name = chunk.label or f"chunk-{len(self.cells)}"
        code = "\n".join(chunk.code).strip("\n")
        if chunk.engine == "python":
            code = f"python_cell({r_raw_string(code)})"
        condition = o.get("eval", True)
        if condition is not True:
            test = condition.code if isinstance(condition, Expr) else "FALSE" if condition is False else str(condition)
            code = f"if ({test}) {{\n" + "\n".join(f"  {line}" if line else line for line in code.splitlines()) + "\n}"
        if o.get("results") == "asis":
            code = f"show_markdown({{\n{code}\n}}{', quote = TRUE' if chunk.in_div else ''})"
        if "fig-width" in o or "fig-height" in o:
            size = ", ".join(f"repr.plot.{k} = {o['fig-' + k]}" for k in ("width", "height") if f"fig-{k}" in o)
            code = f"options({size})\n{code}"
        include = o.get("include", True) is not False
        self.code(code, name, hide_input=not include or o.get("echo", True) is False,
                  hide_output=not include or o.get("results") == "hide")
        caption = o.get("fig-cap")
        if isinstance(caption, Expr):  # computed when the cell runs, like the figure
            show = f'show_markdown(cat("*", {caption.code}, "*", sep = ""))'
            self.code(show if condition is True else f"if ({test}) {show}", f"{name}-caption", hide_input=True)
        elif caption:
            text = f"*{caption}*"
            if condition is True:
                self.markdown(text, name=f"{name}-caption")
            else:  # the figure may not be drawn: neither is its caption
                self.code(f"if ({test}) show_markdown(cat({r_string(text)}))", f"{name}-caption", hide_input=True)


# ---------------------------------------------------------------------------
# Notebook-only cells

NOTEBOOK_HELPERS = '''\
# Solo en el cuaderno. Se ejecuta desde la carpeta del proyecto (la de report.qmd), donde
# Jupyter lo abra; las celdas de Python del informe se ejecutan con reticulate, como en knitr;
# el texto que algunas celdas escriben en markdown y las tablas de knitr se muestran como tales.
while (!file.exists("report.qmd") && dirname(getwd()) != getwd()) setwd("..")
if (!file.exists("report.qmd")) stop("abra el cuaderno dentro de la carpeta del proyecto (la que contiene report.qmd)")
python_cell <- function(code) cat(reticulate::py_capture_output(reticulate::py_run_string(code)))
show_markdown <- function(code, quote = FALSE) {
  text <- paste(utils::capture.output(invisible(code)), collapse = "\\n")
  if (quote) text <- paste0("> ", gsub("\\n", "\\n> ", text))
  if (nzchar(trimws(sub("^>", "", text)))) IRdisplay::display_markdown(text)
  invisible()
}
registerS3method("repr_markdown", "knitr_kable", function(obj, ...) {
  paste(sub("^Table: (.*)$", "*\\\\1*", obj), collapse = "\\n")
}, envir = asNamespace("repr"))
# Como warning: false y message: false en el informe.
options(warn = -1, rlib_message_verbosity = "quiet", rlib_warning_verbosity = "quiet")'''


def colab_cell(repository: str, branch: str, r_packages: list[str]) -> str:
    packages = ", ".join(r_string(p) for p in r_packages)
    return f'''\
# Solo en Google Colab (entorno de ejecución R); fuera de Colab esta celda no hace nada.
# Descarga el proyecto y los paquetes de R que falten; Python, NumPy, pandas, Pillow,
# scikit-learn y TensorFlow con Keras ya vienen instalados en Colab.
if (nzchar(Sys.getenv("COLAB_RELEASE_TAG")) && !file.exists("report.qmd")) {{
  repository <- {r_string(repository)}
  if (repository == "OWNER/REPO") stop("escriba en esta celda el repositorio de GitHub del proyecto (OWNER/REPO)")
  status <- system2("git", c("clone", "--depth", "1", "--branch", {r_string(branch)},
                             paste0("https://github.com/", repository, ".git"), "proyecto"))
  if (status != 0) stop("no se pudo descargar el proyecto de GitHub")
  setwd("proyecto")  # /content/proyecto: Colab starts in /content
  missing <- setdiff(c({packages}), rownames(installed.packages()))
  if (length(missing)) install.packages(missing)
  Sys.setenv(RETICULATE_PYTHON = Sys.which("python3"))
}}'''


def parameters_cell(params: dict[str, str]) -> str:
    width = max(len(name) for name in params)
    lines = [f"  {name.ljust(width)} = {value}" for name, value in params.items()]
    return ("# Parámetros del informe (los de report.qmd); check_params() los valida en la celda de preparación.\n"
            "# Cámbielos aquí y ejecute todas las celdas, o use: make notebook PARAMS=\"epochs=5 seed=1\"\n"
            "params <- list(\n" + ",\n".join(lines) + "\n)")


def build_notebook(lines: list[str], params: dict[str, str], *, repository: str = "OWNER/REPO",
                   branch: str = "main", r_packages: list[str] = ("reticulate",)):
    """report.qmd's lines (figures already numbered) -> an unexecuted nbformat notebook."""
    front, body = split_front_matter(lines)
    builder = Builder()
    title = [f"# {front.get('title', 'Informe')}"]
    if front.get("subtitle"):
        title.append(f"**{front['subtitle']}**")
    title.append("*Cuaderno de Jupyter generado a partir de `report.qmd` con `make notebook` (núcleo de R, "
                 "IRkernel; los pasos de Python se ejecutan con `reticulate`). No se edita a mano: cualquier cambio "
                 "se hace en `report.qmd`. Para reproducir el informe, ejecute todas las celdas en orden.*")
    builder.markdown("\n\n".join(title), name="title")
    builder.code(colab_cell(repository, branch, list(r_packages)), "colab")
    builder.code(parameters_cell(params), "parameters", tags=["parameters"])
    builder.code(NOTEBOOK_HELPERS, "notebook")
    for block in read_blocks(body):
        if isinstance(block, Chunk):
            builder.chunk(block)
        elif any(line.strip() for line in block.lines):
            builder.narrative(block)
    notebook = nbformat.v4.new_notebook(cells=builder.cells)
    notebook.metadata.update({"kernelspec": dict(KERNEL), "language_info": {"name": "R"}})
    nbformat.validate(notebook)
    return notebook


# ---------------------------------------------------------------------------
# Running it


def report_source(overrides: list[str]) -> dict:
    """Parameters checked, figures numbered and packages listed by scripts/notebook_source.R."""
    done = subprocess.run(
        ["Rscript", "scripts/notebook_source.R", *overrides], cwd=ROOT, capture_output=True, text=True
    )
    if done.returncode != 0:
        message = re.sub(r"^Error:\s*", "", done.stderr.replace("Execution halted", "").strip())
        raise NotebookError(message or "scripts/notebook_source.R failed")
    return json.loads(done.stdout)


def execute(notebook, root: Path) -> None:
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    try:
        KernelSpecManager().get_kernel_spec(KERNEL["name"])
    except NoSuchKernel:
        raise NotebookError(
            "the R kernel for Jupyter (IRkernel, kernelspec 'ir') is not registered: run `make setup`") from None
    client = NotebookClient(notebook, kernel_name=KERNEL["name"], timeout=None, startup_timeout=120,
                            resources={"metadata": {"path": str(root)}})
    try:
        client.execute()
    except CellExecutionError as error:
        failed = next((c for c in notebook.cells if c.cell_type == "code"
                       and any(o.get("output_type") == "error" for o in c.get("outputs", []))), None)
        where = f"cell '{failed.id}'" if failed is not None else "a cell"
        evalue = next((o.get("evalue", "") for o in failed.outputs if o.get("output_type") == "error"), "") \
            if failed is not None else str(error)
        raise NotebookError(f"{where} failed: {evalue.strip()}") from error


def write_atomically(notebook, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as temporary, open(temporary, "w", encoding="utf-8") as handle:
        nbformat.write(notebook, handle)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("params", nargs="*", metavar="key=value", help="report parameters, as for `make report`")
    parser.add_argument("--output", type=Path, default=ROOT / "_output" / "report.ipynb")
    parser.add_argument("--no-execute", action="store_true", help="write the notebook without running it")
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        source = report_source(args.params)
        repository, branch = github_repository()
        notebook = build_notebook(source["lines"], source["params"], repository=repository, branch=branch,
                                  r_packages=source["r_packages"])
        cells = sum(cell.cell_type == "code" for cell in notebook.cells)
        if not args.no_execute:
            print(f"notebook: executing {cells} code cells with the R kernel (IRkernel) in {ROOT}", file=sys.stderr,
                  flush=True)
            execute(notebook, ROOT)
        write_atomically(notebook, args.output.resolve())
    except NotebookError as error:
        print(f"notebook: {error}", file=sys.stderr)
        print(f"notebook: stopped; {args.output} left as it was", file=sys.stderr)
        return 1
    state = "executed" if not args.no_execute else "not executed"
    print(f"notebook written to {args.output} ({state}) in {duration(time.monotonic() - started)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
