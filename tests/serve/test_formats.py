"""Formats that read right: `query` without scientific notation, `signals --format csv` carrying what the
JSON carries, dates as dates in Dagster previews, and Parquet for every published table."""

import csv
import io
import json
import math

import duckdb
import pandas as pd
import pytest

from assets.metadata import table_metadata
from tests.e2e.helpers import vixshield
from vixshield.serve import publish
from vixshield.serve.formats import plan_long_csv, readable


def test_readable_prints_money_with_separators_and_small_numbers_with_fixed_decimals():
    frame = pd.DataFrame(
        {
            "date": pd.to_datetime(["2026-07-10", "2026-07-09"]),
            "nav": [2640559.123, 1e7],
            "delta": [0.16, -0.05],
            "rate": [0.000123, math.nan],
            "contracts": [3, 12],
            "regime": ["CALM", "NORMAL"],
        }
    )
    text = readable(frame).to_string(index=False)
    assert "e+" not in text and "e-" not in text and "00:00:00" not in text
    out = readable(frame)
    assert list(out["nav"]) == ["2,640,559.12", "10,000,000.00"]
    assert list(out["delta"]) == ["0.1600", "-0.0500"]
    assert list(out["rate"]) == ["0.000123", "NaN"]
    assert list(out["date"]) == ["2026-07-10", "2026-07-09"]
    assert list(out["contracts"]) == [3, 12] and list(out["regime"]) == ["CALM", "NORMAL"]
    assert frame["nav"].iloc[0] == 2640559.123  # the caller's frame is untouched


def rebuild(text: str) -> dict:
    """The long CSV pivoted back into the JSON's shape (values as the CSV wrote them)."""
    sections: dict = {}
    for row in csv.DictReader(io.StringIO(text)):
        sections.setdefault(row["section"], {}).setdefault(row["item"], {})[row["field"]] = row["value"]
    return sections


def as_cells(part) -> dict:
    from vixshield.serve.formats import _cell

    rows = part if isinstance(part, list) else [part]
    keyed = {}
    for r in rows:
        item = r.get("position_id") or r.get("layer") or ""
        keyed[item] = {k: _cell(v) for k, v in r.items()}
    return keyed


def test_the_long_csv_holds_every_value_of_the_plan():
    plan = {
        "date": "2024-03-28",
        "regime": {"regime": "NORMAL", "sessions_in_regime": 12, "reasons": ["NORMAL:NO_RULE_FIRED"]},
        "condor_plan": {"date": "2024-03-28", "credit": 1.2345678901234567, "enter": False, "expiry": None},
        "actions": [{"position_id": "IC-1", "mark": 3.5}, {"position_id": "IC-2", "mark": 0.25}],
        "hedge_layers": [{"layer": "L0", "strike": 22.5, "reasons": []}, {"layer": "L1", "strike": None}],
        "book": {"nav": 2640559.123},
    }
    got = rebuild(plan_long_csv(plan))
    assert set(got) == {"regime", "condor_plan", "actions", "hedge_layers", "book"}
    for section in got:
        assert got[section] == as_cells(plan[section]), section
    assert float(got["condor_plan"][""]["credit"]) == plan["condor_plan"]["credit"]  # full precision
    assert json.loads(got["regime"][""]["reasons"]) == ["NORMAL:NO_RULE_FIRED"]


def test_dagster_previews_show_dates_as_dates():
    with duckdb.connect() as conn:
        conn.execute("CREATE SCHEMA signals")
        conn.execute("CREATE TABLE signals.t AS SELECT DATE '2026-07-10' AS date, 1.5 AS x")
        md = table_metadata(conn, "signals.t", "date")["preview"].value
    assert "2026-07-10" in md and "00:00:00" not in md


@pytest.mark.slow
def test_signals_csv_carries_the_json_content(built):
    as_json = json.loads(vixshield(built.home, "signals", "--format", "json").stdout)
    out = vixshield(built.home, "signals", "--format", "csv")
    assert out.returncode == 0, out.stderr
    got = rebuild(out.stdout)
    for section in ("regime", "condor_plan", "actions", "hedge_layers", "book"):
        if as_json[section]:
            assert got[section] == as_cells(as_json[section]), section
    query = vixshield(built.home, "query", "SELECT date, nav, cash FROM signals.book_daily ORDER BY date LIMIT 3")
    assert query.returncode == 0 and "e+" not in query.stdout and "00:00:00" not in query.stdout
    assert "," in query.stdout.splitlines()[1]  # thousands separators


@pytest.mark.slow
def test_parquet_covers_every_published_table(built):
    manifest = publish.read_manifest(built.home)
    with duckdb.connect(str(built.home / "warehouse.duckdb"), read_only=True) as conn:
        tables = {f"{s}.{t}" for s, t in conn.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE schema_name IN ('features', 'signals', "
            "'backtest', 'research')").fetchall()}  # fmt: skip
    assert {"backtest.metrics", "backtest.equity", "signals.tickets", "research.verdict"} <= tables
    assert set(manifest["exported"]) == tables
    assert manifest["tables"] == list(publish.PUBLISHED_TABLES)  # the contract's list is unchanged
    for table in tables:
        assert f"parquet/{table}.parquet" in manifest["files"]
        assert publish.parquet_path(built.home, table).exists(), table
    assert publish.verify(built.home) == []
