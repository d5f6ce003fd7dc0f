"""CacheBatches' defaults (issue 25: mutation audit): batches of 32, and seed 0 for the shuffle."""

import numpy as np
import pytest

from chestxray.model.batches import CacheBatches

from caches import numbered_cache, row_of

ROWS = 40


@pytest.fixture(scope="module")
def forty_rows(tmp_path_factory):
    """Cache row r is a 4x4 image of grey 5 r, so a batch's images say which rows they are."""
    return numbered_cache(tmp_path_factory.mktemp("cache") / "cache.npy", ROWS, side=4, step=5)


def rows_in(batches):
    return [[row_of(image, 5) for image in batches[b][0]] for b in range(len(batches))]


def test_batches_hold_32_images_unless_told_otherwise(forty_rows):
    batches = CacheBatches(forty_rows, list(range(ROWS)), [0] * ROWS)
    assert len(batches) == 2
    assert rows_in(batches) == [list(range(32)), list(range(32, 40))]


def test_shuffled_batches_without_a_seed_follow_seed_0(forty_rows):
    order = np.random.default_rng(0).permutation(ROWS)  # numpy's first permutation for seed 0
    batches = CacheBatches(forty_rows, list(range(ROWS)), [0] * ROWS, batch_size=10, shuffle=True)
    assert rows_in(batches) == [sorted(order[b : b + 10].tolist()) for b in range(0, ROWS, 10)]
