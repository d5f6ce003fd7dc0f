"""The multi-label study on NIH's release: all 112,120 images, NIH's own test list as it is,
validation carved out by whole patients with every finding near its share."""

import gzip

import pytest

from chestxray.preparation.multilabel import nih_multilabel_split
from chestxray.sources.nih import packaged_folder
from chestxray.support.findings import FINDINGS, findings_table


@pytest.fixture(scope="module")
def split():
    return nih_multilabel_split(seed=42)


def test_every_image_is_eligible_with_all_its_findings(split):
    assert len(split) == 112_120 and split["image"].is_unique
    counts = {row["finding"]: int(row["nih_images"]) for row in findings_table()}
    assert split[list(FINDINGS)].sum().to_dict() == counts  # findings.csv's counts, made apart
    clear = split["finding_labels"] == "No Finding"
    assert clear.sum() == 60_361 and (split.loc[clear, list(FINDINGS)].sum(axis=1) == 0).all()


def test_the_test_part_is_nihs_official_list_as_it_is(split):
    listed = set(gzip.decompress((packaged_folder() / "test_list.txt.gz").read_bytes()).decode().split())
    assert set(split.loc[split["split"] == "test", "image"]) == listed and len(listed) == 25_596


def test_validation_takes_its_share_of_every_findings_images_by_whole_patients(split):
    assert split.groupby("patient_id")["split"].nunique().max() == 1
    rest = split[split["split"] != "test"]
    shares = rest.loc[rest["split"] == "validation", list(FINDINGS)].sum() / rest[list(FINDINGS)].sum()
    assert shares.between(0.145, 0.155).all(), shares[~shares.between(0.145, 0.155)].to_dict()  # 14.9-15.0 %
    assert (rest["split"] == "validation").mean() == pytest.approx(0.15, abs=0.01)


def test_the_split_follows_the_seed(split):
    again = nih_multilabel_split(seed=42)
    assert again["split"].tolist() == split["split"].tolist()
    other = nih_multilabel_split(seed=7)
    changed = (other["split"] != split["split"])
    assert changed.any() and not changed[split["split"] == "test"].any()
