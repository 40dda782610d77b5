"""The data dictionary of the derived tables: one entry per column, the single place that names
its formula, units and inputs. DuckDB column comments and docs/data_dictionary.md are generated
from it, and the feature build is checked against it column by column."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd


@dataclass(frozen=True)
class Column:
    name: str
    unit: str
    formula: str
    inputs: str


def _c(name: str, unit: str, formula: str, inputs: str) -> Column:
    return Column(name, unit, formula, inputs)


FEATURES_DAILY: tuple[Column, ...] = (
    _c("date", "date", "NYSE session (exchange-calendars XNYS)", "core.sessions"),
    _c("spx_close", "index pts", "S&P 500 close", "^GSPC"),
    _c("spx_ret", "log", "ln(close_t / close_t-1)", "^GSPC close"),
    _c("rv10", "ann. decimal", "sqrt(252) x sample s.d. of the last 10 log returns", "^GSPC close"),
    _c("rv21", "ann. decimal", "sqrt(252) x sample s.d. of the last 21 log returns", "^GSPC close"),
    _c("rv63", "ann. decimal", "sqrt(252) x sample s.d. of the last 63 log returns", "^GSPC close"),
    _c("pk21", "ann. decimal", "Parkinson: sqrt(252 x mean(ln(H/L)^2) / (4 ln 2)) over 21 sessions", "^GSPC H, L"),
    _c(
        "yz21",
        "ann. decimal",
        "Yang-Zhang (2000) over 21 sessions; NULL where OHLC is absent or flat",
        "^GSPC O, H, L, C",
    ),
    _c(
        "garch_vol21",
        "ann. decimal",
        "GARCH(1,1) mean vol over the next 21 sessions; parameters fit monthly on data to the prior month end",
        "^GSPC close",
    ),
    _c("garch_vol45", "ann. decimal", "as garch_vol21, over the next 45 sessions", "^GSPC close"),
    _c("vix", "vol pts", "VIX close", "^VIX"),
    _c("vix_pct252", "fraction", "share of the last 252 VIX closes (incl. today) <= today's", "^VIX"),
    _c("vix_z252", "z", "(VIX - mean_252) / sd_252", "^VIX"),
    _c("vix9d", "vol pts", "VIX9D close", "^VIX9D"),
    _c("vix3m", "vol pts", "VIX3M close", "^VIX3M"),
    _c("vix6m", "vol pts", "VIX6M close", "^VIX6M"),
    _c("ivts", "ratio", "VIX / VIX3M (implied-vol term structure; > 1 = inverted)", "^VIX, ^VIX3M"),
    _c("vix9d_vix", "ratio", "VIX9D / VIX", "^VIX9D, ^VIX"),
    _c("vix3m_vix6m", "ratio", "VIX3M / VIX6M", "^VIX3M, ^VIX6M"),
    _c("vvix", "vol pts", "VVIX close", "^VVIX"),
    _c("vvix_vix", "ratio", "VVIX / VIX", "^VVIX, ^VIX"),
    _c("skew", "index pts", "Cboe SKEW close", "^SKEW"),
    _c("vx_m1", "vol pts", "front monthly VIX future (settle; close where settle is 0)", "Cboe VX"),
    _c("vx_m2", "vol pts", "second monthly VIX future", "Cboe VX"),
    _c(
        "vx_cm30",
        "vol pts",
        "30-calendar-day constant maturity: linear in days between M1 and M2 (M1 if M1 > 30d)",
        "Cboe VX",
    ),
    _c("vx_m1_premium", "fraction", "VX M1 / VIX - 1 (premium of the front future over spot)", "Cboe VX, ^VIX"),
    _c("vx_roll", "fraction", "VX M2 / VX M1 - 1 (contango > 0)", "Cboe VX"),
    _c("vrp", "vol pts", "VIX - 100 x yz21 (rv21 where yz21 is NULL)", "^VIX, ^GSPC"),
    _c(
        "vrp_var",
        "ann. variance",
        "(VIX/100)^2 - yz21^2 (rv21 where yz21 is NULL): the BTZ variance form",
        "^VIX, ^GSPC",
    ),
    _c("spx_macd", "index pts", "EMA12 - EMA26 of the SPX close", "^GSPC close"),
    _c("spx_macd_signal", "index pts", "EMA9 of spx_macd", "^GSPC close"),
    _c("spx_macd_hist", "index pts", "spx_macd - spx_macd_signal", "^GSPC close"),
    _c("spx_macd_cross_up", "bool", "spx_macd crosses above its signal today", "^GSPC close"),
    _c("spx_macd_cross_down", "bool", "spx_macd crosses below its signal today", "^GSPC close"),
    _c("vix_macd", "vol pts", "EMA12 - EMA26 of the VIX close", "^VIX"),
    _c("vix_macd_signal", "vol pts", "EMA9 of vix_macd", "^VIX"),
    _c("vix_macd_hist", "vol pts", "vix_macd - vix_macd_signal", "^VIX"),
    _c("vix_macd_cross_up", "bool", "vix_macd crosses above its signal today", "^VIX"),
    _c("vix_macd_cross_down", "bool", "vix_macd crosses below its signal today", "^VIX"),
    _c("spx_rsi14", "0-100", "Wilder RSI(14) of the SPX close", "^GSPC close"),
    _c("vix_rsi14", "0-100", "Wilder RSI(14) of the VIX close", "^VIX"),
    _c(
        "bearish_divergence",
        "bool",
        "confirmed today (pivot + 5): SPX pivot high above the previous one 5-60 bars earlier, RSI lower",
        "^GSPC close, spx_rsi14",
    ),
    _c(
        "bullish_divergence",
        "bool",
        "confirmed today: SPX pivot low below the previous one, RSI higher",
        "^GSPC close, spx_rsi14",
    ),
    _c(
        "bearish_divergence_active",
        "bool",
        "a bearish divergence confirmed in the last 10 sessions",
        "bearish_divergence",
    ),
    _c(
        "bullish_divergence_active",
        "bool",
        "a bullish divergence confirmed in the last 10 sessions",
        "bullish_divergence",
    ),
    _c("spx_sma50", "index pts", "50-session simple moving average of the SPX close", "^GSPC close"),
    _c("spx_sma200", "index pts", "200-session simple moving average of the SPX close", "^GSPC close"),
    _c("spx_above_sma50", "bool", "spx_close > spx_sma50", "^GSPC close"),
    _c("spx_above_sma200", "bool", "spx_close > spx_sma200", "^GSPC close"),
    _c("drawdown252", "fraction", "close / max(close over the last 252 sessions) - 1", "^GSPC close"),
    _c(
        "breadth_source",
        "text",
        "'universe' (constituent closes) or 'vendor' (NYAD/NYMO) or NULL",
        "core.breadth_closes, core.breadth_vendor",
    ),
    _c(
        "breadth_coverage",
        "fraction",
        "universe members with closes today and yesterday / universe size",
        "core.breadth_closes",
    ),
    _c("advancers", "count", "universe members closing above the previous session", "core.breadth_closes"),
    _c("decliners", "count", "universe members closing below the previous session", "core.breadth_closes"),
    _c("ad_line", "count / level", "cumulative advancers - decliners (vendor: the NYAD level)", "breadth"),
    _c("ad_slope20", "per session", "OLS slope of ad_line over the last 20 sessions", "breadth"),
    _c("pct_above_sma50", "fraction", "share of universe members above their 50-session SMA", "breadth"),
    _c("mcclellan", "x1000", "EMA19 - EMA39 of (adv - dec)/(adv + dec), x1000 (vendor: NYMO)", "breadth"),
    _c("breadth_divergence", "bool", "SPX at a 20-session closing high while the A/D line is not", "breadth, ^GSPC"),
    _c("cpi_yoy", "fraction", "CPIAUCSL latest released month / 12 months earlier - 1", "FRED CPIAUCSL"),
    _c("cpi_3m_ann", "fraction", "(CPIAUCSL latest / 3 months earlier)^4 - 1", "FRED CPIAUCSL"),
    _c("core_cpi_yoy", "fraction", "as cpi_yoy for core CPI", "FRED CPILFESL"),
    _c("core_cpi_3m_ann", "fraction", "as cpi_3m_ann for core CPI", "FRED CPILFESL"),
    _c("ppi_yoy", "fraction", "PPI final demand YoY (PPI all commodities before it exists)", "FRED PPIFIS, PPIACO"),
    _c("ppi_3m_ann", "fraction", "PPI 3-month annualized (same splice)", "FRED PPIFIS, PPIACO"),
    _c("fed_funds", "percent", "effective fed funds rate known at the close", "FRED DFF"),
    _c("fed_funds_chg3m", "pct pts", "fed_funds - fed_funds 63 sessions earlier", "FRED DFF"),
    _c("dgs3mo", "percent", "3-month Treasury yield known at the close", "FRED DGS3MO"),
    _c("dgs10", "percent", "10-year Treasury yield known at the close", "FRED DGS10"),
    _c("dgs10_chg1m", "pct pts", "dgs10 - dgs10 21 sessions earlier", "FRED DGS10"),
    _c("t10y2y", "pct pts", "10y - 2y Treasury spread", "FRED T10Y2Y"),
    _c("curve_inverted", "bool", "t10y2y < 0", "FRED T10Y2Y"),
    _c("dollar_chg3m", "fraction", "broad dollar index / 63 sessions earlier - 1", "FRED DTWEXBGS"),
    _c("rbusbis_chg3m", "fraction", "BIS real effective dollar / 63 sessions earlier - 1", "FRED RBUSBIS"),
    _c("eurusd_chg1m", "fraction", "USD per EUR / 21 sessions earlier - 1", "FRED DEXUSEU"),
    _c("usdjpy_chg1m", "fraction", "JPY per USD / 21 sessions earlier - 1", "FRED DEXJPUS"),
    _c("hy_oas", "pct pts", "ICE BofA US high-yield OAS", "FRED BAMLH0A0HYM2"),
    _c("hy_oas_chg1m", "pct pts", "hy_oas - hy_oas 21 sessions earlier", "FRED BAMLH0A0HYM2"),
    _c("z_hy_oas", "z", "z-score of hy_oas over 756 sessions (>= 252 needed)", "hy_oas"),
    _c("z_dgs10_abs_chg1m", "z", "z-score of |dgs10_chg1m| over 756 sessions", "dgs10_chg1m"),
    _c("z_dollar_chg3m", "z", "z-score of dollar_chg3m over 756 sessions", "dollar_chg3m"),
    _c("macro_stress", "score", "mean of the available z-scores above, + 1 if the curve is inverted", "macro"),
    _c(
        "sessions_to_fomc",
        "sessions",
        "sessions until the next FOMC decision known at the close (0 = today)",
        "core.events",
    ),
    _c("sessions_to_cpi", "sessions", "sessions until the next CPI release (0 = today)", "core.events"),
    _c("sessions_to_ppi", "sessions", "sessions until the next PPI release (0 = today)", "core.events"),
    _c("methodology_version", "text", "the METHODOLOGY version the row was computed under", "vixshield"),
)

FEATURES_REGIME: tuple[Column, ...] = (
    _c("date", "date", "NYSE session with a VIX close", "core.market_daily"),
    _c(
        "regime",
        "text",
        "CALM / NORMAL / ELEVATED / STRESSED / CRISIS after hysteresis (METHODOLOGY §3)",
        "features.daily",
    ),
    _c("sessions_in_regime", "sessions", "sessions since the regime was entered (1 = today)", "regime"),
    _c("raw_regime", "text", "the regime this session qualifies for on its own, before hysteresis", "features.daily"),
    _c(
        "reasons",
        "text[]",
        "rule codes that fired (REGIME:RULE), SKIPPED:<input> for missing inputs, HOLD:... for a pending downgrade",
        "features.daily",
    ),
    _c("methodology_version", "text", "the METHODOLOGY version the row was computed under", "vixshield"),
)

TABLES = {"features.daily": FEATURES_DAILY, "features.regime": FEATURES_REGIME}


def comment_columns(conn: duckdb.DuckDBPyConnection, table: str) -> None:
    """Attach each column's formula and unit as a DuckDB column comment."""
    for col in TABLES[table]:
        text = f"[{col.unit}] {col.formula} (inputs: {col.inputs})".replace("'", "''")
        conn.execute(f"COMMENT ON COLUMN {table}.{col.name} IS '{text}'")


def markdown(first_valid: dict[str, dict[str, str]] | None = None) -> str:
    """docs/data_dictionary.md; `first_valid` (table -> column -> date) from a real-data run."""
    lines = [
        "# Data dictionary",
        "",
        "Generated by `vixshield dictionary` from `vixshield/dictionary.py`; do not edit by hand.",
        "Every value for session t uses only what was knowable at t's close.",
        "",
    ]
    for table, cols in TABLES.items():
        lines += [f"## `{table}`", "", "| column | unit | formula | inputs | first valid |", "|---|---|---|---|---|"]
        for c in cols:
            first = (first_valid or {}).get(table, {}).get(c.name, "")
            lines.append(f"| `{c.name}` | {c.unit} | {c.formula} | {c.inputs} | {first} |")
        lines.append("")
    return "\n".join(lines)


def first_valid_dates(conn: duckdb.DuckDBPyConnection) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for table in TABLES:
        frame = conn.execute(f"SELECT * FROM {table} ORDER BY date").df().set_index("date")
        out[table] = {
            c: (
                str(pd.Timestamp(frame[c].first_valid_index()).date())
                if frame[c].first_valid_index() is not None
                else "never"
            )
            for c in frame.columns
        }
    return out
