"""Small decisions the report's chunks used to make inline, now tested functions."""

import json

import yaml

from conftest import ROOT


def r_json(r, expression):
    return json.loads(r(f"jsonlite::toJSON({expression}, auto_unbox = TRUE, digits = NA)")[0])


def test_grad_cam_cases_are_the_most_confident_of_each_outcome(r_session):
    r_session("labels <- c(1, 1, 1, 0, 0, 0, 1, 0)")
    r_session("scores <- c(0.9, 0.6, 0.2, 0.8, 0.55, 0.1, 0.99, 0.3)")
    cases = r_json(r_session, "grad_cam_cases(labels, scores, 0.5)")
    # true positives 7 (0.99) then 1 (0.9); false positives 4 (0.8) then 5 (0.55); false negative 3 (0.2)
    assert [c["index"] for c in cases] == [7, 1, 4, 5, 3]
    assert [c["outcome"] for c in cases] == ["true_positive"] * 2 + ["false_positive"] * 2 + ["false_negative"]
    assert r_json(r_session, "nrow(grad_cam_cases(c(0, 0), c(0.1, 0.2), 0.5))") == 0  # nothing to show


def test_one_output_folder(r_session):
    quarto = yaml.safe_load((ROOT / "_quarto.yml").read_text())
    assert r_json(r_session, "OUTPUT_DIR") == quarto["project"]["output-dir"] == "_output"


def test_demo_folder_is_one_per_draw():
    from chestxray.sources.phantoms import GENERATOR_VERSION, demo_folder

    assert str(demo_folder("data/demo", 400, 42)) == f"data/demo/v{GENERATOR_VERSION}-n400-seed42"
    assert demo_folder("d", 400, 42) != demo_folder("d", 400, 7) != demo_folder("d", 300, 7)
