"""Macro features per session (METHODOLOGY §2 "Macro"), from values as known at each close.

The as-of join lives in sql/features/macro_asof.sql; this module turns the known values into
levels, changes and the macro stress score. Changes compare today's known value with the value
known 21 or 63 sessions earlier, so they never use a later release.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from vixshield.catalog import MACRO_SERIES
from vixshield.config import FeatureSettings
from vixshield.store import warehouse

STRESS_MIN_PERIODS = 252  # a z-score needs at least a year of its 3-year window


def known_values(conn: duckdb.DuckDBPyConnection) -> dict[str, pd.DataFrame]:
    """Session x series frames of the known value, YoY and 3-month annualized change."""
    ages = pd.DataFrame(
        {"series_id": [m.series_id for m in MACRO_SERIES], "max_age_days": [m.max_age_days for m in MACRO_SERIES]}
    )
    with warehouse.registered(conn, "_ages", ages):
        conn.execute("CREATE OR REPLACE TEMP TABLE macro_max_age AS SELECT * FROM _ages")
    conn.execute(warehouse.sql_text("features/macro_asof.sql"))
    long = conn.execute("SELECT date, series_id, value, yoy, ann3m FROM macro_asof").df()
    sessions = pd.DatetimeIndex(conn.execute("SELECT date FROM core.sessions ORDER BY date").df()["date"])
    return {
        col: long.pivot(index="date", columns="series_id", values=col).reindex(sessions)
        for col in ("value", "yoy", "ann3m")
    }


def _col(frame: pd.DataFrame, series_id: str) -> pd.Series:
    return frame[series_id] if series_id in frame else pd.Series(np.nan, index=frame.index)


def bill_yield(discount: pd.Series, days: int = 91) -> pd.Series:
    """A Treasury bill's discount rate as a bond-equivalent yield, both in percent: 365 d / (360 - days x d)
    for a bill of at most half a year (the Treasury's coupon-equivalent formula), the basis DGS3MO is on."""
    d = discount / 100
    return 100 * 365 * d / (360 - days * d)


def _zscore(x: pd.Series, window: int) -> pd.Series:
    roll = x.rolling(window, min_periods=STRESS_MIN_PERIODS)
    return (x - roll.mean()) / roll.std()


def macro_features(known: dict[str, pd.DataFrame], fs: FeatureSettings) -> pd.DataFrame:
    value, yoy, ann3m = known["value"], known["yoy"], known["ann3m"]
    m, q = fs.month, fs.quarter
    out = pd.DataFrame(index=value.index)
    out["cpi_yoy"] = _col(yoy, "CPIAUCSL")
    out["cpi_3m_ann"] = _col(ann3m, "CPIAUCSL")
    out["core_cpi_yoy"] = _col(yoy, "CPILFESL")
    out["core_cpi_3m_ann"] = _col(ann3m, "CPILFESL")
    # PPI final demand from 2010; the all-commodities index before it (METHODOLOGY §1)
    out["ppi_yoy"] = _col(yoy, "PPIFIS").fillna(_col(yoy, "PPIACO"))
    out["ppi_3m_ann"] = _col(ann3m, "PPIFIS").fillna(_col(ann3m, "PPIACO"))
    out["fed_funds"] = _col(value, "DFF")
    out["fed_funds_chg3m"] = out["fed_funds"] - out["fed_funds"].shift(q)
    # the 3-month bill: the constant-maturity yield from 2000 (FRED's DGS3MO history starts there in some
    # copies), the secondary-market bill (DTB3, from 1954) as a bond-equivalent yield where it is missing
    out["dgs3mo"] = _col(value, "DGS3MO").fillna(bill_yield(_col(value, "DTB3")))
    out["dgs10"] = _col(value, "DGS10")
    out["dgs10_chg1m"] = out["dgs10"] - out["dgs10"].shift(m)
    out["t10y2y"] = _col(value, "T10Y2Y")
    out["dollar_chg3m"] = _col(value, "DTWEXBGS") / _col(value, "DTWEXBGS").shift(q) - 1
    out["rbusbis_chg3m"] = _col(value, "RBUSBIS") / _col(value, "RBUSBIS").shift(q) - 1
    out["eurusd_chg1m"] = _col(value, "DEXUSEU") / _col(value, "DEXUSEU").shift(m) - 1
    out["usdjpy_chg1m"] = _col(value, "DEXJPUS") / _col(value, "DEXJPUS").shift(m) - 1
    out["hy_oas"] = _col(value, "BAMLH0A0HYM2")
    out["hy_oas_chg1m"] = out["hy_oas"] - out["hy_oas"].shift(m)
    out["z_hy_oas"] = _zscore(out["hy_oas"], fs.stress_window)
    out["z_dgs10_abs_chg1m"] = _zscore(out["dgs10_chg1m"].abs(), fs.stress_window)
    out["z_dollar_chg3m"] = _zscore(out["dollar_chg3m"], fs.stress_window)
    zs = out[["z_hy_oas", "z_dgs10_abs_chg1m", "z_dollar_chg3m"]]
    inverted = (out["t10y2y"] < 0).astype(float).where(out["t10y2y"].notna(), 0.0)
    out["curve_inverted"] = (out["t10y2y"] < 0).where(out["t10y2y"].notna())
    out["macro_stress"] = zs.mean(axis=1, skipna=True) + inverted  # NaN where no z-score exists yet
    return out
