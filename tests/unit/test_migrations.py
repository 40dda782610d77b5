"""A warehouse built by the previous release (tests/fixtures/schema_v1: its DDL files, and features.*
and signals.* as frames created them) upgrades in place: nothing lost, a second upgrade a no-op."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import duckdb
import pytest

from vixshield.store import contract, migrations, warehouse

V1 = Path(__file__).resolve().parent.parent / "fixtures" / "schema_v1"


def build_v1(path: Path) -> duckdb.DuckDBPyConnection:
    """A warehouse as the previous release left it, with rows in raw, meta, backtest, features, signals."""
    conn = duckdb.connect(str(path))
    for ddl in sorted(V1.glob("*.sql")):
        conn.execute(ddl.read_text())
    conn.execute("CREATE SCHEMA IF NOT EXISTS core")
    conn.execute(
        "INSERT INTO raw.daily_bars VALUES ('^VIX', DATE '2024-01-02', 13, 14, 12.5, 13.2, NULL, NULL, 'cboe', "
        "TIMESTAMP '2024-01-02 23:00', 'r1')"
    )
    conn.execute(
        "INSERT INTO meta.quarantine VALUES ('raw.daily_bars', '^VIX|2024-01-03', 'row', 'unreadable', 'x', 'bad row')"
    )
    conn.execute(
        "INSERT INTO backtest.sweep (run_id, short_delta, take_profit, hedge_budget_pct, cagr) "
        "VALUES ('b1', 0.16, 0.5, 1.0, 0.07)"
    )
    conn.execute("INSERT INTO features.regime VALUES (DATE '2024-01-02', 'CALM', 3, 'CALM', ['CALM:VIX'], '1.0')")
    conn.execute("INSERT INTO signals.book_daily (date, nav, open_condors) VALUES (DATE '2024-01-02', 1e6, 2)")
    return conn


def snapshot(conn: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    return {
        t: conn.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall()
        for t in ("raw.daily_bars", "backtest.sweep", "features.regime", "signals.book_daily")
    }


def test_a_v1_warehouse_upgrades_in_place_and_a_second_upgrade_changes_nothing(tmp_path):
    conn = build_v1(tmp_path / "w.duckdb")
    before = snapshot(conn)
    changes = warehouse.init_schema(conn)
    assert changes == [
        "created meta.schema_version",
        *(f"created {t.name}" for t in contract.RESEARCH),  # version 4: the research schema, empty
        *(f"added signals.{t}.trade_date" for t in ("condor_plan", "condor_actions", "hedge_layers")),
    ]  # contract version 3 added the signals' trade_date, last
    live = migrations.live_columns(conn)
    for table in contract.TABLES.values():  # the upgraded v1 layout is today's: every declared table matches it
        if table.name in live:
            assert live[table.name] == [(c.name, c.type) for c in table.columns], table.name
        else:
            assert not table.on_connect, f"{table.name} was not created"
    assert snapshot(conn) == before
    # the old data fix-up ran once: an unreadable input row sits under 'input', not 'row'
    assert conn.execute("SELECT column_name FROM meta.quarantine").fetchall() == [("input",)]
    versions = conn.execute("SELECT version, contract_digest FROM meta.schema_version").fetchall()
    assert versions == [(contract.SCHEMA_VERSION, contract.digest())]
    comment = conn.execute(
        "SELECT comment FROM duckdb_columns() WHERE schema_name = 'raw' AND table_name = 'daily_bars' "
        "AND column_name = 'symbol'"
    ).fetchone()[0]
    assert comment == contract.FAMILY_BY_NAME["daily_bars"].key_columns[0].comment

    assert warehouse.init_schema(conn) == []
    assert migrations.live_columns(conn) == live
    assert conn.execute("SELECT count(*) FROM meta.schema_version").fetchone()[0] == 1
    assert snapshot(conn) == before


def _with_columns(monkeypatch: pytest.MonkeyPatch, name: str, *columns: contract.Column) -> None:
    table = contract.TABLES[name]
    grown = dataclasses.replace(table, columns=(*table.columns, *columns))
    monkeypatch.setitem(contract.TABLES, name, grown)


def test_a_declared_column_or_table_reaches_an_existing_warehouse_without_losing_rows(tmp_path, monkeypatch):
    conn = build_v1(tmp_path / "w.duckdb")
    warehouse.init_schema(conn)
    before = snapshot(conn)
    _with_columns(monkeypatch, "raw.daily_bars", contract.Column("vwap", "DOUBLE", "volume-weighted price"))
    _with_columns(monkeypatch, "features.regime", contract.Column("score", "DOUBLE", unit="z", formula="f", inputs="i"))
    new = contract.Table("meta.notes", "notes", (contract.Column("note", "VARCHAR"),), ("note",))
    monkeypatch.setitem(contract.TABLES, "meta.notes", new)
    conn.execute("DROP TABLE backtest.ablation")  # a table missing for any reason comes back

    changes = warehouse.init_schema(conn)
    assert sorted(changes) == [
        "added features.regime.score",
        "added raw.daily_bars.vwap",
        "created backtest.ablation",
        "created meta.notes",
    ]
    live = migrations.live_columns(conn)
    assert live["raw.daily_bars"][-1] == ("vwap", "DOUBLE")
    assert live["features.regime"][-1] == ("score", "DOUBLE")
    assert [c for c, _ in live["backtest.ablation"]] == contract.TABLES["backtest.ablation"].names
    after = snapshot(conn)
    assert after["raw.daily_bars"] == [(*row, None) for row in before["raw.daily_bars"]]
    assert after["features.regime"] == [(*row, None) for row in before["features.regime"]]
    assert after["backtest.sweep"] == before["backtest.sweep"]
    assert conn.execute("SELECT count(*) FROM meta.schema_version").fetchone()[0] == 2
    assert warehouse.init_schema(conn) == []


def test_a_failed_migration_changes_nothing(tmp_path, monkeypatch):
    conn = build_v1(tmp_path / "w.duckdb")
    bad = contract.Column("broken", "NO_SUCH_TYPE")
    _with_columns(monkeypatch, "raw.events", contract.Column("fine", "DOUBLE"), bad)
    with pytest.raises(duckdb.Error):
        warehouse.init_schema(conn)
    live = migrations.live_columns(conn)
    assert "meta.schema_version" not in live
    assert [c for c, _ in live["raw.events"]] == ["date", "kind", "scheduled", "source", "fetched_at", "run_id"]


def test_a_column_stored_with_another_type_is_reported_and_left_alone(tmp_path, caplog):
    conn = build_v1(tmp_path / "w.duckdb")
    conn.execute("DROP TABLE signals.book_daily")
    conn.execute("CREATE TABLE signals.book_daily AS SELECT DATE '2024-01-02' AS date, 2 AS open_condors")
    warehouse.init_schema(conn)
    assert migrations.retyped(conn) == ["signals.book_daily.open_condors: INTEGER -> BIGINT"]
    assert "signals.book_daily.open_condors: INTEGER -> BIGINT" in caplog.text
    live = dict(migrations.live_columns(conn)["signals.book_daily"])
    assert live["open_condors"] == "INTEGER" and live["nav"] == "DOUBLE"  # the missing columns were added
    assert conn.execute("SELECT date, open_condors FROM signals.book_daily").fetchall() == [(dt.date(2024, 1, 2), 2)]


def test_a_current_warehouse_is_only_read_and_what_went_missing_since_comes_back(tmp_path, caplog):
    """Every step of a run opens the warehouse through init_schema: on a warehouse already at this
    contract it writes nothing, yet a schema, table or column lost since is still restored."""
    conn = build_v1(tmp_path / "w.duckdb")
    conn.execute("DROP TABLE signals.book_daily")
    conn.execute("CREATE TABLE signals.book_daily AS SELECT DATE '2024-01-02' AS date, 2 AS open_condors")
    warehouse.init_schema(conn)
    caplog.clear()
    assert warehouse.init_schema(conn) == []
    assert "signals.book_daily.open_condors: INTEGER -> BIGINT" in caplog.text  # drifts still reported
    conn.execute("DROP SCHEMA backtest CASCADE")
    conn.execute("ALTER TABLE raw.events DROP COLUMN scheduled")
    backtest = [t for t, table in contract.TABLES.items() if t.startswith("backtest.") and table.on_connect]
    assert sorted(warehouse.init_schema(conn)) == [
        "added raw.events.scheduled",
        *(f"created {t}" for t in sorted(backtest)),
    ]
    assert conn.execute("SELECT count(*) FROM meta.schema_version").fetchone()[0] == 1  # the same contract
    assert warehouse.init_schema(conn) == []
