"""Results stored by content (R/run/results_store.R, chestxray.results) and the file-hash
memo of data preparation: what enters the keys, and renders that reuse exactly
what did not change."""

import hashlib
import json
import re
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

from chestxray.preparation.dataset import content_hashes
from chestxray.results import key_of, source_digests, table_digest
from chestxray.support.integrity import read_checked_json, write_checked_json

from conftest import ROOT, TINY_PARAMS, copy_project, render, run_r

TABLE = pd.DataFrame({"image": ["a.png", "b.png", "c.png"], "label": [1, 0, 1], "split": ["train", "test", "test"],
                      "content_sha256": ["aa", "bb", "cc"], "patient_id": ["p1", "p2", "p3"]})
COLUMNS = ["image", "label", "split", "content_sha256"]


def test_key_is_canonical_and_follows_every_value():
    inputs = {"model": "cnn", "epochs": 2, "code": {"R/model/train.R": "x", "R/model/build.R": "y"}}
    reordered = {"code": {"R/model/build.R": "y", "R/model/train.R": "x"}, "epochs": 2, "model": "cnn"}
    assert key_of(inputs) == key_of(reordered)
    assert len(key_of(inputs)) == 16
    assert key_of({**inputs, "epochs": 3}) != key_of(inputs)
    assert key_of({**inputs, "code": {"R/model/train.R": "x", "R/model/build.R": "z"}}) != key_of(inputs)


def test_table_digest_follows_labels_content_and_row_order_only_in_its_columns():
    base = table_digest(TABLE, COLUMNS)
    flipped = TABLE.assign(label=[0, 0, 1])
    edited = TABLE.assign(content_sha256=["aa", "bb", "cd"])
    assert table_digest(flipped, COLUMNS) != base
    assert table_digest(edited, COLUMNS) != base
    assert table_digest(TABLE.iloc[[1, 0, 2]], COLUMNS) != base  # row order is the cache's and the batches' order
    assert table_digest(TABLE.assign(patient_id=["q1", "q2", "q3"]), COLUMNS) == base
    assert table_digest(TABLE.assign(path=["/elsewhere/a.png"] * 3), COLUMNS) == base  # moved, same content


def test_source_digests_read_the_text_with_either_line_ending(tmp_path):
    (tmp_path / "unix.R").write_bytes(b"f <- function() 1\n# why\n")
    (tmp_path / "windows.R").write_bytes(b"f <- function() 1\r\n# why\r\n")
    digests = source_digests(tmp_path, ["unix.R", "windows.R"])
    assert digests["unix.R"] == digests["windows.R"] == hashlib.sha256(b"f <- function() 1\n# why\n").hexdigest()
    with pytest.raises(FileNotFoundError):
        source_digests(tmp_path, ["missing.R"])


def test_content_hashes_reuse_the_memo_until_a_file_changes(tmp_path, capfd):
    files = []
    for i in range(3):
        files.append(tmp_path / f"{i}.png")
        files[-1].write_bytes(bytes([i]) * 1000)
    memo = tmp_path / "cache" / "content-sha256.json"
    paths = [str(f) for f in files]
    truth = [hashlib.sha256(f.read_bytes()).hexdigest() for f in files]
    assert content_hashes(paths, memo_path=memo) == truth
    assert "0 reused" in capfd.readouterr().err
    # A memo entry is trusted while the file's size and mtime are unchanged: prove it by planting a wrong one
    # (in a whole memo, carrying its own SHA-256: a memo merely edited is damaged, tests/test_integrity.py).
    planted = read_checked_json(memo)
    planted[paths[0]][-1] = "planted"
    write_checked_json(memo, planted)
    assert content_hashes(paths, memo_path=memo)[0] == "planted"
    assert "3 reused" in capfd.readouterr().err
    files[0].write_bytes(b"repaired image")  # new size and mtime: hashed again
    assert content_hashes(paths, memo_path=memo) == [hashlib.sha256(b"repaired image").hexdigest(), *truth[1:]]
    console = capfd.readouterr().err
    assert "2 reused from" in console and "1 computed" in console
    assert read_checked_json(memo)[paths[0]][-1] == hashlib.sha256(b"repaired image").hexdigest()
    memo.write_text("{not json")  # a damaged memo only costs the hashing
    assert content_hashes(paths, memo_path=memo)[1:] == truth[1:]


def test_keys_follow_data_code_and_parameters_but_not_the_prose(tmp_path):
    """R's key inputs (R/run/results_store.R) on a project copy: each change moves exactly the keys it should."""
    project = copy_project(tmp_path / "project")
    weights = [tmp_path / "w1.h5", tmp_path / "w2.h5"]
    weights[0].write_bytes(b"weights one")
    weights[1].write_bytes(b"weights two")
    keys = run_r(f"""
      root <- "{project}"
      ds <- import_chestxray("preparation.dataset")
      table <- data.frame(image = c("a.png", "b.png", "c.png", "d.png"), label = c(1L, 0L, 1L, 0L),
                          split = c("train", "train", "validation", "test"), content_sha256 = c("aa", "bb", "cc", "dd"),
                          patient_id = c("p1", "p2", "p3", "p4"))
      prepared_from <- function(t) ds$PreparedData(table = reticulate::r_to_py(t), cache_path = "unused", seed = 7L)
      base_p <- check_params(rmarkdown::yaml_front_matter(file.path(root, "report.qmd"))$params)
      keys <- function(p = base_p, t = table, model = "cnn") {{
        training <- result_key(training_inputs(model, p, prepared_from(t), root))
        list(training = training, evaluation = result_key(evaluation_inputs(training, p, prepared_from(t), root)))
      }}
      flipped <- table; flipped$label[1] <- 0L
      repatient <- table; repatient$patient_id[4] <- "p9"
      out <- list(
        base = keys(),
        epochs = keys(modifyList(base_p, list(epochs = base_p$epochs + 1L))),
        label_flip = keys(t = flipped),
        patients = keys(t = repatient),
        cnn_other_weights = keys(modifyList(base_p, list(weights = "none"))),
        operating_point = keys(modifyList(base_p, list(operating_point = "sensitivity"))),
        target_under_youden = keys(modifyList(base_p, list(target_sensitivity = 0.95))),
        transfer_w1 = keys(modifyList(base_p, list(weights = "{weights[0]}")), model = "mobilenetv2"),
        transfer_w2 = keys(modifyList(base_p, list(weights = "{weights[1]}")), model = "mobilenetv2")
      )
      cat("\\nSome new prose.\\n", file = file.path(root, "report.qmd"), append = TRUE)
      out$prose <- keys()
      cat("# a comment\\n", file = file.path(root, "R", "evaluate", "metrics.R"), append = TRUE)
      out$evaluation_code <- keys()
      cat("# a comment\\n", file = file.path(root, "R", "model", "train.R"), append = TRUE)
      out$training_code <- keys()
      damaged <- file.path(root, "data", "results", "cnn-0123456789abcdef")
      dir.create(damaged, recursive = TRUE)
      for (name in c("model.keras", "training.rds")) writeLines("not a model", file.path(damaged, name))
      list(keys = out, damaged_reads_as_null = is.null(read_training(damaged)))
    """)
    assert keys["damaged_reads_as_null"]  # a damaged store is trained again, not an error
    keys = keys["keys"]
    base = keys["base"]

    def same(name):
        return keys[name] == base

    assert same("prose") and same("cnn_other_weights") and same("target_under_youden")
    for name in ("epochs", "label_flip", "training_code"):
        assert keys[name]["training"] != base["training"], name
        assert keys[name]["evaluation"] != base["evaluation"], name
    for name in ("patients", "operating_point", "evaluation_code"):  # the evaluation only
        assert keys[name]["training"] == base["training"] and keys[name]["evaluation"] != base["evaluation"], name
    assert keys["transfer_w1"]["training"] != keys["transfer_w2"]["training"]
    assert len({v["training"] for v in keys.values()}) == 6  # base, epochs, label flip, code, and the two transfers


def test_make_clean_removes_all_derived_data_but_not_the_nih_downloads(tmp_path):
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    derived = ["_output/report.html", "_site/index.html", "data/cache/48/x.npy", "data/cache/content-sha256.json",
               "data/demo/n24-seed7/Pneumothorax/a.png", "data/results/cnn-0123456789abcdef/model.keras",
               "data/bench-learning/x", "data/bench-nih/mirror/images_01.tar.gz"]
    raw = ["data/nih/archives/images_01.tar.gz", "data/nih/images/00000001_000.png", "data/mine/Pneumothorax/a.png"]
    for name in derived + raw:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    subprocess.run(["make", "clean"], cwd=tmp_path, check=True, capture_output=True)
    assert [n for n in derived if (tmp_path / n).exists()] == []
    assert all((tmp_path / n).exists() for n in raw)


def console_of(done):
    assert done.returncode == 0, done.stderr[-4000:]
    return done.stdout + done.stderr


def outputs(project):
    out = project / "_output"
    metrics = json.loads((out / "metrics.json").read_text())
    return metrics, pd.read_csv(out / "predictions.csv"), (out / "report.html").read_text()


def visible_text(html):
    return " ".join(
        re.sub(r"<[^>]+>", "", re.sub(r"<script.*?</script>|<style.*?</style>", "", html, flags=re.S)).split()
    )


@pytest.mark.slow
def test_renders_reuse_exactly_what_did_not_change(tmp_path):
    project = copy_project(tmp_path / "project")
    first = console_of(render(project, *TINY_PARAMS))
    assert "Training baseline" in first and "Training cnn" in first and "Reusing" not in first
    metrics, predictions, html = outputs(project)
    assert {m: s["training"] for m, s in metrics["stored_results"].items()} == {"baseline": "trained", "cnn": "trained"}
    folder = metrics["stored_results"]["cnn"]["folder"]
    assert (project / folder / "model.keras").exists() and not list((project / "data" / "results").glob(".*partial"))
    assert "se ha entrenado en esta ejecución" in visible_text(html)

    # A prose-only edit: everything reused, the same numbers, the new sentence in the report.
    with open(project / "report.qmd", "a", encoding="utf-8") as qmd:
        qmd.write("\nUna frase nueva que solo cambia la prosa.\n")
    second = console_of(render(project, *TINY_PARAMS))
    assert f"Reusing cnn results from {folder} (trained " in second
    assert "Reusing baseline results from data/results/baseline-" in second
    assert "Training" not in second and " epoch 1/" not in second
    metrics2, predictions2, html2 = outputs(project)
    assert {k: v for k, v in metrics2.items() if k != "stored_results"} == {
        k: v for k, v in metrics.items() if k != "stored_results"
    }
    assert metrics2["stored_results"]["cnn"] == {
        **metrics["stored_results"]["cnn"],
        "training": "reused",
        "evaluation": "reused",
    }
    assert np.array_equal(predictions["probability"].to_numpy(), predictions2["probability"].to_numpy())
    text = visible_text(html2)
    assert "Una frase nueva que solo cambia la prosa." in text
    assert (
        f"el resultado de cnn se ha reutilizado (entrenado el {metrics['stored_results']['cnn']['trained_at']}; "
        f"{folder})"
        in text
    )
    import keras  # the checkpoint and the published model are the stored, evaluated weights
    stored = keras.models.load_model(project / folder / "model.keras").get_weights()
    for published in (project / "_output" / "model.keras", project / "_output" / "checkpoints" / "cnn.keras"):
        assert all(np.array_equal(a, b) for a, b in zip(stored, keras.models.load_model(published).get_weights()))

    # An evaluation parameter: the trained models are reused, only the evaluation is computed.
    third = console_of(render(project, *TINY_PARAMS, "operating_point=sensitivity"))
    assert "Reusing cnn results" in third and "Evaluating cnn again" in third and "Training" not in third
    metrics3, _, _ = outputs(project)
    assert metrics3["stored_results"]["cnn"]["evaluation"] == "computed" and metrics3["threshold_rule"] == "sensitivity"

    # A training parameter: trained again, under a new key.
    params = [p for p in TINY_PARAMS if not p.startswith("epochs=")] + ["epochs=3"]
    fourth = console_of(render(project, *params))
    assert "Training cnn" in fourth and "cnn epoch 3/3" in fourth and "Reusing" not in fourth
    metrics4, _, _ = outputs(project)
    assert metrics4["stored_results"]["cnn"]["key"] != metrics["stored_results"]["cnn"]["key"]

    # REPORT_RETRAIN=1 trains although a result is stored.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("REPORT_RETRAIN", "1")
        fifth = console_of(render(project, *TINY_PARAMS))
    assert "REPORT_RETRAIN is set: training cnn again instead of reusing" in fifth and "cnn epoch 2/2" in fifth
    metrics5, predictions5, _ = outputs(project)
    assert (
        metrics5["auroc"] == metrics["auroc"] and metrics5["threshold"] == metrics["threshold"]
    )  # same seed, same numbers
    assert np.array_equal(predictions["probability"].to_numpy(), predictions5["probability"].to_numpy())
