"""The day's plan (signals.plan_for) with the OCC symbol of every leg, for `vixshield signals` and the API."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import duckdb


def still_open(action: Mapping[str, Any]) -> bool:
    """Whether a signals.condor_actions row's condor is still held after its session: kept as it was,
    adjusted, or with an order for a later session. Any other row (a filled close, a settlement, an exit
    filled at the same close) took it out of the book that day."""
    trade = action.get("trade_date")
    known = trade is not None and trade == trade  # None, NaT and NaN: no order
    later = known and str(trade)[:10] > str(action["date"])[:10]  # ISO strings, dates or Timestamps
    return action["action"] in ("hold", "adjust") or later


def split_open(actions: Sequence[Mapping[str, Any]]) -> tuple[list, list]:
    """A session's condor rows as (still held after it, left the book on it), in their order."""
    held = [a for a in actions if still_open(a)]
    return held, [a for a in actions if not still_open(a)]


def _view_exists(conn: duckdb.DuckDBPyConnection, name: str) -> bool:
    sql = "SELECT count(*) FROM duckdb_views() WHERE schema_name = 'signals' AND view_name = ?"
    return bool(conn.execute(sql, [name]).fetchone()[0])


def with_symbols(conn: duckdb.DuckDBPyConnection, plan: dict) -> dict:
    """`plan` with `legs` (leg, side, right, strike, occ_symbol) on the condor plan and on each action,
    and `occ_symbol` on each hedge layer, read from the signals.condor_legs / hedge_legs views. A
    snapshot published before those views existed gets the plan unchanged."""
    if not (_view_exists(conn, "condor_legs") and _view_exists(conn, "hedge_legs")):
        return plan
    day = plan["date"]
    rows = conn.execute(
        'SELECT source, position_id, leg, side, "right", strike, occ_symbol FROM signals.condor_legs '
        "WHERE date = ? ORDER BY source, position_id, strike",
        [day],
    ).fetchall()
    legs: dict[tuple[str, str | None], list[dict]] = {}
    for source, pid, leg, side, right, strike, symbol in rows:
        item = {"leg": leg, "side": side, "right": right, "strike": strike, "occ_symbol": symbol}
        legs.setdefault((source, pid), []).append(item)
    out = {**plan, "condor_plan": {**plan["condor_plan"], "legs": legs.get(("plan", None), [])}}
    out["actions"] = [{**a, "legs": legs.get(("action", a["position_id"]), [])} for a in plan["actions"]]
    hedge = dict(conn.execute("SELECT layer, occ_symbol FROM signals.hedge_legs WHERE date = ?", [day]).fetchall())
    out["hedge_layers"] = [{**h, "occ_symbol": hedge.get(h["layer"])} for h in plan["hedge_layers"]]
    return out
