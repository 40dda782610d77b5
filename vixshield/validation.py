"""Quarantine rules, the core build, and the SQL checks that guard it.

Checks are SQL files under sql/checks/ that return the offending rows: a check passes when
its query returns none. Blocking checks stop everything downstream; WARN checks only report.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import duckdb
import pandas as pd

from vixshield import calendars, warehouse
from vixshield.catalog import DAILY_SYMBOLS
from vixshield.config import ValidationSettings

TERM_INDICES = ("^VIX3M", "^VIX6M")  # longer-dated: cannot swing far more than the VIX intraday


@dataclass(frozen=True)
class SqlCheck:
    name: str
    asset: str
    blocking: bool
    description: str


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
    SqlCheck("core_required_fresh", "core.market_daily", True, "SPX and VIX closes exist for the as-of session"),
    SqlCheck("core_recent_sessions_complete", "core.market_daily", True, "no SPX/VIX gap in the last 20 sessions"),
    SqlCheck("core_ohlc_consistent", "core.market_daily", True, "low <= open, close <= high after quarantine"),
    SqlCheck("core_plausible_ranges", "core.market_daily", True, "closes inside the catalog's plausible ranges"),
    SqlCheck("core_history_gaps", "core.market_daily", False, "sessions missing inside each series' history"),
    SqlCheck("core_optional_fresh", "core.market_daily", False, "optional series at most 5 sessions behind"),
    SqlCheck("core_outlier_jumps", "core.market_daily", False, "one-session moves beyond the configured limits"),
    SqlCheck("vx_curve_sane", "core.market_daily", False, "a VX M1 wherever futures traded; no month missing"),
    SqlCheck(
        "vx_months_complete_recent", "core.market_daily", True, "no VX contract month missing in the last 20 sessions"
    ),
    SqlCheck("macro_point_in_time", "core.macro_observations", True, "no macro value known after the as-of"),
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


def _register_rules(conn: duckdb.DuckDBPyConnection) -> None:
    rules = pd.DataFrame(
        [
            {
                "symbol": s.symbol,
                "lo": s.plausible[0],
                "hi": s.plausible[1],
                "ohlc": s.ohlc,
                "term_index": s.symbol in TERM_INDICES,
            }
            for s in DAILY_SYMBOLS
        ]
    )
    with warehouse.registered(conn, "_rules", rules):
        conn.execute("CREATE OR REPLACE TEMP TABLE symbol_rules AS SELECT * FROM _rules")


def set_variables(conn: duckdb.DuckDBPyConnection, as_of: dt.date, settings: ValidationSettings) -> None:
    conn.execute("SET VARIABLE as_of = ?::DATE", [as_of])
    conn.execute("SET VARIABLE max_jump_spx = ?", [settings.max_jump_spx])
    conn.execute("SET VARIABLE max_jump_vol = ?", [settings.max_jump_vol_index])
    _register_rules(conn)


def rebuild_quarantine(conn: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Re-derive the rule-based quarantine from raw, in one transaction; returns rows per rule."""
    _register_rules(conn)
    with warehouse.transaction(conn):
        conn.execute(warehouse.sql_text("transforms/quarantine.sql"))
    return dict(conn.execute("SELECT rule, count(*) FROM meta.quarantine GROUP BY rule ORDER BY rule").fetchall())


def resolve_as_of(conn: duckdb.DuckDBPyConnection, requested: dt.date | None, live: bool) -> dt.date:
    """The session the run stands on. Live: the requested date or the last completed session.
    Offline: the requested date, or else the last session on which both SPX and VIX exist."""
    if requested is not None:
        return calendars.session_on_or_before(requested).date()
    if live:
        return calendars.last_completed_session().date()
    last = conn.execute(
        """SELECT min(last) FROM (SELECT max(date) AS last FROM raw.daily_bars
           WHERE symbol IN ('^GSPC', '^VIX') AND close IS NOT NULL GROUP BY symbol HAVING count(*) > 0)"""
    ).fetchone()[0]
    if last is None:
        raise ValueError("no SPX or VIX data in raw.daily_bars: nothing to build the panel from")
    return calendars.session_on_or_before(last).date()


def build_core(
    conn: duckdb.DuckDBPyConnection, as_of: dt.date, settings: ValidationSettings, universe: tuple[str, ...] = ()
) -> dict[str, int]:
    """Rebuild every core table through `as_of` in one transaction; `universe` names the breadth members."""
    first = conn.execute("SELECT min(date) FROM raw.daily_bars WHERE symbol IN ('^GSPC', '^VIX')").fetchone()[0]
    start = max(pd.Timestamp(first or as_of), pd.Timestamp(f"{calendars.FIRST_SESSION_YEAR}-01-01"))
    sessions = pd.DataFrame({"date": calendars.sessions(start, as_of).astype("datetime64[us]")})
    expiries = pd.DataFrame(
        {
            "expiry": calendars.vix_expirations("2004-01-01", pd.Timestamp(as_of) + pd.DateOffset(years=1)).astype(
                "datetime64[us]"
            )
        }
    )
    members = pd.DataFrame({"symbol": pd.Series(list(universe), dtype="string")})
    set_variables(conn, as_of, settings)
    with (
        warehouse.registered(conn, "_sessions", sessions),
        warehouse.registered(conn, "_expiries", expiries),
        warehouse.registered(conn, "_members", members),
        warehouse.transaction(conn),
    ):
        conn.execute("CREATE OR REPLACE TEMP TABLE breadth_universe AS SELECT symbol::VARCHAR AS symbol FROM _members")
        conn.execute("CREATE OR REPLACE TABLE core.sessions AS SELECT CAST(date AS DATE) AS date FROM _sessions")
        conn.execute(
            "CREATE OR REPLACE TEMP TABLE vix_monthly_expirations AS "
            "SELECT CAST(expiry AS DATE) AS expiry FROM _expiries"
        )
        conn.execute(warehouse.sql_text("transforms/core_tables.sql"))
        conn.execute(warehouse.sql_text("transforms/core_market_daily.sql"))
    return {
        t: conn.execute(f"SELECT count(*) FROM core.{t}").fetchone()[0]
        for t in ("sessions", "market_daily", "vx_futures", "macro_observations", "events", "breadth_closes")
    }


def run_check(conn: duckdb.DuckDBPyConnection, check: SqlCheck, sample_rows: int = 10) -> CheckOutcome:
    """Run one SQL check (variables must be set: see `set_variables`)."""
    offenders = conn.execute(warehouse.sql_text(f"checks/{check.name}.sql")).df()
    sample = offenders.head(sample_rows).astype(str).to_dict("records")
    return CheckOutcome(check, len(offenders), sample)
