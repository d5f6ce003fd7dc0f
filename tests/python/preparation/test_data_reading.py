"""Class folders, patient-wise split, image decoding, cache and batches."""

import os

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from chestxray.model.batches import split_batches
from chestxray.preparation.cache import build_cache, open_cache
from chestxray.preparation.dataset import prepare_dataset, sample_per_class
from chestxray.preparation.images import ImageReadError, load_grey
from chestxray.preparation.split import TooFewPatientsError, patient_split
from chestxray.sources.folders import DatasetError, read_class_folders

from conftest import NIH_IMAGES, fixture
from decode import decode_by_hand


def nih_class_folders(root, n_positive=8, n_negative=12):
    """Class folders of symbolic links to the real NIH images (read in place)."""
    labels = pd.read_csv(fixture("nih", "images", "labels.csv"))
    for class_name, folder, n in (
        ("Pneumothorax", "Pneumothorax", n_positive),
        ("No Finding", "No-Finding", n_negative),
    ):
        (root / folder).mkdir(parents=True)
        for name in labels.loc[labels["finding_labels"] == class_name, "file"].head(n):
            os.symlink(NIH_IMAGES / name, root / folder / name)
    return root


def test_reads_real_nih_folders_with_patients_from_names(tmp_path):
    table = read_class_folders(nih_class_folders(tmp_path))
    assert (table["label"] == 1).sum() == 8 and (table["label"] == 0).sum() == 12
    labels = pd.read_csv(fixture("nih", "images", "labels.csv")).set_index("file")
    expected = table["image"].map(labels["patient_id"]).astype(str)
    assert (table["patient_id"] == expected).all()


def test_missing_class_folder_is_named(tmp_path):
    (tmp_path / "Pneumothorax").mkdir()
    Image.new("L", (8, 8)).save(tmp_path / "Pneumothorax" / "a.png")
    (tmp_path / "Normal").mkdir()
    with pytest.raises(DatasetError, match="No-Finding.*found: \\['Normal', 'Pneumothorax'\\]"):
        read_class_folders(tmp_path)


def test_empty_class_folder_and_missing_dir(tmp_path):
    (tmp_path / "Pneumothorax").mkdir()
    (tmp_path / "No-Finding").mkdir()
    with pytest.raises(DatasetError, match="holds no PNG or JPEG"):
        read_class_folders(tmp_path)
    with pytest.raises(DatasetError, match="does not exist"):
        read_class_folders(tmp_path / "nowhere")


def test_image_in_both_classes_is_rejected(tmp_path):
    for folder in ("Pneumothorax", "No-Finding"):
        (tmp_path / folder).mkdir()
        Image.new("L", (8, 8)).save(tmp_path / folder / "same.png")
    with pytest.raises(DatasetError, match="'same.png' is in both"):
        read_class_folders(tmp_path)


def test_metadata_supplies_patients(tmp_path):
    for folder, name in (("Pneumothorax", "x1.png"), ("No-Finding", "x2.png")):
        (tmp_path / folder).mkdir()
        Image.new("L", (8, 8)).save(tmp_path / folder / name)
    pd.DataFrame({"image": ["x1.png", "x2.png"], "patient_id": ["p9", "p9"], "view_position": ["AP", "PA"]}).to_csv(
        tmp_path / "metadata.csv", index=False
    )
    table = read_class_folders(tmp_path)
    assert list(table["patient_id"]) == ["p9", "p9"]
    assert list(table["view_position"]) == ["AP", "PA"]


@pytest.mark.parametrize("seed", [0, 1, 7, 42, 2024])
def test_split_never_shares_a_patient(seed):
    rng = np.random.default_rng(seed)
    table = pd.DataFrame({"patient_id": rng.integers(0, 300, 1000).astype(str), "label": rng.integers(0, 2, 1000)})
    split = patient_split(table, seed=seed)
    assert (split.groupby("patient_id")["split"].nunique() == 1).all()
    shares = split["split"].value_counts(normalize=True)
    assert 0.6 < shares["train"] < 0.8 and 0.08 < shares["test"] < 0.22
    for part in ("train", "validation", "test"):
        assert set(split.loc[split["split"] == part, "label"]) == {0, 1}


def test_split_is_reproducible_and_seed_dependent():
    table = pd.DataFrame({"patient_id": [str(i // 2) for i in range(200)], "label": [i % 2 for i in range(200)]})
    assert patient_split(table, 3)["split"].equals(patient_split(table, 3)["split"])
    assert not patient_split(table, 3)["split"].equals(patient_split(table, 4)["split"])


def test_split_too_small_says_what_it_lacks():
    table = pd.DataFrame({"patient_id": ["a", "b", "c", "d"], "label": [1, 0, 1, 0]})
    with pytest.raises(TooFewPatientsError, match="split has no images: every split needs both classes and takes "
                                                  "whole patients, so the data needs more patients of each class$"):
        patient_split(table, 0)


def test_too_few_demo_phantoms_are_answered_with_n_per_class(tmp_path):
    with pytest.raises(TooFewPatientsError, match=r"more patients of each class; use more images per class "
                                                  r"\(n_per_class\): the demo makes one phantom patient per image$"):
        prepare_dataset("demo", str(tmp_path / "demo"), 2, 32, 5, cache_dir=str(tmp_path / "cache"))


def test_too_few_patients_in_your_folders_are_answered_with_the_folders_not_n_per_class(tmp_path):
    for folder, value in (("Pneumothorax", 200), ("No-Finding", 20)):
        (tmp_path / "data" / folder).mkdir(parents=True)
        for i in range(2):
            Image.new("L", (40, 40), value + i).save(tmp_path / "data" / folder / f"{folder}-{i}.png")
    with pytest.raises(TooFewPatientsError) as refused:
        prepare_dataset("folder", str(tmp_path / "data"), 300, 32, 5, cache_dir=str(tmp_path / "cache"))
    assert str(refused.value).endswith("; add images of the missing class, from more patients, to the class folders")
    assert "n_per_class" not in str(refused.value)  # more images per class cannot help: the folders hold 2 each


def test_decodes_real_rgba_and_grey_nih_images():
    labels = pd.read_csv(fixture("nih", "images", "labels.csv"))
    rgba = labels.loc[labels["mode"] == "RGBA", "file"].iloc[0]
    grey = labels.loc[labels["mode"] == "L", "file"].iloc[0]
    for name in (rgba, grey):
        pixels = load_grey(NIH_IMAGES / name, 64)
        assert pixels.shape == (64, 64) and pixels.dtype == np.uint8
        assert pixels.std() > 10  # real anatomy, not a flat or black frame
        assert np.abs(pixels - decode_by_hand(NIH_IMAGES / name, 64)).max() <= 1.5  # luma, alpha, 2x2 means


def test_decodes_16_bit_and_jpeg(tmp_path):
    ramp = (np.linspace(0, 4095, 64 * 64).reshape(64, 64)).astype(np.uint16)
    Image.fromarray(ramp).save(tmp_path / "deep.png")
    out = load_grey(tmp_path / "deep.png", 32)
    assert out.min() < 10 and out.max() > 245  # own range stretched to 8 bits
    jpeg = next(fixture("other-cxr").rglob("*.jpeg"))
    assert load_grey(jpeg, 48).shape == (48, 48)


def test_corrupt_file_names_its_path(tmp_path):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    with pytest.raises(ImageReadError, match="broken.png"):
        load_grey(bad, 32)


def test_cache_matches_decoder_and_is_reused(tmp_path):
    paths = sorted(str(p) for p in NIH_IMAGES.glob("*.png"))[:6]
    cache = build_cache(paths, 32, tmp_path)
    assert cache.valid.all() and not cache.failed
    assert np.load(cache.path).shape == (6, 32, 32)  # a plain .npy file
    reader = open_cache(cache.path)
    assert all(np.array_equal(reader[i][0], load_grey(p, 32)) for i, p in enumerate(paths))
    mtime = cache.path.stat().st_mtime_ns
    assert build_cache(paths, 32, tmp_path).path == cache.path and cache.path.stat().st_mtime_ns == mtime
    assert not list(tmp_path.rglob("*.partial"))


def test_prepared_demo_streams_batches(tmp_path):
    prepared = prepare_dataset("demo", str(tmp_path / "demo"), 20, 40, 5, cache_dir=str(tmp_path / "cache"))
    assert prepared.image_size == 40  # what the model is built for, read from the cache
    batches = split_batches(prepared, "train", batch_size=8, shuffle=True)
    images, labels = batches[0]
    assert images.shape == (8, 40, 40, 1) and images.dtype == np.float32
    assert 0.0 <= images.min() and images.max() <= 1.0
    total = sum(len(batches[i][1]) for i in range(len(batches)))
    assert total == (prepared.table["split"] == "train").sum()
    first_epoch = batches[0][1].copy()
    again = split_batches(prepared, "train", batch_size=8, shuffle=True)[0][1]
    assert np.array_equal(first_epoch, again)  # seeded order


def test_sample_per_class_caps_each_class():
    table = pd.DataFrame({"image": [f"{i}.png" for i in range(30)], "label": [1] * 5 + [0] * 25})
    sampled = sample_per_class(table, 10, seed=1)
    assert (sampled["label"] == 1).sum() == 5 and (sampled["label"] == 0).sum() == 10


def test_decodes_every_real_image_of_the_shared_data():
    """The fixture tests above, widened to every real image the team's machines hold
    (1,200 NIH files at 64 to 1,024 px, grey, RGB and RGBA; other hospitals' PNG/JPEG)."""
    from conftest import shared_data

    paths = sorted(p for p in shared_data().rglob("*") if p.suffix.lower() in (".png", ".jpg", ".jpeg"))
    assert len(paths) > 1_000
    for path in paths:
        pixels = load_grey(path, 32)
        assert pixels.shape == (32, 32) and pixels.dtype == np.uint8, path
        assert pixels.std() > 5, f"{path} decoded to a flat frame"


def test_prepared_manifest_has_absolute_paths(tmp_path, monkeypatch):
    """A relative data_dir still gives a manifest that means the same from any folder."""
    monkeypatch.chdir(tmp_path)
    prepare_dataset("demo", "demo", 20, 32, 5, cache_dir="cache", manifest_path="out/manifest.csv")
    paths = pd.read_csv(tmp_path / "out" / "manifest.csv")["path"]
    assert all(os.path.isabs(p) and os.path.exists(p) for p in paths)


def two_class_folders(root):
    for folder, name in (("Pneumothorax", "x1.png"), ("No-Finding", "x2.png")):
        (root / folder).mkdir()
        Image.new("L", (8, 8)).save(root / folder / name)
    return root


def test_folder_metadata_that_is_empty_or_unparsable_is_named(tmp_path):
    two_class_folders(tmp_path)
    (tmp_path / "metadata.csv").write_text("")
    with pytest.raises(DatasetError, match="metadata.csv.*empty"):
        read_class_folders(tmp_path)
    (tmp_path / "metadata.csv").write_bytes(b"image,patient_id\n\xff\xfe\x00bad,\"unclosed\n")
    with pytest.raises(DatasetError, match="metadata.csv"):
        read_class_folders(tmp_path)


def test_folder_metadata_listing_an_image_twice_is_rejected(tmp_path):
    two_class_folders(tmp_path)
    pd.DataFrame({"image": ["x1.png", "x1.png", "x2.png"], "patient_id": ["p1", "p2", "p3"]}).to_csv(
        tmp_path / "metadata.csv", index=False
    )
    with pytest.raises(DatasetError, match="x1.png"):
        read_class_folders(tmp_path)
