"""File names are matched the same way everywhere: .png, .jpg and .jpeg in any case are
images, and an NIH name (00012345_001.png) gives its patient whatever the case."""

import io
import os
import shutil
import tarfile

import pandas as pd
import pytest

from chestxray.model.predict import expand_paths
from chestxray.preparation.organize import organize
from chestxray.sources.download import _BadContent, _check_split_list
from chestxray.sources.extract import extract_all
from chestxray.sources.folders import read_class_folders

from conftest import NIH_IMAGES, fixture

PNG = NIH_IMAGES / "00000100_000.png"
JPEG = fixture("other-cxr", "NORMAL2-IM-1438-0001.jpeg")
SPELLINGS = {"a.PNG": PNG, "b.Png": PNG, "c.jpeg": JPEG, "d.JPG": JPEG, "e.Jpeg": JPEG}


def folder_of_spellings(folder):
    folder.mkdir(parents=True)
    for name, source in SPELLINGS.items():
        shutil.copyfile(source, folder / name)
    (folder / "notes.txt").write_text("not an image")
    return folder


def test_class_folders_take_every_spelling_of_png_and_jpeg(tmp_path):
    folder_of_spellings(tmp_path / "Pneumothorax")
    folder_of_spellings(tmp_path / "No-Finding")
    os.rename(tmp_path / "No-Finding" / "a.PNG", tmp_path / "No-Finding" / "z.PNG")  # names differ per class
    for name in SPELLINGS:
        if name != "a.PNG":
            os.rename(tmp_path / "No-Finding" / name, tmp_path / "No-Finding" / f"n-{name}")
    table = read_class_folders(tmp_path)
    assert sorted(table.loc[table["label"] == 1, "image"]) == sorted(SPELLINGS)


def test_predict_finds_every_spelling_of_png_and_jpeg(tmp_path):
    folder = folder_of_spellings(tmp_path / "new")
    assert sorted(p.name for p in expand_paths([str(folder)])) == sorted(SPELLINGS)


@pytest.mark.parametrize("name", ["00012345_001.png", "00012345_001.PNG", "00012345_001.Png"])
def test_an_nih_name_gives_its_patient_whatever_its_case(tmp_path, name):
    for folder in ("Pneumothorax", "No-Finding"):
        (tmp_path / folder).mkdir()
    shutil.copyfile(PNG, tmp_path / "Pneumothorax" / name)
    shutil.copyfile(PNG, tmp_path / "No-Finding" / "00000099_000.png")
    table = read_class_folders(tmp_path).set_index("image")
    assert table.loc[name, "patient_id"] == "12345" and table.loc[name, "patient_source"] == "nih_file_name"


def test_a_split_list_of_nih_names_in_any_case_is_a_split_list():
    _check_split_list(io.BytesIO(b"00000001_000.png\n00000001_001.PNG\n"))
    with pytest.raises(_BadContent, match="not like"):
        _check_split_list(io.BytesIO(b"00000001_000.png\nscan.png\n"))


def test_organize_finds_metadata_images_whatever_the_case_on_disk(tmp_path):
    labels = pd.read_csv(fixture("nih", "images", "labels.csv"))
    images = tmp_path / "images"
    images.mkdir()
    for name in labels["file"]:
        shutil.copyfile(NIH_IMAGES / name, images / name.replace(".png", ".PNG"))
    report = organize(fixture("nih", "metadata", "Data_Entry_2017_v2020.csv.gz"), images, tmp_path / "task",
                      "Pneumothorax", match="any", seed=1)
    assert report.positives == int(labels["pneumothorax_any"].sum())
    assert report.negatives == int(labels["no_finding"].sum())
    manifest = pd.read_csv(report.manifest)
    assert all(os.path.exists(path) for path in manifest["path"])
    linked = sorted(p.name for p in (tmp_path / "task" / "Pneumothorax").iterdir())
    assert linked and all(name.endswith(".PNG") for name in linked)
    again = organize(fixture("nih", "metadata", "Data_Entry_2017_v2020.csv.gz"), images, tmp_path / "task",
                     "Pneumothorax", match="any", seed=1)
    assert again.links == "class folders up to date"


def test_extract_takes_every_spelling_of_png_and_jpeg(tmp_path):
    archive = tmp_path / "images_01.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for name, source in SPELLINGS.items():
            tar.add(source, arcname=f"images/{name}")
    assert extract_all([archive], tmp_path / "images") == {"images_01.tar.gz": len(SPELLINGS)}
