"""Keras input pipeline: batches streamed from the uint8 cache, augmented for training."""

from __future__ import annotations

import math

import numpy as np

from chestxray.model.augment import augment_batch
from chestxray.model.backend import import_keras
from chestxray.preparation.cache import open_cache
from chestxray.preparation.images import to_model_input

keras = import_keras()


class CacheBatches(keras.utils.PyDataset):
    """Batches of (images, labels) for rows ``indices`` of a cache file.

    Each batch is read from the cache file when Keras asks for it (the images
    are never all in memory). With ``shuffle`` the order changes every epoch,
    and with ``augment`` each image is randomly warped (chestxray.model.augment), both
    reproducibly from ``seed``.
    """

    def __init__(self, cache_path, indices, labels, batch_size=32, shuffle=False, seed=0, augment=False):
        super().__init__(workers=1, use_multiprocessing=False)
        self.images = open_cache(cache_path)
        self.indices = np.asarray(indices, dtype=np.int64)
        self.labels = np.asarray(labels, dtype=np.float32)
        if len(self.indices) != len(self.labels):
            raise ValueError(f"{len(self.indices)} indices but {len(self.labels)} labels")
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self._rng = np.random.default_rng(seed)
        self.augment = augment
        self._epoch = 0
        self._seed = seed
        self._order = self._rng.permutation(len(self.indices)) if shuffle else np.arange(len(self.indices))

    @property
    def image_size(self) -> int:
        """Side in pixels of the cached images (square)."""
        return int(self.images.shape[1])

    @property
    def cache_path(self) -> str:
        return self.images.path

    def __len__(self):
        return math.ceil(len(self.indices) / self.batch_size)

    def __getitem__(self, batch):
        rows = self._order[batch * self.batch_size : (batch + 1) * self.batch_size]
        # Sorted rows are read in file order; order within a batch does not matter.
        rows = np.sort(rows)
        images = to_model_input(self.images[self.indices[rows]])
        if self.augment:
            # One stream per (epoch, batch): the same seed gives the same augmented
            # epoch whatever order Keras asks for the batches in.
            images = augment_batch(images, np.random.default_rng([self._seed, self._epoch, batch]))
        return images, self.labels[rows]

    def on_epoch_end(self):
        self._epoch += 1
        if self.shuffle:
            self._order = self._rng.permutation(len(self.indices))


def split_batches(prepared, split: str, batch_size: int, shuffle: bool = False,
                  augment: bool = False) -> CacheBatches:
    """Batches of one split of a prepared study (chestxray.preparation.dataset's PreparedData, or
    preparation.multilabel's PreparedMultilabel with a label per finding), seeded by its seed."""
    return CacheBatches(prepared.cache_path, prepared.part(split)["cache_row"], prepared.labels(split), batch_size,
                        shuffle, prepared.seed, augment)
