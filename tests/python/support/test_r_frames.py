"""chestxray.support.r_frames: pandas objects handed to R with their text in object arrays, which every
reticulate converts (pandas 3's own string arrays reach R as Python objects under reticulate 1.41).
pandas 2 has the same string arrays under dtype "string", so these run on either."""

import numpy as np
import pandas as pd
import pytest

from chestxray.support.r_frames import text_to_object

# pandas 3's default text dtype ('str') misses values as NaN; the "string" dtype (pandas 2 and 3) as pd.NA.
TEXT_DTYPES = [pd.StringDtype(na_value=np.nan), pd.StringDtype()]


@pytest.fixture(params=TEXT_DTYPES, ids=["str (NaN)", "string (NA)"])
def text(request):
    return request.param


def frame_with_text(TEXT):
    return pd.DataFrame(
        {"split": pd.array(["train", None, "test"], dtype=TEXT), "n": [1, 2, 3], "p": [0.5, np.nan, 2.0],
         "panel": pd.Categorical(["b", "a", "b"], categories=pd.Index(["b", "a"], dtype=TEXT), ordered=True),
         "note": pd.Series(["x", None, "z"], dtype=object)},
        index=pd.Index(["r1", "r2", "r3"], dtype=TEXT))


def test_text_columns_index_names_and_categories_become_objects_values_kept(text):
    TEXT = text
    original = frame_with_text(TEXT)
    original.columns = pd.Index(original.columns, dtype=TEXT)
    converted = text_to_object(original)
    assert converted.dtypes["split"] == np.dtype(object) and converted.dtypes["note"] == np.dtype(object)
    assert converted.dtypes["n"] == np.int64 and converted.dtypes["p"] == np.float64  # numbers untouched
    assert converted.columns.dtype == object and converted.index.dtype == object
    assert converted["split"].tolist()[0::2] == ["train", "test"] and pd.isna(converted["split"].iloc[1])
    assert converted.index.tolist() == ["r1", "r2", "r3"] and converted.columns.tolist() == list(original.columns)
    panel = converted["panel"]
    assert panel.cat.categories.dtype == object and panel.cat.categories.tolist() == ["b", "a"]  # order kept
    assert panel.cat.ordered and panel.tolist() == ["b", "a", "b"]
    assert converted["p"].tolist()[0::2] == [0.5, 2.0] and np.isnan(converted["p"].iloc[1])
    assert original.dtypes["split"] == TEXT  # the caller's frame is not changed


def test_a_series_and_an_empty_frame(text):
    TEXT = text
    series = pd.Series(pd.array(["a", "b"], dtype=TEXT), index=pd.Index(["x", "y"], dtype=TEXT), name="s")
    converted = text_to_object(series)
    assert converted.dtype == object and converted.index.dtype == object
    assert converted.tolist() == ["a", "b"] and converted.name == "s"
    empty = text_to_object(frame_with_text(TEXT).iloc[:0])
    assert list(empty.dtypes[["split", "note"]]) == [object, object] and len(empty) == 0
    numbers = pd.Series([1.5, 2.5])
    assert text_to_object(numbers).dtype == np.float64


OBJECT_NAMES = pd.Index(["a", "b"], dtype=object)


@pytest.mark.parametrize("frame", [  # object text, as pandas 2 makes it (pandas 3 makes 'str' unless told)
    pd.DataFrame({"a": [1, 2], "b": pd.Series(["x", "y"], dtype=object)}).set_axis(OBJECT_NAMES, axis=1),
    pd.DataFrame({"a": [True, False], "b": [0.5, 1.5]}, index=pd.RangeIndex(2)).set_axis(OBJECT_NAMES, axis=1),
])
def test_frames_without_string_arrays_are_unchanged(frame):
    converted = text_to_object(frame)
    pd.testing.assert_frame_equal(converted, frame)
    assert list(converted.dtypes) == list(frame.dtypes)


def test_columns_by_position_whatever_their_names(text):
    frame = pd.DataFrame([["a", 1, "b"]], columns=["x", 2, "x"]).astype({2: "int64"})
    frame.iloc[:, 0] = frame.iloc[:, 0].astype(text)
    frame.isetitem(2, frame.iloc[:, 2].astype(text))
    converted = text_to_object(frame)
    assert list(converted.dtypes) == [object, np.int64, object] and list(converted.columns) == ["x", 2, "x"]
    assert converted.iloc[0].tolist() == ["a", 1, "b"]
