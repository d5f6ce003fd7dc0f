"""Bounded, seeded fuzzing of the readers on damaged variants of the real fixtures.

Each reader gets truncated, bit-flipped and header-forged copies of real files
(NIH PNGs, grey and RGBA, the paediatric JPEG, slices of NIH's metadata, split
list and an organised manifest). Every outcome must be a correct result or the
project's named per-file error; any other exception fails the test and the
offending bytes are kept in the test's tmp_path with the case's seed.

Outcomes are asserted both ways, so neither a reader that refuses everything nor
one that accepts everything passes: the undamaged originals must read and pass
the same checks, and the damaged cases must give some results and some errors.
The budget is a number of cases, not seconds, so a loaded machine runs the same
cases, only slower (the last tests below run the harness on such readers).
"""

import functools
import gzip
import io
import os
import random
import re
import sys

import numpy as np
import pandas as pd
import pytest

from chestxray.preparation.images import ImageReadError, load_grey
from chestxray.preparation.organize import ManifestError, organize, read_manifest
from chestxray.sources.folders import DatasetError, read_class_folders
from chestxray.sources.metadata import MetadataError, read_image_list, read_metadata, select_task

from conftest import NIH_IMAGES, fixture
from forge import PNG_SIGNATURE, flip_bits, forge_jpeg_size, forge_png_size, truncate

# A longer hunt: CHESTXRAY_FUZZ_SEED=1 CHESTXRAY_FUZZ_CASES=20000 pytest tests/test_fuzz.py
SEED = int(os.environ.get("CHESTXRAY_FUZZ_SEED", 20261127))
CASES = int(os.environ.get("CHESTXRAY_FUZZ_CASES", 300))  # damaged files per reader
MIN_SHARE = 0.05  # of the cases, at least this share must give each outcome
SIZE = 32
GZIP_MAGIC = b"\x1f\x8b"
FORGED_SIDES = [0, 1, 3, 255, 4096, 65_535, 100_000, 2**31 - 1]


def real_images():
    labels = pd.read_csv(fixture("nih", "images", "labels.csv"))
    small = labels[labels["width"] == 128]
    names = [small.loc[small["mode"] == "L", "file"].iloc[0], small.loc[small["mode"] == "L", "file"].iloc[1],
             small.loc[small["mode"] == "RGBA", "file"].iloc[0]]
    return [(NIH_IMAGES / name).read_bytes() for name in names] + [
        next(fixture("other-cxr").glob("*.jpeg")).read_bytes()
    ]


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
    if kind == "forge_fields" and data.startswith(
        PNG_SIGNATURE
    ):  # bit depth, colour type, compression, filter, interlace
        fields = bytes(rng.randrange(256) if rng.random() < 0.5 else b for b in data[24:29])
        return forge_png_size(data[:24] + fields + data[29:], *np.frombuffer(data[16:24], ">u4").tolist())
    return data[: rng.randrange(8, len(data))] + rng.randbytes(rng.randrange(1, 512))


def check(path, outcome, allowed, validate):
    """Run ``outcome``; a named error passes, anything else must pass ``validate``."""
    try:
        result = outcome()
    except allowed:
        return "error"
    except Exception as error:  # noqa: BLE001 - the point of the test
        raise AssertionError(
            f"{path.name}: unexpected {type(error).__name__}: {error} (bytes kept in {path})"
        ) from error
    validate(result)
    return "result"


def fuzz(sources, damage, seed, write, read, allowed, validate):
    """Read each undamaged source, which must give a valid result; then CASES damaged variants
    (each reproducible alone from its case seed), which must give a valid result or ``allowed``.
    ``write(data, name)`` puts the bytes where ``read(path)`` reads them. Asserts both outcomes."""
    for i, data in enumerate(sources):
        path = write(data, f"original-{i}")
        try:
            result = read(path)
        except allowed as error:
            raise AssertionError(f"the undamaged source {i} was refused: {error}") from error
        validate(result)
    seen = {"error": 0, "result": 0}
    master = random.Random(seed)
    for _ in range(CASES):
        case_seed = master.randrange(2**32)
        rng = random.Random(case_seed)
        path = write(damage(rng.choice(sources), rng), f"case-{case_seed}")
        seen[check(path, functools.partial(read, path), allowed, validate)] += 1
        path.unlink()
    assert min(seen.values()) >= MIN_SHARE * CASES, f"one outcome (almost) never happened: {seen}"
    return seen


def writer(folder, suffix_of):
    def write(data, name):
        path = folder / f"{name}{suffix_of(data)}"
        path.write_bytes(data)
        return path
    return write


def image_ok(pixels):
    assert pixels.shape == (SIZE, SIZE) and pixels.dtype == np.uint8


def image_reader(tmp_path, request):
    def png_or_jpeg(data):
        return ".png" if data.startswith(PNG_SIGNATURE[:4]) else ".jpeg"

    return dict(sources=real_images(), damage=damaged_image, seed=SEED, write=writer(tmp_path, png_or_jpeg),
                read=lambda path: load_grey(path, SIZE), allowed=ImageReadError, validate=image_ok)


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.filterwarnings("ignore::UserWarning:PIL.TiffImagePlugin")  # damaged EXIF in the forged JPEGs
def test_decoder_gives_an_image_or_its_read_error(tmp_path, request):
    fuzz(**image_reader(tmp_path, request))


def damaged_text(data: bytes, rng: random.Random) -> bytes:
    """A CSV or list damaged as text (header forged, rows repeated, bytes inserted) or as bytes."""
    lines = data.split(b"\n")
    kind = rng.choice(
        ["truncate", "flip", "rename_column", "drop_column", "repeat_row", "insert", "gzip_damaged", "blank_fields"]
    )
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
        return (
            data[:at]
            + rng.choice([b'"', b"\x00", b",,,", b"\n", b"\r", b"\xff\xfe", b"nan", b"-1", b"1e400"])
            + data[at:]
        )
    if kind == "blank_fields":
        i = rng.randrange(1, max(2, len(lines) - 1))
        lines[i] = b"," * lines[i].count(b",")
        return b"\n".join(lines)
    packed = gzip.compress(data)
    return truncate(packed, rng) if rng.random() < 0.5 else flip_bits(packed, rng, rng.randint(1, 8))


def csv_slice(name, rows):
    with gzip.open(fixture("nih", "metadata", name), "rb") as f:
        return b"".join(f.readline() for _ in range(rows + 1))


def metadata_ok(table):
    assert {"image", "finding_labels", "patient_id"} <= set(table.columns)
    assert table["image"].is_unique and (table["image"].str.strip() != "").all()
    assert (table["patient_id"] != "").all() and (table["finding_labels"].str.strip() != "").all()
    select_task(table, "Pneumothorax", match="any")  # what organize does next


def metadata_reader(tmp_path, request):
    def csv_or_gz(data):
        return ".csv.gz" if data.startswith(GZIP_MAGIC) else ".csv"

    return dict(sources=[csv_slice("Data_Entry_2017_v2020.csv.gz", 200)], damage=damaged_text, seed=SEED + 1,
                write=writer(tmp_path, csv_or_gz), read=read_metadata, allowed=MetadataError, validate=metadata_ok)


def test_metadata_reader_gives_a_usable_table_or_a_metadata_error(tmp_path, request):
    fuzz(**metadata_reader(tmp_path, request))


def names_ok(names):
    assert names and all(isinstance(n, str) and n == n.strip() and n for n in names)


def split_list_reader(tmp_path, request):
    return dict(
        sources=[csv_slice("test_list.txt.gz", 300)],
        damage=damaged_text,
        seed=SEED + 2,
        write=writer(tmp_path, lambda data: ".txt"),
        read=read_image_list,
        allowed=MetadataError,
        validate=names_ok,
    )


def test_split_list_reader_gives_names_or_a_metadata_error(tmp_path, request):
    fuzz(**split_list_reader(tmp_path, request))


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


def manifest_ok(table):
    assert table["path"].map(lambda p: isinstance(p, str) and p.startswith("/")).all()
    assert set(table["label"]) <= {0, 1} and table["image"].is_unique
    assert (table["patient_id"].str.strip() != "").all()


def manifest_reader(tmp_path, request):
    (tmp_path / "task").mkdir()
    return dict(sources=[request.getfixturevalue("real_manifest")], damage=damaged_text, seed=SEED + 3,
                write=writer(tmp_path / "task", lambda data: ".csv"), allowed=ManifestError, validate=manifest_ok,
                read=lambda path: read_manifest(path, required=("path", "image", "patient_id", "label")))


def test_manifest_reader_gives_a_usable_table_or_a_manifest_error(tmp_path, request):
    fuzz(**manifest_reader(tmp_path, request))


def class_folders_reader(tmp_path, request):
    """Class folders of six real images; the damaged bytes become their metadata.csv."""
    names = sorted(p.name for p in NIH_IMAGES.glob("*.png"))[:6]
    for folder, chosen in (("Pneumothorax", names[:3]), ("No-Finding", names[3:])):
        (tmp_path / folder).mkdir()
        for name in chosen:
            (tmp_path / folder / name).symlink_to(NIH_IMAGES / name)
    source = pd.DataFrame({"image": names, "patient_id": [f"p{i % 4}" for i in range(6)], "view_position": ["PA"] * 6})
    buffer = io.StringIO()
    source.to_csv(buffer, index=False)

    def write(data, name):
        (tmp_path / "metadata.csv").write_bytes(data)
        return tmp_path / "metadata.csv"

    def table_ok(table):
        assert sorted(table["image"]) == names and table["patient_id"].notna().all()

    return dict(sources=[buffer.getvalue().encode()], damage=damaged_text, seed=SEED + 4, write=write,
                read=lambda path: read_class_folders(path.parent), allowed=DatasetError, validate=table_ok)


def test_class_folder_metadata_gives_a_table_or_a_dataset_error(tmp_path, request):
    fuzz(**class_folders_reader(tmp_path, request))


READERS = [image_reader, metadata_reader, split_list_reader, manifest_reader, class_folders_reader]


@pytest.mark.parametrize("reader", READERS, ids=lambda r: r.__name__)
def test_a_reader_that_refuses_everything_fails_the_fuzzing(tmp_path, request, reader):
    spec = reader(tmp_path, request)

    def refuse(path):
        raise spec["allowed"](f"refused {path.name}")

    with pytest.raises(AssertionError, match="the undamaged source 0 was refused"):
        fuzz(**{**spec, "read": refuse})


@pytest.mark.parametrize("reader", READERS, ids=lambda r: r.__name__)
def test_a_reader_that_accepts_everything_fails_the_fuzzing(tmp_path, request, reader, monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], "CASES", 40)
    spec = reader(tmp_path, request)
    valid = spec["read"](spec["write"](spec["sources"][0], "probe"))  # what the undamaged file gives

    with pytest.raises(
        AssertionError, match=re.escape("one outcome (almost) never happened: {'error': 0, 'result': 40}")
    ):
        fuzz(**{**spec, "read": lambda path: valid})
