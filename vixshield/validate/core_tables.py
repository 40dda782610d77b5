"""The core.* tables: the validated, session-aligned, point-in-time panel every feature reads,
rebuilt whole through the run's as-of session by the SQL in sql/transforms/."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from vixshield import calendars
from vixshield.config import ValidationSettings
from vixshield.store import warehouse
from vixshield.validate.checks import set_variables


def resolve_as_of(conn: duckdb.DuckDBPyConnection, requested: dt.date | None, live: bool) -> dt.date:
    """The session the run stands on. Live: the requested date or the last completed session.
    Offline: the requested date, or else the last session on which both SPX and VIX exist (or were
    delivered but not loaded: sql/transforms/offline_as_of.sql)."""
    if requested is not None:
        return calendars.session_on_or_before(requested).date()
    if live:
        return calendars.last_completed_session().date()
    last = conn.execute(warehouse.sql_text("transforms/offline_as_of.sql")).fetchall()[0][0]
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
    set_variables(conn, as_of, settings)  # and the checks' temp tables: shipped_fomc resolves FOMC flags
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
