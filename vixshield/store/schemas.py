"""Canonical column layouts of the raw families: every source returns frames in these shapes.

The layouts are read from the contract (`contract.FAMILIES`), the one declaration of each family."""

from __future__ import annotations

import pandas as pd

from vixshield.store import contract

# family -> (key columns, value columns); `source` is appended to every family.
FAMILIES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {f.name: (f.key, f.values) for f in contract.FAMILIES}
_TYPES = {c.name: c.type for f in contract.FAMILIES for c in f.frame_columns}
DATE_COLUMNS = {name for name, t in _TYPES.items() if t == "DATE"}
TEXT_COLUMNS = {name for name, t in _TYPES.items() if t == "VARCHAR"}
BOOL_COLUMNS = {name for name, t in _TYPES.items() if t == "BOOLEAN"}


def columns(family: str) -> list[str]:
    return [c.name for c in contract.FAMILY_BY_NAME[family].frame_columns]


def empty(family: str) -> pd.DataFrame:
    return conform(pd.DataFrame(columns=columns(family)), family)


def conform(frame: pd.DataFrame, family: str) -> pd.DataFrame:
    """Order and type a family's columns as declared; missing value columns become NULL."""
    out = frame.copy()
    for col in columns(family):
        if col not in out.columns:
            out[col] = None
    out = out[columns(family)]
    for col in contract.FAMILY_BY_NAME[family].frame_columns:
        if col.type == "DATE":
            out[col.name] = pd.to_datetime(out[col.name]).astype("datetime64[us]")
        elif col.type == "VARCHAR":
            out[col.name] = out[col.name].astype("string")
        elif col.type == "BOOLEAN":
            out[col.name] = out[col.name].astype("boolean")
        else:
            out[col.name] = pd.to_numeric(out[col.name], errors="coerce").astype("float64")
    return out.reset_index(drop=True)
