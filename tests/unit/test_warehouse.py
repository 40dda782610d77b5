"""Raw upserts: idempotent, revisions applied, nothing ever lost, all-or-nothing."""

import datetime as dt
from functools import partial

import duckdb
import numpy as np
import pandas as pd
import pytest

from vixshield.config import ValidationSettings
from vixshield.ingest import load as ingest
from vixshield.ingest.sources.base import Fetched, FetchWindow, Source, SourceError
from vixshield.store import schemas, warehouse
from vixshield.validate import core_tables, quarantine

T0 = dt.datetime(2026, 1, 5, 23, 0)
T1 = dt.datetime(2026, 1, 6, 23, 0)


def bars(closes: dict[str, float], symbol: str = "^VIX") -> pd.DataFrame:
    return schemas.conform(
        pd.DataFrame(
            {"symbol": symbol, "date": pd.to_datetime(list(closes)), "close": list(closes.values()), "source": "cboe"}
        ),
        "daily_bars",
    )


def upsert(conn, frame, run_id, at):
    with warehouse.transaction(conn):
        return warehouse.upsert(conn, "daily_bars", frame, run_id, at)


def test_rerun_adds_nothing_and_keeps_first_fetch_stamp(conn):
    frame = bars({"2024-01-02": 13.2, "2024-01-03": 14.04})
    assert upsert(conn, frame, "r1", T0) == {"inserted": 2, "revised": 0, "unchanged": 0}
    before = conn.execute("SELECT * FROM raw.daily_bars ORDER BY date").fetchall()
    assert upsert(conn, frame, "r2", T1) == {"inserted": 0, "revised": 0, "unchanged": 2}
    assert conn.execute("SELECT * FROM raw.daily_bars ORDER BY date").fetchall() == before


def test_revision_overwrites_only_the_changed_row(conn):
    upsert(conn, bars({"2024-01-02": 13.2, "2024-01-03": 14.04}), "r1", T0)
    assert upsert(conn, bars({"2024-01-02": 13.2, "2024-01-03": 14.10}), "r2", T1)["revised"] == 1
    rows = conn.execute("SELECT date::VARCHAR, close, run_id FROM raw.daily_bars ORDER BY date").fetchall()
    assert rows == [("2024-01-02", 13.2, "r1"), ("2024-01-03", 14.10, "r2")]


def test_a_shorter_refetch_loses_nothing(conn):
    # FRED serves ICE HY OAS for a rolling three years only: history must survive a refetch.
    upsert(conn, bars({"2024-01-02": 13.2, "2024-01-03": 14.04, "2024-01-04": 14.13}), "r1", T0)
    upsert(conn, bars({"2024-01-04": 14.13}), "r2", T1)
    assert conn.execute("SELECT count(*) FROM raw.daily_bars").fetchone()[0] == 3


def test_a_failing_write_leaves_the_table_as_it_was(conn):
    upsert(conn, bars({"2024-01-02": 13.2}), "r1", T0)
    bad = bars({"2024-01-03": 14.04, "2024-01-04": 14.13})
    bad.loc[1, "source"] = None  # violates NOT NULL half-way through the batch
    with pytest.raises(duckdb.ConstraintException):
        upsert(conn, bad, "r2", T1)
    assert conn.execute("SELECT date::VARCHAR FROM raw.daily_bars").fetchall() == [("2024-01-02",)]


class OneShot(Source):
    name = "test"

    def __init__(self, fetched: Fetched):
        self.fetched = fetched

    def fetch(self, family, window):
        return self.fetched


def test_duplicates_collapse_and_conflicts_are_quarantined_with_a_reason(conn):
    frame = pd.concat(
        [bars({"2024-01-02": 13.2, "2024-01-03": 14.04}), bars({"2024-01-02": 13.2}), bars({"2024-01-03": 99.0})]
    )
    result = ingest.load(
        conn, OneShot(Fetched("daily_bars", frame)), "daily_bars", FetchWindow(None, dt.date(2024, 12, 31)), "r1"
    )
    # which of two disagreeing rows is right cannot be known: neither is loaded, both are kept aside
    assert (result.inserted, result.rejected) == (1, 1)
    assert conn.execute("SELECT count(*) FROM raw.daily_bars WHERE date = '2024-01-03'").fetchone()[0] == 0
    rows = conn.execute("SELECT row_key, column_name, rule, reason FROM meta.quarantine").fetchall()
    assert [r[:3] for r in rows] == [("^VIX|2024-01-03", "input", "conflicting_duplicate")]
    assert "disagree" in rows[0][3]


def test_a_conflict_names_the_files_its_rows_came_from(conn):
    """Two files of one family that overlap and disagree on a key (a re-download beside the old one):
    the reason names both, so the user knows which delivery to correct; a key one file gives twice
    names that file once."""
    old = Fetched("daily_bars", bars({"2024-01-02": 13.2, "2024-01-03": 14.04}), files=(("old.csv", 2),))
    new = Fetched("daily_bars", bars({"2024-01-03": 15.0, "2024-01-04": 12.0, "2024-01-05": 12.5}))
    new = Fetched("daily_bars", pd.concat([new.frame, bars({"2024-01-05": 12.6})]), files=(("new.csv", 4),))
    both = Fetched.concat("daily_bars", [old, new])
    assert both.file_of(pd.Index([0, 1, 2, 5])) == ["old.csv", "old.csv", "new.csv", "new.csv"]
    ingest.load(conn, OneShot(both), "daily_bars", FetchWindow(None, dt.date(2024, 12, 31)), "r1")
    reasons = dict(conn.execute("SELECT row_key, reason FROM meta.quarantine").fetchall())
    assert reasons["^VIX|2024-01-03"].startswith("new.csv, old.csv: rows with this key disagree")
    assert reasons["^VIX|2024-01-05"].startswith("new.csv: rows with this key disagree")


def test_a_live_source_rereads_the_whole_history_while_a_row_it_delivered_could_not_be_loaded(conn):
    """A live source fetches the whole history once, then from its last date minus an overlap. A row of
    the first delivery that could not be loaded (here a key given twice) blocks the run, and only a
    whole-history fetch replaces its reject: the next run re-reads the whole history until a delivery
    loads it, so a publisher's corrected history heals the run instead of leaving it blocked for good."""
    live = OneShot(
        Fetched("daily_bars", pd.concat([bars({"2024-01-02": 13.2, "2024-01-03": 14.0}), bars({"2024-01-02": 13.9})]))
    )
    live.live = True
    window = FetchWindow(None, dt.date(2024, 12, 31))
    ingest.load(conn, live, "daily_bars", window, "r1")
    assert ingest.incremental_start(conn, "daily_bars", 5) is None  # the whole history again
    live.fetched = Fetched("daily_bars", bars({"2024-01-02": 13.2, "2024-01-03": 14.0}))
    ingest.load(conn, live, "daily_bars", window, "r2")
    assert conn.execute("SELECT count(*) FROM meta.quarantine").fetchone()[0] == 0
    assert ingest.incremental_start(conn, "daily_bars", 1) == dt.date(2024, 1, 2)  # incremental from here on


def test_a_series_whose_every_row_clashes_fails_the_load_rather_than_vanishing(conn):
    """A file of two series under one name (or of several vintages of one): every key comes twice with
    different values. Set aside row by row, the whole series dropped out and the run succeeded without it;
    the load fails instead, naming the series, and stores nothing. Another series beside it is not named."""
    days = pd.bdate_range("2024-01-02", periods=12).strftime("%Y-%m-%d")
    vix = bars({d: 13.0 + i / 10 for i, d in enumerate(days)})
    vix3m = bars({d: 15.0 + i / 10 for i, d in enumerate(days)})
    skew = bars({d: 140.0 for d in days}, "^SKEW")
    window = FetchWindow(None, dt.date(2024, 12, 31))
    with pytest.raises(SourceError, match=r"every row of \^VIX has another with the same symbol, date"):
        ingest.load(conn, OneShot(Fetched("daily_bars", pd.concat([vix, vix3m, skew]))), "daily_bars", window, "r1")
    assert conn.execute("SELECT count(*) FROM raw.daily_bars").fetchone()[0] == 0
    # a few clashing rows are set aside one by one, as before
    few = pd.concat([vix, bars({days[0]: 99.0}), skew])
    result = ingest.load(conn, OneShot(Fetched("daily_bars", few)), "daily_bars", window, "r2")
    assert (result.inserted, result.rejected) == (2 * len(days) - 1, 1)


def test_a_conflicting_duplicate_never_replaces_or_hides_a_stored_value(conn):
    window = FetchWindow(None, dt.date(2024, 12, 31))
    good = bars({"2024-01-02": 13.2, "2024-01-03": 14.04})
    ingest.load(conn, OneShot(Fetched("daily_bars", good)), "daily_bars", window, "r1")
    again = pd.concat([good, bars({"2024-01-03": 99.0})])
    ingest.load(conn, OneShot(Fetched("daily_bars", again)), "daily_bars", window, "r2")
    assert conn.execute("SELECT close FROM raw.daily_bars WHERE date = '2024-01-03'").fetchall() == [(14.04,)]
    quarantine.rebuild_quarantine(conn)
    core_tables.build_core(conn, dt.date(2024, 1, 3), ValidationSettings())
    assert conn.execute("SELECT vix FROM core.market_daily WHERE date = '2024-01-03'").fetchone()[0] == 14.04
    # the corrected delivery heals: the reject derived from the bad one goes
    ingest.load(conn, OneShot(Fetched("daily_bars", good)), "daily_bars", window, "r3")
    assert conn.execute("SELECT count(*) FROM meta.quarantine").fetchone()[0] == 0


def test_rows_dated_after_today_are_set_aside_and_a_corrected_file_heals(conn):
    window = FetchWindow(None, dt.date(2200, 1, 1))  # an offline run without --as-of
    bad = bars({"2024-01-02": 13.2, "2099-01-02": 14.0})  # e.g. a two-digit year read wrongly
    result = ingest.load(conn, OneShot(Fetched("daily_bars", bad)), "daily_bars", window, "r1")
    assert (result.inserted, result.rejected) == (1, 1)
    assert conn.execute("SELECT max(date)::VARCHAR FROM raw.daily_bars").fetchone()[0] == "2024-01-02"
    assert conn.execute("SELECT rule FROM meta.quarantine").fetchall() == [("future_dated",)]
    ingest.load(conn, OneShot(Fetched("daily_bars", bars({"2024-01-02": 13.2}))), "daily_bars", window, "r2")
    assert conn.execute("SELECT count(*) FROM meta.quarantine").fetchone()[0] == 0


def test_a_bar_dated_on_a_weekend_is_set_aside_not_stored(conn):
    """No exchange prints on a Saturday or Sunday (none of the bundle's bars, VX settles or breadth rows
    since 1928 is so dated): such a row is a misdated one (a day shifted by a time zone, a typo). Before,
    it was stored silently and ignored by core. Exchange holidays on weekdays stay: Cboe's VIX has rows
    on some (a Cboe session NYSE did not hold), which core leaves out by the NYSE calendar."""
    window = FetchWindow(None, dt.date(2200, 1, 1))
    delivered = bars({"2024-01-05": 13.2, "2024-01-06": 13.4, "2024-01-07": 13.5, "2024-01-15": 13.9})
    result = ingest.load(conn, OneShot(Fetched("daily_bars", delivered)), "daily_bars", window, "r1")
    assert (result.inserted, result.rejected) == (2, 2)  # 2024-01-15, Martin Luther King Jr. Day, is kept
    rows = conn.execute("SELECT row_key, rule, reason FROM meta.quarantine ORDER BY row_key").fetchall()
    assert [r[:2] for r in rows] == [("^VIX|2024-01-06", "weekend_dated"), ("^VIX|2024-01-07", "weekend_dated")]
    assert "Saturday" in rows[0][2] and "Sunday" in rows[1][2]
    vx = schemas.conform(
        pd.DataFrame(
            {"trade_date": pd.to_datetime(["2024-01-06"]), "expiry": pd.to_datetime(["2024-01-17"]), "settle": [14.0]}
        ),
        "vx_futures",
    )
    assert ingest.load(conn, OneShot(Fetched("vx_futures", vx)), "vx_futures", window, "r2").rejected == 1


def test_load_cuts_at_the_window_end_and_fills_macro_availability(conn):
    macro = schemas.conform(
        pd.DataFrame(
            {
                "series_id": "DGS10",
                "observation_date": pd.to_datetime(["2020-03-12", "2020-03-13", "2020-03-16"]),
                "value": [0.88, 0.94, 0.73],
                "source": "fred",
            }
        ),
        "macro_observations",
    )
    ingest.load(
        conn,
        OneShot(Fetched("macro_observations", macro)),
        "macro_observations",
        FetchWindow(None, dt.date(2020, 3, 16)),
        "r1",
    )
    # Friday 03-13's yield is published Monday 03-16 (known at its close); Monday's only on Tuesday
    rows = conn.execute(
        "SELECT observation_date::VARCHAR, available_date::VARCHAR FROM raw.macro_observations ORDER BY 1"
    ).fetchall()
    assert rows == [("2020-03-12", "2020-03-13"), ("2020-03-13", "2020-03-16")]


def test_a_delivery_rewriting_a_series_history_is_refused_and_writes_nothing(conn):
    """OPEN and CLOSE swapped in a Cboe file: every close changes, yet every row still passes the
    range rules (both lie between low and high). No publisher revises a whole history at once."""
    window = FetchWindow(None, dt.date(2024, 12, 31))
    days = pd.bdate_range("2024-01-02", periods=60)
    closes = (14.0 + (days.dayofyear % 9) / 10).to_numpy()  # no two bars alike (a repeat is a stale feed)
    good = schemas.conform(
        pd.DataFrame(
            {"symbol": "^VIX", "date": days, "open": 13.0, "high": 15.0, "low": 12.0, "close": closes, "source": "cboe"}
        ),
        "daily_bars",
    )
    ingest.load(conn, OneShot(Fetched("daily_bars", good)), "daily_bars", window, "r1", max_revised_share=0.25)
    swapped = good.assign(open=good["close"], close=good["open"])
    with pytest.raises(warehouse.MassRevisionError, match=r"\^VIX: 60 of 60 stored rows") as raised:
        ingest.load(conn, OneShot(Fetched("daily_bars", swapped)), "daily_bars", window, "r2", max_revised_share=0.25)
    assert "max_revised_share" in str(raised.value)
    assert conn.execute("SELECT list(close ORDER BY date) FROM raw.daily_bars").fetchall()[0][0] == list(closes)
    # a publisher's few revisions go through; so does a mass revision the settings allow
    revised = good.assign(close=closes + np.array([0.0] * 50 + [0.05] * 10))
    assert ingest.load(conn, OneShot(Fetched("daily_bars", revised)), "daily_bars", window, "r3", 0.25).revised == 10
    result = ingest.load(
        conn, OneShot(Fetched("daily_bars", swapped)), "daily_bars", window, "r4", max_revised_share=1.0
    )
    assert result.revised == 60


def vix_bars(days: pd.DatetimeIndex, closes: np.ndarray) -> pd.DataFrame:
    frame = pd.DataFrame(
        {"symbol": "^VIX", "date": days, "open": 13.0, "high": 15.0, "low": 12.0, "close": closes, "source": "cboe"}
    )
    return schemas.conform(frame, "daily_bars")


@pytest.mark.parametrize(
    ("history", "guarded"),
    [
        ((("r1", "failure"),), False),  # a new warehouse whose first run a check stopped
        ((("r1", "killed"),), False),
        ((("r1", "success"),), True),  # published
        ((("r1", "failure"), ("r2", "success")), True),  # published since, unchanged
    ],
)
def test_a_history_no_run_has_published_is_replaced_whole_by_the_corrected_file(conn, history, guarded):
    """A bad file on a new warehouse (dates a session off, another index's longer history) stops the run;
    its rows stay stored. The corrected file then changes every row and lacks the extra ones: refused as a
    mass revision or withdrawal, the warehouse could never heal without a settings change. Rows a failed
    run stored and no run has published since are no history to guard, so the corrected file replaces them
    whole: a corrected row a rule sets aside replaces them too (a new warehouse would hold no row there
    either), and what the file may seem to have lost (sessions continuing past its end, a VIX session inside
    its dates) goes. Published rows stay guarded."""
    window = FetchWindow(None, dt.date(2024, 12, 31))
    days = pd.bdate_range("2024-01-02", periods=100)
    good = (14.0 + (days.dayofyear % 9) / 10).to_numpy()
    bad = np.roll(good, -1)  # the values a session early, from 30 sessions before the series to 10 after it
    ingest.load(conn, OneShot(Fetched("daily_bars", vix_bars(days, bad))), "daily_bars", window, "r1", 0.25)
    for i, (run_id, status) in enumerate(history):
        started = T0 + dt.timedelta(days=i)
        conn.execute("INSERT INTO meta.runs (run_id, started_at, status) VALUES (?, ?, ?)", [run_id, started, status])
    kept = np.r_[30:45, 46:90]  # the corrected file: sessions 30 to 89 but the 45th
    corrected = vix_bars(days[kept], good[kept]).reset_index(drop=True)
    corrected.loc[30, ["open", "high", "low", "close"]] = corrected.loc[29, ["open", "high", "low", "close"]]
    load = partial(ingest.load, conn, OneShot(Fetched("daily_bars", corrected)), "daily_bars", window, "r3", 0.25)
    if guarded:  # the 30 sessions before it: the sessions after it and the 45th may be real, and stay
        with pytest.raises(warehouse.MassRevisionError, match=r"withdraw .* \^VIX: 30 of 100 stored rows"):
            load()
        assert conn.execute("SELECT list(close ORDER BY date) FROM raw.daily_bars").fetchall()[0][0] == list(bad)
        return
    result = load()
    assert (result.withdrawn, result.revised) == (30 + 1 + 10, 59)
    stored = conn.execute("SELECT list(close ORDER BY date) FROM raw.daily_bars").fetchall()[0][0]
    # the repeated bar too: the rules judge it as they would on a new warehouse
    assert stored == list(corrected["close"]) == [*good[30:45], *good[46:61], good[60], *good[62:90]]
