"""Reading one session's features row. History has gaps in every series, so a missing value (None,
NaN, pd.NA) or a non-number reads as NaN (numbers) or None (flags), never as an exception."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd


def num(x: Any) -> float:
    """`x` as a float; NaN when it is missing or not a number."""
    if type(x) is float:  # the common case first: about 200,000 reads a run, and float() with try costs more
        return x
    if x is None:  # a masked column's NA (the event counts' before their first event): no exception raised
        return math.nan
    if type(x) is int:  # the event counts (Int64)
        return float(x)
    try:
        return float(x)
    except (TypeError, ValueError):
        return math.nan


def flag(x: Any) -> bool | None:
    """`x` as a bool; None when it is missing (a trigger shows it as NA and treats it as off)."""
    if x is None or x is pd.NA or (isinstance(x, float) and math.isnan(x)):
        return None
    return bool(x)


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """`frame.to_dict("records")`, the same values (floats, bools and ints as Python's; None for a masked
    column's NA, the dtype's own missing value elsewhere), built column by column: pandas boxes each of
    the ~800,000 values of the features frame one at a time, the book's whole first read."""
    names, columns = list(frame.columns), []
    for _, col in frame.items():
        if isinstance(col.dtype, np.dtype) and col.dtype.kind in "fbiu":
            columns.append(col.to_numpy().tolist())
        else:
            columns.append([None if v is pd.NA else v for v in col.astype(object).tolist()])
    # a comprehension, not dict(zip(...)): compiled, each item is one store, where dict() of pairs builds a
    # tuple per item (a tenth of the rows' cost)
    return [{name: value for name, value in zip(names, values, strict=True)} for values in zip(*columns, strict=True)]
