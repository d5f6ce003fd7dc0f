"""The published AUROCs the multi-label table sets beside its own: every finding of NIH's once,
values as read from their sources, and the means those sources state."""

import pandas as pd
import pytest

from chestxray.support.findings import FINDINGS

from conftest import ROOT

TABLE = ROOT / "python" / "chestxray" / "support" / "published_aurocs.csv"


def test_every_finding_once_with_an_auroc_from_each_source():
    table = pd.read_csv(TABLE)
    assert sorted(table["finding"]) == sorted(FINDINGS)
    values = table.drop(columns="finding")
    assert list(values.columns) == ["wang_2017", "chexnet_2017", "reproduce_chexnet_2022"]
    assert ((values > 0.5) & (values < 1)).all().all()


def test_the_means_are_those_the_sources_state():
    """CheXNet's mean AUROC over the 14 findings is 0.841 (as arnoweng/CheXNet's README quotes it); Wang et
    al.'s, as CheXNet's table gives them, average 0.738."""
    table = pd.read_csv(TABLE)
    assert table["chexnet_2017"].mean() == pytest.approx(0.841, abs=5e-4)
    assert table["wang_2017"].mean() == pytest.approx(0.738, abs=5e-4)


def test_each_source_is_described():
    notes = (TABLE.parent / "published_aurocs.md").read_text(encoding="utf-8")
    for column in ("wang_2017", "chexnet_2017", "reproduce_chexnet_2022"):
        assert f"| `{column}` |" in notes
