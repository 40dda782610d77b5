"""Decide on t, fill on t+1 (#14 finding 8): a decision taken on a session's close is an order that
fills at the next session's close, priced on that session's surface; `same_close` is the old fill.
Prices are checked against Black-Scholes / Black-76 worked out here, with scipy's normal."""

from __future__ import annotations

import math
import pickle
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from tests.unit.test_backtest import FLAT, market
from vixshield import calendars
from vixshield.backtest import engine as backtest
from vixshield.config import Settings
from vixshield.store import contract, migrations, warehouse
from vixshield.strategy import signals
from vixshield.strategy.book import BookSettings, run_book
from vixshield.strategy.condor import MULTIPLIER, Condor, CondorBook, Market, program

SIGMA_ATM = FLAT.condor.kappa * 0.20  # VIX 20: kappa's VIX slope adds nothing
CONDORS = replace(FLAT, hedges=False)
T, T1, T2 = pd.Timestamp("2024-01-02"), pd.Timestamp("2024-01-03"), pd.Timestamp("2024-01-04")


def bs(spot: float, strike: float, days: int, sigma_atm: float, kind: str) -> float:
    """Black-Scholes with r = q = 0 at the METHODOLOGY §4 smile: sigma(K) = sigma_atm (1 - b z),
    z = ln(K/F) / (sigma_atm sqrt(T)), b = 0.25 below the forward and 0.10 above, F = spot."""
    t = days / 365.0
    z = math.log(strike / spot) / (sigma_atm * math.sqrt(t))
    vol = sigma_atm * min(max(1 - (0.25 if z < 0 else 0.10) * z, 0.5), 2.5)
    d1 = (math.log(spot / strike) + 0.5 * vol * vol * t) / (vol * math.sqrt(t))
    d2 = d1 - vol * math.sqrt(t)
    if kind == "call":
        return spot * norm.cdf(d1) - strike * norm.cdf(d2)
    return strike * norm.cdf(-d2) - spot * norm.cdf(-d1)


def condor_mid(spot: float, day: pd.Timestamp, plan: dict) -> float:
    """The credit at the mid of the plan's four legs on a session at `spot`, VIX 20."""
    days = (pd.Timestamp(plan["expiry"]) - day).days
    return (
        bs(spot, plan["short_put"], days, SIGMA_ATM, "put")
        - bs(spot, plan["long_put"], days, SIGMA_ATM, "put")
        + bs(spot, plan["short_call"], days, SIGMA_ATM, "call")
        - bs(spot, plan["long_call"], days, SIGMA_ATM, "call")
    )


def book(inputs: backtest.Inputs, s: BookSettings, features: pd.DataFrame | None = None, state=None):
    f = inputs.features if features is None else features
    return run_book(f, inputs.regimes, inputs.vx, inputs.opens, s, state=state)


def jump() -> backtest.Inputs:
    """SPX 4000 on 2024-01-02, 4100 from the next session on; VIX 20 throughout, no rates."""
    days = calendars.sessions("2024-01-02", "2024-02-29")
    return market("2024-01-02", "2024-02-29", spx=np.where(days == T, 4000.0, 4100.0))


def condor_fills(out) -> pd.DataFrame:
    f = pd.DataFrame(out.fills)
    return f[f["sleeve"] == "condor"]


def test_an_entry_decided_on_t_fills_at_the_next_close_on_that_sessions_surface():
    inputs = jump()
    out = book(inputs, CONDORS)
    plan = pd.DataFrame(out.plan).set_index("date").loc[T.date()]
    assert plan["enter"] and plan["trade_date"] == T1.date()  # the row says when the order fills
    assert plan["credit_mid"] == pytest.approx(condor_mid(4000.0, T, plan), rel=1e-9)  # decided on t's surface
    opened = condor_fills(out).query("event == 'open'").iloc[0]
    assert opened["date"] == T1 and not (condor_fills(out)["date"] == T).any()  # nothing fills on t's close
    assert opened["instrument"] == (
        f"SPX {plan['expiry']:%Y-%m-%d} {plan['long_put']:g}/{plan['short_put']:g}/"
        f"{plan['short_call']:g}/{plan['long_call']:g} IC"
    )  # the strikes and expiry chosen on t ...
    assert opened["contracts"] == plan["contracts"]  # ... and the size
    want = condor_mid(4100.0, T1, plan)  # ... priced on t+1's surface
    assert opened["price"] == pytest.approx(want, rel=1e-9)
    assert abs(want - plan["credit_mid"]) > 0.05 * plan["credit_mid"]  # the move between the two closes counts
    assert opened["cash"] == pytest.approx(opened["price"] * plan["contracts"] * MULTIPLIER - opened["costs"])


def test_same_close_fills_the_entry_on_the_close_that_decided_it():
    out = book(jump(), replace(CONDORS, fill="same_close"))
    plan = pd.DataFrame(out.plan).set_index("date").loc[T.date()]
    assert plan["enter"] and plan["trade_date"] == T.date()
    opened = condor_fills(out).query("event == 'open'").iloc[0]
    assert opened["date"] == T and opened["price"] == pytest.approx(condor_mid(4000.0, T, plan), rel=1e-9)


def test_the_backtest_strategies_name_both_fills_and_the_replicas_follow_their_roll_date():
    base = BookSettings()
    assert base.fill == "next_close" and backtest.strategy_settings("full", base).fill == "next_close"
    assert backtest.strategy_settings("full_same_close", base).fill == "same_close"
    for name in ("cndr", "put", "bxm", "bxmd", "vxth"):  # a published roll schedule, not a signal
        assert backtest.strategy_settings(name, base).fill == "same_close"
    with pytest.raises(ValueError, match=r"book\.fill"):
        BookSettings(fill="next_open")


def test_an_order_waits_for_the_next_session_that_can_price_it():
    inputs = jump()
    f = inputs.features.copy()
    f.loc[T1, "vix"] = np.nan  # no VIX close on t+1: the order cannot be priced there
    out = book(inputs, CONDORS, features=f)
    plan = pd.DataFrame(out.plan).set_index("date").loc[T.date()]
    opened = condor_fills(out).query("event == 'open'").iloc[0]
    assert opened["date"] == T2 and opened["price"] == pytest.approx(condor_mid(4100.0, T2, plan), rel=1e-9)


def test_a_pending_order_survives_the_daily_resume_and_a_run_cut_at_t_publishes_it_unfilled():
    inputs = jump()
    full = book(inputs, CONDORS)
    cut = book(inputs, CONDORS, features=inputs.features.loc[:T])
    # as of t: the plan orders the entry for t+1, nothing is filled, the state carries the order
    assert cut.plan[-1]["enter"] and cut.plan[-1]["trade_date"] == T1.date()
    assert not cut.fills and cut.daily[-1]["condor_value"] == 0.0 and cut.daily[-1]["open_condors"] == 0
    (order,) = cut.state.condors.orders
    assert (order.action, order.decided, order.condor.contracts) == ("open", T, cut.plan[-1]["contracts"])
    for name, frame in cut.frames().items():  # the rows up to t are the full run's
        want = full.frames()[name]
        if len(want) and (pd.to_datetime(want["date"]) <= T).any():
            pd.testing.assert_frame_equal(frame, want[pd.to_datetime(want["date"]) <= T], obj=name)
        else:
            assert frame.empty
    # resumed from the stored (pickled) state, the order fills on t+1 and the run is the uninterrupted one
    resumed = book(inputs, CONDORS, state=pickle.loads(pickle.dumps(cut.state)))
    assert resumed.fills == full.fills
    pd.testing.assert_frame_equal(pd.DataFrame(cut.daily + resumed.daily), pd.DataFrame(full.daily))


# --- closes and adjustments: the program's orders -------------------------------------------------


def flat_row(spot: float, vix: float) -> dict:
    flat = dict.fromkeys(("vix", "vix9d", "vix3m", "vix6m"), vix)
    return {"spx_close": spot, **flat, "dgs3mo": 0.0, "vrp": 3.0, "ivts": 0.9}


def session(day: str, spot: float, vix: float = 20.0) -> Market:
    return Market.from_row(pd.Timestamp(day), flat_row(spot, vix), CONDORS.condor)


def held(m: Market, expiry: str | None = None) -> Condor:
    prog = program(CONDORS.condor)
    c = prog.enter(CondorBook(), m, "NORMAL", 5e6, False, rows=False).opened
    return c if expiry is None else replace(c, expiry=pd.Timestamp(expiry))


def test_a_close_decided_on_t_is_bought_back_at_the_next_sessions_mark():
    prog = program(CONDORS.condor)
    c = held(session("2024-01-02", 4000.0))
    fills: list = []
    managed, rows = prog.manage_book(CondorBook((c,)), session("2024-01-10", 4000.0), "CRISIS", None, fills, True, True)
    assert not fills and managed.cash == 0.0 and managed.book.condors == (c,)  # still held, at the mid
    assert rows[0]["action"] == "crisis_close" and rows[0]["trade_date"] == pd.Timestamp("2024-01-11").date()
    assert managed.book.staying().condors == ()  # no longer takes a place for the entry's capacity
    book_after, cash, filled = prog.fill_orders(managed.book, session("2024-01-11", 3900.0), fills, True)
    assert book_after.condors == () and book_after.orders == ()
    (fill,) = fills
    days = (c.expiry - pd.Timestamp("2024-01-11")).days
    legs = {"short_put": c.short_put, "long_put": c.long_put, "short_call": c.short_call, "long_call": c.long_call}
    mark = condor_mid(3900.0, pd.Timestamp("2024-01-11"), {**legs, "expiry": c.expiry})  # the cost to buy back
    assert fill.date == pd.Timestamp("2024-01-11") and fill.event == "close"
    assert fill.price == pytest.approx(mark, rel=1e-9) and days > 0
    assert cash == fill.cash and filled[0]["action"] == "close" and filled[0]["reason"].startswith("crisis_close:")


def test_an_order_whose_condor_expires_first_is_dropped_and_the_condor_settles():
    prog = program(CONDORS.condor)
    c = held(session("2024-01-02", 4000.0), expiry="2024-01-11")
    fills: list = []
    managed, _ = prog.manage_book(CondorBook((c,)), session("2024-01-10", 4000.0), "CRISIS", None, fills, False, True)
    assert len(managed.book.orders) == 1
    expiry_day = session("2024-01-11", 4000.0)
    book_after, cash, _ = prog.fill_orders(managed.book, expiry_day, fills, False)
    assert cash == 0.0 and not fills and book_after.condors == (c,)  # the close order is dropped
    settled, _ = prog.manage_book(book_after, expiry_day, "CRISIS", None, fills, False, True)
    assert fills[0].reason == "expire:SETTLED_AT_4000.00" and settled.book.condors == ()
    assert settled.cash == 0.0  # SPX at 4000: every leg expires out of the money


# --- the hedge: an L0 add decided on a VIX expiration day -----------------------------------------


def black76_call(fwd: float, strike: float, days: int, sigma: float) -> float:
    t = days / 365.0
    d1 = (math.log(fwd / strike) + 0.5 * sigma * sigma * t) / (sigma * math.sqrt(t))
    return fwd * norm.cdf(d1) - strike * norm.cdf(d1 - sigma * math.sqrt(t))


def test_a_hedge_add_decided_on_t_is_bought_at_the_next_sessions_black76_price():
    decided, filled = pd.Timestamp("2024-01-17"), pd.Timestamp("2024-01-18")  # a VIX expiration, then t+1
    days = calendars.sessions("2024-01-02", "2024-02-29")
    inputs = market("2024-01-02", "2024-02-29", vix=np.where(days <= decided, 20.0, 24.0))
    out = book(inputs, replace(FLAT, condors=False))
    rows = pd.DataFrame(out.hedges)
    l0 = rows[(rows["layer"] == "L0") & (rows["date"] == decided)].iloc[0]
    assert l0["action"] == "add" and l0["contracts"] > 0 and l0["trade_date"] == filled
    assert l0["cash_flow"] == 0.0 and l0["contracts_held"] == 0  # an order: nothing paid, nothing held yet
    fill = pd.DataFrame(out.fills).query("sleeve == 'hedge' and event == 'open'").iloc[0]
    assert fill["date"] == filled and fill["contracts"] == l0["contracts"]
    assert f"{l0['expiry']:%Y-%m-%d} {l0['strike']:g} call" in fill["instrument"]  # chosen on t
    # VX futures at the VIX level (24 on t+1), vol = VVIX / 100 = 0.90, r = 0
    want = black76_call(24.0, l0["strike"], (l0["expiry"] - filled).days, 0.90)
    assert fill["price"] == pytest.approx(want, rel=1e-9)
    assert fill["price"] > 1.2 * l0["option_price"]  # t's price was on VIX 20
    nxt = rows[(rows["layer"] == "L0") & (rows["date"] == filled)].iloc[0]
    assert "L0:FILLED_ADD" in nxt["reasons"] and nxt["contracts_held"] == l0["contracts"]
    assert nxt["cash_flow"] == pytest.approx(fill["cash"])


def test_the_daily_run_stores_the_evenings_order_and_the_next_run_resumes_and_fills_it(tmp_path):
    """signals.update_signals on a warehouse holding the book's inputs: the run as of t stores the entry
    ordered on t in meta.book_state; the next run resumes from it, fills the order on t+1 and writes
    what a replay of the whole history writes."""
    inputs = jump()
    s = Settings().book
    conn = warehouse.connect(tmp_path / "w.duckdb")
    warehouse.init_schema(conn)
    migrations.create_table(conn, contract.TABLES["features.regime"])
    for day, regime in inputs.regimes.items():
        conn.execute("INSERT INTO features.regime (date, regime) VALUES (?, ?)", [day.date(), regime])
    vx = [(d.date(), e.date(), p) for d, by in inputs.vx.items() for e, p in by.items()]
    conn.execute("CREATE OR REPLACE TABLE core.vx_futures (trade_date DATE, expiry DATE, price DOUBLE)")
    conn.executemany("INSERT INTO core.vx_futures VALUES (?, ?, ?)", vx)
    conn.execute("CREATE OR REPLACE TABLE core.market_daily (date DATE, spx_open DOUBLE)")
    conn.executemany("INSERT INTO core.market_daily VALUES (?, ?)", [(d.date(), o) for d, o in inputs.opens.items()])
    frame = inputs.features.rename_axis("date").reset_index().assign(date=lambda f: f["date"].dt.date)
    with warehouse.registered(conn, "_features", frame):
        conn.execute("CREATE TABLE features.daily AS SELECT * FROM _features WHERE date <= ?", [T.date()])
    first = signals.update_signals(conn, s)
    assert first.resumed_after is None
    state, reason = signals._stored_state(conn, s)
    assert reason == f"resumed after {T.date()}" and [o.action for o in state.condors.orders] == ["open"]
    plan = conn.execute("SELECT enter, trade_date FROM signals.condor_plan WHERE date = ?", [T]).fetchall()
    assert plan == [(True, T1.date())]
    with warehouse.registered(conn, "_features", frame):
        conn.execute("INSERT INTO features.daily SELECT * FROM _features WHERE date > ?", [T.date()])
    second = signals.update_signals(conn, s)
    assert second.resumed_after == T.date()
    opened = conn.execute("SELECT min(date) FROM signals.condor_actions").fetchone()[0]
    assert opened == T1.date()  # the condor the order opened is held from t+1 on
    replay = signals.compute_signals(conn, s)
    for name in signals.TABLES:
        stored = conn.execute(f"SELECT * FROM signals.{name} ORDER BY {signals.KEYS[name]}").df()
        want = replay[name].sort_values([k.strip() for k in signals.KEYS[name].split(",")]).reset_index(drop=True)
        for col in signals.DATE_COLUMNS:
            if col in want:
                want[col] = pd.to_datetime(want[col]).astype("datetime64[ns]")
                stored[col] = pd.to_datetime(stored[col]).astype("datetime64[ns]")
        pd.testing.assert_frame_equal(stored[want.columns], want, check_dtype=False, obj=name)
