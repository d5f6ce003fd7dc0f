"""Training throughput on a GPU for the R-built model.keras, next to a plain
Keras DenseNet121 at 224 px, in the same run. Keras 3 with the JAX backend: no
TensorFlow and no R needed on the GPU machine.

    KERAS_BACKEND=jax PYTHONPATH=python python3 bench/gpu_train_steps.py --model _output/model.keras \
        [--batch 64] [--steps 50] [--workers 16] [--json bench/results/gpu_<card>.json]

Two figures per model:
- ``step_images_per_s``: the model loaded as R saved it, recompiled with Adam and
  the loss its output implies, trained on one synthetic batch already on the
  device: the model's step rate alone.
- ``pipeline``: ``model.fit`` fed by a Keras PyDataset of uint8 images that
  converts and (or not) augments each batch on the CPU with the report's own
  ``chestxray.model.augment``, in ``--workers`` processes; ``ratio`` is augmented over
  plain (target >= 0.8): augmentation must not slow GPU training.
DenseNet121 (random weights, 3 channels, 224 px) runs in float32 and in mixed
bfloat16 (step rate).
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("KERAS_BACKEND", "jax")

import sys  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from chestxray.model.augment import augment_batch  # noqa: E402


def images_per_second(model, batch: int, steps: int, warmup: int = 5) -> float:
    shape = tuple(model.input_shape[1:])
    rng = np.random.default_rng(0)
    x = rng.random((batch, *shape), dtype=np.float32)
    y = rng.integers(0, 2, (batch,)).astype(np.float32 if model.output_shape[-1] == 1 else np.int32)
    compile_for(model)
    for _ in range(warmup):  # compile and settle
        model.train_on_batch(x, y)
    started = time.perf_counter()
    for _ in range(steps):
        last = model.train_on_batch(x, y)  # returns a host float: each step is finished
    elapsed = time.perf_counter() - started
    assert np.all(np.isfinite(np.asarray(last, dtype=float)))
    return batch * steps / elapsed


def compile_for(model) -> None:
    loss = "binary_crossentropy" if model.output_shape[-1] == 1 else "sparse_categorical_crossentropy"
    model.compile(optimizer=keras.optimizers.Adam(1e-4), loss=loss)


class SyntheticCache(keras.utils.PyDataset):
    """uint8 images as the report's cache holds them; each batch converted to [0, 1] and,
    with ``augment``, warped exactly as the report's training pipeline does."""

    def __init__(self, shape, batch, steps, augment, workers):
        super().__init__(workers=workers, use_multiprocessing=workers > 1)
        rng = np.random.default_rng(0)
        self.images = rng.integers(0, 256, (batch * 4, *shape), dtype=np.uint8)
        self.labels = rng.integers(0, 2, batch * 4).astype(np.float32)
        self.batch, self.steps, self.augment = batch, steps, augment

    def __len__(self):
        return self.steps

    def __getitem__(self, index):
        rows = np.arange(index * self.batch, (index + 1) * self.batch) % len(self.images)
        x = self.images[rows].astype(np.float32) / 255.0
        if self.augment:
            x = augment_batch(x, np.random.default_rng([0, index]))
        return x, self.labels[rows]


def pipeline_images_per_second(path: str, batch: int, steps: int, augment: bool, workers: int) -> float:
    model = keras.models.load_model(path)
    compile_for(model)
    shape = tuple(model.input_shape[1:])
    model.fit(SyntheticCache(shape, batch, 5, augment, workers), epochs=1, verbose=0)  # compile, start workers
    data = SyntheticCache(shape, batch, steps, augment, workers)
    started = time.perf_counter()
    model.fit(data, epochs=1, verbose=0)
    return batch * steps / (time.perf_counter() - started)


def densenet(policy: str):
    keras.mixed_precision.set_global_policy(policy)
    try:
        base = keras.applications.DenseNet121(include_top=False, weights=None, input_shape=(224, 224, 3), pooling="avg")
        out = keras.layers.Dense(1, activation="sigmoid", dtype="float32")(base.output)
        return keras.Model(base.input, out)
    finally:
        keras.mixed_precision.set_global_policy("float32")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, nargs="+", help="model.keras file(s) written by R")
    parser.add_argument("--skip-densenet", action="store_true", help="time only the given model(s)")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="input pipeline processes")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()

    devices = []
    if keras.backend.backend() == "jax":
        import jax

        devices = [str(d) for d in jax.devices()]
    results = {"backend": keras.backend.backend(), "devices": devices, "batch": args.batch, "steps": args.steps}
    for path in args.model:
        r_model = keras.models.load_model(path)
        plain = pipeline_images_per_second(path, args.batch, args.steps, False, args.workers)
        augmented = pipeline_images_per_second(path, args.batch, args.steps, True, args.workers)
        results[f"r_model:{path}"] = {
            "name": r_model.name, "input": list(r_model.input_shape[1:]), "parameters": int(r_model.count_params()),
            "random_layers": [layer.name for layer in r_model.layers if type(layer).__name__.startswith("Random")],
            "step_images_per_s": images_per_second(r_model, args.batch, args.steps),
            "pipeline": {"workers": args.workers, "plain_images_per_s": plain, "augmented_images_per_s": augmented,
                         "ratio": augmented / plain},
        }
    for policy in () if args.skip_densenet else ("float32", "mixed_bfloat16"):
        results[f"densenet121_224_{policy}"] = {
            "step_images_per_s": images_per_second(densenet(policy), args.batch, args.steps)
        }
    print(json.dumps(results, indent=2))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
