"""Peak memory of prepare, of streaming one epoch from the cache, and of training one epoch
of a small CNN on those batches, for 2,000 and 20,000 images (real 64 px NIH PNGs,
repeated), each measured in a fresh process.

    .venv/bin/python bench/memory_flat.py      (target: 20,000 within 10% of 2,000)
"""

import json
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

IMAGES = Path(__file__).resolve().parents[1].parent / "shared/data/nih/images-64"


def child(n: int, cache_dir: str) -> None:
    from chestxray.model.batches import CacheBatches
    from chestxray.preparation.cache import build_cache

    files = sorted(str(p) for p in IMAGES.rglob("*.png"))
    paths = [files[i % len(files)] for i in range(n)]
    cache = build_cache(paths, 64, cache_dir)
    after_prepare = (
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss + resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    )
    batches = CacheBatches(cache.path, range(n), [0] * n, batch_size=32, shuffle=True)
    for i in range(len(batches)):
        batches[i]
    after_epoch = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    import keras

    keras.utils.set_random_seed(0)
    inputs = keras.Input((64, 64, 1))
    x = inputs
    for filters in (16, 32, 64):
        x = keras.layers.MaxPooling2D(2)(keras.layers.Conv2D(filters, 3, padding="same", activation="relu")(x))
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(keras.layers.GlobalAveragePooling2D()(x)))
    model.compile("adam", "binary_crossentropy")
    labels = [i % 2 for i in range(n)]
    model.fit(CacheBatches(cache.path, range(n), labels, batch_size=32, shuffle=True), epochs=1, verbose=0)
    after_training = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"n": n, "prepare_kb": after_prepare, "epoch_kb": after_epoch, "training_kb": after_training}))


def measure(n: int) -> dict:
    cache_dir = tempfile.mkdtemp(prefix="memory-bench-")
    try:
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(n), cache_dir], capture_output=True, text=True, check=True
        )
        return json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(cache_dir)


def main() -> None:
    small, large = measure(2_000), measure(20_000)
    for key in ("prepare_kb", "epoch_kb", "training_kb"):
        ratio = large[key] / small[key]
        print(
            f"{key[:-3]}: peak RSS {small[key] / 1024:.0f} MB for 2,000 images, {large[key] / 1024:.0f} MB for "
            f"20,000; ratio {ratio:.2f}"
        )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(int(sys.argv[2]), sys.argv[3])
    else:
        main()
