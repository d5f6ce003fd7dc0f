"""The multi-label study's data (finding = "all"): every image with all its labels, one 0/1
column per finding ('No Finding' is all zeros), split by whole patients with every finding
shared out at once (preparation/split.py's multi-label rule).

With NIH's release every one of its 112,120 images is eligible and NIH's official test list is the
test part as it is; validation is carved out of the rest.
"""

from __future__ import annotations

import pandas as pd

from chestxray.preparation.split import VALIDATION_SHARE, official_multilabel_split
from chestxray.sources.metadata import label_matrix, read_image_list, read_metadata
from chestxray.sources.nih import official_metadata
from chestxray.support.findings import FINDINGS


def nih_multilabel_table(metadata_path: str) -> pd.DataFrame:
    """NIH's metadata with one 0/1 column per finding."""
    table = read_metadata(metadata_path)
    return pd.concat([table, label_matrix(table, metadata_path)], axis=1)


def nih_multilabel_split(seed: int, validation: float = VALIDATION_SHARE) -> pd.DataFrame:
    """Every image of the packaged NIH metadata with its findings and its part: NIH's official
    test list as test, validation carved out of the rest by whole patients over all 14 findings."""
    source = official_metadata()
    table = nih_multilabel_table(source.metadata)
    return official_multilabel_split(table, FINDINGS, read_image_list(source.test_list), seed, validation)
