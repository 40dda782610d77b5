"""Order tickets: prices from the model mids and the spread model, OCC symbols that agree between the
Python reference and the SQL views, and the three output formats."""

import csv
import datetime as dt
import io
import json

import duckdb
import pandas as pd
import pytest

from tests.e2e.helpers import vixshield
from tests.floats import ABS, REL
from vixshield.serve import occ, publish, tickets

A_TICKET = {
    "ticket_id": "20240412-open-IC-20240412-7",
    "kind": "open",
    "quantity": 3,
    "time_in_force": "DAY",
    "mid_price": 4.1,
    "limit_price": 3.7,
    "legs": [
        {"occ_symbol": "SPX   240517P04700000", "root": "SPX", "expiry": "2024-05-17", "right": "P",
         "strike": 4700.0, "side": "BUY", "ratio": 1, "mid": 2.0},
        {"occ_symbol": "SPXW  240517C05400000", "root": "SPXW", "expiry": "2024-05-17", "right": "C",
         "strike": 5400.0, "side": "SELL", "ratio": 1, "mid": 3.33},
        {"occ_symbol": "VIX   240515C00022500", "root": "VIX", "expiry": "2024-05-15", "right": "C",
         "strike": 22.5, "side": "BUY", "ratio": 1, "mid": 0.81},
    ],
}  # fmt: skip


@pytest.mark.parametrize(
    ("mid", "slippage", "effect", "legs", "want"),
    [
        (10.5628, 0.40, "credit", 4, 10.15),  # 10.1628 down to the 0.05 tick
        (38.1038, 0.40, "debit", 4, 38.55),  # 38.5038 up to the tick
        (0.7900, 0.05, "debit", 1, 0.85),  # VIX call under 3.00: 0.05 tick
        (3.3300, 0.05, "debit", 1, 3.40),  # 3.38 from 3.00: 0.10 tick, rounded up
        (3.3300, 0.10, "credit", 1, 3.20),  # 3.23 sold: rounded down
        (0.0077, 0.10, "credit", 1, 0.05),  # a worthless wing is never offered below one tick
    ],
)
def test_limit_is_the_mid_with_the_spread_model_rounded_away_from_the_trader(mid, slippage, effect, legs, want):
    assert tickets.limit_price(mid, slippage, effect, legs) == want


def test_ib_basket_uses_the_documented_fields_and_last_trading_days():
    rows = list(csv.DictReader(io.StringIO(tickets.to_ib_basket([A_TICKET]))))
    assert list(rows[0]) == list(tickets.IB_COLUMNS)
    spx, spxw, vix = rows
    # AM-settled series stop trading the session before expiration: the May 2024 SPX monthly on Thursday
    # the 16th, the VIX options of Wednesday the 15th on Tuesday the 14th; SPXW trade on the Friday itself
    assert (spx["LastTradingDayOrContractMonth"], spx["TradingClass"], spx["Symbol"]) == ("20240516", "SPX", "SPX")
    assert (spxw["LastTradingDayOrContractMonth"], spxw["TradingClass"], spxw["Symbol"]) == ("20240517", "SPXW", "SPX")
    assert (vix["LastTradingDayOrContractMonth"], vix["Strike"], vix["Symbol"]) == ("20240514", "22.5", "VIX")
    assert [r["Action"] for r in rows] == ["BUY", "SELL", "BUY"] and {r["Quantity"] for r in rows} == {"3"}
    assert [r["LmtPrice"] for r in rows] == ["2.10", "3.20", "0.90"]  # mid +/- 0.10 (SPX) or 0.05 (VIX), ticked
    assert {r["BasketTag"] for r in rows} == {A_TICKET["ticket_id"]}
    assert {(r["SecType"], r["OrderType"], r["TimeInForce"], r["Currency"]) for r in rows} == {
        ("OPT", "LMT", "DAY", "USD")
    }


def test_csv_is_one_row_per_leg_with_the_ticket_repeated():
    rows = list(csv.DictReader(io.StringIO(tickets.to_csv([{**A_TICKET, "group_id": "g", "date": "2024-04-12",
        "trade_date": "2024-04-15", "position_id": None, "layer": None, "strategy": "iron_condor",
        "order_type": "LMT", "price_effect": "credit", "reasons": ["ENTER", "SIZE_HALF_ELEVATED"]}]))))  # fmt: skip
    assert [r["occ_symbol"] for r in rows] == [leg["occ_symbol"] for leg in A_TICKET["legs"]]
    assert {r["ticket_id"] for r in rows} == {A_TICKET["ticket_id"]} and rows[0][
        "reasons"
    ] == "ENTER;SIZE_HALF_ELEVATED"
    assert [r["leg_quantity"] for r in rows] == ["3", "3", "3"]


@pytest.mark.slow
def test_every_leg_symbol_agrees_between_the_sql_views_and_python(built):
    with publish.open_snapshot(built.home, isolated=True) as conn:
        for view in ("signals.condor_legs", "signals.hedge_legs"):
            rows = conn.execute(f'SELECT root, expiry, "right", strike, occ_symbol FROM {view}').fetchall()
            assert len(rows) > 20, view
            for root, expiry, right, strike, symbol in rows:
                assert symbol == occ.occ_symbol(root, expiry, right, strike), (view, symbol)
        plans = conn.execute("SELECT count(*) FROM signals.condor_plan WHERE expiry IS NOT NULL").fetchone()[0]
        legs = conn.execute("SELECT count(*) FROM signals.condor_legs WHERE source = 'plan'").fetchone()[0]
        assert legs == 4 * plans
        acts = conn.execute("SELECT count(*) FROM signals.condor_actions").fetchone()[0]
        assert (
            conn.execute("SELECT count(*) FROM signals.condor_legs WHERE source = 'action'").fetchone()[0] == 4 * acts
        )
        assert conn.execute("SELECT DISTINCT root FROM signals.condor_legs").fetchall() == [("SPXW",)]
        # every ticket leg is a leg the views know (the ticket closes or opens the positions they list)
        ticket_legs = {r[0] for r in conn.execute("SELECT unnest(legs).occ_symbol FROM signals.tickets").fetchall()}
        known = {r[0] for r in conn.execute("SELECT occ_symbol FROM signals.condor_legs UNION "
                                            "SELECT occ_symbol FROM signals.hedge_legs").fetchall()}  # fmt: skip
        adjusted = {r[0] for r in conn.execute(
            "SELECT unnest(legs).occ_symbol FROM signals.tickets WHERE kind = 'adjust'").fetchall()}  # fmt: skip
        assert ticket_legs - adjusted <= known


@pytest.mark.slow
def test_ticket_mids_add_up_to_the_books_credits_and_marks(built):
    with duckdb.connect(str(built.home / "warehouse.duckdb"), read_only=True) as conn:
        t = conn.execute("SELECT * FROM signals.tickets").df()
        plan = conn.execute("SELECT date, credit_mid, contracts, reasons FROM signals.condor_plan WHERE enter").df()
        acts = conn.execute(
            "SELECT * FROM signals.condor_actions WHERE action NOT IN ('hold', 'expire', 'close')"
        ).df()  # the orders; `close` is the fill of an earlier session's close order
        filled = conn.execute("SELECT date, position_id FROM signals.condor_actions WHERE action = 'close'").df()
        kinds = set(t["kind"])
    assert {"open", "close"} <= kinds, kinds
    opens = t[t["kind"].isin(["open", "roll_open"])].merge(plan, on="date")
    assert len(opens) == len(plan) > 0
    pd.testing.assert_series_equal(opens["mid_price"], opens["credit_mid"], check_names=False, rtol=REL, atol=ABS)
    assert (opens["quantity"] == opens["contracts"]).all() and (opens["price_effect"] == "credit").all()
    assert (opens["limit_price"] <= opens["credit_mid"] - 0.40 + 1e-9).all()  # 4 legs x 0.10, then down to the tick
    closes = t[t["kind"].isin(["close", "roll_close", "adjust"])].merge(acts, on=["date", "position_id"])
    assert len(closes) == len(acts)
    # the book fills each order on the session the ticket is for (book.fill = next_close)
    assert (pd.to_datetime(closes["trade_date_x"]) == pd.to_datetime(closes["trade_date_y"])).all()
    shut = closes[closes["kind"] != "adjust"]
    fills = set(zip(pd.to_datetime(filled["date"]), filled["position_id"], strict=True))
    assert set(zip(pd.to_datetime(shut["trade_date_x"]), shut["position_id"], strict=True)) <= fills
    pd.testing.assert_series_equal(shut["mid_price"], shut["mark"], check_names=False, rtol=REL, atol=ABS)
    for _, row in t.iterrows():
        assert row["trade_date"] > row["date"] and row["order_type"] == "LMT" and row["time_in_force"] == "DAY"
        for leg in row["legs"]:
            assert occ.parse(leg["occ_symbol"]).strike == leg["strike"]


@pytest.mark.slow
def test_the_tickets_command_prints_each_format(built):
    with duckdb.connect(str(built.home / "warehouse.duckdb"), read_only=True) as conn:
        day = conn.execute("SELECT max(date) FROM signals.tickets WHERE kind = 'open'").fetchone()[0]
    out = vixshield(built.home, "tickets", "--date", str(day))
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert got and {t["date"] for t in got} == {str(day)} and "open" in {t["kind"] for t in got}
    ib = vixshield(built.home, "tickets", "--date", str(day), "--format", "ib")
    assert ib.stdout.splitlines()[0] == ",".join(tickets.IB_COLUMNS)
    assert len(ib.stdout.splitlines()) == 1 + sum(len(t["legs"]) for t in got)
    bad = vixshield(built.home, "tickets", "--date", "2024-13-01")
    assert bad.returncode == 2 and "YYYY-MM-DD" in bad.stderr
    far = vixshield(built.home, "tickets", "--date", str(day + dt.timedelta(days=3650)))
    assert far.returncode == 2 and "no signals" in far.stderr
