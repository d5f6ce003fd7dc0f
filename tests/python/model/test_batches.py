"""The training input pipeline (chestxray.model.batches.CacheBatches): every chosen cache row once per
epoch with its own label, in the given order or reshuffled each epoch from the seed."""

import numpy as np
import pytest

from chestxray.model.batches import CacheBatches

from caches import numbered_cache, row_of

ROWS = 10


@pytest.fixture(scope="module", name="numbered_cache")
def ten_rows(tmp_path_factory):
    """Cache row r is an 8x8 image of grey 10 r: a batch's images say which rows they are."""
    return numbered_cache(tmp_path_factory.mktemp("cache") / "cache.npy", ROWS, side=8, step=10)


def rows_of(images):
    return [row_of(image, 10) for image in images]


def epoch(batches):
    seen, labels = [], []
    for b in range(len(batches)):
        images, batch_labels = batches[b]
        assert images.dtype == np.float32 and images.shape[1:] == (8, 8, 1)
        seen += rows_of(images)
        labels += batch_labels.tolist()
    return seen, labels


def test_every_chosen_row_comes_once_with_its_label_the_last_batch_partial(numbered_cache):
    indices, labels = [7, 2, 9, 0, 4, 5, 1], [1, 0, 1, 0, 0, 1, 1]
    batches = CacheBatches(numbered_cache, indices, labels, batch_size=3)
    assert len(batches) == 3 and batches.image_size == 8 and batches.cache_path == numbered_cache
    seen, seen_labels = epoch(batches)
    assert seen == indices  # in the order given
    assert seen_labels == labels and batches[2][0].shape[0] == 1


def test_shuffled_epochs_are_new_permutations_reproducible_from_the_seed(numbered_cache):
    indices, labels = list(range(ROWS)), [r % 2 for r in range(ROWS)]
    batches = CacheBatches(numbered_cache, indices, labels, batch_size=4, shuffle=True, seed=3)
    first, first_labels = epoch(batches)
    batches.on_epoch_end()
    second, second_labels = epoch(batches)
    for order, order_labels in ((first, first_labels), (second, second_labels)):
        assert sorted(order) == indices and order_labels == [r % 2 for r in order]
    assert first != second and first != indices
    again = CacheBatches(numbered_cache, indices, labels, batch_size=4, shuffle=True, seed=3)
    assert epoch(again)[0] == first
    other = CacheBatches(numbered_cache, indices, labels, batch_size=4, shuffle=True, seed=4)
    assert epoch(other)[0] != first


def test_unshuffled_batches_keep_their_order_across_epochs(numbered_cache):
    batches = CacheBatches(numbered_cache, [3, 1, 2], [0, 1, 0], batch_size=2)
    batches.on_epoch_end()
    assert epoch(batches) == ([3, 1, 2], [0, 1, 0])


def test_augmented_batches_depend_on_seed_epoch_and_batch_not_on_request_order(numbered_cache):
    def make():
        return CacheBatches(numbered_cache, list(range(ROWS)), [0] * ROWS, batch_size=5, seed=1, augment=True)

    forward, backward = make(), make()
    first, second = forward[0][0], forward[1][0]
    second_again, first_again = backward[1][0], backward[0][0]  # asked for in the other order
    assert np.array_equal(first, first_again) and np.array_equal(second, second_again)
    assert np.array_equal(forward[1][0], second) and not np.array_equal(first, second)
    forward.on_epoch_end()
    assert not np.array_equal(forward[1][0], second)


def test_indices_and_labels_of_different_lengths_are_refused(numbered_cache):
    with pytest.raises(ValueError, match="^3 indices but 2 labels$"):
        CacheBatches(numbered_cache, [0, 1, 2], [0, 1])


def test_augmentation_of_a_batch_is_the_stream_of_its_seed_epoch_and_batch_number(numbered_cache):
    from chestxray.model.augment import augment_batch

    plain = CacheBatches(numbered_cache, list(range(ROWS)), [0] * ROWS, batch_size=5, seed=1)
    augmented = CacheBatches(numbered_cache, list(range(ROWS)), [0] * ROWS, batch_size=5, seed=1, augment=True)
    for epoch_number in range(3):
        for b in range(2):
            expected = augment_batch(plain[b][0], np.random.default_rng([1, epoch_number, b]))
            assert np.array_equal(augmented[b][0], expected), (epoch_number, b)
        augmented.on_epoch_end()



def test_fit_trains_each_epoch_on_one_seeded_permutation_of_the_rows(numbered_cache):
    """What the model receives in fit: every epoch is every row once, batched as one permutation
    drawn from the seed, the next epoch on the next draw; no batch mixes two epochs' orders.
    (Keras calls on_epoch_end once before the first epoch and shuffles the batches' order itself.)"""
    from chestxray.model.backend import import_keras

    keras = import_keras()
    seen = []

    class RecordRows(keras.layers.Layer):
        def call(self, images):
            seen.append(tuple(sorted(rows_of(np.asarray(images)))))
            return images

    model = keras.Sequential([keras.Input((8, 8, 1)), RecordRows(), keras.layers.Flatten(), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", run_eagerly=True)
    epochs, batch_size = 4, 3
    batches = CacheBatches(numbered_cache, list(range(ROWS)), [0] * ROWS, batch_size=batch_size, shuffle=True, seed=5)
    model.fit(batches, epochs=epochs, verbose=0)

    draws = np.random.default_rng(5)
    permutations = [draws.permutation(ROWS) for _ in range(epochs + 2)]
    batched = [sorted(tuple(sorted(p[b : b + batch_size].tolist())) for b in range(0, ROWS, batch_size))
               for p in permutations]
    per_epoch = [sorted(seen[e * 4 : (e + 1) * 4]) for e in range(epochs)]
    assert len(seen) == epochs * 4
    first = batched.index(per_epoch[0])
    assert per_epoch == batched[first : first + epochs]


def test_a_splits_batches_are_its_rows_in_table_order_unless_shuffled(numbered_cache):
    """Validation and test batches keep the table's order (predictions line up with labels); training's
    are shuffled when asked, from the prepared data's seed."""
    import pandas as pd

    from chestxray.model.batches import split_batches
    from chestxray.preparation.dataset import PreparedData

    table = pd.DataFrame({"split": ["train"] * 6 + ["test"] * 4, "cache_row": [9, 3, 5, 0, 7, 1, 8, 2, 6, 4],
                          "label": [1, 0, 1, 0, 1, 0, 1, 1, 0, 0]})
    prepared = PreparedData(table, numbered_cache, seed=2)
    test = split_batches(prepared, "test", 3)
    assert epoch(test) == ([8, 2, 6, 4], [1, 1, 0, 0])
    ordered = epoch(split_batches(prepared, "train", 3))
    assert ordered == ([9, 3, 5, 0, 7, 1], [1, 0, 1, 0, 1, 0])
    shuffled = epoch(split_batches(prepared, "train", 3, shuffle=True))
    assert shuffled[0] != ordered[0] and sorted(shuffled[0]) == sorted(ordered[0])
    assert shuffled == epoch(
        CacheBatches(numbered_cache, [9, 3, 5, 0, 7, 1], [1, 0, 1, 0, 1, 0], 3, shuffle=True, seed=2)
    )
