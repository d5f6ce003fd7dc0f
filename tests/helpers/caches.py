"""Image caches whose pixels say which row they are, for the tests of the batches read from them."""

import numpy as np


def numbered_cache(path, rows: int, side: int, step: int) -> str:
    """A cache.npy where row r is a side x side image of grey step * r; returns its path."""
    np.save(path, np.stack([np.full((side, side), step * r, dtype=np.uint8) for r in range(rows)]))
    return str(path)


def row_of(image, step: int) -> int:
    """The row an image of numbered_cache came from (its pixels scaled to [0, 1] by the batches)."""
    return int(round(float(image[0, 0, 0]) * 255 / step))


def interrupt_cache_build(monkeypatch, paths: list[str], size: int, folder):
    """Build a cache of 40 images in 20 chunks of 2 and stop it (KeyboardInterrupt) as the 18th chunk starts:
    17 done, the progress saved after 16. Returns the real chunk decoder, for the test to resume with."""
    import pytest

    import chestxray.preparation.cache as cache_module
    from chestxray.preparation.cache import build_cache

    real, calls = cache_module._decode_chunk, {"n": 0}

    def interrupted(job):
        calls["n"] += 1
        if calls["n"] == 18:
            raise KeyboardInterrupt
        return real(job)

    monkeypatch.setattr(cache_module, "IMAGES_PER_JOB", 2)
    monkeypatch.setattr(cache_module, "_decode_chunk", interrupted)
    with pytest.raises(KeyboardInterrupt):
        build_cache(paths, size, folder, workers=1)
    return real
