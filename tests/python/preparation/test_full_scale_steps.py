"""Steps rewritten to stay linear in the number of images for the full NIH data
(bench/nih_rehearsal.py): the same answers as before, checked on small cases known by hand."""

import io
import json

import pytest

from chestxray.preparation.cache import build_cache
from chestxray.preparation.dataset import content_hashes
from chestxray.support import console

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
    build_cache(paths, 32, tmp_path / "cache", workers=1)
    content_hashes(paths)
    return stream.getvalue()


def test_cache_build_and_file_hashes_show_count_and_eta_on_a_terminal(monkeypatch, tmp_path):
    shown = long_steps_console(monkeypatch, tmp_path, Terminal())
    assert "Decoding at 32 px:" in shown and "SHA-256:" in shown
    assert "0/12 [00:00<?" in shown  # images (files) done / all, then elapsed < time left


def test_progress_bars_stay_out_of_logs(monkeypatch, tmp_path):
    assert long_steps_console(monkeypatch, tmp_path, io.StringIO()) == ""


def test_extraction_shows_how_far_through_the_archive_it_is(monkeypatch, tmp_path):
    """Extracting one of NIH's 4 GB archives takes minutes: a terminal sees the compressed
    bytes read so far out of the archive's size, with the time left."""
    import os

    from chestxray.sources.extract import extract_archive

    from archives import make_archive

    # incompressible members, so the archive is large enough for the bar to move
    archive = tmp_path / "images_01.tar.gz"
    archive.write_bytes(make_archive({f"images/{i:08d}_000.png": os.urandom(200_000) for i in range(20)}))
    terminal = Terminal()
    monkeypatch.setattr(console, "stream", lambda: terminal)
    assert extract_archive(archive, tmp_path / "images") == 20
    shown = terminal.getvalue()
    assert "Extracting images_01.tar.gz:" in shown and "<?" in shown  # elapsed < time left
    assert f"/{archive.stat().st_size / 1e6:.2f}M" in shown  # of the archive's own size (decimal units)

    class Recorder:  # the bar as extraction drives it: it must move through the whole archive
        def __init__(self, total, *args, **kwargs):
            self.total, self.n, self.updates = total, 0, 0

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            bars.append(self)

        def update(self, n):
            self.n, self.updates = self.n + n, self.updates + (n > 0)

    bars = []
    monkeypatch.setattr("chestxray.sources.extract.progress_bar", Recorder)
    extract_archive(archive, tmp_path / "again")
    assert bars[0].updates >= 3 and 0.5 * bars[0].total < bars[0].n <= bars[0].total


@pytest.mark.parametrize("seconds, text", [(4.6, "5 s"), (59, "59 s"), (200, "3 min 20 s"), (7500, "2 h 05 min")])
def test_durations_read_as_a_person_would_say_them(seconds, text):
    assert console.duration(seconds) == text


def test_each_epoch_line_says_its_time_and_the_most_left(monkeypatch):
    from types import SimpleNamespace

    from chestxray.model.training import ConsoleProgress

    lines, clock = [], iter([0.0, 100.0, 130.0, 160.0, 190.0])  # made, training begins, three epochs end
    monkeypatch.setattr("chestxray.model.training.time", SimpleNamespace(monotonic=lambda: next(clock)))
    monkeypatch.setattr("chestxray.model.training.step", lines.append)
    progress = ConsoleProgress("cnn", epochs=20)
    progress.on_train_begin()
    for epoch in range(3):
        progress.on_epoch_end(epoch, {"loss": 0.5, "val_loss": 0.6, "val_auroc": 0.7})
    assert lines[0] == ("  cnn epoch 1/20: loss 0.500, validation loss 0.600, validation AUROC 0.700 "
                        "(30 s per epoch, at most 9 min 30 s left)")
    assert lines[2].startswith("  cnn epoch 3/20:") and lines[2].endswith("(30 s per epoch, at most 8 min 30 s left)")


def test_the_last_epoch_line_has_no_time_left_and_missing_values_read_nan(monkeypatch):
    from types import SimpleNamespace

    from chestxray.model.training import ConsoleProgress

    lines, clock = [], iter([0.0, 0.0, 12.0])
    monkeypatch.setattr("chestxray.model.training.time", SimpleNamespace(monotonic=lambda: next(clock)))
    monkeypatch.setattr("chestxray.model.training.step", lines.append)
    progress = ConsoleProgress("baseline", epochs=1)
    progress.on_train_begin()
    progress.on_epoch_end(0, None)
    assert lines == ["  baseline epoch 1/1: loss nan, validation loss nan, validation AUROC nan (12 s per epoch)"]
