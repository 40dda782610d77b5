"""signals.*: run the model book over the features and write the plan tables and the app view."""

from __future__ import annotations

import json

import duckdb
import pandas as pd

from vixshield import METHODOLOGY_VERSION, warehouse
from vixshield.book import BookSettings, run_book

DATE_COLUMNS = ("date", "expiry", "entry_date", "roll_date")  # calendar days, not timestamps
TABLES = ("condor_plan", "condor_actions", "hedge_layers", "book_daily")
KEYS = {
    "condor_plan": "date",
    "condor_actions": "date, position_id",
    "hedge_layers": "date, layer",
    "book_daily": "date",
}


def load_inputs(conn: duckdb.DuckDBPyConnection):
    features = conn.execute("SELECT * FROM features.daily ORDER BY date").df()
    features = features.set_index(pd.DatetimeIndex(features.pop("date")))
    regimes = {pd.Timestamp(d): r for d, r in conn.execute("SELECT date, regime FROM features.regime").fetchall()}
    vx: dict[pd.Timestamp, dict[pd.Timestamp, float]] = {}
    for trade_date, expiry, price in conn.execute(
        "SELECT trade_date, expiry, price FROM core.vx_futures WHERE price IS NOT NULL"
    ).fetchall():
        vx.setdefault(pd.Timestamp(trade_date), {})[pd.Timestamp(expiry)] = price
    opens = {
        pd.Timestamp(d): o
        for d, o in conn.execute("SELECT date, spx_open FROM core.market_daily WHERE spx_open IS NOT NULL").fetchall()
    }
    return features, regimes, vx, opens


def compute_signals(conn: duckdb.DuckDBPyConnection, settings: BookSettings) -> dict[str, pd.DataFrame]:
    out = run_book(*load_inputs(conn), settings).frames()
    for frame in out.values():
        frame["methodology_version"] = METHODOLOGY_VERSION
    return out


def write_signals(conn: duckdb.DuckDBPyConnection, frames: dict[str, pd.DataFrame]) -> None:
    """Replace every signal table and the view in one transaction."""
    with warehouse.transaction(conn):
        conn.execute("CREATE SCHEMA IF NOT EXISTS signals")
        for name in TABLES:
            frame = frames[name]
            dates = [c for c in DATE_COLUMNS if c in frame.columns]
            cast = f" REPLACE ({', '.join(f'CAST({c} AS DATE) AS {c}' for c in dates)})" if dates else ""
            with warehouse.registered(conn, "_frame", frame):
                conn.execute(
                    f"CREATE OR REPLACE TABLE signals.{name} AS SELECT *{cast} FROM _frame ORDER BY {KEYS[name]}"
                )
        conn.execute(warehouse.sql_text("views/latest_plan.sql"))


def plan_for(conn: duckdb.DuckDBPyConnection, date: str | None = None) -> dict:
    """The day's plan as plain data (for `vixshield signals` and apps): regime, condor, actions, hedges."""
    day = date or conn.execute("SELECT max(date) FROM signals.condor_plan").fetchone()[0]
    if day is None:
        raise LookupError("no signals yet: run `vixshield run` first")
    plan = conn.execute("SELECT * FROM signals.condor_plan WHERE date = ?", [day]).df()
    if plan.empty:
        first, last = conn.execute("SELECT min(date), max(date) FROM signals.condor_plan").fetchone()
        raise LookupError(f"no plan for {day}: plans exist for NYSE sessions {first} .. {last}")
    regime = conn.execute("SELECT regime, sessions_in_regime, reasons FROM features.regime WHERE date = ?", [day]).df()
    actions = conn.execute("SELECT * FROM signals.condor_actions WHERE date = ? ORDER BY position_id", [day]).df()
    hedges = conn.execute("SELECT * FROM signals.hedge_layers WHERE date = ? ORDER BY layer", [day]).df()
    book = conn.execute("SELECT * FROM signals.book_daily WHERE date = ?", [day]).df()

    def records(frame: pd.DataFrame) -> list[dict]:
        frame = frame.copy()
        for col in frame.columns:
            if pd.api.types.is_datetime64_any_dtype(frame[col]):
                frame[col] = frame[col].dt.strftime("%Y-%m-%d")
        return json.loads(frame.to_json(orient="records"))

    return {
        "date": str(pd.Timestamp(day).date()),
        "regime": (records(regime) or [None])[0],
        "condor_plan": records(plan)[0],
        "actions": records(actions),
        "hedge_layers": records(hedges),
        "book": (records(book) or [None])[0],
    }
