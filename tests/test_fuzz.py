"""Bounded, seeded fuzzing of the readers on damaged variants of the real fixtures.

Each reader gets truncated, bit-flipped and header-forged copies of real files
(NIH PNGs, grey and RGBA, the paediatric JPEG, slices of NIH's metadata, split
list and an organised manifest). Every outcome must be a correct result or the
project's named per-file error; any other exception fails the test and the
offending bytes are kept in the test's tmp_path with the case's seed.
"""

import gzip
import io
import os
import random
import time

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from chestxray.folders import DatasetError, read_class_folders
from chestxray.images import ImageReadError, load_grey
from chestxray.metadata import MetadataError, read_image_list, read_metadata, select_task
from chestxray.organize import ManifestError, organize, read_manifest

from conftest import NIH_IMAGES, fixture
from forge import PNG_SIGNATURE, flip_bits, forge_jpeg_size, forge_png_size, truncate

# A longer hunt: CHESTXRAY_FUZZ_SEED=1 CHESTXRAY_FUZZ_SECONDS=60 pytest tests/test_fuzz.py
SEED = int(os.environ.get("CHESTXRAY_FUZZ_SEED", 20261127))
BUDGET_S = float(os.environ.get("CHESTXRAY_FUZZ_SECONDS", 2.0))  # per reader: a few seconds of the test run
MAX_CASES = 400 if "CHESTXRAY_FUZZ_SECONDS" not in os.environ else 10**9
SIZE = 32
GZIP_MAGIC = b"\x1f\x8b"
FORGED_SIDES = [0, 1, 3, 255, 4096, 65_535, 100_000, 2**31 - 1]


def real_images():
    labels = pd.read_csv(fixture("nih", "images", "labels.csv"))
    small = labels[labels["width"] == 128]
    names = [small.loc[small["mode"] == "L", "file"].iloc[0], small.loc[small["mode"] == "L", "file"].iloc[1],
             small.loc[small["mode"] == "RGBA", "file"].iloc[0]]
    return [(NIH_IMAGES / name).read_bytes() for name in names] + [next(fixture("other-cxr").glob("*.jpeg")).read_bytes()]


def damaged_image(data: bytes, rng: random.Random) -> bytes:
    kind = rng.choice(["truncate", "flip", "flip_header", "forge_size", "forge_fields", "garbage_tail"])
    if kind == "truncate":
        return truncate(data, rng)
    if kind == "flip":
        return flip_bits(data, rng, rng.randint(1, 16))
    if kind == "flip_header":
        head = flip_bits(data[:64], rng, rng.randint(1, 4))
        return head + data[64:]
    if kind == "forge_size":
        width, height = rng.choice(FORGED_SIDES), rng.choice(FORGED_SIDES)
        if data.startswith(PNG_SIGNATURE):
            return forge_png_size(data, width, height)
        return forge_jpeg_size(data, width & 0xFFFF, height & 0xFFFF)  # 16-bit fields in JPEG
    if kind == "forge_fields" and data.startswith(PNG_SIGNATURE):  # bit depth, colour type, compression, filter, interlace
        fields = bytes(rng.randrange(256) if rng.random() < 0.5 else b for b in data[24:29])
        return forge_png_size(data[:24] + fields + data[29:], *np.frombuffer(data[16:24], ">u4").tolist())
    return data[: rng.randrange(8, len(data))] + rng.randbytes(rng.randrange(1, 512))


def cases(make, sources, seed):
    """(case seed, damaged bytes) until the budget or MAX_CASES is spent; each case reproducible alone."""
    deadline = time.monotonic() + BUDGET_S
    master = random.Random(seed)
    for _ in range(MAX_CASES):
        if time.monotonic() > deadline:
            return
        case_seed = master.randrange(2**32)
        rng = random.Random(case_seed)
        yield case_seed, make(rng.choice(sources), rng)


def check(path, outcome, allowed, validate):
    """Run ``outcome``; a named error passes, anything else must pass ``validate``."""
    try:
        result = outcome()
    except allowed:
        return "error"
    except Exception as error:  # noqa: BLE001 - the point of the test
        raise AssertionError(f"{path.name}: unexpected {type(error).__name__}: {error} (bytes kept in {path})") from error
    validate(result)
    return "result"


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.filterwarnings("ignore::UserWarning:PIL.TiffImagePlugin")  # damaged EXIF in the forged JPEGs
def test_decoder_gives_an_image_or_its_read_error(tmp_path):
    def image_ok(pixels):
        assert pixels.shape == (SIZE, SIZE) and pixels.dtype == np.uint8

    seen = {"error": 0, "result": 0}
    for case_seed, data in cases(damaged_image, real_images(), SEED):
        suffix = ".png" if data.startswith(PNG_SIGNATURE[:4]) else ".jpeg"
        path = tmp_path / f"case-{case_seed}{suffix}"
        path.write_bytes(data)
        seen[check(path, lambda: load_grey(path, SIZE), ImageReadError, image_ok)] += 1
        path.unlink()
    assert seen["error"] > 10 and seen["result"] > 10, seen  # both kinds of outcome were exercised


def damaged_text(data: bytes, rng: random.Random) -> bytes:
    """A CSV or list damaged as text (header forged, rows repeated, bytes inserted) or as bytes."""
    lines = data.split(b"\n")
    kind = rng.choice(["truncate", "flip", "rename_column", "drop_column", "repeat_row", "insert", "gzip_damaged", "blank_fields"])
    if kind == "truncate":
        return truncate(data, rng)
    if kind == "flip":
        return flip_bits(data, rng, rng.randint(1, 24))
    if kind in ("rename_column", "drop_column"):
        header = lines[0].split(b",")
        i = rng.randrange(len(header))
        if kind == "drop_column":
            del header[i]
        else:
            header[i] = rng.choice([b"", b"Image index", b"Patient ID", b"path", b"label", b'"', header[i] + b" "])
        return b"\n".join([b",".join(header), *lines[1:]])
    if kind == "repeat_row":
        i = rng.randrange(1, max(2, len(lines) - 1))
        return b"\n".join(lines[: i + 1] + [lines[i]] + lines[i + 1 :])
    if kind == "insert":
        at = rng.randrange(len(data))
        return data[:at] + rng.choice([b'"', b"\x00", b",,,", b"\n", b"\r", b"\xff\xfe", b"nan", b"-1", b"1e400"]) + data[at:]
    if kind == "blank_fields":
        i = rng.randrange(1, max(2, len(lines) - 1))
        lines[i] = b"," * lines[i].count(b",")
        return b"\n".join(lines)
    packed = gzip.compress(data)
    return truncate(packed, rng) if rng.random() < 0.5 else flip_bits(packed, rng, rng.randint(1, 8))


def csv_slice(name, rows):
    with gzip.open(fixture("nih", "metadata", name), "rb") as f:
        return b"".join(f.readline() for _ in range(rows + 1))


def test_metadata_reader_gives_a_usable_table_or_a_metadata_error(tmp_path):
    def table_ok(table):
        assert {"image", "finding_labels", "patient_id"} <= set(table.columns)
        assert table["image"].is_unique and (table["image"].str.strip() != "").all()
        assert (table["patient_id"] != "").all() and (table["finding_labels"].str.strip() != "").all()
        select_task(table, "Pneumothorax", match="any")  # what organize does next

    sources = [csv_slice("Data_Entry_2017_v2020.csv.gz", 200)]
    for case_seed, data in cases(damaged_text, sources, SEED + 1):
        suffix = ".csv.gz" if data.startswith(GZIP_MAGIC) else ".csv"
        path = tmp_path / f"case-{case_seed}{suffix}"
        path.write_bytes(data)
        check(path, lambda: read_metadata(path), MetadataError, table_ok)
        path.unlink()


def test_split_list_reader_gives_names_or_a_metadata_error(tmp_path):
    def names_ok(names):
        assert names and all(isinstance(n, str) and n == n.strip() and n for n in names)

    sources = [csv_slice("test_list.txt.gz", 300)]
    for case_seed, data in cases(damaged_text, sources, SEED + 2):
        path = tmp_path / f"case-{case_seed}.txt"
        path.write_bytes(data)
        check(path, lambda: read_image_list(path), MetadataError, names_ok)
        path.unlink()


@pytest.fixture(scope="module")
def real_manifest(tmp_path_factory):
    """manifest.csv of the fixture images, organised from the real metadata."""
    root = tmp_path_factory.mktemp("organised")
    images = root / "images"
    images.mkdir()
    for path in NIH_IMAGES.glob("*.png"):
        (images / path.name).symlink_to(path)
    report = organize(fixture("nih", "metadata", "Data_Entry_2017_v2020.csv.gz"), images, root / "task",
                      match="any", test_list=fixture("nih", "metadata", "test_list.txt.gz"))
    return report.manifest.read_bytes()


def test_manifest_reader_gives_a_usable_table_or_a_manifest_error(tmp_path, real_manifest):
    def manifest_ok(table):
        assert table["path"].map(lambda p: isinstance(p, str) and p.startswith("/")).all()
        assert set(table["label"]) <= {0, 1} and table["image"].is_unique
        assert (table["patient_id"].str.strip() != "").all()

    (tmp_path / "task").mkdir()
    for case_seed, data in cases(damaged_text, [real_manifest], SEED + 3):
        path = tmp_path / "task" / f"case-{case_seed}.csv"
        path.write_bytes(data)
        check(path, lambda: read_manifest(path, required=("path", "image", "patient_id", "label")), ManifestError, manifest_ok)
        path.unlink()


def test_class_folder_metadata_gives_a_table_or_a_dataset_error(tmp_path):
    names = sorted(p.name for p in NIH_IMAGES.glob("*.png"))[:6]
    for folder, chosen in (("Pneumothorax", names[:3]), ("No-Finding", names[3:])):
        (tmp_path / folder).mkdir()
        for name in chosen:
            (tmp_path / folder / name).symlink_to(NIH_IMAGES / name)
    source = pd.DataFrame({"image": names, "patient_id": [f"p{i % 4}" for i in range(6)], "view_position": ["PA"] * 6})
    buffer = io.StringIO()
    source.to_csv(buffer, index=False)

    def table_ok(table):
        assert sorted(table["image"]) == names and table["patient_id"].notna().all()

    for case_seed, data in cases(damaged_text, [buffer.getvalue().encode()], SEED + 4):
        (tmp_path / "metadata.csv").write_bytes(data)
        check(tmp_path / "metadata.csv", lambda: read_class_folders(tmp_path), DatasetError, table_ok)
