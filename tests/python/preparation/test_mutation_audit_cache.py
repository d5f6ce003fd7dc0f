"""Mutation audit of chestxray.preparation.cache (mutmut, 2026-12-07): what the cache tests read only in part.

The key spelled out (hashlib over the documented inputs), which rows an unreadable image marks and what is said
and written about it, when the build uses worker processes and how many, the progress bar's counts, a progress
record without its partial file, the exact console line of a damaged cache, the reader on numpy's 2.0 header, its
dtype and length, pickling and closing, and the worker's watch on its parent. Expected pixels come from load_grey
image by image; expected bytes from hashlib and numpy.
"""

import csv
import gc
import hashlib
import json
import logging
import os
import pickle
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from files import windows_open

import chestxray.preparation.cache as cache_module
from chestxray.preparation.cache import Cache, NoUsableImagesError, build_cache, cache_key, open_cache, require_usable
from chestxray.preparation.images import DECODER_VERSION, load_grey
from chestxray.support.integrity import read_checked_json

from caches import interrupt_cache_build
from conftest import NIH_IMAGES

SIZE = 32
PATHS = sorted(str(p) for p in NIH_IMAGES.glob("*.png"))[:6]


def decoded(paths) -> np.ndarray:
    return np.stack([load_grey(p, SIZE) for p in paths])


# --- The key -----------------------------------------------------------------------------------------------

def test_the_key_is_the_sha256_of_decoder_size_and_each_files_path_size_and_mtime(tmp_path):
    missing = str(tmp_path / "gone.png")
    nul = "bad\0name.png"  # os.stat refuses it (ValueError): unknown, as a missing file
    stats = [os.stat(p) for p in PATHS[:2]]
    files = [[PATHS[0], stats[0].st_size, stats[0].st_mtime_ns], [missing, -1, -1],
             [PATHS[1], stats[1].st_size, stats[1].st_mtime_ns], [nul, -1, -1]]
    text = json.dumps([DECODER_VERSION, 48, files])
    assert cache_key([PATHS[0], missing, PATHS[1], nul], 48) == hashlib.sha256(text.encode()).hexdigest()[:16]


# --- No usable image ---------------------------------------------------------------------------------------

def test_no_usable_image_is_told_with_the_first_three_reasons(tmp_path):
    failed = [(f"{i}.png", f"reason {i}") for i in range(4)]
    with pytest.raises(NoUsableImagesError) as raised:
        require_usable(Cache(tmp_path / "c.npy", np.zeros(4, dtype=bool), failed))
    assert str(raised.value) == "none of the 4 images could be read, e.g. reason 0; reason 1; reason 2"
    with pytest.raises(NoUsableImagesError) as raised:
        require_usable(Cache(tmp_path / "c.npy", np.zeros(0, dtype=bool), []))
    assert str(raised.value) == "the image list is empty"
    require_usable(Cache(tmp_path / "c.npy", np.array([False, True]), failed[:1]))  # one usable row is enough


# --- An unreadable image -----------------------------------------------------------------------------------

def test_an_unreadable_image_marks_its_own_row_and_is_logged_listed_and_recorded(tmp_path, caplog):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    paths = [PATHS[0], str(broken), PATHS[1]]
    with caplog.at_level(logging.WARNING, logger="chestxray.preparation.cache"):
        cache = build_cache(paths, SIZE, tmp_path / "cache", workers=1)
    assert cache.valid.tolist() == [True, False, True]
    [(path, reason)] = cache.failed
    assert path == str(broken) and reason.startswith(f"cannot read image '{broken}'")
    assert [r.getMessage() for r in caplog.records] == [f"skipped unreadable image: {reason}"]
    with open(cache.failed_csv, newline="") as f:
        assert list(csv.reader(f)) == [["path", "reason"], [str(broken), reason]]
    assert cache.failed_csv.read_bytes().startswith(b"path,reason\r\n")  # the csv module's own line ends
    status = read_checked_json(cache.path.with_suffix(".status.json"))
    assert status == {"rows": 3, "size": SIZE, "invalid": [[1, reason]]}
    pixels = np.load(cache.path)
    assert np.array_equal(pixels[[0, 2]], decoded([PATHS[0], PATHS[1]])) and not pixels[1].any()
    again = build_cache(paths, SIZE, tmp_path / "cache", workers=1)  # read back from the status record
    assert again.valid.tolist() == [True, False, True] and again.failed == cache.failed


def test_the_failed_list_ends_rows_in_one_crlf_where_text_files_write_crlf_for_a_newline(tmp_path, monkeypatch):
    """On Windows (README: supported without Docker) a text file opened with newline=None writes os.linesep,
    '\\r\\n', for each '\\n' (Python's open documentation): the csv module's '\\r\\n' would become '\\r\\r\\n'.
    Simulated here by that open; the file must still be the csv module's own bytes."""
    monkeypatch.setattr(cache_module, "open", windows_open, raising=False)  # tests/helpers/files.py
    cache_module.write_failed([("a.png", "cannot read image 'a.png': no such file")], tmp_path / "failed.csv")
    assert (tmp_path / "failed.csv").read_bytes() == (
        b"path,reason\r\na.png,cannot read image 'a.png': no such file\r\n")


# --- Workers -----------------------------------------------------------------------------------------------

@pytest.fixture()
def pool_calls(monkeypatch):
    """The worker count of each build that uses worker processes (decoded here in-process, same chunks)."""
    calls = []

    def in_process(jobs, workers, store):
        calls.append(workers)
        store(map(cache_module._decode_chunk, jobs))

    monkeypatch.setattr(cache_module, "_decode_in_pool", in_process)
    monkeypatch.setattr(cache_module, "IMAGES_PER_JOB", 2)
    return calls


@pytest.mark.parametrize("images, workers, cores, pool", [
    (6, None, 3, [3]),  # every core by default
    (6, None, None, []),  # cores unknown: one process
    (6, 2, 3, [2]),  # as asked
    (6, 1, 3, []),  # one worker: no pool
    (4, 2, 3, [2]),  # two chunks are worth a pool
    (2, 2, 3, []),  # one chunk is not
    (6, 3, 1, [3]),
])
def test_worker_processes_are_used_when_asked_or_by_default_and_only_for_several_chunks(
        tmp_path, monkeypatch, pool_calls, images, workers, cores, pool):
    monkeypatch.setattr(cache_module.os, "cpu_count", lambda: cores)
    cache = build_cache(PATHS[:images], SIZE, tmp_path, workers=workers)
    assert pool_calls == pool
    assert np.array_equal(np.load(cache.path), decoded(PATHS[:images]))


def test_a_pool_build_decodes_in_worker_processes_the_decoders_pixels(tmp_path, monkeypatch):
    monkeypatch.setattr(cache_module, "IMAGES_PER_JOB", 2)
    cache = build_cache(PATHS, SIZE, tmp_path, workers=2)
    assert np.array_equal(np.load(cache.path), decoded(PATHS))


def slow_chunk(job):
    """A chunk decoded in a worker (forked: this module is there); chunk 2 takes 3 s."""
    start, paths, size = job
    if start == 2:
        time.sleep(3)
    return start, np.zeros((len(paths), size, size), dtype=np.uint8), []


def test_an_interrupted_pool_build_stops_at_once(tmp_path, monkeypatch):
    """Ctrl-C as the first decoded chunk is stored: the build stops without waiting for chunk 2's 3 s in a
    worker. (Whether the queued chunks are dropped, cancel_futures, is not pinned: after the interruption the
    pool's workers are seen to finish anywhere from 4 to 8 of the 20 chunks either way.)"""
    monkeypatch.setattr(cache_module, "IMAGES_PER_JOB", 1)
    monkeypatch.setattr(cache_module, "_decode_chunk", slow_chunk)

    @contextmanager
    def interrupting(*args, **kwargs):
        def update(self, n):
            raise KeyboardInterrupt
        yield type("Bar", (), {"update": update})()

    monkeypatch.setattr(cache_module, "progress_bar", interrupting)
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        build_cache([PATHS[0]] * 20, SIZE, tmp_path / "cache", workers=2)
    assert time.monotonic() - started < 2.5


def dying_chunk(job):
    os._exit(1)  # as a worker killed for lack of memory


def test_a_worker_that_dies_is_told_with_the_advice_to_use_fewer_workers(tmp_path, monkeypatch):
    monkeypatch.setattr(cache_module, "IMAGES_PER_JOB", 1)
    monkeypatch.setattr(cache_module, "_decode_chunk", dying_chunk)
    with pytest.raises(cache_module.CacheBuildError) as raised:
        build_cache(PATHS[:4], SIZE, tmp_path, workers=2)
    message = str(raised.value)
    assert message.startswith("a decoding process died (")
    assert message.endswith("), perhaps for lack of memory: re-run with fewer --workers to resume")


# --- Progress ----------------------------------------------------------------------------------------------

@pytest.fixture()
def bars(monkeypatch):
    opened = []

    @contextmanager
    def recording(total, unit, desc, initial=0, scale=False):
        bar = {"total": total, "unit": unit, "desc": desc, "initial": initial, "updates": []}
        opened.append(bar)
        yield type("Bar", (), {"update": lambda self, n: bar["updates"].append(n)})()

    monkeypatch.setattr(cache_module, "progress_bar", recording)
    return opened


def test_the_progress_bar_counts_images_from_those_already_decoded(tmp_path, monkeypatch, bars):
    build_cache(PATHS, SIZE, tmp_path / "fresh", workers=1)
    assert bars == [{"total": 6, "unit": "image", "desc": "Decoding at 32 px", "initial": 0, "updates": [6]}]
    paths = sorted(str(p) for p in NIH_IMAGES.glob("*.png"))[:40]
    real, calls = cache_module._decode_chunk, {"n": 0}

    def interrupted(job):
        calls["n"] += 1
        if calls["n"] == 18:  # 16 chunks of 2 recorded
            raise KeyboardInterrupt
        return real(job)

    monkeypatch.setattr(cache_module, "IMAGES_PER_JOB", 2)
    monkeypatch.setattr(cache_module, "_decode_chunk", interrupted)
    with pytest.raises(KeyboardInterrupt):
        build_cache(paths, SIZE, tmp_path / "resumed", workers=1)
    monkeypatch.setattr(cache_module, "_decode_chunk", real)
    bars.clear()
    build_cache(paths, SIZE, tmp_path / "resumed", workers=1)
    assert bars == [{"total": 40, "unit": "image", "desc": "Decoding at 32 px", "initial": 32,
                     "updates": [2, 2, 2, 2]}]


def test_a_progress_record_without_its_partial_file_is_not_trusted(tmp_path, monkeypatch):
    paths = sorted(str(p) for p in NIH_IMAGES.glob("*.png"))[:40]
    real = interrupt_cache_build(monkeypatch, paths, SIZE, tmp_path)
    [partial] = tmp_path.rglob(".*.npy.partial")
    partial.unlink()  # the decoded rows are gone; the record of them is not
    monkeypatch.setattr(cache_module, "_decode_chunk", real)
    cache = build_cache(paths, SIZE, tmp_path, workers=1)
    assert np.array_equal(np.load(cache.path), decoded(paths))
    assert not list(tmp_path.rglob(".*.progress.json"))


# --- Folders and the damage line ---------------------------------------------------------------------------

def test_the_cache_folder_is_made_with_its_parents(tmp_path):
    cache = build_cache(PATHS[:2], SIZE, tmp_path / "a" / "b", workers=1)
    assert cache.path.parent == tmp_path / "a" / "b" / "32"
    assert np.array_equal(np.load(cache.path), decoded(PATHS[:2]))


def test_a_damaged_cache_is_announced_in_one_exact_line(tmp_path, capfd):
    first = build_cache(PATHS[:2], SIZE, tmp_path, workers=1)
    first.path.unlink()
    capfd.readouterr()
    build_cache(PATHS[:2], SIZE, tmp_path, workers=1)
    lines = [line.split("] ", 1)[1] for line in capfd.readouterr().err.splitlines() if "damaged" in line]
    assert lines == [f"warning: image cache '{first.path}' is damaged ('{first.path.name}': missing): "
                     "building it again"]


# --- The reader --------------------------------------------------------------------------------------------

def test_the_reader_reads_npy_version_2_headers(tmp_path):
    images = np.arange(3 * 4 * 4, dtype=np.uint8).reshape(3, 4, 4)
    path = tmp_path / "v2.npy"
    with open(path, "wb") as f:
        np.lib.format.write_array(f, images, version=(2, 0))
    reader = open_cache(path)
    assert len(reader) == 3 and np.array_equal(reader[[2, 0]], images[[2, 0]])


def test_the_reader_returns_uint8_rows_and_counts_images_not_pixels(tmp_path):
    cache = build_cache(PATHS[:3], SIZE, tmp_path, workers=1)
    reader = open_cache(cache.path)
    assert len(reader) == 3
    rows = reader[np.array([2, 0])]
    assert rows.dtype == np.uint8 and rows.shape == (2, SIZE, SIZE)
    assert np.array_equal(rows, decoded([PATHS[2], PATHS[0]]))


def test_a_pickled_reader_opens_its_own_file_descriptor_and_a_dropped_one_closes_it(tmp_path):
    cache = build_cache(PATHS[:3], SIZE, tmp_path, workers=1)
    reader = open_cache(cache.path)
    first = reader[0]
    copy = pickle.loads(pickle.dumps(reader))  # as sent to a worker, after the original has read
    fd = reader._fd
    del reader
    gc.collect()
    with pytest.raises(OSError):
        os.fstat(fd)  # closed with the reader
    assert np.array_equal(copy[0], first) and np.array_equal(copy[2], decoded([PATHS[2]]))


# --- A worker ends with the process that started it ----------------------------------------------------------

WATCHED = r"""
import os, sys, threading, time
from chestxray.preparation import cache
cache._exit_with_parent()
sys.stdout.write(" ".join(f"{t.name}:{t.daemon}" for t in threading.enumerate() if t.name != "MainThread") + "\n")
sys.stdout.flush()
time.sleep(60)
"""

# A subreaper: the watched process's parent is an intermediate process; once that one has exited the watched
# one is this process's child, so its exit status can be read.
SUBREAPER = r"""
import ctypes, os, subprocess, sys, time
ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
read, write = os.pipe()
middle = os.fork()
if middle == 0:
    os.close(read)
    child = subprocess.Popen([sys.executable, "-c", sys.argv[1]], stdout=write)
    time.sleep(1.5)  # the child lives on while its parent does
    print(child.pid, child.poll(), flush=True)
    os._exit(0)
os.close(write)
os.waitpid(middle, 0)
started = time.monotonic()
pid, status = os.wait()  # the orphaned child
print(os.waitstatus_to_exitcode(status), round(time.monotonic() - started, 1), flush=True)
print(os.read(read, 1000).decode(), end="")
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a Linux subreaper reads the orphan's status")
def test_a_worker_exits_with_status_1_once_its_parent_is_gone(tmp_path):
    # the package this test imported, before what was there (mutmut's subprocess stats)
    package = str(Path(cache_module.__file__).parents[2])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([package, os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", SUBREAPER, WATCHED], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    alive, exited, threads = done.stdout.splitlines()
    assert alive.split()[1] == "None"  # still running 1.5 s after it started, its parent alive
    code, seconds = exited.split()
    assert code == "1" and float(seconds) < 5  # not the 60 s sleep: the watch ended it
    assert threads.split() == ["exit-with-parent:True"]


# --- Second audit (mutmut, 2026-12-07 evening): the pool's own settings, the progress record's line, -----------
# --- the reader's row numbers and a reader that never opened ------------------------------------------------


class RecordingPool:
    """Stands for ProcessPoolExecutor: records how it was made and shut down, maps in-process."""

    made: list = []

    def __init__(self, **settings):
        self.settings, self.shutdowns = settings, []
        RecordingPool.made.append(self)

    def map(self, function, jobs):
        return map(function, jobs)

    def shutdown(self, **how):
        self.shutdowns.append(how)


@pytest.fixture()
def recording_pool(monkeypatch):
    RecordingPool.made = []
    monkeypatch.setattr(cache_module, "ProcessPoolExecutor", RecordingPool)
    return RecordingPool.made


def test_the_pool_has_the_workers_asked_for_each_watching_its_parent(recording_pool):
    stored = []
    cache_module._decode_in_pool([(0, [PATHS[0]], SIZE)], 3, lambda results: stored.extend(results))
    (pool,) = recording_pool
    assert pool.settings == {"max_workers": 3, "initializer": cache_module._exit_with_parent}
    assert pool.shutdowns == [{}]  # a finished build waits for its workers
    assert stored[0][0] == 0 and np.array_equal(stored[0][1], decoded(PATHS[:1]))


@pytest.mark.parametrize("error", [KeyboardInterrupt, OSError])
def test_an_interrupted_pool_is_shut_down_without_waiting_and_its_queued_chunks_dropped(recording_pool, error):
    def interrupted(results):
        raise error

    with pytest.raises(error):
        cache_module._decode_in_pool([(0, [PATHS[0]], SIZE)], 2, interrupted)
    assert recording_pool[0].shutdowns == [{"wait": False, "cancel_futures": True}]


def test_a_damaged_progress_record_is_announced_and_the_build_starts_over(tmp_path, capfd):
    record = tmp_path / "cache.progress.json"
    record.write_text('{"done": [0]')  # truncated
    assert cache_module._read_progress(record) == {"done": [], "errors": []}
    (line,) = [line for line in capfd.readouterr().err.splitlines() if "damaged" in line]
    assert line.split("] ", 1)[-1].startswith(
        f"warning: the progress record of an interrupted cache build is damaged ('{record}': ")
    assert line.endswith("): decoding every image again")


def test_a_worker_checks_on_its_parent_every_half_second_and_exits_with_status_1(monkeypatch):
    parents, sleeps = iter([100, 100, 100, 1]), []

    class Now:
        def __init__(self, target, name, daemon):
            self.target, self.name, self.daemon = target, name, daemon

        def start(self):
            self.target()

    def exit_(code):
        raise SystemExit(code)

    monkeypatch.setattr(cache_module.os, "getppid", lambda: next(parents))
    monkeypatch.setattr(cache_module.time, "sleep", sleeps.append)
    monkeypatch.setattr(cache_module.os, "_exit", exit_)
    monkeypatch.setattr(cache_module.threading, "Thread", Now)
    with pytest.raises(SystemExit) as exited:
        cache_module._exit_with_parent()
    assert exited.value.code == 1 and sleeps == [0.5, 0.5]


def test_the_reader_takes_row_numbers_given_as_floats_as_r_gives_them(tmp_path):
    images = np.arange(4 * 3 * 3, dtype=np.uint8).reshape(4, 3, 3)
    np.save(tmp_path / "c.npy", images)
    reader = open_cache(tmp_path / "c.npy")
    assert np.array_equal(reader[np.array([3.0, 1.0])], images[[3, 1]])
    assert np.array_equal(reader[[2.0]], images[[2]])


def test_a_reader_that_never_opened_its_file_is_dropped_quietly(tmp_path, monkeypatch):
    raised = []
    monkeypatch.setattr(sys, "unraisablehook", raised.append)
    (tmp_path / "not.npy").write_bytes(b"not an array")
    with pytest.raises(ValueError):
        open_cache(tmp_path / "not.npy")
    gc.collect()
    assert raised == []


def test_the_cache_file_is_named_by_its_key_in_its_sizes_folder(tmp_path):
    cache = build_cache(PATHS[:2], SIZE, tmp_path, workers=1)
    assert cache.path == tmp_path / str(SIZE) / f"{cache_key(PATHS[:2], SIZE)}.npy"


def test_a_manifest_left_alone_is_announced_as_a_damaged_cache(tmp_path, capfd):
    """The manifest is written last: with it there, a cache had been finished, so its missing files are damage
    (said), not a first build (silent)."""
    first = build_cache(PATHS[:2], SIZE, tmp_path, workers=1)
    for leftover in first.path.parent.iterdir():
        if not leftover.name.endswith(".manifest.json") and not leftover.name.startswith("."):
            leftover.unlink()
    capfd.readouterr()
    again = build_cache(PATHS[:2], SIZE, tmp_path, workers=1)
    assert f"warning: image cache '{first.path}' is damaged (" in capfd.readouterr().err
    assert np.array_equal(np.load(again.path), decoded(PATHS[:2]))


def test_unreadable_images_in_several_chunks_are_all_marked(tmp_path, monkeypatch):
    monkeypatch.setattr(cache_module, "IMAGES_PER_JOB", 2)
    paths = [str(tmp_path / "gone-1.png"), PATHS[0], PATHS[1], str(tmp_path / "gone-2.png")]  # chunks 0-1, 2-3
    cache = build_cache(paths, SIZE, tmp_path / "cache", workers=1)
    assert cache.valid.tolist() == [False, True, True, False]
    assert [path for path, _ in cache.failed] == [paths[0], paths[3]]
