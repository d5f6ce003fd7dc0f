"""Training-step throughput on a GPU for the R-built model.keras, next to a plain
Keras DenseNet121 at 224 px, in the same run. Keras 3 with the JAX backend: no
TensorFlow and no R needed on the GPU machine.

    KERAS_BACKEND=jax python3 bench/gpu_train_steps.py --model _output/model.keras [--batch 64] [--steps 50]

The model is loaded as R saved it (its layers, input size and dtype), recompiled
with Adam and the loss its output implies, and trained on synthetic batches
already on the device, so the figure is the model's step rate, not the input
pipeline's. DenseNet121 (random weights, 3 channels, 224 px) runs in float32
and in mixed bfloat16.
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras  # noqa: E402
import numpy as np  # noqa: E402


def images_per_second(model, batch: int, steps: int, warmup: int = 5) -> float:
    shape = tuple(model.input_shape[1:])
    rng = np.random.default_rng(0)
    x = rng.random((batch, *shape), dtype=np.float32)
    classes = model.output_shape[-1]
    y = rng.integers(0, 2, (batch,)).astype(np.float32 if classes == 1 else np.int32)
    loss = "binary_crossentropy" if classes == 1 else "sparse_categorical_crossentropy"
    model.compile(optimizer=keras.optimizers.Adam(1e-4), loss=loss)
    for _ in range(warmup):  # compile and settle
        model.train_on_batch(x, y)
    started = time.perf_counter()
    for _ in range(steps):
        last = model.train_on_batch(x, y)  # returns a host float: each step is finished
    elapsed = time.perf_counter() - started
    assert np.all(np.isfinite(np.asarray(last, dtype=float)))
    return batch * steps / elapsed


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
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()

    devices = []
    if keras.backend.backend() == "jax":
        import jax

        devices = [str(d) for d in jax.devices()]
    results = {"backend": keras.backend.backend(), "devices": devices, "batch": args.batch}
    for path in args.model:
        r_model = keras.models.load_model(path)
        results[f"r_model:{path}"] = {"name": r_model.name, "input": list(r_model.input_shape[1:]),
                                      "parameters": int(r_model.count_params()),
                                      "images_per_s": images_per_second(r_model, args.batch, args.steps)}
    for policy in () if args.skip_densenet else ("float32", "mixed_bfloat16"):
        results[f"densenet121_224_{policy}"] = {"images_per_s": images_per_second(densenet(policy), args.batch, args.steps)}
    print(json.dumps(results, indent=2))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
