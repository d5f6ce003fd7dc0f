"""Stored results (R/run/results_store.R) are checked against their manifests
(chestxray.support.integrity) before they are read back: one damaged from outside is
named on the console and computed again, never read as if whole."""

import json
import os
import subprocess

import pytest

from conftest import ROOT

SCRIPT = """
for (f in list.files("R", pattern = "\\\\.R$", full.names = TRUE, recursive = TRUE)) source(f)
use_project_python()
folder <- "{folder}"
dir.create(folder, recursive = TRUE, showWarnings = FALSE)
evaluation <- list(threshold = 0.25, metrics = list(auroc = 0.75, counts = 1:4))
path <- file.path(folder, "evaluation-abc.rds")
if ("{step}" == "write") {{
  write_checked_rds(evaluation, path)
  for (name in c("model.keras", "training.rds")) saveRDS(list(name = name), file.path(folder, name))
  writeLines("{{}}", file.path(folder, "training-key.json"))
  checked_files()$write_manifest(folder, c("model.keras", "training.rds", "training-key.json"))
}}
read_back <- read_checked_rds(path, "evaluating again")
training <- read_training(folder)
cat("\\n<<JSON>>", jsonlite::toJSON(list(evaluation_whole = identical(read_back, evaluation),
    evaluation_null = is.null(read_back), training_null = is.null(training)), auto_unbox = TRUE), sep = "")
"""


def run(folder, step):
    env = dict(os.environ, RETICULATE_PYTHON=str(ROOT / ".venv" / "bin" / "python"))
    done = subprocess.run(["Rscript", "-e", SCRIPT.format(folder=folder, step=step)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.rsplit("<<JSON>>", 1)[1]), done.stderr


def flip_middle_byte(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def truncate(path):
    path.write_bytes(path.read_bytes()[:-3])


def test_a_whole_store_reads_back_without_a_word(tmp_path):
    result, console = run(tmp_path / "cnn-key", "write")
    assert result["evaluation_whole"] and "damaged" not in console
    # read_training reaches readRDS/load_model: these fake files fail there, as before the manifests
    assert result["training_null"] and "Cannot read the stored result" in console


@pytest.mark.parametrize("damage", [flip_middle_byte, truncate])
def test_a_damaged_evaluation_is_named_and_computed_again(tmp_path, damage):
    folder = tmp_path / "cnn-key"
    run(folder, "write")
    damage(folder / "evaluation-abc.rds")
    result, console = run(folder, "read")
    assert result["evaluation_null"] and not result["evaluation_whole"]
    assert "warning: the stored evaluation-abc.rds is damaged ('evaluation-abc.rds': " in console
    assert ": evaluating again" in console


@pytest.mark.parametrize("damage", [flip_middle_byte, truncate])
def test_a_damaged_training_is_named_and_trained_again(tmp_path, damage):
    folder = tmp_path / "cnn-key"
    run(folder, "write")
    damage(folder / "training.rds")
    result, console = run(folder, "read")
    assert result["training_null"]
    assert f"warning: the stored result in {folder} is damaged ('training.rds': " in console
    assert "training again" in console and "Cannot read the stored result" not in console  # caught before reading


def test_a_store_without_its_manifest_is_not_trusted(tmp_path):
    folder = tmp_path / "cnn-key"
    run(folder, "write")
    (folder / "manifest.json").unlink()
    (folder / "evaluation-abc.rds.manifest.json").unlink()
    result, console = run(folder, "read")
    assert result["evaluation_null"] and result["training_null"]
    assert "'manifest.json': missing" in console and "'evaluation-abc.rds.manifest.json': missing" in console
