"""The multi-label study's folder (data=folder, finding=all): images with a labels.csv in NIH's format
beside them, read into one 0/1 column per finding; bad labels and unmatched images named."""

import shutil

import pandas as pd
import pytest

from chestxray.sources.folders import DatasetError, read_labelled_folder
from chestxray.sources.metadata import MetadataError, label_matrix
from chestxray.sources.multilabel_demo import DEMO_FINDINGS, write_multilabel_demo
from chestxray.support.findings import FINDINGS


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return write_multilabel_demo(tmp_path_factory.mktemp("demo") / "d", n_images=24, seed=6, size=32)


def copy_of(demo, tmp_path):
    return shutil.copytree(demo, tmp_path / "copy")


def test_the_demo_folder_reads_as_its_recorded_labels(demo):
    table = read_labelled_folder(demo)
    labels = pd.read_csv(demo / "labels.csv", dtype=str)
    assert table["image"].tolist() == labels["Image Index"].tolist()
    assert list(table.columns[-len(FINDINGS):]) == list(FINDINGS)
    for row, text in zip(table.itertuples(index=False), labels["Finding Labels"]):
        carried = {f for f in FINDINGS if getattr(row, f) == 1}
        assert carried == (set() if text == "No Finding" else set(text.split("|")))
        assert row.path == str(demo / "images" / row.image)
    assert set(table.loc[:, FINDINGS].sum()[lambda s: s > 0].index) <= set(DEMO_FINDINGS)
    assert table["patient_id"].tolist() == labels["Patient ID"].str.lstrip("0").tolist()
    assert (table["patient_source"] == "metadata").all()


def test_images_beside_the_labels_file_are_read_too(demo, tmp_path):
    flat = tmp_path / "flat"
    shutil.copytree(demo / "images", flat)
    shutil.copy(demo / "labels.csv", flat)
    table = read_labelled_folder(flat)
    assert len(table) == 24 and table["path"].str.startswith(str(flat / "0")).all()


def test_a_folder_without_labels_is_told_what_it_needs(tmp_path):
    with pytest.raises(DatasetError, match=r"labels.csv' is missing: a multi-label folder holds its images and a "
                                           r"labels.csv in NIH's format"):
        read_labelled_folder(tmp_path)


def test_a_listed_image_missing_on_disk_and_an_unlisted_image_are_named(demo, tmp_path):
    folder = copy_of(demo, tmp_path)
    gone = sorted((folder / "images").iterdir())[3]
    gone.unlink()
    with pytest.raises(DatasetError, match=rf"1 image\(s\) are listed in .*labels.csv but not in .*images', "
                                           rf"e.g. {gone.name}: each image needs exactly one row"):
        read_labelled_folder(folder)
    shutil.copy(sorted((folder / "images").iterdir())[0], folder / "images" / gone.name)  # back
    shutil.copy(folder / "images" / gone.name, folder / "images" / "extra.png")
    with pytest.raises(DatasetError, match=r"1 image\(s\) in .*images' have no row in .*labels.csv, e.g. extra.png"):
        read_labelled_folder(folder)


def labels(*texts):
    return pd.DataFrame({"image": [f"{i}.png" for i in range(len(texts))], "finding_labels": list(texts)})


def test_finding_labels_become_one_column_per_finding():
    matrix = label_matrix(labels("Effusion|Mass", "No Finding", "Mass"), "x.csv", findings=("Effusion", "Mass"))
    assert matrix.to_dict("list") == {"Effusion": [1, 0, 0], "Mass": [1, 0, 1]}


def test_an_unknown_label_is_named_with_the_images_that_carry_it():
    with pytest.raises(MetadataError, match=r"x.csv has label\(s\) 'Pneumotorax' that are not among the findings "
                                            r"\(Atelectasis, .*, Pneumothorax or 'No Finding'\), on 2 image\(s\), "
                                            r"e.g. 0.png, 2.png"):
        label_matrix(labels("Pneumotorax", "Mass", "Effusion|Pneumotorax"), "x.csv")


def test_no_finding_beside_a_finding_is_refused():
    with pytest.raises(MetadataError, match=r"labels 1 image\(s\) 'No Finding' and a finding at once, e.g. 1.png"):
        label_matrix(labels("Mass", "No Finding|Mass"), "x.csv")
