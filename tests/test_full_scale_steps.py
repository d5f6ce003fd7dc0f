"""Steps rewritten to stay linear in the number of images for the full NIH data
(bench/nih_rehearsal.py): the same answers as before, checked on small cases known by hand."""

import json

import numpy as np
import pytest


def r_json(r, expression):
    return json.loads(r(f"jsonlite::toJSON({expression}, auto_unbox = TRUE, digits = NA)")[0])


def test_pr_curve_has_one_point_per_distinct_probability_with_ties_counted_together(r_session):
    r_session.assign("labels", r_session.c(1, 0, 1, 1, 0, 0))
    r_session.assign("scores", r_session.c(0.5, 0.9, 0.7, 0.9, 0.5, 0.1))
    pr = r_json(r_session, "pr_points(labels, scores)")
    # By hand, 3 positives: at >= 0.9 two images (1 positive), >= 0.7 three (2), >= 0.5 five (3), >= 0.1 six (3).
    expected = [(0, 1), (1 / 3, 1 / 2), (2 / 3, 2 / 3), (1, 3 / 5), (1, 1 / 2)]
    assert [(p["recall"], p["precision"]) for p in pr] == [pytest.approx(e) for e in expected]
