"""features.daily and features.regime: every METHODOLOGY §2 feature and the §3 regime per session.

Computed over the whole history in one vectorized pass from the core tables; each value for
session t uses only what was knowable at t's close (tests prove it by recomputing on data cut at t).
"""

from __future__ import annotations

from collections.abc import MutableMapping

import duckdb
import numpy as np
import pandas as pd

from vixshield import METHODOLOGY_VERSION
from vixshield.config import Settings
from vixshield.features import breadth, events, garch, indicators, macro, regime
from vixshield.store import contract, warehouse


def _market(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    frame = conn.execute("SELECT * FROM core.market_daily ORDER BY date").df()
    return frame.set_index(pd.DatetimeIndex(frame.pop("date")))


def _ratio(a: pd.Series, b: pd.Series) -> pd.Series:
    return (a / b).where((b > 0) & a.notna())


def vx_constant_maturity(m: pd.DataFrame, days: int = 30) -> pd.Series:
    """Linear in calendar days between M1 and M2; M1 itself when M1 is more than `days` out."""
    d1 = (pd.to_datetime(m["vx_m1_expiry"]) - m.index).dt.days.astype(float)
    d2 = (pd.to_datetime(m["vx_m2_expiry"]) - m.index).dt.days.astype(float)
    w1 = ((d2 - days) / (d2 - d1)).clip(0.0, 1.0)
    blended = w1 * m["vx_m1"] + (1 - w1) * m["vx_m2"]
    return blended.where(d1 <= days, m["vx_m1"])


def _breadth(conn: duckdb.DuckDBPyConnection, sessions: pd.DatetimeIndex, spx: pd.Series, s: Settings) -> pd.DataFrame:
    fs = s.features
    long = conn.execute("SELECT date, symbol, close FROM core.breadth_closes").df()
    wide = long.pivot(index="date", columns="symbol", values="close") if len(long) else pd.DataFrame(index=sessions)
    wide = wide.reindex(columns=list(s.universe))  # coverage is measured against the configured universe
    uni = breadth.universe_breadth(wide, sessions)
    window = fs.breadth_divergence_window
    uni["breadth_divergence"] = breadth.breadth_divergence(spx, uni["ad_line"], window)
    vendor_long = conn.execute("SELECT series, date, value FROM core.breadth_vendor").df()
    vendor = None
    if len(vendor_long):
        v = vendor_long.pivot(index="date", columns="series", values="value")
        vendor = breadth.vendor_breadth(v.get("NYAD", pd.Series(dtype=float)), v.get("NYMO"), sessions)
        vendor["breadth_divergence"] = breadth.breadth_divergence(spx, vendor["ad_line"], window)
    # each source's slope and divergence are computed on its own line: levels never mix
    chosen = breadth.choose_breadth(uni, vendor, fs.breadth_min_coverage)
    return chosen


def compute_features(
    conn: duckdb.DuckDBPyConnection, s: Settings, garch_memo: MutableMapping | None = None
) -> pd.DataFrame:
    """One row per session of core.market_daily, with every column of the data dictionary.
    `garch_memo`: GARCH fits remembered between runs (see garch.garch_forecasts)."""
    fs = s.features
    m = _market(conn)
    sessions = m.index
    spx, vix = m["spx_close"], m["vix"]
    f = pd.DataFrame(index=sessions)
    f["spx_close"] = spx
    f["spx_ret"] = indicators.log_returns(spx)
    for w in fs.vol_windows:
        f[f"rv{w}"] = indicators.realized_vol(spx, w)
    f["pk21"] = indicators.parkinson_vol(m["spx_high"], m["spx_low"], fs.range_window)
    f["yz21"] = indicators.yang_zhang_vol(m["spx_open"], m["spx_high"], m["spx_low"], spx, fs.range_window)
    g = garch.garch_forecasts(spx, horizons=fs.garch_horizons, refit=fs.garch_refit, memo=garch_memo)
    for h in fs.garch_horizons:
        f[f"garch_vol{h}"] = g[f"garch_vol{h}"]

    f["vix"] = vix
    f["vix_pct252"] = indicators.rolling_percentile(vix, fs.percentile_window)
    f["vix_z252"] = indicators.rolling_zscore(vix, fs.percentile_window)
    for col in ("vix9d", "vix3m", "vix6m"):
        f[col] = m[col]
    f["ivts"] = _ratio(vix, m["vix3m"])
    f["vix9d_vix"] = _ratio(m["vix9d"], vix)
    f["vix3m_vix6m"] = _ratio(m["vix3m"], m["vix6m"])
    f["vvix"] = m["vvix"]
    f["vvix_vix"] = _ratio(m["vvix"], vix)
    f["skew"] = m["skew"]
    f["vx_m1"], f["vx_m2"] = m["vx_m1"], m["vx_m2"]
    f["vx_cm30"] = vx_constant_maturity(m)
    f["vx_m1_premium"] = _ratio(m["vx_m1"], vix) - 1
    f["vx_roll"] = _ratio(m["vx_m2"], m["vx_m1"]) - 1
    realized = f["yz21"].fillna(f["rv21"])
    f["vrp"] = vix - 100 * realized
    f["vrp_var"] = (vix / 100) ** 2 - realized**2

    fast, slow, signal = fs.macd
    for name, series in (("spx", spx), ("vix", vix)):
        md = indicators.macd(series, fast, slow, signal)
        for col in ("macd", "macd_signal", "macd_hist", "macd_cross_up", "macd_cross_down"):
            f[f"{name}_{col}"] = md[col]
    f["spx_rsi14"] = indicators.rsi_wilder(spx, fs.rsi_period)
    f["vix_rsi14"] = indicators.rsi_wilder(vix, fs.rsi_period)
    lo, hi = fs.divergence_gap
    div = indicators.divergences(spx, f["spx_rsi14"], fs.pivot_bars, fs.pivot_bars, lo, hi, fs.divergence_active)
    for col in ("bearish_divergence", "bullish_divergence", "bearish_divergence_active", "bullish_divergence_active"):
        f[col] = div[col]
    f["spx_sma50"] = indicators.sma(spx, 50)
    f["spx_sma200"] = indicators.sma(spx, 200)
    f["spx_above_sma50"] = (spx > f["spx_sma50"]).where(f["spx_sma50"].notna())
    f["spx_above_sma200"] = (spx > f["spx_sma200"]).where(f["spx_sma200"].notna())
    f["drawdown252"] = indicators.drawdown(spx, fs.drawdown_window)

    b = _breadth(conn, sessions, spx, s)
    f["breadth_coverage"] = b["coverage"]
    for col in (
        "breadth_source",
        "advancers",
        "decliners",
        "ad_line",
        "ad_slope20",
        "pct_above_sma50",
        "mcclellan",
        "breadth_divergence",
    ):
        f[col] = b[col]

    f = f.join(macro.macro_features(macro.known_values(conn), fs))
    ev = conn.execute("SELECT date, kind, known_from FROM core.events").df()
    f = f.join(events.sessions_until(ev, sessions))
    f["methodology_version"] = METHODOLOGY_VERSION

    order = [c.name for c in contract.FEATURES_DAILY if c.name != "date"]
    missing, extra = set(order) - set(f.columns), set(f.columns) - set(order)
    if missing or extra:
        raise AssertionError(f"features.daily differs from the data dictionary: missing {missing}, extra {extra}")
    f = f[order]
    numeric = f.select_dtypes("number").columns
    f[numeric] = f[numeric].replace([np.inf, -np.inf], np.nan)
    for col in contract.FEATURES_DAILY:
        if col.unit == "bool":
            f[col.name] = f[col.name].astype("boolean")
        elif col.unit in ("count", "sessions"):
            f[col.name] = f[col.name].round().astype("Int64")
    f["breadth_source"] = f["breadth_source"].astype("string")
    return f.rename_axis("date").reset_index()


def compute_regime(features: pd.DataFrame, s: Settings) -> pd.DataFrame:
    f = features.set_index("date")
    out = regime.classify(f, s.regime)
    out["methodology_version"] = METHODOLOGY_VERSION
    return out.rename_axis("date").reset_index()


def write(conn: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> None:
    """Replace a features table in one transaction: created from its contract declaration (types,
    comments), then the frame's rows inserted by column name."""
    with warehouse.transaction(conn):
        warehouse.write_table(conn, table, frame)
