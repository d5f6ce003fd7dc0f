"""Metadata, organise, split and prepare on the real NIH metadata and images."""

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from chestxray.model.batches import split_batches
from chestxray.preparation.cache import build_cache
from chestxray.preparation.dataset import prepare_table
from chestxray.preparation.organize import MissingImagesError, organize
from chestxray.preparation.split import official_split, patient_split
from chestxray.sources.metadata import FINDINGS, MetadataError, read_image_list, read_metadata, select_task

from caches import interrupt_cache_build
from conftest import NIH_IMAGES, ROOT, fixture


@pytest.fixture(scope="module")
def metadata_path():
    return fixture("nih", "metadata", "Data_Entry_2017_v2020.csv.gz")


@pytest.fixture(scope="module")
def metadata(metadata_path):
    return read_metadata(metadata_path)


def test_official_counts(metadata):
    assert len(metadata) == 112_120 and metadata["patient_id"].nunique() == 30_805
    any_ptx = select_task(metadata, "Pneumothorax", match="any")
    exact = select_task(metadata, "Pneumothorax", match="exact")
    assert (any_ptx["label"] == 1).sum() == 5_302
    assert (exact["label"] == 1).sum() == 2_194
    assert (exact["label"] == 0).sum() == 60_361
    assert any_ptx.loc[any_ptx["label"] == 1, "patient_id"].nunique() == 1_487
    rest = select_task(metadata, "Pneumothorax", negative="rest", match="any")
    assert len(rest) == 112_120 and rest["label"].sum() == 5_302
    assert metadata["view_position"].value_counts().to_dict() == {"PA": 67_310, "AP": 44_810}


def test_official_lists_are_patient_disjoint(metadata):
    train_val = read_image_list(fixture("nih", "metadata", "train_val_list.txt.gz"))
    test = read_image_list(fixture("nih", "metadata", "test_list.txt.gz"))
    assert (len(train_val), len(test)) == (86_524, 25_596)
    assert not train_val & test
    patients = metadata.set_index("image")["patient_id"]
    assert not set(patients[list(train_val)]) & set(patients[list(test)])


@pytest.mark.parametrize("seed", [42])
def test_splits_on_full_metadata_never_share_patients(metadata, seed):
    task = select_task(metadata, "Pneumothorax", match="any")
    for split in (
        patient_split(task, seed, validation=0.1, test=0.2),
        official_split(task, read_image_list(fixture("nih", "metadata", "test_list.txt.gz")), seed),
    ):
        assert (split.groupby("patient_id")["split"].nunique() == 1).all()
        counts = split.groupby("split")["label"].agg(["size", "sum"])
        assert (counts["sum"] > 0).all()


def test_official_split_keeps_nih_test_set(metadata):
    task = select_task(metadata, "Pneumothorax", match="any")
    split = official_split(task, read_image_list(fixture("nih", "metadata", "test_list.txt.gz")), 7)
    assert (split.loc[split["split"] == "test", "label"] == 1).sum() == 2_665


def test_unknown_finding_lists_valid_ones(metadata):
    with pytest.raises(
        MetadataError, match="unknown finding 'Pneumotorax'; valid findings: Atelectasis, .*Pneumothorax"
    ):
        select_task(metadata, "Pneumotorax")
    assert len(FINDINGS) == 14


def test_renamed_or_missing_columns_are_named(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("Image,Labels,Patient\n1.png,No Finding,1\n")
    with pytest.raises(MetadataError, match=r"lacks column\(s\) \['Image Index', 'Finding Labels', 'Patient ID'\]"):
        read_metadata(bad)
    with pytest.raises(MetadataError, match="does not exist"):
        read_metadata(tmp_path / "nothing.csv")


def test_accepts_nih_2017_layout(tmp_path):
    """The 2017 file: 'Patient Gender', ages like '058Y' in some copies, a trailing empty column."""
    old = tmp_path / "Data_Entry_2017.csv"
    old.write_text(
        "Image Index,Finding Labels,Follow-up #,Patient ID,Patient Age,Patient Gender,View Position,"
        "OriginalImage[Width,Height],OriginalImagePixelSpacing[x,y],\n"
        "00000001_000.png,Cardiomegaly,0,00001,058Y,M,PA,2682,2749,0.143,0.143,\n"
    )
    table = read_metadata(old)
    assert (
        table.loc[0, "patient_age"] == 58 and table.loc[0, "patient_sex"] == "M" and table.loc[0, "patient_id"] == "1"
    )


def nih_images_dir(tmp_path, names):
    """An images folder of symbolic links to real NIH images (read in place)."""
    images = tmp_path / "images"
    images.mkdir()
    for name in names:
        os.symlink(NIH_IMAGES / name, images / name)
    return images


def test_organize_real_images_partial_download(metadata_path, tmp_path):
    labels = pd.read_csv(fixture("nih", "images", "labels.csv"))
    images = nih_images_dir(tmp_path, labels["file"])
    before = {p: p.stat().st_mtime_ns for p in NIH_IMAGES.glob("*.png")}
    report = organize(metadata_path, images, tmp_path / "task", "Pneumothorax", match="any", seed=1,
                      test_list=fixture("nih", "metadata", "test_list.txt.gz"))
    assert report.positives == int(labels["pneumothorax_any"].sum())
    assert report.negatives == int(labels["no_finding"].sum())
    assert report.missing == 65_663 - report.images  # the rest of the release is not on disk
    manifest = pd.read_csv(report.manifest, dtype={"patient_id": str})
    expected = {
        "path",
        "label",
        "class_name",
        "image",
        "patient_id",
        "patient_age",
        "patient_sex",
        "view_position",
        "follow_up",
        "split",
    }
    assert expected <= set(manifest.columns)
    assert len(list((tmp_path / "task" / "Pneumothorax").iterdir())) == report.positives
    assert len(list((tmp_path / "task" / "No-Finding").iterdir())) == report.negatives
    official_test = read_image_list(fixture("nih", "metadata", "test_list.txt.gz"))
    assert set(manifest.loc[manifest["split"] == "test", "image"]) == set(manifest["image"]) & official_test
    assert before == {p: p.stat().st_mtime_ns for p in NIH_IMAGES.glob("*.png")}  # raw images untouched
    with pytest.raises(MissingImagesError, match="not in"):
        organize(metadata_path, images, tmp_path / "strict", "Pneumothorax", strict=True)


def test_organize_uses_hard_links_and_reruns(metadata_path, tmp_path):
    labels = pd.read_csv(fixture("nih", "images", "labels.csv"))
    images = tmp_path / "images"
    images.mkdir()
    for name in labels["file"]:  # placeholders: links need the same file system
        (images / name).write_bytes(b"png")
    report = organize(metadata_path, images, tmp_path / "task", "Pneumothorax", match="any")
    linked = next((tmp_path / "task" / "Pneumothorax").iterdir())
    assert linked.stat().st_ino == (images / linked.name).stat().st_ino
    assert "hard link" in report.links
    again = organize(metadata_path, images, tmp_path / "task", "Pneumothorax", match="any")
    assert again.images == report.images and again.links == "class folders up to date"


def test_prepare_skips_corrupt_images_and_logs_them(tmp_path, caplog):
    good = sorted(NIH_IMAGES.glob("*.png"))[:5]
    corrupt = tmp_path / "corrupt.png"
    corrupt.write_bytes(good[0].read_bytes()[:400])  # a truncated real PNG
    table = pd.DataFrame({"path": [str(p) for p in good[:2]] + [str(corrupt)] + [str(p) for p in good[2:]],
                          "image": [p.name for p in good[:2]] + ["corrupt.png"] + [p.name for p in good[2:]],
                          "label": [1, 0, 1, 0, 1, 0], "patient_id": list("abcdef"), "split": ["train"] * 6})
    with caplog.at_level("WARNING"):
        prepared = prepare_table(table, 32, 0, cache_dir=str(tmp_path / "cache"))
    assert "corrupt.png" in caplog.text
    assert list(prepared.table["image"]) == [p.name for p in good]
    assert [path for path, _ in prepared.unreadable] == [str(corrupt)]
    images, _ = split_batches(prepared, "train", 6)[0]
    assert (images.reshape(5, -1).std(axis=1) > 0.02).all()  # real images, none blank


def test_prepare_resumes_after_interruption(tmp_path, monkeypatch):
    import chestxray.preparation.cache as cache_module

    paths = [str(p) for p in sorted(NIH_IMAGES.glob("*.png"))[:40]]
    real = interrupt_cache_build(monkeypatch, paths, 32, tmp_path)
    assert not list(tmp_path.rglob("*.npy"))  # no final file from a half build
    seen = []
    monkeypatch.setattr(cache_module, "_decode_chunk", lambda job: seen.append(job[0]) or real(job))
    cache = build_cache(paths, 32, tmp_path, workers=1)
    assert min(seen) >= 32 and len(seen) == 4  # 16 chunks were saved and not decoded again
    fresh = build_cache(paths, 32, tmp_path / "fresh", workers=1)
    assert np.array_equal(np.load(cache.path), np.load(fresh.path))


def test_cli_end_to_end_on_real_metadata(metadata_path, tmp_path):
    labels = pd.read_csv(fixture("nih", "images", "labels.csv"))
    images = nih_images_dir(tmp_path, labels["file"])
    env = dict(os.environ)

    def run(*args):
        return subprocess.run(
            [sys.executable, "-m", "chestxray", *args], capture_output=True, text=True, env=env, cwd=ROOT
        )
    done = run("organize", "--metadata", str(metadata_path), "--images", str(images), "--out", str(tmp_path / "task"),
               "--positive", "Pneumothorax", "--match", "any", "--random-split", "--seed", "3")
    assert done.returncode == 0, done.stderr
    assert "left out" in done.stdout
    done = run(
        "prepare",
        "--manifest",
        str(tmp_path / "task" / "manifest.csv"),
        "--size",
        "32",
        "--cache-dir",
        str(tmp_path / "cache"),
    )
    assert done.returncode == 0, done.stderr
    assert "images cached" in done.stdout
    bad = run(
        "organize",
        "--metadata",
        str(metadata_path),
        "--images",
        str(images),
        "--out",
        str(tmp_path / "x"),
        "--positive",
        "Pneumotorax",
    )
    assert bad.returncode == 2 and "unknown finding 'Pneumotorax'" in bad.stderr
    for command in ("download", "extract", "organize", "split", "prepare"):
        assert run(command, "--help").returncode == 0


def test_unreadable_images_that_empty_a_class_stop_clearly(tmp_path):
    from chestxray.preparation.split import SplitError

    good = sorted(NIH_IMAGES.glob("*.png"))[:2]
    corrupt = tmp_path / "corrupt.png"
    corrupt.write_bytes(b"not a png")
    table = pd.DataFrame(
        {
            "path": [str(corrupt), str(good[0]), str(good[1])],
            "image": ["corrupt.png", good[0].name, good[1].name],
            "label": [1, 0, 0],
            "patient_id": ["a", "b", "c"],
            "split": ["train"] * 3,
        }
    )
    with pytest.raises(SplitError, match="1 unreadable image.*train split lacks a class"):
        prepare_table(table, 32, 0, cache_dir=str(tmp_path / "cache"))


def test_one_split_rule_for_the_report_organize_and_the_command_line(metadata_path, tmp_path):
    """organize (with or without NIH's test list) and the CLI split by split.py's shares, as the report does."""
    from chestxray.cli import build_parser
    from chestxray.preparation.split import TEST_SHARE, VALIDATION_SHARE

    labels = pd.read_csv(fixture("nih", "images", "labels.csv"))
    images = nih_images_dir(tmp_path, labels["file"])
    report = organize(metadata_path, images, tmp_path / "random", "Pneumothorax", match="any", seed=2)
    random = pd.read_csv(report.manifest, dtype={"patient_id": str})
    expected = patient_split(random.drop(columns="split"), seed=2, validation=VALIDATION_SHARE, test=TEST_SHARE)
    assert random["split"].tolist() == expected["split"].tolist()
    report = organize(metadata_path, images, tmp_path / "official", "Pneumothorax", match="any", seed=2,
                      test_list=fixture("nih", "metadata", "test_list.txt.gz"))
    official = pd.read_csv(report.manifest, dtype={"patient_id": str})
    rest = official[official["split"] != "test"]
    validation_patients = rest.loc[rest["split"] == "validation", "patient_id"].nunique()
    assert validation_patients == pytest.approx(VALIDATION_SHARE * rest["patient_id"].nunique(), abs=2)
    for command in ("organize", "split"):
        args = build_parser().parse_args(
            [command, "--metadata", "m", "--images", "i", "--out", "o"]
            if command == "organize"
            else [command, "--manifest", "m"]
        )
        assert (args.validation, args.test) == (VALIDATION_SHARE, TEST_SHARE)
