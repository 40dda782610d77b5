"""The daily book resumes from its stored state when nothing it read changed, and the tables it
appends are exactly what a replay of the whole history writes; any change replays."""

import dataclasses

import duckdb
import pandas as pd
import pytest

from vixshield.config import Settings
from vixshield.strategy import signals

pytestmark = pytest.mark.slow  # runs the whole pipeline

BOOK = Settings().book


def stored_vs_replayed(conn: duckdb.DuckDBPyConnection) -> None:
    """Every signals table equals a fresh replay of the whole history over the same features."""
    replay = signals.compute_signals(conn, BOOK)
    for name in signals.TABLES:
        keys = [k.strip() for k in signals.KEYS[name].split(",")]
        expected = replay[name].sort_values(keys).reset_index(drop=True)
        stored = conn.execute(f"SELECT * FROM signals.{name} ORDER BY {signals.KEYS[name]}").df()[expected.columns]
        for col in signals.DATE_COLUMNS:  # one resolution: a column with NULLs converts to another one
            if col in expected:
                expected[col] = pd.to_datetime(expected[col]).astype("datetime64[ns]")
                stored[col] = pd.to_datetime(stored[col]).astype("datetime64[ns]")
        pd.testing.assert_frame_equal(stored, expected, check_dtype=False)


def book_note(result) -> str:
    mats = result.get_asset_materialization_events()
    return next(e for e in mats if e.asset_key.path == ["signals", "book_daily"]).materialization.metadata["book"].value


def test_the_second_run_resumes_and_appends_what_a_replay_would_write(resumed):
    db, first, second = resumed
    assert book_note(first).startswith("replayed all history: no stored book state")
    assert book_note(second) == "resumed after 2024-03-22"
    with duckdb.connect(str(db), read_only=True) as conn:
        assert conn.execute("SELECT last_date::VARCHAR FROM meta.book_state").fetchone()[0] == "2024-03-28"
        assert conn.execute("SELECT max(date)::VARCHAR FROM signals.book_daily").fetchone()[0] == "2024-03-28"
        stored_vs_replayed(conn)


def test_a_changed_input_or_engine_replays_the_whole_history(resumed, tmp_path):
    db, _, _ = resumed
    copy = tmp_path / "w.duckdb"
    copy.write_bytes(db.read_bytes())
    with duckdb.connect(str(copy)) as conn:
        state, reason = signals._stored_state(conn, BOOK)
        assert state is not None and reason == "resumed after 2024-03-28"
        other = dataclasses.replace(BOOK, initial_nav=2_000_000.0)
        assert signals._stored_state(conn, other) == (None, "the book's code or settings changed")
        # a revision of an old session (a feature value the book read months ago)
        conn.execute("UPDATE features.daily SET vix = vix + 0.01 WHERE date = DATE '2023-11-01'")
        state, reason = signals._stored_state(conn, BOOK)
        assert state is None and reason == "inputs up to 2024-03-28 changed (a revision)"
        update = signals.update_signals(conn, BOOK)
        assert update.resumed_after is None and update.reason.startswith("replayed all history")
        stored_vs_replayed(conn)
        # a replay further back than the stored state cannot resume either
        conn.execute("DELETE FROM features.daily WHERE date > DATE '2024-03-01'")
        assert signals._stored_state(conn, BOOK)[1].startswith("the features end before the stored state")


def test_a_book_state_table_of_another_shape_is_replaced_when_written(resumed, tmp_path):
    """meta.book_state is a cache: a table an earlier release created with other columns (here an
    extra NOT NULL one) must not make the run fail; it is recreated in the current shape."""
    db, _, _ = resumed
    copy = tmp_path / "w.duckdb"
    copy.write_bytes(db.read_bytes())
    with duckdb.connect(str(copy)) as conn:
        conn.execute("ALTER TABLE meta.book_state ADD COLUMN written_at TIMESTAMP DEFAULT now()")
        conn.execute("ALTER TABLE meta.book_state ALTER COLUMN written_at SET NOT NULL")
        conn.execute("ALTER TABLE meta.book_state ALTER COLUMN written_at DROP DEFAULT")
        conn.execute("UPDATE features.daily SET vix = vix + 0.01 WHERE date = DATE '2023-11-01'")  # forces a write
        signals.update_signals(conn, BOOK)
        columns = [r[0] for r in conn.execute("DESCRIBE meta.book_state").fetchall()]
        assert columns == ["last_date", "engine_digest", "inputs_digest", "state"]
        assert signals._stored_state(conn, BOOK)[1] == "resumed after 2024-03-28"
