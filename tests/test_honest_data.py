"""What the split rests on: the test split keeps the data's prevalence (the cap governs
training), patients that are unknown are counted, identical files across splits are found."""

import hashlib
import os
import shutil

import pandas as pd
import pytest

from chestxray.dataset import prepare_dataset, prepare_table
from chestxray.folders import read_class_folders

from conftest import NIH_IMAGES, fixture


def nih_folders(root, rename=lambda name: name):
    labels = pd.read_csv(fixture("nih", "images", "labels.csv"))
    for folder, mask in (("Pneumothorax", labels["pneumothorax_any"] == 1), ("No-Finding", labels["no_finding"] == 1)):
        (root / folder).mkdir(parents=True)
        for name in labels.loc[mask, "file"]:
            os.symlink(NIH_IMAGES / name, root / folder / rename(name))
    return root


def test_cap_governs_training_and_test_keeps_the_data_prevalence(tmp_path):
    data = nih_folders(tmp_path / "data")  # 22 pneumothorax, 50 no finding: prevalence 0.31
    prepared = prepare_dataset("folder", str(data), 8, 32, 3, cache_dir=str(tmp_path / "cache"))
    table = prepared.table
    for split in ("train", "validation"):
        counts = table[table["split"] == split]["label"].value_counts()
        assert counts.max() <= 8
    test = table[table["split"] == "test"]
    eligible = prepared.eligible["test"]
    assert len(test) == eligible["images"] and test["label"].sum() == eligible["positives"]
    assert sum(v["images"] for v in prepared.eligible.values()) == 72
    assert test["label"].mean() < 0.5  # the data's imbalance, not a balanced sample
    assert (table.groupby("patient_id")["split"].nunique() == 1).all()


def test_unknown_patients_are_counted(tmp_path):
    data = nih_folders(tmp_path / "data", rename=lambda name: f"scan-{name}")  # no NIH names, no metadata
    table = read_class_folders(data)
    assert set(table["patient_source"]) == {"unknown"}
    assert table["patient_id"].nunique() == len(table)  # each image its own patient
    listed = table["image"].head(10)
    pd.DataFrame({"image": listed, "patient_id": ["p1"] * 5 + ["p2"] * 5}).to_csv(data / "metadata.csv", index=False)
    prepared = prepare_dataset("folder", str(data), 100, 32, 3, cache_dir=str(tmp_path / "cache"))
    integrity = prepared.integrity()
    assert integrity["images_with_unknown_patient"] == 72 - 10
    assert integrity["patient_sources"] == {"unknown": 62, "metadata": 10}


def test_nih_names_give_known_patients(tmp_path):
    table = read_class_folders(nih_folders(tmp_path / "data"))
    assert set(table["patient_source"]) == {"nih_file_name"}


def test_identical_files_in_two_splits_are_found(tmp_path):
    names = sorted(p.name for p in NIH_IMAGES.glob("*.png"))[:6]
    copy = tmp_path / "copy-of-first.png"
    shutil.copyfile(NIH_IMAGES / names[0], copy)
    table = pd.DataFrame({
        "path": [str(NIH_IMAGES / n) for n in names] + [str(copy)],
        "image": names + [copy.name], "label": [1, 0, 1, 0, 1, 0, 1],
        "patient_id": list("abcdefg"), "split": ["train", "train", "validation", "validation", "test", "test", "test"],
    })
    prepared = prepare_table(table, 32, 0, cache_dir=str(tmp_path / "cache"))
    expected = hashlib.sha256((NIH_IMAGES / names[0]).read_bytes()).hexdigest()
    assert prepared.table.loc[prepared.table["image"] == copy.name, "content_sha256"].item() == expected
    groups = prepared.integrity()["identical_images_across_splits"]
    assert groups == [{"content_sha256": expected, "images": sorted([names[0], copy.name]), "splits": ["test", "train"]}]
