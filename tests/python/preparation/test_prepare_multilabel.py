"""prepare_multilabel: the multi-label demo (or a user's labelled folder) drawn, split by whole
patients over every finding at once and cached; what R trains on."""

import hashlib
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from chestxray.preparation.images import load_grey
from chestxray.preparation.multilabel import (
    cap_by_patients,
    finding_counts,
    findings_present,
    nih_images_on_disk,
    nih_multilabel_split,
    prepare_multilabel,
)
from chestxray.preparation.split import TooFewPatientsError
from chestxray.sources.multilabel_demo import DEMO_FINDINGS
from chestxray.support.findings import FINDINGS

from archives import nih_images_archive
from conftest import NIH_IMAGES, fixture
from http_faults import FaultyServer


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    root = tmp_path_factory.mktemp("multilabel")
    return prepare_multilabel("demo", str(root / "demo"), n_images=300, image_size=32, seed=3,
                              cache_dir=str(root / "cache"))


def test_the_demo_study_has_its_five_findings_as_outputs(prepared):
    """First in this file, so that mutation testing (which maps a module fixture's call to the first test that
    uses it) runs everything prepare_multilabel promises here: rows, cache, hashes, counts, the cap."""
    assert prepared.findings == sorted(DEMO_FINDINGS)  # findings.csv's (alphabetical) order
    assert prepared.image_size == 32 and len(prepared.table) == 300
    table = prepared.table
    assert list(table.index) == list(range(300)) and "index" not in table.columns
    from chestxray.preparation.cache import open_cache

    cache = open_cache(prepared.cache_path)
    for row in table.sample(12, random_state=1).itertuples():
        assert np.array_equal(cache[[row.cache_row]][0], load_grey(row.path, 32))
        assert row.content_sha256 == hashlib.sha256(Path(row.path).read_bytes()).hexdigest()
    assert prepared.eligible.equals(finding_counts(table, prepared.findings))  # no cap: everything eligible
    root = Path(prepared.cache_path).parents[1]
    capped = prepare_multilabel("demo", str(root / "demo"), n_images=300, image_size=32, seed=3,
                                cache_dir=str(root / "cache"), max_images=120)
    for split in ("train", "validation"):
        part = capped.part(split)
        assert len(part) <= 120 and set(part["patient_id"]) <= set(prepared.part(split)["patient_id"])
    assert len(capped.part("train")) < len(prepared.part("train"))
    assert capped.part("test")["image"].tolist() == prepared.part("test")["image"].tolist()
    assert capped.eligible.equals(prepared.eligible)  # counted before the cap
    assert capped.table["image"].tolist() == cap_by_patients(prepared.table, 120, 3)["image"].tolist()
    again = prepare_multilabel("demo", str(root / "demo"), n_images=300, image_size=32, seed=3,
                               cache_dir=str(root / "cache"), max_images=120)
    assert again.table["image"].tolist() == capped.table["image"].tolist()  # the cap is seeded


def test_each_cached_row_is_its_image_and_each_label_row_its_recorded_findings(prepared):
    from chestxray.preparation.cache import open_cache

    cache = open_cache(prepared.cache_path)
    labels = pd.read_csv(prepared.table["path"].iloc[0].rsplit("/images/", 1)[0] + "/labels.csv", dtype=str)
    recorded = dict(zip(labels["Image Index"], labels["Finding Labels"]))
    for split in ("train", "validation", "test"):
        part, matrix = prepared.part(split), prepared.labels(split)
        assert matrix.dtype == np.float32 and matrix.shape == (len(part), 5)
        for row, flags in zip(part.head(4).itertuples(), matrix[:4]):
            assert np.array_equal(cache[[row.cache_row]][0], load_grey(row.path, 32))
            text = recorded[row.image]
            assert {f for f, flag in zip(prepared.findings, flags) if flag} == (
                set() if text == "No Finding" else set(text.split("|")))


def test_parts_are_patient_disjoint_and_every_finding_is_in_every_part(prepared):
    table = prepared.table
    assert table.groupby("patient_id")["split"].nunique().max() == 1
    for split in ("train", "validation", "test"):
        assert (prepared.labels(split).sum(axis=0) > 0).all(), split


def test_the_findings_are_those_some_image_carries_in_findings_csvs_order():
    from chestxray.support.findings import FINDINGS

    table = pd.DataFrame(0, index=range(3), columns=list(FINDINGS))
    table.loc[1, "Pneumothorax"] = table.loc[2, "Cardiomegaly"] = 1
    assert findings_present(table) == ["Cardiomegaly", "Pneumothorax"]


def test_too_few_images_for_every_finding_in_every_part_is_refused(tmp_path):
    lacking = r"lack images with or without a finding \(validation: .*so the data needs more patients"
    with pytest.raises(TooFewPatientsError, match=lacking):
        prepare_multilabel("demo", str(tmp_path / "demo"), n_images=12, image_size=16, seed=1,
                           cache_dir=str(tmp_path / "cache"))


def test_data_without_any_finding_is_refused():
    from chestxray.sources.folders import DatasetError

    table = pd.DataFrame(0, index=range(4), columns=list(FINDINGS))
    with pytest.raises(DatasetError, match=r"none of the 4 images carries a finding \(all are 'No Finding'\)"):
        findings_present(table)


def test_the_cap_is_reproducible_and_keeps_a_patient_that_reaches_it_exactly():
    table = pd.DataFrame({"split": ["train"] * 40 + ["test"] * 3,
                          "patient_id": [f"p{i // 10}" for i in range(40)] + ["t0", "t1", "t2"]})
    capped = cap_by_patients(table, 20, seed=1)
    assert len(capped[capped["split"] == "train"]) == 20  # two whole patients of 10 reach 20, not above
    assert capped.equals(cap_by_patients(table, 20, seed=1))  # the same seed, the same patients
    assert len(capped[capped["split"] == "test"]) == 3


def test_an_unknown_source_is_refused(tmp_path):
    with pytest.raises(ValueError, match="data must be demo, folder or nih; got 'kaggle'"):
        prepare_multilabel("kaggle", str(tmp_path), 10, 16, 1)


def test_the_cap_takes_whole_patients_in_training_and_validation_and_leaves_test_whole(prepared):
    table = prepared.table
    capped = cap_by_patients(table, 40, seed=5)
    for split in ("train", "validation"):
        part, whole = capped[capped["split"] == split], table[table["split"] == split]
        assert 40 - whole.groupby("patient_id").size().max() < len(part) <= 40
        kept = set(part["patient_id"])
        assert len(whole[whole["patient_id"].isin(kept)]) == len(part)  # each kept patient with all its films
    assert capped[capped["split"] == "test"].reset_index(drop=True).equals(
        table[table["split"] == "test"].reset_index(drop=True))
    assert cap_by_patients(table, None, seed=5) is table
    assert capped.equals(cap_by_patients(table, 40, seed=5))  # reproducible
    assert not capped.equals(cap_by_patients(table, 40, seed=6))


def test_finding_counts_recount_images_and_patients_per_part(prepared):
    counts = prepared.counts().set_index(["split", "label"])
    for split in ("train", "validation", "test"):
        part = prepared.part(split)
        for finding in prepared.findings:
            with_it = part[part[finding] == 1]
            assert counts.loc[(split, finding), "images"] == len(with_it)
            assert counts.loc[(split, finding), "patients"] == with_it["patient_id"].nunique()
            assert counts.loc[(split, finding), "share"] == pytest.approx(len(with_it) / len(part))
        clear = part[part[prepared.findings].sum(axis=1) == 0]
        assert counts.loc[(split, "No Finding"), "images"] == len(clear)
        assert counts.loc[(split, "all images"), "images"] == len(part)
        assert counts.loc[(split, "all images"), "patients"] == part["patient_id"].nunique()


def test_data_nih_uses_every_image_of_the_archives_with_all_its_labels_and_the_official_test(tmp_path):
    """Real NIH radiographs from a loopback mirror: each image's labels are NIH's, its part is the one
    the whole release's split gives it (so it does not depend on which archives were fetched)."""
    labels = pd.read_csv(fixture("nih", "images", "labels.csv"))
    with FaultyServer({"images_01.tar.gz": nih_images_archive(NIH_IMAGES, labels["file"])}) as server:
        table = nih_images_on_disk(str(tmp_path / "nih"), seed=3, nih={"archives": "1", "base_url": server.url,
                                                                        "metadata": "", "match": "any"})
    assert sorted(table["image"]) == sorted(labels["file"])
    recorded = dict(zip(labels["file"], labels["finding_labels"]))
    for row in table.itertuples():
        text = recorded[row.image]
        carried = {f for f in FINDINGS if table.at[row.Index, f] == 1}
        assert carried == (set() if text == "No Finding" else set(text.split("|")))
    official = dict(zip(labels["file"], labels["official_split"]))
    assert all((split == "test") == (official[image] == "test") for image, split in zip(table["image"], table["split"]))
    whole = nih_multilabel_split(seed=3).set_index("image")["split"]
    assert all(whole[image] == split for image, split in zip(table["image"], table["split"]))
    assert all(Path(path).is_file() for path in table["path"])


def test_permuted_labels_move_whole_label_rows_within_each_part(prepared):
    permuted = prepared.with_permuted_labels(seed=4)
    assert permuted.table[["image", "split", "cache_row"]].equals(prepared.table[["image", "split", "cache_row"]])
    moved = 0
    for split in ("train", "validation", "test"):
        before, after = prepared.labels(split), permuted.labels(split)
        assert sorted(map(tuple, before)) == sorted(map(tuple, after))  # the same label rows, shuffled
        moved += int((before != after).any(axis=1).sum())
    assert moved > len(prepared.table) / 4
    assert not permuted.table.equals(prepared.with_permuted_labels(seed=5).table)
    assert permuted.table.equals(prepared.with_permuted_labels(seed=4).table)  # seeded: the same control again
    assert prepared.labels("test").sum() == permuted.labels("test").sum()


def test_an_empty_part_is_counted_as_empty_its_shares_unknown():
    table = pd.DataFrame({"split": ["train", "train", "test"], "patient_id": ["a", "a", "b"],
                          "Effusion": [1, 0, 0], "Mass": [0, 0, 1]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no mean of an empty slice
        counts = finding_counts(table, ["Effusion", "Mass"]).set_index(["split", "label"])
    empty = counts.loc["validation"]
    assert (empty["images"] == 0).all() and (empty["patients"] == 0).all() and empty["share"].isna().all()
    assert counts.loc[("train", "No Finding"), "images"] == 1 and counts.loc[("train", "all images"), "patients"] == 1


def test_prepare_multilabel_with_nih_caches_every_image_of_the_archives_split_as_the_release(tmp_path,
                                                                                             monkeypatch):
    """data=nih through prepare_multilabel: the 79 real images of a loopback archive, each in the part the whole
    release's split gives it. 79 images cannot give every part every finding, so the refusal that would follow
    is recorded here instead (its own test is above)."""
    import chestxray.preparation.multilabel as multilabel

    refused = []
    monkeypatch.setattr(multilabel, "require_every_finding", lambda table, findings, parts: refused.append(findings))
    labels = pd.read_csv(fixture("nih", "images", "labels.csv"))
    with FaultyServer({"images_01.tar.gz": nih_images_archive(NIH_IMAGES, labels["file"])}) as server:
        prepared = prepare_multilabel("nih", str(tmp_path / "nih"), 0, 32, 3, cache_dir=str(tmp_path / "cache"),
                                      nih={"archives": "1", "base_url": server.url, "metadata": "", "match": "any"})
    assert sorted(prepared.table["image"]) == sorted(labels["file"]) and prepared.image_size == 32
    whole = nih_multilabel_split(seed=3).set_index("image")["split"]
    assert all(whole[image] == split for image, split in zip(prepared.table["image"], prepared.table["split"]))
    assert refused == [prepared.findings] and prepared.findings == findings_present(prepared.table)


def test_both_studies_cache_under_the_same_default_folder(tmp_path, monkeypatch):
    """data/cache, which make clean deletes and the binary study uses too."""
    import inspect

    from chestxray.preparation.dataset import prepare_dataset

    assert inspect.signature(prepare_dataset).parameters["cache_dir"].default == "data/cache"
    monkeypatch.chdir(tmp_path)
    prepared = prepare_multilabel("demo", "demo", n_images=300, image_size=32, seed=3)
    assert Path(prepared.cache_path).resolve().is_relative_to((tmp_path / "data" / "cache").resolve())


def test_data_nih_table_has_its_paths_first_patients_from_metadata_and_its_own_index(tmp_path, monkeypatch):
    """The NIH table as read_labelled_folder gives a folder's (path first, patients from the metadata, 0..n-1);
    the options' `match` is optional (it picks one finding's images in the binary study only); the download shows
    its progress bars (the report's console)."""
    import chestxray.preparation.multilabel as multilabel
    from chestxray.sources.folders import PATIENT_FROM_METADATA

    shown = []
    fetch = multilabel.fetch_nih_images
    monkeypatch.setattr(multilabel, "fetch_nih_images",
                        lambda *args, **kwargs: shown.append(kwargs.get("show_progress")) or fetch(*args, **kwargs))
    labels = pd.read_csv(fixture("nih", "images", "labels.csv")).head(12)
    with FaultyServer({"images_01.tar.gz": nih_images_archive(NIH_IMAGES, labels["file"])}) as server:
        table = nih_images_on_disk(str(tmp_path / "nih"), seed=3, nih={"archives": "1", "base_url": server.url})
    assert shown == [True]
    assert table.columns[0] == "path" and "index" not in table.columns and list(table.index) == list(range(12))
    assert (table["patient_source"] == PATIENT_FROM_METADATA).all()


def test_data_nih_with_no_image_of_the_metadata_on_disk_is_refused(tmp_path):
    from chestxray.sources.folders import DatasetError

    with FaultyServer({"images_01.tar.gz": nih_images_archive(NIH_IMAGES, [])}) as server:
        with pytest.raises(DatasetError, match="no image of the metadata is in '.*images': check nih_archives and "
                                               "nih_dir"):
            nih_images_on_disk(str(tmp_path / "nih"), seed=3, nih={"archives": "1", "base_url": server.url})
