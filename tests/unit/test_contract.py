"""One declaration per table: the warehouse, the raw families' frames, the sources, the validation
suites and the SQL all follow vixshield/store/contract.py."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
import pytest

from vixshield import catalog
from vixshield.ingest.sources.files import FilesSource
from vixshield.ingest.sources.live import LiveSource
from vixshield.ingest.sources.sample import SampleSource
from vixshield.store import contract, migrations, schemas, warehouse
from vixshield.strategy import signals


def declared(name: str) -> list[tuple[str, str]]:
    return [(c.name, c.type) for c in contract.TABLES[name].columns]


def test_a_new_warehouse_has_every_table_created_on_connect_exactly_as_declared(conn):
    live = migrations.live_columns(conn)
    for table in contract.TABLES.values():
        assert (table.name in live) == table.on_connect, table.name
        if table.on_connect:
            assert live[table.name] == declared(table.name)
    keys = dict(
        conn.execute(
            "SELECT schema_name || '.' || table_name, constraint_column_names FROM duckdb_constraints() "
            "WHERE constraint_type = 'PRIMARY KEY'"
        ).fetchall()
    )
    assert keys == {t.name: list(t.key) for t in contract.TABLES.values() if t.on_connect and t.enforce_key}


@pytest.mark.slow
def test_every_table_of_a_pipeline_built_warehouse_is_as_declared(cli_built):
    conn = duckdb.connect(str(cli_built.home / "warehouse.duckdb"), read_only=True)
    try:
        live = migrations.live_columns(conn)
    finally:
        conn.close()
    for table in contract.TABLES.values():
        assert live[table.name] == declared(table.name), table.name


def test_derived_rows_are_written_by_name_in_the_declared_order_and_types(conn):
    table = contract.TABLES["signals.book_daily"]
    row = {c.name: None for c in reversed(table.columns)}  # order of the frame does not matter
    frame = pd.DataFrame([row | {"date": pd.Timestamp("2024-01-03"), "nav": 1e6, "open_condors": 2}])
    frame = pd.concat([frame, frame.assign(date=pd.Timestamp("2024-01-02"))])
    with warehouse.transaction(conn):
        warehouse.write_table(conn, "signals.book_daily", frame)
    assert migrations.live_columns(conn)["signals.book_daily"] == declared("signals.book_daily")
    assert conn.execute("SELECT date, nav, open_condors FROM signals.book_daily").fetchall() == [
        (dt.date(2024, 1, 2), 1e6, 2),
        (dt.date(2024, 1, 3), 1e6, 2),
    ]
    comment = conn.execute(
        "SELECT comment FROM duckdb_columns() WHERE table_name = 'book_daily' AND column_name = 'nav'"
    ).fetchone()[0]
    assert comment == "dollars"


def test_rows_with_a_column_the_contract_does_not_declare_are_refused(conn):
    frame = pd.DataFrame({c: [None] for c in contract.TABLES["features.regime"].names} | {"new_feature": [1.0]})
    with pytest.raises(ValueError, match=r"features.regime: .*extra \['new_feature'\]"):
        warehouse.write_table(conn, "features.regime", frame)
    with pytest.raises(ValueError, match=r"missing \['reasons'\]"):
        warehouse.write_table(conn, "features.regime", frame.drop(columns=["new_feature", "reasons"]))


def test_signal_tables_and_keys_come_from_the_contract():
    assert [f"signals.{t}" for t in signals.TABLES] == [t.name for t in contract.SIGNALS]
    assert signals.KEYS["condor_actions"] == "date, position_id"


def test_raw_frames_take_the_declared_columns_and_types():
    for family in contract.FAMILIES:
        frame = schemas.empty(family.name)
        assert list(frame.columns) == [c.name for c in family.frame_columns]
        assert contract.TABLES[f"raw.{family.name}"].names == [*schemas.columns(family.name), "fetched_at", "run_id"]
    assert str(schemas.empty("events")["scheduled"].dtype) == "boolean"
    assert str(schemas.empty("vx_futures")["expiry"].dtype) == "datetime64[us]"


def test_every_family_is_read_from_files_and_no_source_serves_an_undeclared_one():
    families = {f.name for f in contract.FAMILIES}
    assert set(FilesSource.PARTS) == families
    assert set(LiveSource.FETCHERS) <= families
    assert set(SampleSource.FETCHERS) <= families


def test_every_validation_rule_names_a_declared_column():
    for family in contract.FAMILIES:
        names = [c.name for c in family.frame_columns]
        assert len(set(names)) == len(names)
        for rule in family.rules:
            assert rule.kind in ("not_null", "between", "a_ge_b", "in_set")
            assert rule.column in names and (not rule.other or rule.other in names), rule.name
    daily = [r.symbol for r in contract.FAMILY_BY_NAME["daily_bars"].rules if r.symbol]
    assert daily == [s.symbol for s in catalog.DAILY_SYMBOLS]


def test_the_panel_sql_names_the_catalog_symbols_and_no_other():
    sql = warehouse.sql_text("transforms/core_market_daily.sql")
    assert "{" not in sql.split("CREATE OR REPLACE")[1]
    for s in catalog.DAILY_SYMBOLS:
        for _, column in s.market_daily_columns():
            assert f"FILTER (symbol = '{s.symbol}') AS {column}" in sql
    raw = (warehouse.SQL_DIR / "transforms" / "core_market_daily.sql").read_text()
    assert not any(f"'{s.symbol}'" in raw for s in catalog.DAILY_SYMBOLS)  # spelled only in the catalog


def test_a_new_catalog_symbol_reaches_the_panel(monkeypatch):
    extra = catalog.DailySymbol("^VXN", "vxn", "VXN", False, False, (5.0, 150.0))
    monkeypatch.setattr(catalog, "DAILY_SYMBOLS", (*catalog.DAILY_SYMBOLS, extra))
    monkeypatch.setattr(contract, "SQL_FRAGMENTS", contract.sql_fragments())
    conn = duckdb.connect()
    conn.execute(
        "CREATE TABLE t (symbol VARCHAR, date DATE, open DOUBLE, high DOUBLE, low DOUBLE, close DOUBLE, volume DOUBLE)"
    )
    conn.execute("INSERT INTO t VALUES ('^VXN', DATE '2024-01-02', NULL, NULL, NULL, 21.5, NULL)")
    sql = contract.render_sql(
        "SELECT date, {daily_symbol_columns} FROM t WHERE symbol IN ({daily_symbols}) GROUP BY date"
    )
    frame = conn.execute(sql).df()
    assert frame["vxn"].tolist() == [21.5] and frame.columns[1:5].tolist() == [
        "spx_open",
        "spx_high",
        "spx_low",
        "spx_close",
    ]
