"""Formats a person or a spreadsheet reads right: numbers without scientific notation, and the day's
plan as one long CSV carrying everything the JSON does."""

from __future__ import annotations

import csv
import io
import json
import math
from typing import Any

import pandas as pd

PLAN_SECTIONS = ("regime", "condor_plan", "actions", "hedge_layers", "book")


def _decimals(values: pd.Series) -> int:
    """Money and index levels to cents, ratios and deltas to 4 places, small rates to 6."""
    finite = values[values.notna() & ~values.isin([math.inf, -math.inf])].abs()
    top = finite.max() if len(finite) else 0.0
    return 2 if top >= 100 else (4 if top >= 0.01 else 6)


def readable(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy for printing: float columns as fixed decimals with thousands separators (2,640,559.12,
    never 2.640559e+06), dates without a midnight time. Machine formats (csv, json) stay raw."""
    out = frame.copy()
    for col in out.columns:
        s = out[col]
        if pd.api.types.is_float_dtype(s):
            d = _decimals(s)
            out[col] = s.map(lambda x, d=d: "NaN" if pd.isna(x) else f"{x:,.{d}f}")
        elif pd.api.types.is_datetime64_any_dtype(s) and (s.dropna() == s.dropna().dt.normalize()).all():
            out[col] = s.dt.strftime("%Y-%m-%d").where(s.notna(), "NaT")
    return out


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | dict):
        return json.dumps(value, separators=(",", ":"))
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else ""
    return str(value)


def plan_long_csv(plan: dict) -> str:
    """The plan of `vixshield signals --format json` as long CSV, one value per row:
    date, section (regime | condor_plan | actions | hedge_layers | book), item (the row's key within its
    section: position_id for actions, layer for hedge layers, empty otherwise), field, value. Lists are
    written as JSON arrays (reasons), empty cells are nulls. Pivot on (section, item) to get the tables."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["date", "section", "item", "field", "value"])
    keys = {"actions": "position_id", "hedge_layers": "layer"}
    for section in PLAN_SECTIONS:
        part = plan.get(section)
        rows = part if isinstance(part, list) else ([part] if part else [])
        for row in rows:
            item = row.get(keys[section], "") if section in keys else ""
            for field, value in row.items():
                w.writerow([plan["date"], section, item, field, _cell(value)])
    return buf.getvalue()
