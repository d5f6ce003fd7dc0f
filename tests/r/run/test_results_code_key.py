"""What code enters a stored result's key is derived (R/run/results_store.R: training_code, evaluation_code;
chestxray.results.module_files), so a helper or module that training starts to use cannot be missed."""

import ast
import sys
from importlib import metadata
from pathlib import Path

import pytest

from chestxray.results import NUMERIC_LIBRARIES, library_versions, module_files

from conftest import ROOT, copy_project, run_r

EXPECTED_TRAINING = {
    "R/model/build.R", "R/model/train.R", "R/model/transfer_weights.R", "R/run/python_env.R",
    "python/chestxray/model/training.py", "python/chestxray/model/batches.py", "python/chestxray/model/augment.py",
    "python/chestxray/model/backend.py", "python/chestxray/model/transfer_weights.py",
    "python/chestxray/preparation/dataset.py", "python/chestxray/preparation/cache.py",
    "python/chestxray/preparation/images.py", "python/chestxray/__init__.py", "python/chestxray/model/__init__.py",
}
PRESENTATION = {
    "R/display/figures.R",
    "R/text/data.R",
    "R/display/tables.R",
    "R/text/teaching_notes.R",
    "R/evaluate/metrics.R",
    "python/chestxray/model/explain.py",
    "python/chestxray/model/predict.py",
    "python/chestxray/cli.py",
}


# Libraries training imports whose version cannot change a trained model's numbers.
NOT_NUMERIC = {"pandas": "tables of file names, labels and splits", "tqdm": "progress bars",
               "PyYAML": "reads the report's parameter ranges", "keras": "in the key by name, with its backend",
               "filelock": "one process at a time builds an image cache"}


def third_party_distributions(files: list[str]) -> set[str]:
    """The installed distributions whose top-level modules ``files`` import."""
    tops = set()
    for name in (name for name in files if name.endswith(".py")):
        for node in ast.walk(ast.parse((ROOT / name).read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                tops |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                tops.add(node.module.split(".")[0])
    tops -= set(sys.stdlib_module_names) | {"__future__", "chestxray", "mutmut"}  # mutmut: its mutated copies
    distributions = metadata.packages_distributions()
    return {distribution for top in tops for distribution in distributions[top]}


def test_the_training_key_records_the_version_of_every_library_training_computes_with():
    entry = [".".join(Path(name).with_suffix("").parts[1:]) for name in EXPECTED_TRAINING if name.endswith(".py")]
    imported = third_party_distributions(module_files(entry, ROOT))
    assert {"numpy", "scipy", "pillow", "scikit-learn", "pandas"} <= imported  # the closure reached the data side
    assert imported - set(NOT_NUMERIC) == set(NUMERIC_LIBRARIES)
    versions = library_versions()
    assert {name: versions[name] for name in NUMERIC_LIBRARIES} == {
        name: metadata.version(name) for name in NUMERIC_LIBRARIES
    }
    assert versions["keras"] == metadata.version("keras")


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_module_files_follow_imports_at_any_depth_with_their_packages(tmp_path):
    package = tmp_path / "python" / "chestxray"
    write(package / "__init__.py", "LIMIT = 1\n")
    write(package / "a" / "__init__.py", "")
    write(package / "a" / "x.py", "def f():\n    from chestxray.a.y import g\n    return g()\n")
    write(package / "a" / "y.py", "from chestxray import LIMIT\nfrom chestxray.b import z\n")
    write(package / "b" / "__init__.py", "")
    write(package / "b" / "z.py", "import os\n")
    write(package / "b" / "unused.py", "")
    write(package / "b" / "z.yml", "rows: [1]\n")  # z's own table: its rows are code too
    write(package / "b" / "unused.csv", "a\n1\n")
    assert module_files(["chestxray.a.x"], tmp_path) == [
        "python/chestxray/__init__.py", "python/chestxray/a/__init__.py", "python/chestxray/a/x.py",
        "python/chestxray/a/y.py", "python/chestxray/b/__init__.py", "python/chestxray/b/z.py",
        "python/chestxray/b/z.yml"]
    assert module_files([], tmp_path) == []
    with pytest.raises(ValueError, match="no such module in .*: chestxray.a.nope, os$"):
        module_files(["chestxray.a.nope", "os"], tmp_path)


@pytest.mark.slow
def test_the_keys_code_is_what_training_and_evaluation_call_and_grows_with_it(tmp_path):
    project = copy_project(tmp_path / "project")
    before = run_r(f'list(training = training_code("{project}"), evaluation = evaluation_code("{project}"))')
    training = set(before["training"])
    assert training >= EXPECTED_TRAINING and not training & PRESENTATION, sorted(training)
    assert before["evaluation"] == [
        "R/evaluate/metrics.R",
        "R/evaluate/multilabel.R",  # evaluate_predictions hands the multi-label study's matrix to evaluate_findings
        "R/evaluate/operating_point.R",
    ]  # pr_points counts with threshold_counts

    # A new R helper in a new file, called by training, and a new Python module imported inside a function.
    write(project / "R" / "model" / "warmup_helper.R", "warmup_share <- function() 0.5\n")
    train = project / "R" / "model" / "train.R"
    train.write_text(
        train.read_text().replace("set_training_seed(p$seed)\n", "set_training_seed(p$seed)\n  warmup_share()\n", 1)
    )
    write(project / "python" / "chestxray" / "model" / "schedule.py", "SHARE = 0.5\n")
    training_py = project / "python" / "chestxray" / "model" / "training.py"
    training_py.write_text(
        training_py.read_text() + "\n\ndef share():\n    from chestxray.model.schedule import SHARE\n    return SHARE\n"
    )
    after = run_r(f'list(training = training_code("{project}"), evaluation = evaluation_code("{project}"))')
    assert set(after["training"]) == training | {"R/model/warmup_helper.R", "python/chestxray/model/schedule.py"}
    assert after["evaluation"] == before["evaluation"]


@pytest.mark.slow
def test_training_and_evaluation_run_only_code_inside_their_keys(tmp_path):
    """Every project function called and every chestxray module loaded while a model trains (and while it is
    evaluated) is in that key's code: observed by tracing a real tiny run, not read from the derivation."""
    observed = run_r(f"""
      .GlobalEnv$called <- character()  # run_r's code runs in local(): the tracer writes to the global one
      defined <- project_definitions(".")
      functions <- Filter(function(name) is.function(get(name, envir = globalenv())), names(defined))
      for (name in functions) {{
        trace(name, tracer = bquote(.GlobalEnv$called <- c(.GlobalEnv$called, .(name))), print = FALSE,
              where = globalenv())
      }}
      loaded <- function() {{
        reticulate::py_eval("sorted(m for m in __import__('sys').modules if m.startswith('chestxray'))")
      }}
      ds <- import_chestxray("preparation.dataset")
      prepared <- ds$prepare_dataset("demo", "{tmp_path}/demo", 12L, 32L, 3L, cache_dir = "{tmp_path}/cache")
      p <- list(seed = 3L, image_size = 32L, weights = "none", on_missing_weights = "stop", epochs = 1L,
                batch_size = 8L, operating_point = "youden", target_sensitivity = 0.9)
      .GlobalEnv$called <- character(); modules_before <- loaded()
      trained <- train_and_predict("cnn", prepared, p, "{tmp_path}/out")
      training <- list(files = unique(vapply(unique(.GlobalEnv$called), function(f) defined[[f]]$file, "")),
                       modules = setdiff(loaded(), modules_before))
      .GlobalEnv$called <- character()
      evaluate_predictions(trained, prepared, p)
      evaluation <- unique(vapply(unique(.GlobalEnv$called), function(f) defined[[f]]$file, ""))
      list(training = training, evaluation = evaluation, training_code = training_code("."),
           evaluation_code = evaluation_code("."))
    """)
    key_training, key_evaluation = set(observed["training_code"]), set(observed["evaluation_code"])
    assert {"R/model/train.R", "R/model/build.R"} <= set(observed["training"]["files"]) <= key_training
    modules = observed["training"]["modules"]
    assert "chestxray.model.training" in modules
    for module in modules:
        path = "python/" + module.replace(".", "/")
        assert f"{path}.py" in key_training or f"{path}/__init__.py" in key_training, module
    evaluation = observed["evaluation"]
    evaluation = {evaluation} if isinstance(evaluation, str) else set(evaluation)  # JSON unboxes one file
    assert "R/evaluate/metrics.R" in evaluation and evaluation <= key_evaluation
