"""The daily run rebuilds only the tickets of sessions that may have changed, and the table it leaves
is exactly what a rebuild of the whole history writes (rows and their order, which the published
Parquet file follows); a changed input, code or setting rebuilds everything."""

import dataclasses
import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from tests.assets.helpers import run_daily
from vixshield import METHODOLOGY_VERSION
from vixshield.config import Settings
from vixshield.serve import tickets

pytestmark = pytest.mark.slow  # runs the whole pipeline

SETTINGS = tickets.TicketSettings.from_book(Settings().book)
ENTRY = "2023-12-06"  # the small market folder's last condor entry: the book numbers it on the next session


def rebuilt_note(result) -> str:
    mats = result.get_asset_materialization_events()
    return next(e for e in mats if e.asset_key.path == ["signals", "tickets"]).materialization.metadata["rebuilt"].value


def stored(conn: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return conn.execute(f"SELECT * FROM {tickets.TABLE}").df()  # in stored order, as the Parquet export reads it


@pytest.fixture(scope="module")
def resumed_at_an_entry(tmp_path_factory: pytest.TempPathFactory, market_template: Path):
    """A run as of the session of a condor entry, then one through 2024-03-28 into the same warehouse."""
    db = tmp_path_factory.mktemp("tickets") / "w.duckdb"
    first = run_daily(db, market_template, as_of=ENTRY)
    assert first.success
    with duckdb.connect(str(db), read_only=True) as conn:
        opened = conn.execute(f"SELECT position_id FROM {tickets.TABLE} WHERE date = ? AND kind = 'open'", [ENTRY])
        first_id = opened.fetchall()
    second = run_daily(db, market_template)
    assert second.success
    return db, first, second, first_id


def full_rebuild(db: Path, tmp_path: Path) -> pd.DataFrame:
    copy = tmp_path / "full.duckdb"
    copy.write_bytes(db.read_bytes())
    with duckdb.connect(str(copy)) as conn:
        tickets.write_tickets(conn, tickets.build_tickets(conn, SETTINGS), SETTINGS, METHODOLOGY_VERSION)
        return stored(conn)


def test_the_resumed_tickets_equal_a_full_rebuild_and_renumber_the_last_entry(resumed_at_an_entry, tmp_path):
    db, first, second, first_id = resumed_at_an_entry
    assert rebuilt_note(first) == "rebuilt all history: no stored tickets"
    # the entry of the first run's last session had no position id yet (the book assigns it when the
    # condor opens, on the next session), so the second run rebuilds from the entries of the condors
    # that were still open then, the earliest first: 2023-11-16's (closed on 2023-12-07), 11-20's, 11-27's,
    # 12-01's and 2023-12-06's
    assert first_id == [(f"IC-{ENTRY.replace('-', '')}",)]
    assert rebuilt_note(second) == "rebuilt from 2023-11-16"
    with duckdb.connect(str(db), read_only=True) as conn:
        got = stored(conn)
        opened = conn.execute(f"SELECT position_id FROM {tickets.TABLE} WHERE date = ? AND kind = 'open'", [ENTRY])
        (renumbered,) = opened.fetchall()
        booked = conn.execute("SELECT DISTINCT position_id FROM signals.condor_actions WHERE entry_date = ?", [ENTRY])
        assert [renumbered] == booked.fetchall()
        assert conn.execute(f"SELECT max(date)::VARCHAR FROM {tickets.TABLE}").fetchone()[0] > ENTRY
    pd.testing.assert_frame_equal(got, full_rebuild(db, tmp_path))


def test_a_rerun_rebuilds_nothing_and_keeps_the_table(resumed_at_an_entry, tmp_path):
    db, _, _, _ = resumed_at_an_entry
    copy = tmp_path / "w.duckdb"
    copy.write_bytes(db.read_bytes())
    with duckdb.connect(str(copy)) as conn:
        before = stored(conn)
        update = tickets.update_tickets(conn, SETTINGS, METHODOLOGY_VERSION)
        assert (update.rows, update.since) == (0, dt.date(2024, 3, 29))  # the day after the last signals
        pd.testing.assert_frame_equal(stored(conn), before)


def test_a_changed_input_setting_or_history_rebuilds_everything(resumed_at_an_entry, tmp_path):
    db, _, _, _ = resumed_at_an_entry
    copy = tmp_path / "w.duckdb"
    copy.write_bytes(db.read_bytes())
    with duckdb.connect(str(copy)) as conn:
        assert tickets.resume_from(conn, SETTINGS, METHODOLOGY_VERSION) == (
            dt.date(2024, 3, 29),
            "rebuilt from 2024-03-29",
        )
        wider = dataclasses.replace(SETTINGS, condor_slippage_per_leg=0.15)
        assert tickets.resume_from(conn, wider, METHODOLOGY_VERSION) == (None, "the tickets' code or settings changed")
        assert tickets.resume_from(conn, SETTINGS, "another-methodology")[0] is None
        # a revision of an old session's features (a leg's model mid reads them)
        conn.execute("UPDATE features.daily SET vix = vix + 0.01 WHERE date = DATE '2023-11-28'")
        assert tickets.resume_from(conn, SETTINGS, METHODOLOGY_VERSION) == (
            None,
            "signals or features up to 2024-03-28 changed",
        )
        update = tickets.update_tickets(conn, SETTINGS, METHODOLOGY_VERSION)
        assert update.since is None and update.reason.startswith("rebuilt all history")
        # the signals replayed to an earlier session: the stored tickets go further than the signals
        for table in ("condor_plan", "condor_actions", "hedge_layers"):
            conn.execute(f"DELETE FROM signals.{table} WHERE date > DATE '2024-03-01'")
        assert tickets.resume_from(conn, SETTINGS, METHODOLOGY_VERSION) == (
            None,
            "the signals end before the stored tickets (2024-03-28): a replay further back",
        )
