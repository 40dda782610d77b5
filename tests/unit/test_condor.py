"""Iron-condor rules (METHODOLOGY §5) on constructed sessions: the candidate, gates, sizing and
each management action, with expected outcomes worked out from the rule text."""

import math
from dataclasses import replace

import pandas as pd
import pytest

from tests.floats import REL
from vixshield.strategy.condor import (
    MULTIPLIER,
    CndrReplica,
    Condor,
    CondorBook,
    CondorSettings,
    ManagedCondors,
    Market,
    candidate,
    gate_reasons,
    manage,
    program,
    size,
)
from vixshield.strategy.costs import half_spread
from vixshield.strategy.options import Leg

S = CondorSettings()
DAY = pd.Timestamp("2019-06-14")


def row(spot: float = 2900.0, vix: float = 15.0, **extra) -> dict:
    return {
        "spx_close": spot,
        "vix": vix,
        "vix9d": vix * 0.9,
        "vix3m": vix * 1.1,
        "vix6m": vix * 1.15,
        "dgs3mo": 2.0,
        "vrp": 3.0,
        "ivts": 0.9,
        "sessions_to_fomc": 5,
        "sessions_to_cpi": 9,
        "sessions_to_ppi": 10,
        **extra,
    }


def market(day=DAY, **kw) -> Market:
    return Market.from_row(pd.Timestamp(day), row(**kw), S)


def open_condor(m: Market, contracts: int = 10) -> Condor:
    c = candidate(m, S)
    return Condor(
        "IC-1",
        m.day,
        pd.Timestamp(c["expiry"]),
        c["long_put"],
        c["short_put"],
        c["short_call"],
        c["long_call"],
        contracts,
        c["credit"],
        c["max_loss"],
    )


def test_candidate_is_a_placeable_45_dte_16_delta_condor():
    c = candidate(market(), S)
    assert c["dte"] == 45 and str(c["expiry"]) == "2019-07-29"
    assert c["long_put"] < c["short_put"] < 2900 < c["short_call"] < c["long_call"]
    assert all(c[k] % 5 == 0 for k in ("long_put", "short_put", "short_call", "long_call"))
    assert abs(c["short_put_delta"] + 0.16) < 0.02 and abs(c["short_call_delta"] - 0.16) < 0.02
    assert abs(c["long_put_delta"] + 0.05) < 0.01 and abs(c["long_call_delta"] - 0.05) < 0.01  # wings are deltas
    assert 0 < c["credit"] < max(c["put_width"], c["call_width"])
    # mid less each leg's modelled half-spread at its own price and delta (VIX 15, 45 DTE)
    legs = [("put", c["long_put"]), ("put", c["short_put"]), ("call", c["short_call"]), ("call", c["long_call"])]
    m = market()
    expiry = pd.Timestamp(c["expiry"])
    halves = [half_spread(*m.price((Leg(k, x, 1),), expiry), 45, 15.0, S.spread) for k, x in legs]
    assert c["credit"] == pytest.approx(c["credit_mid"] - sum(halves), rel=REL)
    fixed = candidate(m, replace(S, spread=replace(S.spread, model=False)))
    assert fixed["credit"] == pytest.approx(fixed["credit_mid"] - 0.40, rel=REL)  # METHODOLOGY §4: 0.10 per leg
    assert c["max_loss"] == pytest.approx((max(c["put_width"], c["call_width"]) - c["credit"]) * MULTIPLIER)
    assert c["breakeven_low"] == pytest.approx(c["short_put"] - c["credit"])
    assert 0.5 < c["pop"] < 0.9
    assert c["take_profit_price"] == pytest.approx(c["credit"] / 2)
    assert c["stop_price"] == pytest.approx(3 * c["credit"])
    assert str(c["roll_date"]) == "2019-07-08"  # expiry - 21 days, a Monday session


def test_bearish_divergence_moves_the_put_short_out_and_halves_its_wing():
    plain = candidate(market(), S)
    mod = candidate(market(bearish_divergence_active=True), S)
    assert mod["short_put"] < plain["short_put"] and abs(mod["short_put_delta"] + 0.10) < 0.02
    # half the distance from the moved short to the 5-delta strike (plain's long put), rounded up to the grid
    assert mod["put_width"] == math.ceil((mod["short_put"] - plain["long_put"]) / 2 / 5) * 5
    assert mod["short_call"] == plain["short_call"] and mod["divergence_modifier"] == "bearish"
    off = candidate(market(bearish_divergence_active=True), CondorSettings(divergence_modifier=False))
    assert off["short_put"] == plain["short_put"]


def _hand_put_delta(spot: float, strike: float, days: int, r: float, q: float, sigma_atm: float) -> float:
    """METHODOLOGY §4 by hand: the two-slope smile at the strike, then e^{-qT}(N(d1) - 1)."""
    t = days / 365
    fwd = spot * math.exp((r - q) * t)
    z = math.log(strike / fwd) / (sigma_atm * math.sqrt(t))
    vol = sigma_atm * (1 - 0.25 * z)  # put side, inside the [0.5, 2.5] clip
    d1 = (math.log(spot / strike) + (r - q) * t) / (vol * math.sqrt(t)) + vol * math.sqrt(t) / 2
    return -math.exp(-q * t) * 0.5 * math.erfc(d1 / math.sqrt(2))


def test_long_put_sits_at_the_rule_delta_not_at_a_point_cap_at_todays_spx():
    """At SPX 7400 and a flat 15 VIX the 5-delta put lies ~600 points below spot, far beyond the old
    100-point cap (whose long put sat near 10 delta). The long put is the grid strike whose hand-computed
    delta is nearest -0.05, and the plan reports that delta."""
    spot, vol = 7400.0, 15.0
    m = Market.from_row(DAY, {**row(spot=spot), "vix9d": vol, "vix": vol, "vix3m": vol, "vix6m": vol}, S)
    c = candidate(m, S)
    days, sigma_atm = c["dte"], (0.84 + 0.03 * (vol - 20) / 10) * vol / 100  # kappa rises 0.03 per 10 VIX points
    hand = {
        k: _hand_put_delta(spot, k, days, 0.02, 0.018, sigma_atm)
        for k in (c["long_put"] - 5, c["long_put"], c["long_put"] + 5)
    }
    assert c["long_put_delta"] == pytest.approx(hand[c["long_put"]], rel=REL)
    assert abs(hand[c["long_put"]] + 0.05) <= min(
        abs(hand[c["long_put"] - 5] + 0.05), abs(hand[c["long_put"] + 5] + 0.05)
    )
    assert c["put_width"] > 300  # what the rule's delta asks for at this level
    capped = candidate(m, replace(S, wing_max_pct=0.02))  # a cap is a fraction of spot: 148 points here
    assert capped["put_width"] == 150 and capped["long_put_delta"] < -0.05


@pytest.mark.parametrize(
    ("regime", "extra", "code"),
    [
        ("STRESSED", {}, "GATE_REGIME_STRESSED"),
        ("NORMAL", {"vrp": -1.0}, "GATE_VRP_NOT_POSITIVE"),
        ("NORMAL", {"ivts": 1.02}, "GATE_IVTS_GE_1"),
        ("NORMAL", {"sessions_to_fomc": 0}, "GATE_EVENT_FOMC_TODAY"),
        ("NORMAL", {"sessions_to_cpi": 1}, "GATE_EVENT_CPI_NEXT_SESSION"),
    ],
)
def test_each_gate_blocks_with_its_reason(regime, extra, code):
    assert gate_reasons(row(**extra), regime, S) == [code]


def test_gates_pass_and_can_be_switched_off():
    assert gate_reasons(row(), "ELEVATED", S) == []
    assert gate_reasons(row(sessions_to_ppi=0), "CRISIS", CondorSettings(regime_gates=False, event_gate=False)) == []


def test_sizing_risk_budget_and_elevated_half():
    c = {"max_loss": 8000.0, "credit": 5.0}
    assert size(c, 1_000_000, 0.0, "NORMAL", S) == (2, [])  # floor(20,000 / 8,000)
    assert size(c, 1_000_000, 0.0, "ELEVATED", S) == (1, ["SIZE_HALF_ELEVATED"])
    assert size(c, 1_000_000, 95_000.0, "NORMAL", S) == (0, ["CAPACITY_RISK_BUDGET", "SIZE_ZERO"])  # 10% cap


def test_take_profit_when_the_condor_has_decayed():
    c = open_condor(market())
    d = manage(c, market(day="2019-07-01", vix=11.0), "CALM", S, None)  # 17 days on, lower vol, same spot
    assert d.action == "take_profit" and d.mark <= 0.5 * c.credit
    fees = 4 * c.contracts * 0.65  # four legs at $0.65 a contract
    assert 0 < d.spread == pytest.approx(program(S).spread(market(day="2019-07-01", vix=11.0), c.legs(), c.expiry))
    assert d.pnl == pytest.approx((c.credit - d.mark - d.spread) * c.contracts * MULTIPLIER - fees)
    assert d.cash == pytest.approx(-(d.mark + d.spread) * c.contracts * MULTIPLIER - fees)


def test_stop_after_a_crash_through_the_put():
    c = open_condor(market())
    d = manage(c, market(day="2019-06-17", spot=2650.0, vix=28.0), "ELEVATED", S, None)
    assert d.action == "stop" and d.mark - c.credit >= 2 * c.credit
    assert d.pnl < 0


def test_roll_at_21_dte():
    c = open_condor(market())
    # 21 DTE with SPX drifted toward the put: neither the profit target nor the stop is hit
    d = manage(c, market(day="2019-07-08", spot=2790.0, vix=17.0), "NORMAL", S, None)
    assert 0.5 * c.credit < d.mark < 3 * c.credit
    assert d.action == "roll" and d.reenter
    # the same condor three sessions earlier (24 DTE) is held (its one adjustment already used)
    hold = manage(replace(c, adjusted=True), market(day="2019-07-05", spot=2800.0, vix=17.0), "NORMAL", S, None)
    assert hold.action == "hold"


def test_untested_short_is_rolled_once_when_a_short_reaches_30_delta():
    c = open_condor(market())
    m = market(day="2019-06-21", spot=2800.0, vix=16.0)
    d = manage(c, m, "NORMAL", S, None)
    assert d.action == "adjust" and d.replacement is not None
    new = d.replacement
    assert new.short_call < c.short_call and new.long_call - new.short_call == c.long_call - c.short_call
    assert (new.short_put, new.long_put) == (c.short_put, c.long_put)
    assert new.credit > c.credit and new.adjusted
    again = manage(new, market(day="2019-06-24", spot=2795.0, vix=16.0), "NORMAL", S, None)
    assert again.action != "adjust"  # once only


@pytest.mark.parametrize(("settle", "expected_per_unit"), [(2900.0, "credit"), (2400.0, "max_loss")])
def test_settlement_at_expiry(settle, expected_per_unit):
    c = open_condor(market())
    d = manage(c, market(day=c.expiry, spot=settle), "NORMAL", S, None)
    assert d.action == "expire"
    units = c.contracts * MULTIPLIER
    if expected_per_unit == "credit":
        assert d.pnl == pytest.approx(c.credit * units)
    else:
        assert d.pnl == pytest.approx(-c.max_loss * c.contracts)


def test_crisis_closes_everything():
    c = open_condor(market())
    assert manage(c, market(day="2019-06-17"), "CRISIS", S, None).action == "crisis_close"


def test_marks_use_only_that_sessions_surface():
    c = open_condor(market())
    a = manage(c, market(day="2019-06-20", vix=15.0), "NORMAL", S, None)
    b = manage(c, market(day="2019-06-20", vix=15.0), "NORMAL", S, None)
    assert a.mark == b.mark
    assert manage(c, market(day="2019-06-20", vix=25.0), "NORMAL", S, None).mark > a.mark


# --- the program: opening, cadence, the CNDR replica ------------------------------------------------


def test_the_mode_setting_picks_the_strategy_object():
    assert type(program(S)) is ManagedCondors and not program(S).am_settled
    cndr = program(replace(S, mode="cndr"))
    assert type(cndr) is CndrReplica and cndr.am_settled


def test_a_round_trip_at_an_unchanged_mid_costs_twice_the_fill_costs():
    m, prog = market(), program(S)
    entry = prog.enter(CondorBook(), m, "NORMAL", 1_000_000.0, False, rows=True)
    c = entry.opened
    assert c is not None and entry.plan["enter"] and entry.book.condors == (c,) and entry.book.seq == 1
    assert entry.fill.price == pytest.approx(entry.plan["credit_mid"])  # the mid; the credit is the spread below
    spread = prog.spread(m, c.legs(), c.expiry)
    assert entry.plan["credit_mid"] - entry.plan["credit"] == pytest.approx(spread)
    costs = c.contracts * (spread * MULTIPLIER + 4 * 0.65)
    assert entry.fill.costs == pytest.approx(costs)
    close = prog.manage(c, m, "CRISIS", None)  # bought back at once, at the same mid and the same spread
    assert close.action == "crisis_close"
    assert entry.cash + close.cash == pytest.approx(-2 * costs)


def test_cadence_capacity_and_the_switch_block_before_the_candidate_is_priced():
    prog, week = program(S), DAY.isocalendar()[:2]
    m = market()
    blocked = prog.enter(CondorBook(last_entry_week=week), m, "NORMAL", 1_000_000.0, False, rows=False)
    assert blocked.plan is None and blocked.opened is None and not m._candidates  # nothing priced
    row = prog.enter(CondorBook(last_entry_week=week), m, "NORMAL", 1_000_000.0, False, rows=True).plan
    assert row["reasons"] == ["CADENCE_ONE_PER_WEEK"] and not row["enter"]
    roll = prog.enter(CondorBook(last_entry_week=week), m, "NORMAL", 1_000_000.0, True, rows=False)
    assert roll.opened is not None and roll.plan["reasons"][0] == "ENTER_ROLL"  # a roll re-enters the same week
    full = CondorBook(tuple(open_condor(m, 1) for _ in range(S.max_open)))
    assert "CAPACITY_MAX_OPEN" in prog.enter(full, m, "NORMAL", 1e6, False, rows=True).plan["reasons"]
    off = program(S, enabled=False).enter(CondorBook(), m, "NORMAL", 1e6, False, rows=True).plan
    assert off["reasons"] == ["CONDORS_OFF"] and not off["enter"]


def test_cndr_replica_opens_on_the_roll_day_and_holds_to_the_am_settlement():
    prog = program(replace(S, mode="cndr", slippage_per_leg=0.0, commission_per_contract=0.0))
    before = prog.enter(CondorBook(), market(day="2019-06-20"), "CRISIS", 1e6, False, rows=True).plan
    assert before["reasons"] == ["CNDR_NOT_ROLL_DAY"] and not before["enter"]
    entry = prog.enter(CondorBook(), market(day="2019-06-21"), "CRISIS", 1e6, False, rows=True)  # no gates
    c = entry.opened
    assert c.am_settled and str(c.expiry.date()) == "2019-07-19"  # next month's third Friday
    assert c.contracts == pytest.approx(1e6 / (10 * c.max_loss))  # index units, 10x max loss in T-bills
    again = prog.enter(entry.book, market(day="2019-06-21"), "NORMAL", 1e6, False, rows=True).plan
    assert "CAPACITY_MAX_OPEN" in again["reasons"]
    hold = prog.manage(c, market(day="2019-07-01", spot=2500.0), "CRISIS", None)
    assert (hold.action, hold.reason, hold.cash) == ("hold", "CNDR_HOLD_TO_SETTLEMENT", 0.0)  # no stop, no crisis
    settle = prog.manage(c, market(day="2019-07-19", spot=2950.0), "NORMAL", 2905.0)
    assert settle.action == "expire" and settle.reason == "SETTLED_AT_2905.00"  # the open, not the close


def test_the_surface_parameters_are_settings():
    """kappa rises with VIX by kappa_vix_slope per 10 points; the skew slopes shape every leg's vol."""
    s = replace(S, kappa=0.80, kappa_vix_slope=0.05, skew_put=0.40, skew_call=0.30)
    flat = {"vix9d": 30.0, "vix": 30.0, "vix3m": 30.0, "vix6m": 30.0}
    m = Market.from_row(DAY, {**row(), **flat}, s)
    expiry = pd.Timestamp("2019-07-29")
    assert m.sigma_atm(expiry) == pytest.approx((0.80 + 0.05) * 0.30, rel=REL)  # VIX 30: one step of 10 above 20
    t, fwd = m.years(expiry), m.forward(expiry)
    k = 2700.0
    z = math.log(k / fwd) / (0.255 * math.sqrt(t))
    vol = 0.255 * (1 - 0.40 * z)  # the put slope, by hand
    d1 = (math.log(2900 / k) + (0.02 - 0.018) * t) / (vol * math.sqrt(t)) + vol * math.sqrt(t) / 2
    want = -math.exp(-0.018 * t) * 0.5 * math.erfc(d1 / math.sqrt(2))
    assert m.delta(Leg("put", k, 1), expiry) == pytest.approx(want, rel=REL)
    fresh = Market.from_row(DAY, {**row(), **flat}, s)
    _, slice_delta = fresh.price((Leg("put", k, 1),), expiry)  # the fast Slice path uses the same slopes
    assert slice_delta == pytest.approx(want, rel=REL)
