"""An image cache damaged from outside (truncated, a byte changed, its manifest or a file removed) is named on
the console and built again, never read as if whole; the rebuilt pixels equal the decoder's (load_grey, image by
image, not through the cache)."""

import os

import numpy as np
import pytest

import chestxray.preparation.cache as cache_module
from chestxray.preparation.cache import build_cache, open_cache
from chestxray.preparation.images import load_grey
from chestxray.support.integrity import DamagedFileError, damaged_files, read_checked_json

from caches import interrupt_cache_build
from conftest import NIH_IMAGES

SIZE = 32
PATHS = sorted(str(p) for p in NIH_IMAGES.glob("*.png"))[:6]


@pytest.fixture(scope="module")
def decoded() -> np.ndarray:
    return np.stack([load_grey(p, SIZE) for p in PATHS])


def keep_mtime(damage):
    """Damage a file but leave its modification time as it was: only the bytes tell."""
    def damaged(path):
        stat = path.stat()
        damage(path)
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    return damaged


@keep_mtime
def truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 100])


@keep_mtime
def change_middle_byte(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x40
    path.write_bytes(bytes(data))


def remove(path):
    path.unlink()


@pytest.mark.parametrize("file, damage, problem", [
    ("npy", truncate, "truncated or extended"),
    ("npy", change_middle_byte, "changed: its bytes differ from those written"),
    ("npy", remove, "missing"),
    ("status.json", change_middle_byte, "changed"),
    ("manifest.json", remove, "missing"),
    ("manifest.json", truncate, "does not carry the SHA-256"),
    ("manifest.json", change_middle_byte, "SHA-256"),
])
def test_a_damaged_cache_is_named_and_built_again(tmp_path, capfd, decoded, file, damage, problem):
    first = build_cache(PATHS, SIZE, tmp_path, workers=1)
    key = first.path.stem
    damaged = first.path.with_name(f"{key}.{file}")
    damage(damaged)
    capfd.readouterr()
    rebuilt = build_cache(PATHS, SIZE, tmp_path, workers=1)
    console = capfd.readouterr().err
    assert f"warning: image cache '{first.path}' is damaged ('{damaged.name}': " in console
    assert problem in console and "building it again" in console
    assert rebuilt.path == first.path and rebuilt.valid.all()
    assert np.array_equal(np.load(rebuilt.path), decoded)
    assert damaged_files(rebuilt.path.parent, f"{key}.manifest.json") == {}
    assert not list(tmp_path.rglob("*.partial"))
    again = build_cache(PATHS, SIZE, tmp_path, workers=1)  # whole now: used as it is, nothing said
    assert "damaged" not in capfd.readouterr().err and again.path.stat().st_mtime_ns == rebuilt.path.stat().st_mtime_ns


def test_a_whole_cache_is_checked_and_used_without_a_word(tmp_path, capfd, monkeypatch, decoded):
    build_cache(PATHS, SIZE, tmp_path, workers=1)
    assert "damaged" not in capfd.readouterr().err  # a first build has nothing to call damaged
    checked = []
    real = cache_module.damaged_files
    monkeypatch.setattr(cache_module, "damaged_files", lambda *args: checked.append(args[1]) or real(*args))
    monkeypatch.setattr(cache_module, "_build", lambda *args: pytest.fail("a whole cache was built again"))
    cache = build_cache(PATHS, SIZE, tmp_path, workers=1)
    assert checked == [f"{cache.path.stem}.manifest.json"] and "damaged" not in capfd.readouterr().err
    assert np.array_equal(open_cache(cache.path)[np.arange(len(PATHS))], decoded)


def test_the_reader_refuses_a_cache_shorter_than_its_header_says(tmp_path):
    cache = build_cache(PATHS, SIZE, tmp_path, workers=1)
    truncate(cache.path)
    with pytest.raises(DamagedFileError, match=f"'{cache.path}' is damaged: .* bytes where its header promises"):
        open_cache(cache.path)


def test_a_damaged_progress_record_restarts_the_interrupted_build(tmp_path, capfd, monkeypatch):
    paths = sorted(str(p) for p in NIH_IMAGES.glob("*.png"))[:40]
    real = interrupt_cache_build(monkeypatch, paths, SIZE, tmp_path)
    progress = next(tmp_path.rglob(".*.progress.json"))
    assert len(read_checked_json(progress)["done"]) == 16
    change_middle_byte(progress)
    seen = []
    monkeypatch.setattr(cache_module, "_decode_chunk", lambda job: seen.append(job[0]) or real(job))
    capfd.readouterr()
    cache = build_cache(paths, SIZE, tmp_path, workers=1)
    console = capfd.readouterr().err
    assert f"warning: the progress record of an interrupted cache build is damaged ('{progress}': " in console
    assert "decoding every image again" in console
    assert sorted(seen) == list(range(0, 40, 2))  # nothing taken from the damaged record
    assert np.array_equal(np.load(cache.path), np.stack([load_grey(p, SIZE) for p in paths]))
