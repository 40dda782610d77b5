"""What the warehouse holds: every daily symbol and macro series, and when each becomes known.

The availability rules are METHODOLOGY §1; the catalog is the one place that names them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Availability(StrEnum):
    """When an observation becomes knowable (METHODOLOGY §1)."""

    CLOSE = "close"  # at the close of the observation date
    NEXT_SESSION = "next_session"  # the next NYSE session (daily H.15, ICE, ...)
    H10_WEEKLY = "h10_weekly"  # the Monday after the observation's week (Fed H.10)
    CPI_RELEASE = "cpi_release"  # BLS CPI release date of the reference month
    PPI_RELEASE = "ppi_release"  # BLS PPI release date of the reference month
    MONTH_END_PLUS_1 = "month_end_plus_1"  # monthly averages published the next business day
    MONTH_END_PLUS_45 = "month_end_plus_45"  # BIS real effective exchange rates


@dataclass(frozen=True)
class DailySymbol:
    symbol: str  # Yahoo spelling, used as the key in raw.daily_bars
    column: str  # prefix in core.market_daily
    cboe_name: str | None  # Cboe index-history file stem, where Cboe publishes it
    ohlc: bool  # False where the publisher gives a close only
    required: bool  # a required series blocks the run when stale or missing
    plausible: tuple[float, float]  # range a close must sit in
    close_column: str = ""  # its close's column in core.market_daily, when not `column` itself
    volume: bool = False  # core.market_daily carries its volume (<column>_volume)
    # the publisher's open is the index's first calculation, made from the previous closes of the stocks
    # that have not opened yet: an open equal to the previous close is that stale value, not a print
    stale_open: bool = False
    # a VIX-term index's close over the VIX's on the same day: a unit slip (x10, /10) passes the plausible
    # range but not this (the real ratios of VIX9D, VIX3M and VIX6M since each began: 0.63 to 1.63)
    vix_ratio: tuple[float, float] | None = None
    # sessions the publisher's own history lacks (a required series must have every other session)
    known_gaps: tuple[str, ...] = ()

    def market_daily_columns(self) -> list[tuple[str, str]]:
        """(raw.daily_bars column, core.market_daily column) pairs, in the panel's column order."""
        ohlc = [(f, f"{self.column}_{f}") for f in ("open", "high", "low")] if self.ohlc else []
        volume = [("volume", f"{self.column}_volume")] if self.volume else []
        return [*ohlc, ("close", self.close_column or self.column), *volume]


VIX_TERM_RATIO = (0.4, 2.5)
DAILY_SYMBOLS: tuple[DailySymbol, ...] = (
    DailySymbol(
        "^GSPC", "spx", None, True, True, (1.0, 20000.0), close_column="spx_close", volume=True, stale_open=True
    ),
    # Cboe's VIX_History.csv has no row on these NYSE sessions (the book carries them: README)
    DailySymbol(
        "^VIX",
        "vix",
        "VIX",
        True,
        True,
        (5.0, 150.0),
        known_gaps=("1991-03-01", "1997-01-31", "1997-11-26", "1999-12-31"),
    ),
    DailySymbol("^VIX9D", "vix9d", "VIX9D", True, False, (3.0, 200.0), vix_ratio=VIX_TERM_RATIO),
    DailySymbol("^VIX3M", "vix3m", "VIX3M", True, False, (5.0, 120.0), vix_ratio=VIX_TERM_RATIO),
    DailySymbol("^VIX6M", "vix6m", "VIX6M", True, False, (5.0, 100.0), vix_ratio=VIX_TERM_RATIO),
    DailySymbol("^VVIX", "vvix", "VVIX", False, False, (40.0, 250.0)),
    DailySymbol("^SKEW", "skew", "SKEW", False, False, (90.0, 200.0)),
)
SYMBOLS_BY_NAME = {s.symbol: s for s in DAILY_SYMBOLS}
SYMBOLS_BY_CBOE = {s.cboe_name: s for s in DAILY_SYMBOLS if s.cboe_name}


# How old (calendar days since the observation date) a value may be and still count as current:
# one missed release beyond the normal lag. Older values are treated as missing, not carried.
MAX_AGE_DAYS: dict[Availability, int] = {
    Availability.CLOSE: 10,
    Availability.NEXT_SESSION: 10,
    Availability.H10_WEEKLY: 21,
    Availability.CPI_RELEASE: 120,
    Availability.PPI_RELEASE: 120,
    Availability.MONTH_END_PLUS_1: 70,
    Availability.MONTH_END_PLUS_45: 130,
}


@dataclass(frozen=True)
class MacroSeries:
    series_id: str
    availability: Availability
    description: str
    # range a value must sit in, in FRED's units: wide enough for every value since the series began,
    # narrow enough to catch a unit slip (basis points for percent, a fraction for a spread or an index)
    plausible: tuple[float, float]

    @property
    def max_age_days(self) -> int:
        return MAX_AGE_DAYS[self.availability]


_RATE = (-2.0, 30.0)  # percent a year: the fed funds rate's 22.36 of 1981 is the highest since 1954
MACRO_SERIES: tuple[MacroSeries, ...] = (
    MacroSeries("CPIAUCSL", Availability.CPI_RELEASE, "CPI, all items, SA", (10.0, 1000.0)),
    MacroSeries("CPILFESL", Availability.CPI_RELEASE, "Core CPI, SA", (10.0, 1000.0)),
    MacroSeries("PPIFIS", Availability.PPI_RELEASE, "PPI final demand (2009-11 on)", (50.0, 500.0)),
    MacroSeries("PPIACO", Availability.PPI_RELEASE, "PPI all commodities (before PPIFIS)", (5.0, 1000.0)),
    MacroSeries("DFF", Availability.NEXT_SESSION, "Effective fed funds rate", _RATE),
    MacroSeries("FEDFUNDS", Availability.MONTH_END_PLUS_1, "Effective fed funds rate, monthly", _RATE),
    MacroSeries("DGS3MO", Availability.NEXT_SESSION, "3-month Treasury yield", _RATE),
    MacroSeries("DTB3", Availability.NEXT_SESSION, "3-month Treasury bill, discount basis (before DGS3MO)", _RATE),
    MacroSeries("DGS2", Availability.NEXT_SESSION, "2-year Treasury yield", _RATE),
    MacroSeries("DGS10", Availability.NEXT_SESSION, "10-year Treasury yield", _RATE),
    MacroSeries("T10Y2Y", Availability.NEXT_SESSION, "10y minus 2y Treasury spread", (-6.0, 6.0)),
    MacroSeries("DTWEXBGS", Availability.H10_WEEKLY, "Broad trade-weighted dollar index", (50.0, 250.0)),
    MacroSeries("DEXUSEU", Availability.H10_WEEKLY, "USD per EUR", (0.5, 2.5)),
    MacroSeries("DEXJPUS", Availability.H10_WEEKLY, "JPY per USD", (50.0, 400.0)),
    MacroSeries("RBUSBIS", Availability.MONTH_END_PLUS_45, "BIS real broad effective exchange rate, US", (40.0, 250.0)),
    MacroSeries("BAMLH0A0HYM2", Availability.NEXT_SESSION, "ICE BofA US high-yield OAS", (1.0, 40.0)),
    MacroSeries("VIXCLS", Availability.NEXT_SESSION, "VIX close as republished by FRED", (5.0, 150.0)),
    MacroSeries("AAA", Availability.MONTH_END_PLUS_1, "Moody's Aaa corporate yield, monthly", (1.0, 25.0)),
    MacroSeries("BAA", Availability.MONTH_END_PLUS_1, "Moody's Baa corporate yield, monthly", (1.0, 25.0)),
)
MACRO_BY_ID = {m.series_id: m for m in MACRO_SERIES}
LIVE_MACRO_IDS: tuple[str, ...] = tuple(m.series_id for m in MACRO_SERIES if m.series_id not in ("AAA", "BAA"))

# The daily short rates and Treasury yields, each judged by the others of the same day: a value a unit slip
# shrank (4.85% delivered as 0.0485) or grew passes its plausible range but not the curve. Two rates agree
# when within CURVE_CLOSE points or CURVE_RATIO times of each other, and disagree when more than CURVE_GAP
# points apart and more than CURVE_RATIO times. A rate that agrees with none of the day's others and
# disagrees with one that agrees with a third is set aside. Of the 108,454 same-day pairs since 1980 none
# disagreed: the widest gap beyond the ratio was 3.83 points (DGS10 4.01, DGS3MO 0.18 on 2010-04-05, when
# DGS3MO sat 0.02 from DFF); DGS3MO/DFF fell to 0.01 on 2008-09-17, a gap of 2.77; DFF's reserve-settlement
# spike of 16.17 on 1986-12-30 was 2.5 times DGS2.
CURVE_RATES: tuple[str, ...] = ("DFF", "DTB3", "DGS3MO", "DGS2", "DGS10")
CURVE_GAP = 4.0  # percentage points
CURVE_RATIO = 10.0
CURVE_CLOSE = 0.5  # percentage points: near zero, ratios say nothing
# A spread FRED computes as the difference of two rates (to its two decimals: T10Y2Y never left DGS10 - DGS2
# by more than 0.02 since 1980): one that misses it by over CURVE_SPREAD_TOL points, while a hundred times it
# meets it within that, was saved as a decimal. (A spread near 0 slipped alike is as near 0: harmless.)
CURVE_SPREADS: dict[str, tuple[str, str]] = {"T10Y2Y": ("DGS10", "DGS2")}
CURVE_SPREAD_TOL = 0.05
# A monthly series FRED computes as the average of a daily one (FEDFUNDS: the month's DFF, every calendar
# day, to two decimals; never more than 0.005 off since 1954): a complete month that misses it by more than
# MONTHLY_AVERAGE_TOL points holds other values in one of the two files (check macro_averages_consistent).
MONTHLY_AVERAGES: dict[str, str] = {"FEDFUNDS": "DFF"}
MONTHLY_AVERAGE_TOL = 0.011

# FRED republishes Cboe's VIX close as VIXCLS: the two agree on every one of the bundle's 9,062 common
# sessions since 1990 (Cboe's older rows carry six decimals of a two-decimal value). A session where they
# differ by more than the rounding is a bad print in one of the two files (check vix_agrees_with_fred).
VIX_FRED_SERIES = "VIXCLS"
VIX_FRED_TOL = 0.015

# The quarantine rules whose every flag is a value in the wrong unit. A series with UNIT_SLIP_ROWS values
# set aside by them is stored in the wrong unit, not one bad print: a run on it stops (check
# macro_rates_in_line), and its corrected file, which revises it whole, is taken as the heal it is rather
# than refused as a mass revision (warehouse.upsert).
UNIT_SLIP_RULES = ("value_out_of_range", "out_of_line_with_curve", "out_of_line_with_vix", "price_out_of_range")
UNIT_SLIP_ROWS = 5

EVENT_KINDS = ("fomc", "cpi", "ppi")
