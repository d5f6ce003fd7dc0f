"""pandas objects in the shape R's reticulate converts.

pandas 3 keeps text in its own string arrays (dtype 'str') where pandas 2 kept object arrays, and
reticulate before it learned pandas 3 (Debian 13's 1.41) hands such columns, indexes and categories
back to R as Python objects. R/run/python_env.R passes every frame and series through ``text_to_object``
before reticulate's own converters; under pandas 2 it changes nothing.
"""
from __future__ import annotations

import pandas as pd


def text_to_object(x):
    """A DataFrame or Series with every text array (values, categories, index, column names) as objects."""
    if x.ndim == 1:
        return _column(x).set_axis(_index(x.index))
    x = x.copy()
    for position in range(x.shape[1]):  # by position: column names may repeat or be numbers
        x.isetitem(position, _column(x.iloc[:, position]))
    return x.set_axis(_index(x.columns), axis=1).set_axis(_index(x.index), axis=0)


def _column(values: pd.Series) -> pd.Series:
    if isinstance(values.dtype, pd.CategoricalDtype):
        # Not astype(CategoricalDtype(...)): categories equal in value count as the same dtype and stay text.
        categorical = pd.Categorical.from_codes(values.cat.codes, categories=_index(values.cat.categories),
                                                ordered=values.cat.ordered)
        return pd.Series(categorical, index=values.index, name=values.name)
    return values.astype(object) if _is_text(values.dtype) else values


def _index(index: pd.Index) -> pd.Index:
    return index.astype(object) if _is_text(index.dtype) else index


def _is_text(dtype) -> bool:
    return isinstance(dtype, pd.StringDtype)
