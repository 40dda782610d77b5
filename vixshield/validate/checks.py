"""The SQL checks that guard core, features and signals, and the per-symbol rules they share with
the quarantine.

Checks are SQL files under sql/checks/ that return the offending rows: a check passes when
its query returns none. Blocking checks stop everything downstream; WARN checks only report.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import duckdb
import pandas as pd

from vixshield import calendars
from vixshield.catalog import (
    CURVE_CLOSE,
    CURVE_GAP,
    CURVE_RATES,
    CURVE_RATIO,
    CURVE_SPREAD_TOL,
    CURVE_SPREADS,
    DAILY_SYMBOLS,
    MACRO_SERIES,
    MAX_AGE_DAYS,
    MONTHLY_AVERAGE_TOL,
    MONTHLY_AVERAGES,
    UNIT_SLIP_ROWS,
    VIX_FRED_SERIES,
    VIX_FRED_TOL,
    Availability,
)
from vixshield.config import ValidationSettings
from vixshield.store import warehouse

TERM_INDICES = ("^VIX3M", "^VIX6M")  # longer-dated: cannot swing far more than the VIX intraday
# series_aligned: a year's same-session correlation with the VIX below this is another series' values
# (the real series' lowest: VVIX in 2006, 0.29)
MIN_CO_MOVEMENT = 0.15
# what a user can do about a hole, or a wrong value, that the publisher will never correct
ACCEPT_HINT = "if the publisher will never correct it, list the session in validation.accepted_holes"
SET_ASIDE_HINT = "if it is wrong and the publisher will never correct it, list it in validation.set_aside"


@dataclass(frozen=True)
class SqlCheck:
    name: str
    asset: str
    blocking: bool
    description: str
    query: str = ""  # the sql/checks/ file it runs, when not its own name
    as_of_only: bool = False  # only the offenders dated on the as-of session
    before_as_of: bool = False  # only the offenders dated before it (another check names the as-of's)


@dataclass
class CheckOutcome:
    check: SqlCheck
    failures: int
    sample: list[dict] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.failures == 0

    @property
    def severity(self) -> str:
        return "ERROR" if self.check.blocking else "WARN"


SQL_CHECKS: tuple[SqlCheck, ...] = (
    SqlCheck("core_one_row_per_session", "core.market_daily", True, "one row per NYSE session, no other dates"),
    SqlCheck(
        "core_required_fresh",
        "core.market_daily",
        True,
        "SPX and VIX closes exist for the as-of session (one the file has may be quarantined: see meta.quarantine)",
    ),
    SqlCheck(
        "core_recent_sessions_complete",
        "core.market_daily",
        True,
        f"no SPX/VIX gap in the last 20 sessions ({ACCEPT_HINT})",
    ),
    SqlCheck("core_ohlc_consistent", "core.market_daily", True, "low <= open, close <= high after quarantine"),
    SqlCheck("core_plausible_ranges", "core.market_daily", True, "closes inside the catalog's plausible ranges"),
    # SPX and the VIX on every session of their history: a row a delivery lost (a 'null' bar, an unreadable
    # date) would change the book's whole path after it, and with it today's plan
    SqlCheck(
        "core_required_history_complete",
        "core.market_daily",
        True,
        "SPX and VIX closes on every session of their history but the publishers' own gaps (catalog known_gaps); "
        "see meta.quarantine for a row of that session the delivery could not load, correct the file and rerun "
        f"({ACCEPT_HINT})",
    ),
    SqlCheck("core_history_gaps", "core.market_daily", False, "sessions missing inside each series' history"),
    SqlCheck("core_optional_fresh", "core.market_daily", False, "optional series at most 5 sessions behind"),
    # such a move in history is a bad print too (no real one since 1927 reaches the limits: 1987 was 0.229 in
    # SPX, 2018-02-05 0.77 in the VIX), and the book's whole path after it would move with it
    SqlCheck(
        "core_outlier_jumps",
        "core.market_daily",
        True,
        "no one-session move beyond the configured limits before the as-of (if one is real, raise "
        f"validation.max_jump_spx, max_jump_vol_index or max_drop_vol_index; {SET_ASIDE_HINT})",
        before_as_of=True,
    ),
    # the same move on the as-of session, which today's plan and tickets are made from, blocks: a print that
    # halves SPX or the VIX is far likelier a bad delivery than a market, and its strikes would be wrong
    SqlCheck(
        "core_outlier_jumps_recent",
        "core.market_daily",
        True,
        "no such move on the as-of session (if it is real, raise validation.max_jump_spx, max_jump_vol_index "
        "or max_drop_vol_index)",
        query="core_outlier_jumps",
        as_of_only=True,
    ),
    # a row of the as-of session set aside (by a rule, or unread with nothing stored in its place) would make
    # today's plan differ from a run on the corrected file: the run stops and names it instead
    SqlCheck(
        "as_of_rows_usable",
        "core.market_daily",
        True,
        "every row the delivery brought for the as-of session is usable (see meta.quarantine; correct the file "
        "and rerun)",
    ),
    # a delivered row not loaded (not a number, cut short, a key given twice with different values) with nothing
    # stored in its place: the series loses that session, and the book's whole path after it (so today's plan)
    # would differ from a run on the corrected file
    SqlCheck(
        "history_rows_usable",
        "core.market_daily",
        True,
        "no session lost to a delivered row that could not be loaded and has nothing stored in its place (see "
        f"meta.quarantine; correct the file and rerun; {ACCEPT_HINT})",
    ),
    # the user's own exemptions are never silent: each is listed, with its reason, in every run's checks
    SqlCheck(
        "accepted_holes",
        "core.market_daily",
        False,
        "the sessions validation.accepted_holes lets the history lack and the rows validation.set_aside sets "
        "aside, each with its reason and state (an accepted hole a delivery now fills can go from the settings)",
    ),
    # two publishers of one number: a VIX close a bad file changed (another index saved as VIX, a misplaced
    # decimal inside the plausible range) or a broken VIXCLS file; which is right cannot be known
    SqlCheck(
        "vix_agrees_with_fred",
        "core.market_daily",
        True,
        "Cboe's VIX close equals FRED's republication of it (VIXCLS) wherever both have the session (correct "
        f"the file that is wrong and rerun; {SET_ASIDE_HINT})",
    ),
    SqlCheck(
        "vx_contract_jumps",
        "core.market_daily",
        True,
        "no VX contract moves beyond the volatility limits in one session (if one is real, raise "
        f"validation.max_jump_vol_index or max_drop_vol_index; {SET_ASIDE_HINT})",
    ),
    SqlCheck(
        "vx_contracts_end_at_expiry",
        "core.market_daily",
        True,
        "every VX contract trades until its expiry and not after (a file whose Futures column names another "
        "month's contract: correct it and rerun)",
    ),
    SqlCheck(
        "indices_distinct",
        "core.market_daily",
        True,
        "no two index closes (SPX, the VIX family, VVIX, SKEW) equal on most sessions (one file holds another "
        "index's values: correct it and rerun)",
    ),
    # dates a session off (an export's time-zone slip, or tomorrow's close dated today) pass every range and
    # jump rule; every feature, gate and plan built on the series would move (a look-ahead, when early)
    SqlCheck(
        "series_aligned",
        "core.market_daily",
        True,
        "each daily series moves with the VIX on the same session, not the one before or after, in every year "
        "(a file's dates are one session off, or it holds another series: correct it and rerun)",
    ),
    SqlCheck(
        "term_structure_ordered",
        "core.market_daily",
        True,
        "the VIX below VIX3M, and VIX3M below VIX6M, on most sessions of their history (two files saved under "
        "each other's names: correct them and rerun)",
    ),
    SqlCheck("vx_curve_sane", "core.market_daily", False, "a VX M1 wherever futures traded; no month missing"),
    SqlCheck(
        "vx_months_complete_recent", "core.market_daily", True, "no VX contract month missing in the last 20 sessions"
    ),
    SqlCheck("macro_point_in_time", "core.macro_observations", True, "no macro value known after the as-of"),
    SqlCheck("macro_plausible_ranges", "core.macro_observations", True, "values inside each series' plausible range"),
    SqlCheck(
        "macro_rates_in_line",
        "core.macro_observations",
        True,
        "no daily rate out of line with the rest of the curve today, nor on many days (a unit slip: see "
        "meta.quarantine; correct the file and rerun)",
    ),
    SqlCheck(
        "macro_series_distinct",
        "core.macro_observations",
        True,
        "no two macro series equal on most of their common dates (one file holds another series' values: "
        "correct it and rerun)",
    ),
    SqlCheck(
        "macro_spreads_consistent",
        "core.macro_observations",
        True,
        "each spread FRED computes from two rates (T10Y2Y = DGS10 - DGS2) equals their difference (a file holds "
        "another series' values: correct it and rerun)",
    ),
    SqlCheck(
        "macro_averages_consistent",
        "core.macro_observations",
        True,
        "each monthly series FRED averages from a daily one (FEDFUNDS from DFF) equals the average of every "
        "complete month (a file holds another series' values: correct it and rerun)",
    ),
    SqlCheck(
        "fomc_matches_calendar",
        "core.events",
        True,
        "most FOMC decisions delivered within the shipped Fed calendar's years are on its dates, and most "
        "scheduled flags the file gives for them are the calendar's (the file's dates are shifted or misread, or "
        "its flags inverted: correct it and rerun)",
    ),
    SqlCheck("events_schedule_unknown", "core.events", False, "FOMC decisions whose scheduled flag no source gives"),
    SqlCheck("features_one_row_per_session", "features.daily", True, "exactly the sessions of core.market_daily"),
    SqlCheck("features_sane", "features.daily", True, "no infinities, RSI in [0, 100], vols and ratios > 0"),
    SqlCheck("regime_covers_vix_sessions", "features.regime", True, "a regime for every session with a VIX close"),
    SqlCheck("signals_cover_sessions", "signals.condor_plan", True, "one plan row per session with SPX and VIX"),
    SqlCheck(
        "signals_plan_sane",
        "signals.condor_plan",
        True,
        "legs ordered and on the grid, credit and max loss consistent, sizing within budget",
    ),
    SqlCheck(
        "backtest_accounting",
        "backtest.metrics",
        True,
        "latest run: NAV change = equity P&L + interest + trade P&L per strategy; every trade closed or open",
    ),
)
CHECKS_BY_ASSET: dict[str, list[SqlCheck]] = {}
for _c in SQL_CHECKS:
    CHECKS_BY_ASSET.setdefault(_c.asset, []).append(_c)


def register_rules(conn: duckdb.DuckDBPyConnection, settings: ValidationSettings | None = None) -> None:
    """Expose to SQL the catalog's per-symbol rules (plausible range, OHLC or close-only) and the publishers'
    known gaps, the user's accepted holes and set-aside rows (`settings`), each macro series' plausible range,
    the daily rates and spreads judged against each other on the curve, the monthly averages of daily series,
    and the shipped Fed calendar (temp tables symbol_rules, known_gaps, accepted_holes, macro_rules, curve_rules,
    curve_spreads, monthly_averages and shipped_fomc; temp view raw_series_dates: every stored (table, series,
    date))."""
    rules = pd.DataFrame(
        [
            {
                "symbol": s.symbol,
                "lo": s.plausible[0],
                "hi": s.plausible[1],
                "ohlc": s.ohlc,
                "term_index": s.symbol in TERM_INDICES,
                "stale_open": s.stale_open,
                "vix_lo": s.vix_ratio[0] if s.vix_ratio else None,
                "vix_hi": s.vix_ratio[1] if s.vix_ratio else None,
            }
            for s in DAILY_SYMBOLS
        ]
    )
    with warehouse.registered(conn, "_rules", rules):
        conn.execute("CREATE OR REPLACE TEMP TABLE symbol_rules AS SELECT * FROM _rules")
    gaps = pd.DataFrame(
        [
            {"series": s.close_column or s.column, "date": dt.date.fromisoformat(d)}
            for s in DAILY_SYMBOLS
            for d in s.known_gaps
        ],
        columns=["series", "date"],
    )
    with warehouse.registered(conn, "_known_gaps", gaps):
        conn.execute("CREATE OR REPLACE TEMP TABLE known_gaps AS SELECT series, date::DATE AS date FROM _known_gaps")
    columns = {s.symbol: s.close_column or s.column for s in DAILY_SYMBOLS}  # a daily symbol's close in core
    listed = ValidationSettings() if settings is None else settings
    holes = pd.DataFrame(  # a row set aside leaves its session a hole: accepted with it
        [(h.series, h.date, h.reason, columns.get(h.series), False) for h in listed.accepted_holes]
        + [(h.series, h.date, h.reason, columns.get(h.series), True) for h in listed.set_aside],
        columns=["series", "date", "reason", "core_column", "set_aside"],
    )
    with warehouse.registered(conn, "_accepted_holes", holes):
        conn.execute(
            "CREATE OR REPLACE TEMP TABLE accepted_holes AS SELECT series::VARCHAR AS series, date::DATE AS date, "
            "reason::VARCHAR AS reason, core_column::VARCHAR AS core_column, set_aside::BOOLEAN AS set_aside "
            "FROM _accepted_holes"
        )
    view = warehouse.sql_text("transforms/raw_series_dates.sql")
    conn.execute(f"CREATE OR REPLACE TEMP VIEW raw_series_dates AS {view}")
    macro = pd.DataFrame([{"series_id": m.series_id, "lo": m.plausible[0], "hi": m.plausible[1]} for m in MACRO_SERIES])
    with warehouse.registered(conn, "_macro_rules", macro):
        conn.execute("CREATE OR REPLACE TEMP TABLE macro_rules AS SELECT * FROM _macro_rules")
    curve = pd.DataFrame(
        [{"series_id": s, "gap": CURVE_GAP, "ratio": CURVE_RATIO, "close": CURVE_CLOSE} for s in CURVE_RATES]
    )
    with warehouse.registered(conn, "_curve_rules", curve):
        conn.execute("CREATE OR REPLACE TEMP TABLE curve_rules AS SELECT * FROM _curve_rules")
    spreads = pd.DataFrame(
        [
            {"series_id": s, "long_id": long, "short_id": short, "tol": CURVE_SPREAD_TOL}
            for s, (long, short) in CURVE_SPREADS.items()
        ]
    )
    with warehouse.registered(conn, "_curve_spreads", spreads):
        conn.execute("CREATE OR REPLACE TEMP TABLE curve_spreads AS SELECT * FROM _curve_spreads")
    shipped = calendars.shipped_events()
    fomc = shipped.loc[shipped["kind"] == "fomc", ["date", "scheduled"]]
    with warehouse.registered(conn, "_shipped_fomc", fomc):
        conn.execute(
            "CREATE OR REPLACE TEMP TABLE shipped_fomc AS "
            "SELECT date::DATE AS date, scheduled::BOOLEAN AS scheduled FROM _shipped_fomc"
        )
    averages = pd.DataFrame(
        [{"series_id": m, "daily_id": d, "tol": MONTHLY_AVERAGE_TOL} for m, d in MONTHLY_AVERAGES.items()],
        columns=["series_id", "daily_id", "tol"],
    )
    with warehouse.registered(conn, "_monthly_averages", averages):
        conn.execute("CREATE OR REPLACE TEMP TABLE monthly_averages AS SELECT * FROM _monthly_averages")


def set_variables(conn: duckdb.DuckDBPyConnection, as_of: dt.date, settings: ValidationSettings) -> None:
    conn.execute("SET VARIABLE as_of = ?::DATE", [as_of])
    conn.execute("SET VARIABLE max_jump_spx = ?", [settings.max_jump_spx])
    conn.execute("SET VARIABLE max_jump_vol = ?", [settings.max_jump_vol_index])
    conn.execute("SET VARIABLE max_drop_vol = ?", [settings.max_drop_vol_index])
    conn.execute("SET VARIABLE rate_max_age = ?", [MAX_AGE_DAYS[Availability.NEXT_SESSION]])
    conn.execute("SET VARIABLE rate_slip_rows = ?", [UNIT_SLIP_ROWS])
    conn.execute("SET VARIABLE unloaded_rules = ?", [list(warehouse.UNLOADED_ROW_RULES)])
    conn.execute("SET VARIABLE vix_fred_series = ?", [VIX_FRED_SERIES])
    conn.execute("SET VARIABLE vix_fred_tol = ?", [VIX_FRED_TOL])
    conn.execute("SET VARIABLE min_co_movement = ?", [MIN_CO_MOVEMENT])
    register_rules(conn, settings)


def run_check(conn: duckdb.DuckDBPyConnection, check: SqlCheck, sample_rows: int = 10) -> CheckOutcome:
    """Run one SQL check (variables must be set: see `set_variables`)."""
    sql = warehouse.sql_text(f"checks/{check.query or check.name}.sql").strip().rstrip(";")
    if check.as_of_only:  # the as-of is a session (core_tables.resolve_as_of)
        sql = f"SELECT * FROM ({sql}) WHERE date = getvariable('as_of')"
    elif check.before_as_of:
        sql = f"SELECT * FROM ({sql}) WHERE date < getvariable('as_of')"
    offenders = conn.execute(sql).df()
    sample = offenders.head(sample_rows).astype(str).to_dict("records")
    return CheckOutcome(check, len(offenders), sample)
