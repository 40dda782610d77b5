"""The layered VIX hedge state machine (METHODOLOGY §6) on constructed feature paths."""

import dataclasses
import functools
import math

import numpy as np
import pandas as pd
import pytest

from vixshield import calendars
from vixshield.features.term_structure import points
from vixshield.strategy.costs import SpreadSettings
from vixshield.strategy.hedge import HedgeBook, HedgePosition, HedgeSettings, hedge_session, run_hedge
from vixshield.strategy.hedge_layers import LAYERS
from vixshield.strategy.vix_options import black76_delta, black76_price, vix_expiry, vix_future_price, vix_option_vol

T = pd.Timestamp
NAV = 10_000_000.0
# a calm market: no L1 trigger (SPX MACD above signal), no L2 trigger, IVTS between 0.90 and 0.95
BASE = {
    "vix": 20.0,
    "vix3m": 21.5,
    "ivts": 20.0 / 21.5,
    "vvix": 100.0,
    "spx_macd": 1.0,
    "spx_macd_signal": 0.5,
    "vix_macd": -0.1,
    "vix_macd_signal": 0.0,
    "breadth_divergence": False,
    "bearish_divergence_active": False,
    "macro_stress": 0.0,
    "dgs3mo": 2.0,
    "fed_funds": 2.1,
    "vx_m1": 20.5,
    "vx_m2": 21.0,
}
L1_ON = {"spx_macd": -2.0, "spx_macd_signal": -1.0, "vix_macd": 0.5, "vix_macd_signal": 0.0, "ivts": 1.0}
L2_ON = {"breadth_divergence": True, "macro_stress": 0.6}
# the rules at model prices: costs (slippage, commissions) have their own test below
MID = SpreadSettings(multiplier=0.0)
HedgeSettings = functools.partial(HedgeSettings, slippage=0.0, commission_per_contract=0.0, spread=MID)
ONLY_L0 = HedgeSettings(l1_enabled=False, l2_enabled=False)
ONLY_L1 = HedgeSettings(l0_enabled=False, l2_enabled=False)
ONLY_L2 = HedgeSettings(l0_enabled=False, l1_enabled=False)


def frame(start: str, end: str, changes: dict[int, dict] | None = None) -> pd.DataFrame:
    """BASE on every session in [start, end]; `changes` maps a session position to overrides from it on."""
    days = calendars.sessions(start, end)
    rows, cur = [], dict(BASE)
    for i in range(len(days)):
        cur = {**cur, **(changes or {}).get(i, {})}
        rows.append(dict(cur))
    return pd.DataFrame(rows, index=days)


def layer(rows: pd.DataFrame, name: str) -> pd.DataFrame:
    return rows[rows["layer"] == name].set_index("date")


def by_layer(rows: list[dict]) -> dict[str, dict]:
    return {r["layer"]: r for r in rows}


NO_VX = pd.DataFrame(columns=["trade_date", "expiry", "price"])


# --- L0 -------------------------------------------------------------------------------------------


# bands: <=15 -> 0 | (15, 30] -> 1% | (30, 50] -> 0.5% | > 50 -> 0 (upper edges inclusive, as Cboe VXTH)
@pytest.mark.parametrize(
    ("level", "weight", "code"),
    [
        (14.99, 0.0, "L0:BAND_LE_15"),
        (15.0, 0.0, "L0:BAND_LE_15"),
        (15.01, 1.0, "L0:BAND_15_30"),
        (29.99, 1.0, "L0:BAND_15_30"),
        (30.0, 1.0, "L0:BAND_15_30"),
        (30.01, 0.5, "L0:BAND_30_50"),
        (50.0, 0.5, "L0:BAND_30_50"),
        (50.01, 0.0, "L0:BAND_GT_50"),
    ],
)
def test_l0_band_weight_by_the_same_expiry_future(level, weight, code):
    day = T("2024-01-17")  # a VIX expiration Wednesday
    expiry = vix_expiry(day, 1)
    assert expiry == T("2024-02-14")
    row = {**BASE, "vix": 40.0, "vix3m": 38.0}  # VIX below the monetize level; the band reads the future
    _, rows, cash = hedge_session(day, row, {expiry: level}, NAV, HedgeBook(), ONLY_L0)
    r = by_layer(rows)["L0"]
    assert r["weight_pct_nav"] == weight and code in r["reasons"]
    assert r["future_price"] == level and r["future_source"] == "settle" and r["expiry"] == expiry
    if weight:
        assert r["action"] == "add"
        assert r["contracts"] == math.floor(weight / 100 * NAV / (r["option_price"] * 100)) > 0
        assert cash == pytest.approx(-r["contracts"] * r["option_price"] * 100)
        assert r["premium_pct_nav"] == pytest.approx(weight, abs=r["option_price"] * 100 / NAV * 100)
        assert 0.25 < r["delta"] < 0.35  # 30-delta, up to the 1-point strike grid
    else:
        assert r["action"] == "none" and r["contracts"] == 0 and cash == 0.0


def test_l0_buys_only_on_expiration_days_and_rolls_monthly():
    f = frame("2024-01-02", "2024-04-30")
    rows, cash = run_hedge(f, NO_VX, NAV, ONLY_L0)
    l0 = layer(rows, "L0")
    expirations = calendars.vix_expirations("2024-01-02", "2024-04-30")
    adds = l0.index[l0["action"] == "add"]
    assert list(adds) == list(expirations)
    assert all(l0.loc[d, "expiry"] == vix_expiry(d, 1) for d in adds)  # the 1-month contract
    others = l0.drop(index=expirations)
    assert (others["contracts"] == 0).all() and (cash.drop(index=expirations) == 0).all()
    before, after = others.loc[: expirations[0]], others.loc[expirations[0] :]
    assert set(before["action"]) == {"none"} and "L0:NOT_EXPIRATION_DAY" in before["reasons"].iloc[0]
    assert set(after["action"]) == {"hold"} and (after["contracts_held"] > 0).all()
    assert "L0:HOLD_TO_EXPIRY" in after["reasons"].iloc[0]
    # each expiration settles the old position, then buys the next
    assert all("L0:EXPIRED" in l0.loc[d, "reasons"] for d in expirations[1:])
    assert all(cash[d] == pytest.approx(l0.loc[d, "cash_flow"]) for d in expirations)


def test_l0_weight_scales_with_beta():
    day, expiry = T("2024-01-17"), T("2024-02-14")
    one = by_layer(hedge_session(day, BASE, {expiry: 20.0}, NAV, HedgeBook(), ONLY_L0, beta=1.0)[1])["L0"]
    two = by_layer(hedge_session(day, BASE, {expiry: 20.0}, NAV, HedgeBook(), ONLY_L0, beta=2.0)[1])["L0"]
    assert two["weight_pct_nav"] == 2 * one["weight_pct_nav"] == 2.0
    assert abs(two["contracts"] - 2 * one["contracts"]) <= 1


def test_expiry_settles_at_intrinsic_against_the_vix_close():
    day = T("2024-02-14")
    book = HedgeBook(
        positions=(
            HedgePosition("L0", day, 20.0, 10, 1.0, 1000.0, T("2024-01-17")),
            HedgePosition("L1", day, 30.0, 7, 0.5, 350.0, T("2024-01-10")),
        )
    )
    row = {**BASE, "vix": 26.5, "vix3m": 26.0, "ivts": 26.5 / 26.0}
    new, rows, cash = hedge_session(day, row, {T("2024-03-20"): 14.0}, NAV, book, HedgeSettings())
    r = by_layer(rows)
    assert r["L0"]["cash_flow"] == pytest.approx(6.5 * 10 * 100) and "L0:EXPIRED" in r["L0"]["reasons"]
    assert r["L1"]["cash_flow"] == 0.0 and "L1:EXPIRED" in r["L1"]["reasons"]  # out of the money: worthless
    assert r["L1"]["contracts"] == r["L1"]["contracts_held"] == 0  # a settlement is not an order
    assert cash == pytest.approx(6500.0) and new.positions == ()  # the 14.0 future is in the 0% band


# --- L1 / L2 --------------------------------------------------------------------------------------


def test_l1_adds_on_trigger_and_removes_after_5_sessions_off():
    f = frame("2024-03-01", "2024-04-15", {2: L1_ON, 5: {"spx_macd": 1.0}})  # on at 2-4, off from 5
    l1 = layer(run_hedge(f, NO_VX, NAV, ONLY_L1)[0], "L1")
    acts = list(l1["action"])
    assert acts[:2] == ["none", "none"] and acts[2] == "add"
    assert acts[3:9] == ["hold"] * 6  # still on (3, 4), then four sessions off (5-8)
    assert acts[9] == "remove" and "L1:OFF_5_SESSIONS" in l1["reasons"].iloc[9]  # the fifth session off
    assert set(acts[10:]) == {"none"}
    add = l1.iloc[2]
    assert add["expiry"] == vix_expiry(l1.index[2], 2) and 0.25 < add["delta"] < 0.35
    assert add["weight_pct_nav"] == 0.5 and add["premium_pct_nav"] == pytest.approx(0.5, abs=0.01)
    assert "L1:ALREADY_HELD" in l1["reasons"].iloc[3]
    assert l1["cash_flow"].iloc[9] > 0 and l1["contracts_held"].iloc[9] == 0


def test_l1_off_counter_resets_when_the_trigger_returns():
    f = frame("2024-03-01", "2024-04-15", {2: L1_ON, 3: {"spx_macd": 1.0}, 6: {"spx_macd": -2.0}, 7: {"spx_macd": 1.0}})
    l1 = layer(run_hedge(f, NO_VX, NAV, ONLY_L1)[0], "L1")
    assert list(l1["action"].iloc[2:12]) == ["add"] + ["hold"] * 8 + ["remove"]  # off 3-5, on 6, off 7-11


def test_l1_removed_at_once_when_ivts_drops_below_090():
    f = frame("2024-03-01", "2024-04-15", {2: L1_ON, 4: {"ivts": 0.89}})
    l1 = layer(run_hedge(f, NO_VX, NAV, ONLY_L1)[0], "L1")
    assert list(l1["action"].iloc[2:5]) == ["add", "hold", "remove"]
    assert "L1:IVTS_LT_0.9" in l1["reasons"].iloc[4]


@pytest.mark.parametrize(
    ("change", "fires"),
    [
        ({"spx_macd": -0.5}, False),  # above its signal (-1.0)
        ({"spx_macd": -2.0, "spx_macd_signal": -3.0}, False),  # below zero but above signal
        ({"vix_macd": -0.1}, False),
        ({"ivts": 0.95}, False),  # strict: IVTS must exceed 0.95
        ({"ivts": float("nan")}, False),  # missing input: off, shown as NA
        ({"ivts": 0.951}, True),
    ],
)
def test_l1_trigger_parts(change, fires):
    row = {**BASE, **L1_ON, **change}
    r = by_layer(hedge_session(T("2024-03-05"), row, {}, NAV, HedgeBook(), ONLY_L1)[1])["L1"]
    assert r["trigger"] is fires and (r["action"] == "add") is fires


def test_l2_adds_on_trigger_and_removes_after_10_sessions_without_it():
    f = frame("2024-03-01", "2024-04-30", {1: L2_ON, 2: {"breadth_divergence": False}})  # on at 1 only
    l2 = layer(run_hedge(f, NO_VX, NAV, ONLY_L2)[0], "L2")
    acts = list(l2["action"])
    assert acts[1] == "add" and acts[2:11] == ["hold"] * 9
    assert acts[11] == "remove" and "L2:OFF_10_SESSIONS" in l2["reasons"].iloc[11]
    add = l2.iloc[1]
    assert add["expiry"] == vix_expiry(l2.index[1], 2) and 0.20 < add["delta"] < 0.30  # 2-month 25-delta


@pytest.mark.parametrize(
    ("change", "fires"),
    [
        ({"breadth_divergence": True, "macro_stress": 0.5}, True),  # >= 0.5 inclusive
        ({"breadth_divergence": True, "macro_stress": 0.49}, False),
        ({"bearish_divergence_active": True, "macro_stress": 2.0}, True),  # the RSI divergence alone
        ({"breadth_divergence": None, "bearish_divergence_active": None, "macro_stress": 2.0}, False),
        ({"breadth_divergence": True, "macro_stress": float("nan")}, False),
    ],
)
def test_l2_trigger_parts(change, fires):
    r = by_layer(hedge_session(T("2024-03-05"), {**BASE, **change}, {}, NAV, HedgeBook(), ONLY_L2)[1])["L2"]
    assert r["trigger"] is fires and (r["action"] == "add") is fires


def test_layers_can_be_switched_off_for_ablations():
    row = {**BASE, **L1_ON, **L2_ON}
    rows = by_layer(hedge_session(T("2024-03-05"), row, {}, NAV, HedgeBook(), ONLY_L0)[1])
    assert rows["L1"]["action"] == rows["L2"]["action"] == "none"
    assert "L1:DISABLED" in rows["L1"]["reasons"] and "L2:DISABLED" in rows["L2"]["reasons"]
    on = by_layer(hedge_session(T("2024-03-05"), row, {}, NAV, HedgeBook(), HedgeSettings())[1])
    assert on["L1"]["action"] == on["L2"]["action"] == "add"


# --- budget ---------------------------------------------------------------------------------------


# L0 on the shared budget, as METHODOLOGY §6 had it before L0 became its own sleeve: the budget's own
# rules are easiest to see on a layer that buys every month
BUDGETED_L0 = (dataclasses.replace(LAYERS[0], budgeted=True),)


def test_tiny_budget_blocks_the_add_and_says_so():
    s = HedgeSettings(l0_enabled=False, budget_pct_nav=0.00001)
    book, rows, cash = hedge_session(T("2024-01-17"), {**BASE, **L1_ON}, {}, NAV, HedgeBook(), s)
    r = by_layer(rows)["L1"]
    assert "BUDGET_BLOCKED" in r["reasons"] and r["action"] == "none" and r["contracts"] == 0
    assert cash == 0.0 and book.positions == () and r["weight_pct_nav"] == 0.5


def test_l0_is_its_own_sleeve_outside_the_budget():
    """METHODOLOGY §0: L0 buys its full VXTH weight even when L1/L2 have spent the whole budget, and its
    premium leaves the budget to L1/L2."""
    day, expiry = T("2024-01-17"), T("2024-02-14")  # a VIX expiration: L0's band weight is 1% (future 20)
    spent = HedgeBook(premiums=((T("2023-12-01"), 0.04 * NAV),))  # L1/L2 used all of the 4% budget
    book, rows, _ = hedge_session(day, {**BASE, **L1_ON}, {expiry: 20.0}, NAV, spent, HedgeSettings(l2_enabled=False))
    r = by_layer(rows)
    assert r["L0"]["action"] == "add" and r["L0"]["premium_pct_nav"] == pytest.approx(1.0, abs=0.01)
    assert not any(c.startswith("BUDGET") for c in r["L0"]["reasons"])
    assert "BUDGET_BLOCKED" in r["L1"]["reasons"]
    assert book.premiums == spent.premiums  # L0's premium is not counted against L1/L2
    fresh, rows, _ = hedge_session(day, {**BASE, **L1_ON}, {expiry: 20.0}, NAV, HedgeBook(), HedgeSettings())
    assert by_layer(rows)["L1"]["action"] == "add"
    assert [round(x / NAV, 3) for _, x in fresh.premiums] == [0.005]  # L1's 0.5% alone, not L0's 1%


@pytest.mark.parametrize("basis", ["mean", "current"])
def test_budget_is_a_share_of_the_rolling_year_mean_nav(basis):
    """After a 30% loss the budget stays a share of the year's mean NAV: 0.5% x (251 x NAV + 0.7 NAV) / 252
    leaves room for part of L1's add, where a share of today's NAV (0.35% < 0.45% paid) blocks it."""
    day = T("2024-03-05")
    sessions = calendars.sessions("2023-01-01", day)[-252:-1]
    assert len(sessions) == 251
    book = HedgeBook(premiums=((sessions[-1], 0.0045 * NAV),), navs=tuple((d, NAV) for d in sessions))
    s = HedgeSettings(l0_enabled=False, l2_enabled=False, budget_pct_nav=0.5, budget_nav=basis)
    fills = []
    _, rows, _ = hedge_session(day, {**BASE, **L1_ON}, {}, 0.7 * NAV, book, s, fills=fills)
    r = by_layer(rows)["L1"]
    if basis == "current":
        assert "BUDGET_BLOCKED" in r["reasons"] and fills == []
        return
    mean_nav = (251 * NAV + 0.7 * NAV) / 252
    room = math.floor((0.005 * mean_nav - 0.0045 * NAV) / (fills[0].price * 100))
    assert "BUDGET_CAPPED" in r["reasons"] and fills[0].contracts == room > 0
    assert r["budget_used_pct_nav"] == pytest.approx(100 * (0.0045 * NAV + room * fills[0].price * 100) / mean_nav)


def test_rolling_252_session_budget_caps_blocks_and_frees_up():
    s = HedgeSettings(l1_enabled=False, l2_enabled=False, budget_pct_nav=1.5)
    rows, _ = run_hedge(frame("2024-01-02", "2025-04-30"), NO_VX, NAV, s, layers=BUDGETED_L0)
    l0 = layer(rows, "L0")
    assert (l0["budget_used_pct_nav"] <= 1.5 + 1e-9).all()
    exp = list(calendars.vix_expirations("2024-01-02", "2025-04-30"))
    reasons = [l0.loc[d, "reasons"] for d in exp]
    assert l0.loc[exp[0], "action"] == "add" and "BUDGET_CAPPED" in reasons[1]  # 1% + 0.5% of the next 1%
    assert "BUDGET_BLOCKED" in reasons[2]
    first_out = calendars.sessions(exp[0], "2026-01-01")[252]  # the first add leaves the window here
    freed = next(d for d in exp if d >= first_out)
    assert all("BUDGET_BLOCKED" in l0.loc[d, "reasons"] for d in exp[2:] if d < first_out)
    assert l0.loc[freed, "action"] == "add"


def test_budget_window_is_the_last_252_sessions_including_today():
    paid = T("2023-06-01")
    book = HedgeBook(premiums=((paid, 100_000.0),))
    off = HedgeSettings(l0_enabled=False, l1_enabled=False, l2_enabled=False)
    s = calendars.sessions(paid, "2024-12-31")
    inside = by_layer(hedge_session(s[251], BASE, {}, NAV, book, off)[1])["L0"]  # 252 sessions: paid..s[251]
    outside = hedge_session(s[252], BASE, {}, NAV, book, off)
    assert inside["budget_used_pct_nav"] == pytest.approx(1.0)
    assert by_layer(outside[1])["L0"]["budget_used_pct_nav"] == 0.0 and outside[0].premiums == ()


# --- monetization ---------------------------------------------------------------------------------


def _book(day: pd.Timestamp) -> HedgeBook:
    e1, e2 = vix_expiry(day, 1), vix_expiry(day, 2)
    return HedgeBook(
        positions=(
            HedgePosition("L0", e1, 25.0, 100, 1.0, 10_000.0, day - pd.Timedelta(days=7)),
            HedgePosition("L1", e2, 30.0, 50, 1.0, 5_000.0, day - pd.Timedelta(days=7)),
            HedgePosition("L2", e2, 32.0, 40, 0.8, 3_200.0, day - pd.Timedelta(days=7)),
        )
    )


def test_vix_at_50_closes_every_layer_and_blocks_adds():
    day = T("2024-03-05")
    row = {**BASE, **L1_ON, **L2_ON, "vix": 50.0, "vix3m": 40.0, "ivts": 1.25}
    new, rows, cash = hedge_session(day, row, {}, NAV, _book(day), HedgeSettings())
    r = by_layer(rows)
    for name in ("L0", "L1", "L2"):
        assert r[name]["action"] == "monetize" and "MONETIZE:VIX_GE_50" in r[name]["reasons"]
        assert r[name]["contracts_held"] == 0 and r[name]["mark_value"] == 0 and r[name]["cash_flow"] > 0
    assert "MONETIZE:NO_ADD_VIX_GE_50" in r["L1"]["reasons"] and new.positions == ()
    assert cash == pytest.approx(sum(x["cash_flow"] for x in rows))
    # each close is at the session's own Black-76 mark
    e2 = vix_expiry(day, 2)
    fwd = vix_future_price(day, e2, {}, row)[0]
    px = black76_price(fwd, 30.0, (e2 - day).days / 365, 0.02, vix_option_vol(row))
    assert r["L1"]["cash_flow"] == pytest.approx(50 * px * 100)
    # just below 50 nothing is monetized (marks are below 3x cost here)
    below = hedge_session(day, {**row, "vix": 49.99}, {}, NAV, _book(day), HedgeSettings())[0]
    assert len(below.positions) == 3


def test_half_sale_at_3x_cost_while_ivts_above_1_once_per_position():
    day = T("2024-03-05")
    e2 = vix_expiry(day, 2)
    book = HedgeBook(positions=(HedgePosition("L1", e2, 20.0, 10, 0.5, 500.0, T("2024-02-20")),))
    row = {**BASE, "vix": 30.0, "vix3m": 28.0, "ivts": 1.05}
    vx = {e2: 28.0}  # deep in the money: worth far more than 3 x 0.5
    new, rows, cash = hedge_session(day, row, vx, NAV, book, ONLY_L1)
    r = by_layer(rows)["L1"]
    assert r["action"] == "monetize" and "MONETIZE:HALF_AT_3X" in r["reasons"]
    assert r["contracts"] == -5 and new.positions[0].contracts == 5 and new.positions[0].half_sold
    assert cash == pytest.approx(5 * r["option_price"] * 100)
    assert new.market_value() == pytest.approx(r["mark_value"]) == pytest.approx(cash)
    again = by_layer(hedge_session(day + pd.Timedelta(days=1), row, vx, NAV, new, ONLY_L1)[1])["L1"]
    assert again["action"] == "hold" and again["contracts_held"] == 5  # once per position
    flat = hedge_session(day, {**row, "ivts": 1.0}, vx, NAV, book, ONLY_L1)[0]  # IVTS must exceed 1
    assert flat.positions[0].contracts == 10
    cheap = (HedgePosition("L1", e2, 20.0, 10, 4.0, 4000.0, T("2024-02-20")),)  # mark < 3 x 4.0
    assert hedge_session(day, row, vx, NAV, HedgeBook(positions=cheap), ONLY_L1)[0].positions[0].contracts == 10


# --- causality ------------------------------------------------------------------------------------


def _market(start: str, end: str, seed: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    f = frame(start, end)
    n = len(f)
    f["vix"] = np.clip(18 * np.exp(np.cumsum(rng.normal(0, 0.06, n))), 11, 45)
    f["vix3m"] = f["vix"] * 0.9 + 2.5
    f["ivts"] = f["vix"] / f["vix3m"]
    f["spx_macd"] = rng.normal(-0.5, 1, n)
    f["vix_macd"] = rng.normal(0.3, 1, n)
    f["breadth_divergence"] = rng.random(n) < 0.3
    f["macro_stress"] = rng.normal(0.5, 0.5, n)
    vx = []
    for d, v in zip(f.index, f["vix"], strict=True):
        for m in (0, 1, 2):
            e = vix_expiry(d, m)
            if e > d:
                vx.append({"trade_date": d, "expiry": e, "price": v * (1.02 + 0.03 * m)})
    return f, pd.DataFrame(vx)


def test_rows_depend_only_on_their_own_and_earlier_sessions():
    f, vx = _market("2024-01-02", "2024-09-30")
    rows, cash = run_hedge(f, vx, NAV)
    assert (rows["action"] == "add").sum() >= 5 and (rows["action"] == "remove").sum() >= 2  # a busy path
    cut = f.index[120]
    g, vx2 = f.copy(), vx.copy()
    later = g.index > cut
    g.loc[later, "vix"] = 60.0  # would monetize everything
    g.loc[later, ["spx_macd", "macro_stress"]] = [5.0, -3.0]
    vx2.loc[vx2["trade_date"] > cut, "price"] *= 2
    rows2, cash2 = run_hedge(g, vx2, NAV)
    keep = rows["date"] <= cut
    pd.testing.assert_frame_equal(rows[keep], rows2[keep])
    pd.testing.assert_series_equal(cash[:cut], cash2[:cut])
    assert not rows[~keep].reset_index(drop=True).equals(rows2[~keep].reset_index(drop=True))


def test_marks_use_the_sessions_own_vx_price_and_vol():
    f, vx = _market("2024-01-02", "2024-03-29")
    rows, _ = run_hedge(f, vx, NAV, ONLY_L0)
    l0 = layer(rows, "L0")
    d = l0.index[l0["action"] == "hold"][5]
    r = l0.loc[d]
    day_vx = vx[vx["trade_date"] == d].set_index("expiry")["price"]
    fwd = day_vx[r["expiry"]]
    assert r["future_source"] == "settle" and r["future_price"] == pytest.approx(fwd)
    px = black76_price(fwd, r["strike"], (r["expiry"] - d).days / 365, 0.02, 1.0)
    assert r["option_price"] == pytest.approx(px) and r["mark_value"] == pytest.approx(px * r["contracts_held"] * 100)
    # without a VX price the forward vol of that day's term structure is used
    rows_ts, _ = run_hedge(f, NO_VX, NAV, ONLY_L0)
    r2 = layer(rows_ts, "L0").loc[d]
    assert r2["future_source"] == "term_structure"
    assert r2["future_price"] == pytest.approx(vix_future_price(d, r2["expiry"], {}, f.loc[d].to_dict())[0])
    assert points(f.loc[d].to_dict())  # the fallback had inputs


def test_sessions_must_increase():
    book, _, _ = hedge_session(T("2024-03-05"), BASE, {}, NAV, HedgeBook(), HedgeSettings())
    with pytest.raises(ValueError, match="sessions must increase"):
        hedge_session(T("2024-03-05"), BASE, {}, NAV, book, HedgeSettings())


def test_costs_buy_above_and_sell_below_the_model_and_count_against_the_budget():
    from vixshield.strategy.hedge import HedgeSettings as Costly

    day, expiry = T("2024-01-17"), T("2024-02-14")
    free_fills, costly_fills = [], []
    hedge_session(day, BASE, {expiry: 20.0}, NAV, HedgeBook(), ONLY_L0, fills=free_fills, layers=BUDGETED_L0)
    fixed = SpreadSettings(model=False)  # METHODOLOGY §6's fixed half tick
    s = Costly(l1_enabled=False, l2_enabled=False, slippage=0.05, commission_per_contract=0.65, spread=fixed)
    book, _, cash = hedge_session(
        day, BASE, {expiry: 20.0}, NAV, HedgeBook(), s, fills=costly_fills, layers=BUDGETED_L0
    )
    free, costly = free_fills[0], costly_fills[0]
    assert costly.price == free.price  # the model price; the fill is 0.05 above it
    n = costly.contracts
    assert n == math.floor(0.01 * NAV / ((free.price + 0.05) * 100 + 0.65))  # 1% of NAV, all in
    assert costly.costs == pytest.approx(n * (0.05 * 100 + 0.65))
    assert cash == costly.cash == pytest.approx(-n * ((free.price + 0.05) * 100 + 0.65))
    assert book.premiums[0][1] == pytest.approx(-cash)  # the budget counts what was paid, costs included
    # a sale (monetize at VIX >= 50) fills 0.05 below the mark and pays the commission
    sale = []
    crash = {**BASE, "vix": 55.0}
    hedge_session(T("2024-01-18"), crash, {expiry: 50.0}, NAV, book, s, fills=sale)
    assert sale[0].cash == pytest.approx(n * ((sale[0].price - 0.05) * 100 - 0.65))


def test_vix_calls_fill_their_modelled_half_spread():
    """The default VIX-option half-spread by hand: base 0.025 + rel 0.02 x price x (0.50/|delta|)^0.25 x
    (30/dte)^0.25, x (VIX/20)^0.5, between half a tick and half Cboe's widest legal quote."""
    from vixshield.strategy.hedge import HedgeSettings as Costly

    day, expiry = T("2024-01-17"), T("2024-02-14")  # 28 days
    s = Costly(l1_enabled=False, l2_enabled=False)
    fills = []
    hedge_session(day, BASE, {expiry: 20.0}, NAV, HedgeBook(), s, fills=fills)
    f = fills[0]
    delta = black76_delta(20.0, _strike(fills), 28 / 365, 0.02, vix_option_vol(BASE))
    half = 0.025 + 0.02 * f.price * (0.5 / delta) ** 0.25 * (30 / 28) ** 0.25  # VIX 20: the VIX factor is 1
    half = min(max(half, (0.05 if f.price < 3 else 0.10) / 2), 0.25 / 2 if f.price < 2 else 0.40 / 2)
    assert 0.9 < f.price < 2.0 and 0.04 < half < 0.06  # about the old fixed 0.05 in a calm market
    assert f.costs == pytest.approx(f.contracts * (half * 100 + 0.65), rel=1e-9)
    # a crash sale: a deep in-the-money call at VIX 60 pays half the widest legal quote (1.00 above 20.00)
    crash = {**BASE, "vix": 60.0, "vix3m": 45.0, "ivts": 60.0 / 45.0}
    sale = []
    book = HedgeBook(positions=(HedgePosition("L0", expiry, 20.0, 10, 1.0, 1_000.0, day),))
    hedge_session(T("2024-01-18"), crash, {expiry: 58.0}, NAV, book, s, fills=sale)
    assert sale[0].price > 20.0 and sale[0].costs == pytest.approx(10 * (0.50 * 100 + 0.65))


def _strike(fills) -> float:
    return float(fills[0].instrument.split()[2])


def test_a_session_before_vix_options_were_listed_moves_only_the_counters_and_the_window():
    """advance without rows takes a short path before 2006-02-24 when nothing is held or ordered; each
    session's book must equal the one the full session (with rows) leaves, through L1 and L2 turning on and
    off, the listing day itself and the first purchases after it."""
    from vixshield.strategy.hedge import HedgeMarket, advance

    f = frame("2005-09-01", "2006-04-28", {10: L1_ON, 30: BASE | L2_ON, 60: BASE, 90: L1_ON, 110: BASE})
    s = HedgeSettings(budget_sessions=40)
    short, full, on_before_listing = HedgeBook(), HedgeBook(), set()
    for i, (day, row) in enumerate(f.iterrows()):
        nav = NAV * (1 + 0.001 * i)  # a moving NAV: the budget window's mean must follow it on both paths
        mkt = HedgeMarket(day, row.to_dict(), {}, s)
        short, _, cash_short = advance(mkt, nav, short, s, rows=False)
        full, layer_rows, cash_full = advance(mkt, nav, full, s, rows=True)
        assert short == full and cash_short == cash_full, day
        assert layer_rows  # the full path ran
        if day < pd.Timestamp("2006-02-24"):
            on_before_listing |= {name for name, off in full.off_sessions.items() if off == 0}
    assert {"L1", "L2"} <= on_before_listing  # the triggers fired while nothing could be bought
    assert full.positions  # and after the listing the book buys: the short path has ended
