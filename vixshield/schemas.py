"""Canonical column layouts of the raw families: every source returns frames in these shapes."""

from __future__ import annotations

import pandas as pd

# family -> (key columns, value columns); `source` is appended to every family.
FAMILIES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "daily_bars": (("symbol", "date"), ("open", "high", "low", "close", "adj_close", "volume")),
    "macro_observations": (("series_id", "observation_date"), ("value", "available_date")),
    "vx_futures": (
        ("trade_date", "expiry"),
        ("open", "high", "low", "close", "settle", "volume", "open_interest"),
    ),
    "events": (("date", "kind"), ("scheduled",)),
    "breadth_vendor": (("series", "date"), ("value",)),
}
DATE_COLUMNS = {"date", "observation_date", "available_date", "trade_date", "expiry"}
TEXT_COLUMNS = {"symbol", "series_id", "kind", "series", "source"}
BOOL_COLUMNS = {"scheduled"}


def columns(family: str) -> list[str]:
    keys, values = FAMILIES[family]
    return [*keys, *values, "source"]


def empty(family: str) -> pd.DataFrame:
    return conform(pd.DataFrame(columns=columns(family)), family)


def conform(frame: pd.DataFrame, family: str) -> pd.DataFrame:
    """Order and type a family's columns; missing value columns become NULL."""
    out = frame.copy()
    for col in columns(family):
        if col not in out.columns:
            out[col] = None
    out = out[columns(family)]
    for col in out.columns:
        if col in DATE_COLUMNS:
            out[col] = pd.to_datetime(out[col]).astype("datetime64[us]")
        elif col in TEXT_COLUMNS:
            out[col] = out[col].astype("string")
        elif col in BOOL_COLUMNS:
            out[col] = out[col].astype("boolean")
        else:
            out[col] = pd.to_numeric(out[col], errors="coerce").astype("float64")
    return out.reset_index(drop=True)
