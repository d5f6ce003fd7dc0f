"""prepare_multilabel: the multi-label demo (or a user's labelled folder) drawn, split by whole
patients over every finding at once and cached; what R trains on."""

import numpy as np
import pandas as pd
import pytest

from chestxray.preparation.images import load_grey
from chestxray.preparation.multilabel import findings_present, prepare_multilabel
from chestxray.preparation.split import TooFewPatientsError
from chestxray.sources.multilabel_demo import DEMO_FINDINGS


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    root = tmp_path_factory.mktemp("multilabel")
    return prepare_multilabel("demo", str(root / "demo"), n_images=300, image_size=32, seed=3,
                              cache_dir=str(root / "cache"))


def test_the_demo_study_has_its_five_findings_as_outputs(prepared):
    assert prepared.findings == sorted(DEMO_FINDINGS)  # findings.csv's (alphabetical) order
    assert prepared.image_size == 32 and len(prepared.table) == 300


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


def test_an_unknown_source_is_refused(tmp_path):
    with pytest.raises(ValueError, match="reads data 'demo' or 'folder' here, not 'nih'"):
        prepare_multilabel("nih", str(tmp_path), 10, 16, 1)
