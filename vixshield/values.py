"""Reading one session's features row. History has gaps in every series, so a missing value (None,
NaN, pd.NA) or a non-number reads as NaN (numbers) or None (flags), never as an exception."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd


def num(x: Any) -> float:
    """`x` as a float; NaN when it is missing or not a number."""
    try:
        return float(x)
    except (TypeError, ValueError):
        return math.nan


def flag(x: Any) -> bool | None:
    """`x` as a bool; None when it is missing (a trigger shows it as NA and treats it as off)."""
    if x is None or x is pd.NA or (isinstance(x, float) and math.isnan(x)):
        return None
    return bool(x)
