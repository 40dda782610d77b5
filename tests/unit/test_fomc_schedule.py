"""An FOMC decision is known a year ahead only when it was on the Fed's published schedule; an
unscheduled one (the 2020-03-15 Sunday cut, the March 2020 notation votes) only from its own day. A
blank `scheduled` flag in the events file is resolved from the shipped calendar, never defaulted to
"scheduled" (which would let sessions_to_fomc see emergency actions coming)."""

import datetime as dt

import pandas as pd
import pytest

from vixshield import calendars
from vixshield.config import ValidationSettings
from vixshield.store import schemas, warehouse
from vixshield.validate import checks, core_tables

# as the market bundle's events file has them: flags blank from 2019 on
FILE_ROWS = {"2020-01-29": None, "2020-03-03": None, "2020-03-15": None, "2020-03-19": None, "2020-04-29": True}


@pytest.fixture
def conn(tmp_path):
    c = warehouse.connect(tmp_path / "w.duckdb")
    warehouse.init_schema(c)
    days = calendars.sessions("2019-01-02", "2020-06-30")
    bars = pd.concat(
        pd.DataFrame({"symbol": s, "date": days, "open": v, "high": v, "low": v, "close": v, "source": "files"})
        for s, v in (("^GSPC", 3000.0), ("^VIX", 20.0))
    )
    events = pd.DataFrame(
        {"date": pd.to_datetime(list(FILE_ROWS)), "kind": "fomc", "scheduled": list(FILE_ROWS.values()), "source": "f"}
    )
    with warehouse.transaction(c):
        warehouse.upsert(c, "daily_bars", schemas.conform(bars, "daily_bars"), "r", dt.datetime(2020, 7, 1))
        warehouse.upsert(c, "events", schemas.conform(events, "events"), "r", dt.datetime(2020, 7, 1))
    yield c
    c.close()


def core_events(conn, as_of: str) -> dict[str, tuple]:
    core_tables.build_core(conn, dt.date.fromisoformat(as_of), ValidationSettings())
    rows = conn.execute("SELECT date::VARCHAR, scheduled, known_from::VARCHAR, scheduled_from FROM core.events")
    return {d: (s, k, f) for d, s, k, f in rows.fetchall()}


def test_blank_flags_are_resolved_from_the_fed_calendar_and_otherwise_taken_as_unscheduled(conn):
    events = core_events(conn, "2020-06-30")
    assert events["2020-01-29"] == (True, "2019-01-29", "calendar")  # a regular meeting: known a year ahead
    assert events["2020-03-03"] == (False, "2020-03-03", "calendar")  # the inter-meeting cut
    assert events["2020-03-15"] == (False, "2020-03-15", "calendar")
    assert events["2020-03-19"] == (False, "2020-03-19", "unknown")  # in no calendar: never known early
    assert events["2020-04-29"] == (True, "2019-04-30", "source")  # 365 days back across 2020-02-29
    check = next(c for c in checks.SQL_CHECKS if c.name == "events_schedule_unknown")
    checks.set_variables(conn, dt.date(2020, 6, 30), ValidationSettings())
    outcome = checks.run_check(conn, check)
    assert not check.blocking and outcome.failures == 1 and outcome.sample[0]["date"] == "2020-03-19"


def test_an_unscheduled_decision_is_not_known_the_day_before(conn):
    before = core_events(conn, "2020-03-18")
    assert "2020-03-19" not in before and "2020-03-15" in before and "2020-04-29" in before
    assert "2020-03-19" in core_events(conn, "2020-03-19")


def test_past_the_files_last_decision_the_shipped_calendar_carries_on(conn):
    """The file is the truth for the dates it covers (its last decision: 2020-04-29). Past them the shipped
    Fed calendar carries on: without it the event gate would stop holding entries before every later
    meeting, silently, on every session after a file's download."""
    events = core_events(conn, "2020-06-30")
    assert events["2020-06-10"] == (True, "2019-06-11", "calendar")  # the next regular meeting
    assert events["2021-06-16"] == (True, "2020-06-16", "calendar")  # on the schedule a year ahead
    assert "2021-07-28" not in events  # not announced by the as-of
    assert "2019-12-11" not in events  # before the file's last decision: the file stands there
