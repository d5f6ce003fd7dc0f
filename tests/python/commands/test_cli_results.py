"""What each `python -m chestxray` command writes, checked against answers computed here.

Exit codes and --help are tested elsewhere; these tests read the files a command leaves and
compare them with what its user relies on: `split` writes a patient-disjoint split with the
declared shares, `organize` selects exactly the images `--match` means, `demo` writes the
phantoms it announces, `prepare` caches the pixels of each manifest row in order, and `predict`
names the card's class on each side of the card's threshold, and at it. The split rule may change
(e.g. to stratified groups), so splits are checked by their properties, not by assignments.
"""

import json

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from chestxray.cli import main
from chestxray.sources.folders import read_class_folders

from archives import make_archive, png_bytes
from conftest import NIH_IMAGES, fixture, flat_png
from decode import decode_by_hand
from http_faults import FaultyServer

POSITIVE, NEGATIVE = "Pneumothorax", "No Finding"


def run(*args) -> int:
    return main([str(a) for a in args])


# --- download and extract ------------------------------------------------------------------

def test_download_then_extract_gives_the_served_bytes_and_every_image(tmp_path, capsys):
    members = {f"images/{i:08d}_000.png": png_bytes(i, size=16) for i in (1, 2, 3)}
    served = {
        "images_01.tar.gz": make_archive(members),
        "Data_Entry_2017_v2020.csv": (b"Image Index,Finding Labels,Follow-up #,Patient ID\n"
                                      b"00000001_000.png,No Finding,0,1\n"),
        "train_val_list.txt": b"00000001_000.png\n00000002_000.png\n",
        "test_list.txt": b"00000003_000.png\n",
    }
    archives, images = tmp_path / "archives", tmp_path / "images"
    with FaultyServer(served) as server:
        assert run("download", "--dest", archives, "--archives", 1, "--base-url", server.url, "--quiet") == 0
    assert {name: (archives / name).read_bytes() for name in served} == served
    assert (f"note: the mirror's metadata and split lists are in {archives}; organize uses the package's copy of "
            f"NIH's unless given --metadata {archives / 'Data_Entry_2017_v2020.csv'}") in capsys.readouterr().err
    assert run("extract", "--archives-dir", archives, "--images", images) == 0
    assert {p.name: p.read_bytes() for p in images.iterdir() if not p.name.startswith(".")} == {
        name.split("/")[1]: data for name, data in members.items()}
    assert "images_01.tar.gz: 3 images" in capsys.readouterr().out


def test_download_with_a_metadata_path_that_does_not_exist_stops_before_downloading(tmp_path, capsys):
    served = {"images_01.tar.gz": make_archive({"images/00000001_000.png": png_bytes(1, size=16)})}
    with FaultyServer(served) as server:
        code = run("download", "--dest", tmp_path / "archives", "--archives", 1, "--base-url", server.url, "--quiet",
                   "--metadata", tmp_path / "nothing.csv")
        assert server.requests == []  # nothing fetched
    assert code == 2
    assert f"error: --metadata '{tmp_path / 'nothing.csv'}' does not exist" in capsys.readouterr().err


# --- split -------------------------------------------------------------------------------

def patients_manifest(path, n_patients=200):
    """Patients with 1 to 3 images, a third of them positive, all marked 'train' beforehand."""
    rows = []
    for patient in range(n_patients):
        for follow_up in range(patient % 3 + 1):
            rows.append(
                {
                    "path": f"/data/{patient:05d}_{follow_up:03d}.png",
                    "image": f"{patient:05d}_{follow_up:03d}.png",
                    "patient_id": str(patient),
                    "label": int(patient % 3 == 0),
                    "split": "train",
                }
            )
    pd.DataFrame(rows).to_csv(path, index=False)
    return pd.DataFrame(rows)


def read(path):
    return pd.read_csv(path, dtype={"patient_id": str})


def patient_shares(table):
    per_patient = table.groupby("patient_id")["split"].first()
    return per_patient.value_counts(normalize=True)


def assert_patient_disjoint_with_both_classes(table):
    assert (table.groupby("patient_id")["split"].nunique() == 1).all()
    for part in ("train", "validation", "test"):
        assert set(table.loc[table["split"] == part, "label"]) == {0, 1}, part


def test_split_writes_a_patient_disjoint_split_with_the_readme_shares(tmp_path):
    before = patients_manifest(tmp_path / "manifest.csv")
    assert run("split", "--manifest", tmp_path / "manifest.csv", "--random-split", "--seed", 1) == 0
    after = read(tmp_path / "manifest.csv")
    assert after.drop(columns="split").equals(before.drop(columns="split"))  # same rows, same order
    assert_patient_disjoint_with_both_classes(after)
    shares = patient_shares(after)
    assert shares["train"] == pytest.approx(0.70, abs=0.03)
    assert shares["validation"] == pytest.approx(0.15, abs=0.03)
    assert shares["test"] == pytest.approx(0.15, abs=0.03)


def test_split_follows_the_shares_given_on_the_command_line(tmp_path):
    patients_manifest(tmp_path / "manifest.csv")
    assert (
        run("split", "--manifest", tmp_path / "manifest.csv", "--random-split", "--validation", 0.25, "--test", 0.10)
        == 0
    )
    shares = patient_shares(read(tmp_path / "manifest.csv"))
    assert shares["validation"] == pytest.approx(0.25, abs=0.03) and shares["test"] == pytest.approx(0.10, abs=0.03)


def test_split_with_a_test_list_puts_exactly_the_listed_images_in_test(tmp_path):
    before = patients_manifest(tmp_path / "manifest.csv")
    listed = set(before.loc[before["patient_id"].astype(int) < 40, "image"]) | {"not_in_the_manifest.png"}
    (tmp_path / "test_list.txt").write_text("\n".join(sorted(listed)) + "\n")
    assert run("split", "--manifest", tmp_path / "manifest.csv", "--test-list", tmp_path / "test_list.txt") == 0
    after = read(tmp_path / "manifest.csv")
    assert set(after.loc[after["split"] == "test", "image"]) == listed - {"not_in_the_manifest.png"}
    rest = after[after["split"] != "test"]
    assert_patient_disjoint_with_both_classes(after)
    assert patient_shares(rest)["validation"] == pytest.approx(0.15, abs=0.03)


# --- organize ------------------------------------------------------------------------------

# Finding labels per patient group; each patient has one image. Only the first two groups
# are told apart by --match: 'exact' takes the finding alone, 'any' also takes it among others.
GROUPS = {"alone": (30, POSITIVE), "with_others": (30, f"Effusion|{POSITIVE}"), "no_finding": (60, NEGATIVE),
          "other_finding": (10, "Effusion")}


@pytest.fixture(scope="module")
def nih_like(tmp_path_factory):
    root = tmp_path_factory.mktemp("nih")
    (root / "images").mkdir()
    rows, patient = [], 0
    for group, (count, labels) in GROUPS.items():
        for _ in range(count):
            patient += 1
            image = f"{patient:08d}_000.png"
            flat_png(root / "images" / image)
            rows.append({"Image Index": image, "Finding Labels": labels, "Follow-up #": 0, "Patient ID": patient,
                         "Patient Age": 50, "Patient Gender": "F", "View Position": "PA", "group": group})
    table = pd.DataFrame(rows)
    table.drop(columns="group").to_csv(root / "Data_Entry_2017_v2020.csv", index=False)
    return root, table


def organize(root, out, match):
    return run("organize", "--metadata", root / "Data_Entry_2017_v2020.csv", "--images", root / "images", "--out", out,
               "--positive", POSITIVE, *(["--match", match] if match else []), "--random-split", "--seed", 5)


# No --match: 'any', as the report's match parameter.
@pytest.mark.parametrize("match, positive_groups", [("exact", {"alone"}), ("any", {"alone", "with_others"}),
                                                    (None, {"alone", "with_others"})])
def test_organize_match_selects_the_finding_alone_or_among_others(tmp_path, nih_like, match, positive_groups):
    root, metadata = nih_like
    assert organize(root, tmp_path / "task", match) == 0
    manifest = read(tmp_path / "task" / "manifest.csv")
    by_group = metadata.set_index("Image Index")["group"]
    assert set(manifest.loc[manifest["label"] == 1, "image"]) == set(by_group[by_group.isin(positive_groups)].index)
    assert set(manifest.loc[manifest["label"] == 0, "image"]) == set(by_group[by_group == "no_finding"].index)
    assert_patient_disjoint_with_both_classes(manifest)
    for label, folder in ((1, POSITIVE), (0, "No-Finding")):  # the class folders hold the manifest's images
        assert sorted(p.name for p in (tmp_path / "task" / folder).iterdir()) == sorted(
            manifest.loc[manifest["label"] == label, "image"]
        )


# --- demo ----------------------------------------------------------------------------------

def test_demo_writes_the_announced_phantoms_reproducibly(tmp_path, capsys):
    assert run("demo", "--out", tmp_path / "a", "--n-per-class", 5, "--seed", 3, "--size", 32) == 0
    assert "wrote 10 phantom radiographs" in capsys.readouterr().out
    table = read_class_folders(tmp_path / "a")
    assert (table["label"] == 1).sum() == 5 and (table["label"] == 0).sum() == 5
    metadata = pd.read_csv(tmp_path / "a" / "metadata.csv")
    assert sorted(metadata["image"]) == sorted(table["image"])
    for path in table["path"]:
        with Image.open(path) as image:
            assert image.size == (32, 32) and np.asarray(image.convert("L")).std() > 5  # a picture, not a flat frame

    def files(folder):
        return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*.png")}

    assert run("demo", "--out", tmp_path / "b", "--n-per-class", 5, "--seed", 3, "--size", 32) == 0
    assert files(tmp_path / "a") == files(tmp_path / "b")  # the seed fixes every pixel
    assert run("demo", "--out", tmp_path / "c", "--n-per-class", 5, "--seed", 4, "--size", 32) == 0
    assert files(tmp_path / "a") != files(tmp_path / "c")


# --- prepare -------------------------------------------------------------------------------

def mixed_mode_images(folder):
    """Real NIH files (grey and RGBA) and 128-px files in the other modes a user may have, with content."""
    labels = pd.read_csv(fixture("nih", "images", "labels.csv"))
    small = labels[labels["width"] == 128]
    paths = [
        NIH_IMAGES / name
        for name in [
            *small.loc[small["mode"] == "L", "file"].head(3),
            *small.loc[small["mode"] == "RGBA", "file"].head(2),
        ]
    ]
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (128, 128, 3), dtype=np.uint8)
    rgba = np.dstack([rgb, rng.integers(0, 256, (128, 128), dtype=np.uint8)])
    palette = Image.fromarray(rng.integers(0, 8, (128, 128), dtype=np.uint8), "P")
    palette.putpalette(rng.integers(0, 256, 24, dtype=np.uint8).tobytes())
    made = {"rgb.png": Image.fromarray(rgb, "RGB"), "rgba.png": Image.fromarray(rgba, "RGBA"), "palette.png": palette,
            "deep.png": Image.fromarray(rng.integers(500, 3000, (128, 128)).astype(np.uint16))}
    for name, image in made.items():
        image.save(folder / name, **({"transparency": 2} if name == "palette.png" else {}))
    return paths + [folder / name for name in made]


def test_prepare_caches_each_manifest_row_as_an_independent_decode(tmp_path):
    (tmp_path / "mine").mkdir()
    paths = mixed_mode_images(tmp_path / "mine")
    order = np.random.default_rng(1).permutation(len(paths))  # not sorted: rows must follow the manifest
    manifest = pd.DataFrame({"path": [str(paths[i]) for i in order]})
    manifest.to_csv(tmp_path / "manifest.csv", index=False)
    assert (
        run(
            "prepare",
            "--manifest",
            tmp_path / "manifest.csv",
            "--size",
            32,
            "--cache-dir",
            tmp_path / "cache",
            "--workers",
            1,
        )
        == 0
    )
    [cache] = (tmp_path / "cache").rglob("*.npy")
    pixels = np.load(cache)
    assert pixels.shape == (len(paths), 32, 32) and pixels.dtype == np.uint8
    for row, path in enumerate(manifest["path"]):
        error = np.abs(pixels[row] - decode_by_hand(path, 32))
        assert error.max() <= 1.5 and error.mean() < 0.5, path  # Pillow's rounding of luma, alpha and the average


# --- predict -------------------------------------------------------------------------------

SIDE = 32
WEIGHT, BIAS = 8.0, -4.0  # P(positive) = sigmoid(8 * mean grey in [0, 1] - 4): 0.5 exactly at mean 0.5


@pytest.fixture(scope="module")
def scored_images(tmp_path_factory):
    """Images whose probability under the tiny model is known by hand: black, mid-grey, half black
    and half white (exactly the 0.5 threshold), white."""
    folder = tmp_path_factory.mktemp("new-images")
    half = np.zeros((SIDE, SIDE), dtype=np.uint8)
    half[:, SIDE // 2:] = 255
    Image.fromarray(half).save(folder / "c_half.png")
    for name, value in (("a_black.png", 0), ("b_grey.png", 160), ("d_white.png", 255)):
        flat_png(folder / name, value, SIDE)
    means = {"a_black.png": 0.0, "b_grey.png": 160 / 255, "c_half.png": 0.5, "d_white.png": 1.0}
    return folder, {name: 1 / (1 + np.exp(-(WEIGHT * m + BIAS))) for name, m in means.items()}


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    import keras

    inputs = keras.Input((SIDE, SIDE, 1))
    outputs = keras.layers.Dense(1, activation="sigmoid")(keras.layers.GlobalAveragePooling2D()(inputs))
    model = keras.Model(inputs, outputs)
    model.layers[-1].set_weights([np.array([[WEIGHT]]), np.array([BIAS])])
    folder = tmp_path_factory.mktemp("model")
    model.save(folder / "model.keras")
    return folder / "model.keras"


def predict(tmp_path, model, images, threshold):
    card = {"image_size": SIDE, "threshold": threshold, "positive_class": "Effusion", "negative_class": NEGATIVE}
    model.with_name("model-card.json").write_text(json.dumps(card))
    assert run("predict", "--model", model, "--out", tmp_path / "preds.csv", images) == 0
    table = pd.read_csv(tmp_path / "preds.csv", keep_default_na=False)
    table["name"] = table["path"].map(lambda p: p.rsplit("/", 1)[1])
    return table.set_index("name")


def test_predict_names_each_class_on_its_side_of_the_threshold_and_positive_at_it(tmp_path, tiny_model, scored_images):
    folder, probability = scored_images
    table = predict(tmp_path, tiny_model, folder, threshold=0.5)
    assert table["predicted_class"].to_dict() == {
        "a_black.png": NEGATIVE, "b_grey.png": "Effusion", "c_half.png": "Effusion", "d_white.png": "Effusion"}
    assert probability["c_half.png"] == 0.5 and table.loc["c_half.png", "probability"] == 0.5
    for name, expected in probability.items():
        assert table.loc[name, "probability"] == pytest.approx(expected, abs=1e-6)
    assert (table["error"] == "").all()


def test_predict_uses_the_threshold_of_the_model_card(tmp_path, tiny_model, scored_images):
    folder, probability = scored_images
    assert probability["b_grey.png"] < 0.8 < probability["d_white.png"]
    table = predict(tmp_path, tiny_model, folder, threshold=0.8)
    assert table["predicted_class"].to_dict() == {
        "a_black.png": NEGATIVE, "b_grey.png": NEGATIVE, "c_half.png": NEGATIVE, "d_white.png": "Effusion"}


def test_organize_without_metadata_uses_the_packaged_metadata_and_nih_test_list(tmp_path):
    """On real NIH images with no --metadata: the package's copy of NIH's metadata selects them
    and NIH's official test list decides the test split (compared with the fixtures' own labels)."""
    labels = pd.read_csv(NIH_IMAGES / "labels.csv")
    assert run("organize", "--images", NIH_IMAGES, "--out", tmp_path / "task", "--match", "any") == 0
    manifest = pd.read_csv(tmp_path / "task" / "manifest.csv")
    chosen = labels[(labels["pneumothorax_any"] == 1) | (labels["no_finding"] == 1)]
    assert sorted(manifest["image"]) == sorted(chosen["file"])
    official = dict(zip(labels["file"], labels["official_split"]))
    assert all(
        (split == "test") == (official[image] == "test") for image, split in zip(manifest["image"], manifest["split"])
    )
    assert (manifest["split"] == "test").any() and (manifest["split"] != "test").any()
