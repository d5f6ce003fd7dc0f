"""chestxray.support.r_frames (issue 25: its first mutmut run): a categorical Series keeps its name."""

import pandas as pd

from chestxray.support.r_frames import text_to_object


def test_a_named_categorical_series_keeps_its_name_categories_and_order():
    categories = pd.Index(["b", "a"], dtype=pd.StringDtype())
    series = pd.Series(pd.Categorical(["a", "b", "a"], categories=categories, ordered=True), name="panel")
    converted = text_to_object(series)
    assert converted.name == "panel"
    assert converted.cat.categories.dtype == object and converted.cat.categories.tolist() == ["b", "a"]
    assert converted.cat.ordered and converted.tolist() == ["a", "b", "a"]
