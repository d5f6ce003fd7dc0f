"""Bad inputs end in a named error (exit 2 from the CLI) or a correct result:
forged and damaged images, replaced files, relative paths, duplicate metadata,
re-organised folders, bad arguments and files, concurrent and killed runs."""

import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from chestxray.cli import main
from chestxray.preparation import cache as cache_module
from chestxray.preparation.cache import build_cache
from chestxray.preparation.images import ImageReadError, load_grey
from chestxray.preparation.organize import OrganizeError, organize
from chestxray.sources.metadata import MetadataError, read_image_list, read_metadata

from conftest import NIH_IMAGES, ROOT, fixture
from forge import children_of, forge_png_size, is_alive, kill_quietly

LABELS = fixture("nih", "images", "labels.csv")
TEST_LIST = fixture("nih", "metadata", "test_list.txt.gz")
FULL_SIZE = [NIH_IMAGES / "00004934_000.png", NIH_IMAGES / "00005318_000.png"]  # 1024 px, RGBA and grey


def small_images(n):
    return sorted(NIH_IMAGES.glob("*.png"))[:n]


def bomb(tmp_path, name="bomb.png"):
    """A real NIH PNG whose header claims 100,000 x 100,000 pixels."""
    path = tmp_path / name
    path.write_bytes(forge_png_size(small_images(1)[0].read_bytes(), 100_000, 100_000))
    return path


def write_manifest(path, image_paths, **columns):
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"path": [str(p) for p in image_paths], **columns}).to_csv(path, index=False)
    return path


def run_cli(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def images_folder(root, names):
    """An images folder of symbolic links to real NIH images (read in place)."""
    root.mkdir(parents=True)
    for name in names:
        os.symlink(NIH_IMAGES / name, root / name)
    return root


@pytest.fixture(scope="module")
def metadata_rows():
    """The real metadata rows (NIH's own columns) of the fixture images."""
    files = pd.read_csv(LABELS)["file"]
    raw = pd.read_csv(fixture("nih", "metadata", "Data_Entry_2017_v2020.csv.gz"), dtype=str, keep_default_na=False)
    return raw[raw["Image Index"].isin(files)].reset_index(drop=True)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    """A saved model.keras (32 px) with its model card, as the report writes them."""
    import keras

    keras.utils.set_random_seed(0)
    inputs = keras.Input((32, 32, 1))
    x = keras.layers.GlobalAveragePooling2D()(keras.layers.Conv2D(2, 3)(inputs))
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(x))
    path = tmp_path_factory.mktemp("model") / "model.keras"
    model.save(path)
    card = {"image_size": 32, "threshold": 0.5, "positive_class": "Pneumothorax", "negative_class": "No Finding"}
    (path.parent / "model-card.json").write_text(json.dumps(card))
    return path


# --- decoding -------------------------------------------------------------------------------------------------

def test_bomb_header_is_that_images_read_error(tmp_path):
    path = bomb(tmp_path)
    with pytest.raises(ImageReadError, match="bomb.png"):
        load_grey(path, 32)


@pytest.mark.parametrize("failure", [MemoryError(), struct.error("unpack requires a buffer of 4 bytes"),
                                     Image.DecompressionBombError("too many pixels"), RuntimeError("decoder bug")])
def test_any_decoder_failure_is_the_images_read_error(tmp_path, monkeypatch, failure):
    def broken_open(*args, **kwargs):
        raise failure

    monkeypatch.setattr("chestxray.preparation.images.Image.open", broken_open)
    with pytest.raises(ImageReadError, match=f"x.png.*{type(failure).__name__}"):
        load_grey(tmp_path / "x.png", 32)


def test_prepare_lists_a_bomb_and_caches_the_rest(tmp_path, capsys):
    good = small_images(5)
    manifest = write_manifest(tmp_path / "manifest.csv", good[:2] + [bomb(tmp_path)] + good[2:])
    code, out, err = run_cli(
        capsys, "prepare", "--manifest", manifest, "--size", 32, "--cache-dir", tmp_path / "cache", "--workers", 2
    )
    assert code == 0, err
    assert "5 images cached" in out and "1 unreadable" in out
    failed = pd.read_csv(next((tmp_path / "cache").rglob("*.failed.csv")))
    assert list(failed["path"]) == [str(tmp_path / "bomb.png")] and "pixels" in failed["reason"][0]
    assert not list((tmp_path / "cache").rglob("*.partial"))


def test_predict_scores_good_images_beside_a_bomb(tmp_path, capsys, tiny_model):
    good = small_images(3)
    out_csv = tmp_path / "predictions.csv"
    code, _, err = run_cli(
        capsys, "predict", "--model", tiny_model, "--out", out_csv, good[0], bomb(tmp_path), *good[1:]
    )
    assert code == 1 and "1 file(s) could not be read" in err
    rows = pd.read_csv(out_csv, keep_default_na=False)
    assert list(rows["path"]) == [str(good[0]), str(tmp_path / "bomb.png"), *map(str, good[1:])]
    assert (rows["error"] == "").tolist() == [True, False, True, True]
    assert rows.loc[rows["error"] == "", "probability"].astype(float).between(0, 1).all()


# --- cache freshness ------------------------------------------------------------------------------------------

def replace_file(target, source):
    """Overwrite ``target`` with ``source``'s bytes, with a modification time visibly later."""
    before = target.stat().st_mtime_ns if target.exists() else 0
    shutil.copyfile(source, target)
    os.utime(target, ns=(before + 2_000_000_000, before + 2_000_000_000))


def test_cache_follows_an_image_replaced_at_the_same_path(tmp_path):
    first, second = small_images(2)
    target = tmp_path / "image.png"
    shutil.copyfile(first, target)
    old = build_cache([str(target)], 32, tmp_path / "cache", workers=1)
    assert np.array_equal(np.load(old.path)[0], load_grey(first, 32))
    replace_file(target, second)
    new = build_cache([str(target)], 32, tmp_path / "cache", workers=1)
    assert np.array_equal(np.load(new.path)[0], load_grey(second, 32))


def test_cache_forgets_the_failure_of_a_repaired_image(tmp_path):
    good = small_images(1)[0]
    target = tmp_path / "image.png"
    target.write_bytes(good.read_bytes()[:300])  # truncated
    assert not build_cache([str(target)], 32, tmp_path / "cache", workers=1).valid.any()
    replace_file(target, good)
    repaired = build_cache([str(target)], 32, tmp_path / "cache", workers=1)
    assert repaired.valid.all() and not repaired.failed


def test_cache_key_changes_with_the_decoder_version(tmp_path, monkeypatch):
    paths = [str(p) for p in small_images(2)]
    before = cache_module.cache_key(paths, 32)
    monkeypatch.setattr(cache_module, "DECODER_VERSION", cache_module.DECODER_VERSION + 1)
    assert cache_module.cache_key(paths, 32) != before


# --- relative paths -------------------------------------------------------------------------------------------

def test_organize_with_relative_images_works_from_any_folder(tmp_path, capsys, monkeypatch):
    metadata = fixture("nih", "metadata", "Data_Entry_2017_v2020.csv.gz")
    work = tmp_path / "work"
    images_folder(work / "images", pd.read_csv(LABELS)["file"])
    monkeypatch.chdir(work)
    code, _, err = run_cli(capsys, "organize", "--metadata", metadata, "--images", "images", "--out", "task",
                           "--match", "any", "--test-list", TEST_LIST)
    assert code == 0, err
    manifest = pd.read_csv(work / "task" / "manifest.csv")
    assert all(os.path.isabs(p) and os.path.exists(p) for p in manifest["path"])
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(
        capsys, "prepare", "--manifest", "work/task/manifest.csv", "--size", 32, "--cache-dir", "cache", "--workers", 1
    )
    assert code == 0, err
    assert out.startswith(f"{len(manifest)} images cached") and "unreadable" not in out
    code, _, err = run_cli(capsys, "split", "--manifest", "work/task/manifest.csv", "--random-split", "--seed", 5)
    assert code == 0, err
    assert pd.read_csv(work / "task" / "manifest.csv")["path"].tolist() == manifest["path"].tolist()


def test_relative_paths_in_a_manifest_are_read_from_its_folder(tmp_path, capsys, monkeypatch):
    images = images_folder(tmp_path / "data" / "images", [p.name for p in small_images(3)])
    manifest = write_manifest(
        tmp_path / "data" / "task" / "manifest.csv", [f"../images/{p.name}" for p in images.iterdir()]
    )
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(
        capsys, "prepare", "--manifest", manifest, "--size", 32, "--cache-dir", "cache", "--workers", 1
    )
    assert code == 0, err
    assert out.startswith("3 images cached")


def test_no_usable_image_is_an_error(tmp_path, capsys):
    manifest = write_manifest(tmp_path / "manifest.csv", [tmp_path / "gone-1.png", tmp_path / "gone-2.png"])
    code, out, err = run_cli(
        capsys, "prepare", "--manifest", manifest, "--size", 32, "--cache-dir", tmp_path / "cache", "--workers", 1
    )
    assert code == 2
    assert "error: none of the 2 images" in err and "gone-1.png" in err


# --- organize -------------------------------------------------------------------------------------------------

def test_conflicting_duplicate_metadata_rows_are_rejected(tmp_path, metadata_rows):
    positive = metadata_rows[metadata_rows["Finding Labels"] == "Pneumothorax"].iloc[[0]].copy()
    positive["Finding Labels"], positive["Patient ID"] = "No Finding", "99999"
    path = tmp_path / "metadata.csv"
    pd.concat([metadata_rows, positive]).to_csv(path, index=False)
    images = images_folder(tmp_path / "images", metadata_rows["Image Index"])
    with pytest.raises(MetadataError, match=f"duplicate.*{positive['Image Index'].iloc[0]}"):
        organize(path, images, tmp_path / "task", match="any", test_list=TEST_LIST)


def test_exact_duplicate_metadata_rows_are_rejected_too(tmp_path, metadata_rows):
    path = tmp_path / "metadata.csv"
    pd.concat([metadata_rows, metadata_rows.iloc[:7]]).to_csv(path, index=False)
    with pytest.raises(MetadataError, match=r"7 duplicate image name\(s\), e.g. " + metadata_rows["Image Index"][0]):
        read_metadata(path)


def class_folder_names(task):
    return {
        folder.name: sorted(entry.name for entry in folder.iterdir()) for folder in task.iterdir() if folder.is_dir()
    }


def manifest_classes(task):
    manifest = pd.read_csv(task / "manifest.csv")
    return {name.replace(" ", "-"): sorted(rows["image"]) for name, rows in manifest.groupby("class_name")}


def test_reorganising_leaves_exactly_the_manifests_images(tmp_path, metadata_rows):
    metadata = tmp_path / "metadata.csv"
    metadata_rows.to_csv(metadata, index=False)
    images = images_folder(tmp_path / "images", metadata_rows["Image Index"])
    raw_before = sorted((p.name, p.lstat().st_mtime_ns) for p in images.iterdir())
    task = tmp_path / "task"
    for match, negative in (("any", "No Finding"), ("exact", "No Finding"), ("any", "rest"), ("exact", "No Finding")):
        organize(metadata, images, task, match=match, negative=negative, test_list=TEST_LIST)
        assert class_folder_names(task) == manifest_classes(task), (match, negative)
    assert sorted((p.name, p.lstat().st_mtime_ns) for p in images.iterdir()) == raw_before
    assert all((NIH_IMAGES / name).exists() for name in metadata_rows["Image Index"])


def test_reorganising_never_removes_files_it_did_not_make(tmp_path, metadata_rows):
    metadata = tmp_path / "metadata.csv"
    metadata_rows.to_csv(metadata, index=False)
    images = images_folder(tmp_path / "images", metadata_rows["Image Index"])
    organize(metadata, images, tmp_path / "task", match="any", test_list=TEST_LIST)
    notes = tmp_path / "task" / "Pneumothorax" / "my-notes.png"
    notes.write_bytes(b"a user's own file")
    with pytest.raises(OrganizeError, match="my-notes.png"):
        organize(metadata, images, tmp_path / "task", match="exact", test_list=TEST_LIST)
    assert notes.read_bytes() == b"a user's own file"


def test_a_class_folder_may_not_be_the_images_folder(tmp_path, metadata_rows):
    metadata = tmp_path / "metadata.csv"
    metadata_rows.to_csv(metadata, index=False)
    images = images_folder(tmp_path / "task" / "Pneumothorax", metadata_rows["Image Index"])
    with pytest.raises(OrganizeError, match="overlaps the images folder"):
        organize(metadata, images, tmp_path / "task", match="exact", test_list=TEST_LIST)
    with pytest.raises(OrganizeError, match="overlaps the images folder"):
        organize(metadata, images, images / "task", match="exact", test_list=TEST_LIST)
    assert sorted(p.name for p in images.iterdir()) == sorted(metadata_rows["Image Index"])


# --- arguments and files --------------------------------------------------------------------------------------

@pytest.mark.parametrize("size", ["0", "-5", "4", "5000", "big"])
def test_prepare_rejects_impossible_sizes(tmp_path, capsys, size):
    manifest = write_manifest(tmp_path / "manifest.csv", small_images(2))
    with pytest.raises(SystemExit) as stop:
        main(["prepare", "--manifest", str(manifest), "--size", size, "--cache-dir", str(tmp_path / "cache")])
    assert stop.value.code == 2
    assert "--size" in capsys.readouterr().err
    assert not (tmp_path / "cache").exists()


def test_build_cache_rejects_impossible_sizes(tmp_path):
    with pytest.raises(ValueError, match="image size"):
        build_cache([str(small_images(1)[0])], 0, tmp_path)
    assert not list(tmp_path.iterdir())


def test_manifest_without_path_column_names_it(tmp_path, capsys):
    manifest = tmp_path / "manifest.csv"
    pd.DataFrame({"image": ["a.png"], "label": [1]}).to_csv(manifest, index=False)
    code, _, err = run_cli(capsys, "prepare", "--manifest", manifest, "--cache-dir", tmp_path / "cache")
    assert code == 2 and "manifest.csv" in err and "['path']" in err


def test_empty_or_missing_manifest_is_named(tmp_path, capsys):
    (tmp_path / "empty.csv").write_text("")
    for name in ("empty.csv", "nowhere.csv"):
        code, _, err = run_cli(capsys, "prepare", "--manifest", tmp_path / name, "--cache-dir", tmp_path / "cache")
        assert code == 2 and name in err and "Traceback" not in err


def test_model_card_without_threshold_is_named(tmp_path, capsys, tiny_model):
    model = tmp_path / "model.keras"
    shutil.copyfile(tiny_model, model)
    card = json.loads((tiny_model.parent / "model-card.json").read_text())
    del card["threshold"]
    (tmp_path / "model-card.json").write_text(json.dumps(card))
    code, _, err = run_cli(capsys, "predict", "--model", model, "--out", tmp_path / "p.csv", small_images(1)[0])
    assert code == 2 and "model-card.json" in err and "'threshold'" in err
    assert not (tmp_path / "p.csv").exists()


def test_a_file_that_is_not_a_keras_model_says_so(tmp_path, capsys, tiny_model):
    model = tmp_path / "model.keras"
    model.write_bytes(b"not a zip archive")
    shutil.copyfile(tiny_model.parent / "model-card.json", tmp_path / "model-card.json")
    code, _, err = run_cli(capsys, "predict", "--model", model, "--out", tmp_path / "p.csv", small_images(1)[0])
    assert code == 2 and "exists but is not a readable Keras model" in err


def test_predict_on_an_empty_folder_is_an_error(tmp_path, capsys, tiny_model):
    (tmp_path / "empty").mkdir()
    code, _, err = run_cli(capsys, "predict", "--model", tiny_model, "--out", tmp_path / "p.csv", tmp_path / "empty")
    assert code == 2 and "no PNG or JPEG" in err
    assert not (tmp_path / "p.csv").exists()


def test_empty_metadata_and_split_list_name_their_file(tmp_path):
    (tmp_path / "Data_Entry.csv").write_text("")
    with pytest.raises(MetadataError, match="Data_Entry.csv"):
        read_metadata(tmp_path / "Data_Entry.csv")
    (tmp_path / "test_list.txt").write_text("")
    with pytest.raises(MetadataError, match="test_list.txt"):
        read_image_list(tmp_path / "test_list.txt")


def test_metadata_rows_with_empty_required_fields_are_named(tmp_path):
    path = tmp_path / "meta.csv"
    path.write_text("Image Index,Finding Labels,Patient ID\n00000001_000.png,No Finding,1\n00000002_000.png,,2\n")
    with pytest.raises(MetadataError, match=r"meta.csv.*empty.*Finding Labels.*line 3"):
        read_metadata(path)


def test_metadata_with_a_repeated_column_is_named(tmp_path):
    path = tmp_path / "meta.csv"
    path.write_text("Image Index,Finding Labels,Patient ID,Patient ID \n00000001_000.png,No Finding,1,2\n")
    with pytest.raises(MetadataError, match=r"meta.csv.*\['Patient ID'\] more than once"):
        read_metadata(path)


# --- processes ------------------------------------------------------------------------------------------------

def cli_process(*args, cwd=ROOT):
    env = dict(os.environ, PYTHONPATH=str(ROOT / "python"))
    return subprocess.Popen([sys.executable, "-m", "chestxray", *map(str, args)], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_concurrent_prepares_share_one_cache(tmp_path):
    manifest = write_manifest(tmp_path / "manifest.csv", FULL_SIZE * 50)
    command = ("prepare", "--manifest", manifest, "--size", 64, "--cache-dir", tmp_path / "cache", "--workers", 1)
    runs = [cli_process(*command) for _ in range(2)]
    results = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], [err for _, err in results]
    assert all(out.startswith("100 images cached") for out, _ in results)
    cached = np.load(next((tmp_path / "cache").rglob("*.npy")))
    assert np.array_equal(cached[0], load_grey(FULL_SIZE[0], 64)) and np.array_equal(
        cached[99], load_grey(FULL_SIZE[1], 64)
    )
    assert not list((tmp_path / "cache").rglob("*.partial"))


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_killing_prepare_ends_its_workers(tmp_path, sig):
    manifest = write_manifest(tmp_path / "manifest.csv", FULL_SIZE * 500)
    run = cli_process(
        "prepare", "--manifest", manifest, "--size", 64, "--cache-dir", tmp_path / "cache", "--workers", 2
    )
    workers = []
    try:
        deadline = time.monotonic() + 30
        while len(workers) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
            workers = children_of(run.pid)
        assert len(workers) == 2, "the workers never started"
        run.send_signal(sig)
        run.wait(timeout=15)  # not communicate(): orphaned workers would hold its pipes open
        deadline = time.monotonic() + 5
        while any(map(is_alive, workers)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [pid for pid in workers if is_alive(pid)], f"workers outlived the prepare killed by {sig.name}"
        assert run.returncode != 0
    finally:
        kill_quietly([run.pid, *workers], signal.SIGKILL)


def test_only_png_and_jpeg_are_decoded(tmp_path):
    """A damaged PNG can look like another of Pillow's formats (TGA has no signature at all):
    decoding it as that would be a silently wrong image, so other formats are refused."""
    with Image.open(small_images(1)[0]) as image:
        image.convert("L").save(tmp_path / "scan.png", format="BMP")
    with pytest.raises(ImageReadError, match="scan.png.*PNG or JPEG"):
        load_grey(tmp_path / "scan.png", 32)
