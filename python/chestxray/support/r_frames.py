"""pandas objects in the shape R's reticulate converts.

pandas 3 keeps text in its own string arrays (dtype 'str') where pandas 2 kept object arrays, and
reticulate before it learned pandas 3 (Debian 13's 1.41) hands such columns, indexes and categories
back to R as Python objects. R/python_env.R passes every frame and series through ``text_to_object``
before reticulate's own converters; under pandas 2 it changes nothing.
"""
from __future__ import annotations

import pandas as pd


def text_to_object(x):
    """A DataFrame or Series with every text array (values, categories, index, column names) as objects."""
    if x.ndim == 1:
        return x.astype(_object_dtype(x.dtype)).set_axis(_index(x.index))
    x = x.astype({name: _object_dtype(dtype) for name, dtype in x.dtypes.items()})
    return x.set_axis(_index(x.columns), axis=1).set_axis(_index(x.index), axis=0)


def _object_dtype(dtype):
    if isinstance(dtype, pd.CategoricalDtype):
        return pd.CategoricalDtype(_index(dtype.categories), dtype.ordered)
    return object if isinstance(dtype, pd.StringDtype) else dtype


def _index(index: pd.Index) -> pd.Index:
    return index.astype(object) if isinstance(index.dtype, pd.StringDtype) else index
