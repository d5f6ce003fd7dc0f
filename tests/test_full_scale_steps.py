"""Steps rewritten to stay linear in the number of images for the full NIH data
(bench/nih_rehearsal.py): the same answers as before, checked on small cases known by hand."""

import io
import json

import pytest

from chestxray import console
from chestxray.cache import build_cache
from chestxray.dataset import content_hashes
from conftest import NIH_IMAGES


def r_json(r, expression):
    return json.loads(r(f"jsonlite::toJSON({expression}, auto_unbox = TRUE, digits = NA)")[0])


def test_pr_curve_has_one_point_per_distinct_probability_with_ties_counted_together(r_session):
    r_session.assign("labels", r_session.c(1, 0, 1, 1, 0, 0))
    r_session.assign("scores", r_session.c(0.5, 0.9, 0.7, 0.9, 0.5, 0.1))
    pr = r_json(r_session, "pr_points(labels, scores)")
    # By hand, 3 positives: at >= 0.9 two images (1 positive), >= 0.7 three (2), >= 0.5 five (3), >= 0.1 six (3).
    expected = [(0, 1), (1 / 3, 1 / 2), (2 / 3, 2 / 3), (1, 3 / 5), (1, 1 / 2)]
    assert [(p["recall"], p["precision"]) for p in pr] == [pytest.approx(e) for e in expected]


class Terminal(io.StringIO):
    def isatty(self):
        return True


def long_steps_console(monkeypatch, tmp_path, stream):
    """Build a cache and hash its files with the console stream replaced; return what was written."""
    monkeypatch.setattr(console, "stream", lambda: stream)
    paths = sorted(str(p) for p in NIH_IMAGES.glob("*.png"))[:12]
    build_cache(paths, 16, tmp_path / "cache", workers=1)
    content_hashes(paths)
    return stream.getvalue()


def test_cache_build_and_file_hashes_show_count_and_eta_on_a_terminal(monkeypatch, tmp_path):
    shown = long_steps_console(monkeypatch, tmp_path, Terminal())
    assert "Decoding at 16 px:" in shown and "SHA-256:" in shown
    assert "0/12 [00:00<?" in shown  # images (files) done / all, then elapsed < time left


def test_progress_bars_stay_out_of_logs(monkeypatch, tmp_path):
    assert long_steps_console(monkeypatch, tmp_path, io.StringIO()) == ""
