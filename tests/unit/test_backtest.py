"""The backtest strategies on constructed paths whose answers are known by hand, and the accounting
identities (NAV change = equity P&L + interest + trade P&L, daily and over the run)."""

from __future__ import annotations

import math
import pickle
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from vixshield import calendars
from vixshield.backtest import engine as backtest
from vixshield.strategy.book import BookSettings, run_book, settlement_open
from vixshield.strategy.condor import CondorSettings

NAV0 = BookSettings().initial_nav
# no dividends and no interest, so a flat market moves NAV only through the options
FLAT = BookSettings(condor=CondorSettings(dividend_yield=0.0))
SIGMA = FLAT.condor.kappa * 0.20  # sigma_atm at VIX 20 (where kappa_vix_slope adds nothing)


def market(start: str, end: str, spx=4000.0, vix=20.0, rate=0.0, opens=None, **extra) -> backtest.Inputs:
    """Book inputs for sessions start..end: SPX path (scalar or array), a flat VIX family at `vix`,
    DGS3MO `rate` (percent), SPX opens (default the close), VX futures at the VIX level."""
    days = calendars.sessions(start, end)
    spx = np.broadcast_to(np.asarray(spx, dtype=float), (len(days),)).copy()
    vix = np.broadcast_to(np.asarray(vix, dtype=float), (len(days),)).copy()
    f = pd.DataFrame(
        {
            "spx_close": spx,
            "spx_ret": np.r_[np.nan, np.diff(np.log(spx))],
            "vix": vix,
            "vix9d": vix,
            "vix3m": vix,
            "vix6m": vix,
            "vvix": 90.0,
            "dgs3mo": rate,
            "ivts": 0.9,
            "vrp": 3.0,
            **extra,
        },
        index=days,
    )
    open_px = spx if opens is None else np.asarray(opens, dtype=float)
    expiries = calendars.vix_expirations(days[0], days[-1] + pd.DateOffset(months=4))
    vx = {d: {e: float(v) for e in expiries if e >= d} for d, v in zip(days, vix, strict=True)}
    return backtest.Inputs(f, dict.fromkeys(days, "NORMAL"), vx, dict(zip(days, open_px, strict=True)))


def atm_premium(spot: float, days: int, sigma_atm: float) -> float:
    """Black-Scholes at the money with r = q = 0 (call = put): S (2 N(sigma sqrt(T) / 2) - 1)."""
    return spot * (2 * norm.cdf(sigma_atm * math.sqrt(days / 365) / 2) - 1)


def run(inputs: backtest.Inputs, strategy: str, base: BookSettings = FLAT) -> backtest.StrategyRun:
    return backtest.run_strategy(inputs, strategy, backtest.strategy_settings(strategy, base))


# Jan 19 2024 and Feb 16 2024 are the monthly SPX expirations (third Fridays): the replicas' roll days
ROLL, EXPIRY = "2024-01-19", "2024-02-16"


def nav_on(r: backtest.StrategyRun, day: str) -> float:
    return float(r.equity.loc[pd.Timestamp(day), "nav"])


def test_put_in_a_flat_market_earns_its_premium():
    r = run(market(ROLL, EXPIRY), "put")
    p = atm_premium(4000, 28, SIGMA)  # kappa x VIX, at the money (no skew at K = F)
    # fully collateralized: NAV (with the premium) = the strike notional, so n = NAV0 / ((K - p) 100)
    assert nav_on(r, EXPIRY) == pytest.approx(NAV0 * 4000 / (4000 - p), rel=1e-9)
    first = r.trades.iloc[0]
    assert first["instrument"] == "SPX 2024-02-16 4000 put" and first["status"] == "closed"
    assert first["entry_price"] == pytest.approx(p, rel=1e-9)
    assert first["exit_cash"] == 0.0 and first["exit_reason"] == "SETTLED_AT_4000.00"
    assert r.trades.iloc[1]["status"] == "open"  # rolled into March on the expiration day


def test_put_crash_through_the_strike_loses_intrinsic_minus_premium():
    days = calendars.sessions(ROLL, EXPIRY)
    spx = np.where(days == pd.Timestamp(EXPIRY), 3600.0, 4000.0)  # the expiration morning opens 10% down
    r = run(market(ROLL, EXPIRY, spx=spx), "put")
    p = atm_premium(4000, 28, SIGMA)
    n = NAV0 / ((4000 - p) * 100)
    first = r.trades.iloc[0]
    assert first["contracts"] == pytest.approx(n)
    assert first["pnl"] == pytest.approx(-n * (400 - p) * 100, rel=1e-9)  # intrinsic 400 minus the premium
    assert nav_on(r, EXPIRY) == pytest.approx(NAV0 - n * (400 - p) * 100, rel=1e-9)


def test_put_settles_at_the_expiration_open_not_the_close():
    days = calendars.sessions(ROLL, EXPIRY)
    opens = np.where(days == pd.Timestamp(EXPIRY), 3900.0, 4000.0)  # AM settlement 3900, close back at 4000
    r = run(market(ROLL, EXPIRY, opens=opens), "put")
    assert r.trades.iloc[0]["exit_reason"] == "SETTLED_AT_3900.00"
    assert r.trades.iloc[0]["exit_cash"] == pytest.approx(-r.trades.iloc[0]["contracts"] * 100 * 100)


def test_put_without_a_real_open_settles_on_the_soq_proxy_not_the_previous_close():
    # the 2001-09-21 pattern: the open is quarantined (stale), SPX fell from 984.54 to 965.80 that day
    days = calendars.sessions(ROLL, "2024-02-20")
    spx = np.full(len(days), 984.54)
    spx[days >= pd.Timestamp(EXPIRY)] = 965.80
    opens = spx.copy()
    opens[days == pd.Timestamp(EXPIRY)] = np.nan
    r = run(market(ROLL, "2024-02-20", spx=spx, opens=opens), "put")
    closes = r.fills[r.fills["event"] == "close"]
    want = 984.54 + 0.19 * (965.80 - 984.54)  # previous close + w x (close - previous close)
    assert closes["reason"].tolist() == [f"SETTLED_AT_{want:.2f}"]


def test_put_expiring_the_session_after_an_spx_hole_settles_on_the_soq_proxy_from_the_last_close():
    """The same stale open the session after an SPX hole: its return is unknown on the row, so the estimate
    starts from the last close the book struck (before, it fell back to the day's close, 965.80)."""
    days = calendars.sessions(ROLL, "2024-02-20")
    spx = np.full(len(days), 984.54)
    spx[days >= pd.Timestamp(EXPIRY)] = 965.80
    opens = spx.copy()
    opens[days == pd.Timestamp(EXPIRY)] = np.nan
    r = run(spx_hole(market(ROLL, "2024-02-20", spx=spx, opens=opens), "2024-02-15"), "put")
    closes = r.fills[r.fills["event"] == "close"]
    want = 984.54 + 0.19 * (965.80 - 984.54)  # the 02-14 close + w x (close - that close)
    assert closes["reason"].tolist() == [f"SETTLED_AT_{want:.2f}"]


def test_settlement_open_is_the_print_when_there_is_one():
    row = {"spx_close": 965.80, "spx_ret": math.log(965.80 / 984.54)}
    assert settlement_open(950.0, row, 0.19) == 950.0
    assert settlement_open(None, row, 0.19) == pytest.approx(984.54 - 0.19 * 18.74, rel=1e-12)
    assert settlement_open(math.nan, row, 0.0) == pytest.approx(984.54, rel=1e-12)
    assert settlement_open(None, {"spx_close": 965.80, "spx_ret": math.nan}, 0.19) is None
    across = {"spx_close": 965.80, "spx_ret": math.nan}  # after a hole: the return from the last close struck
    assert settlement_open(None, across, 0.19, math.log(965.80 / 984.54)) == pytest.approx(984.54 - 0.19 * 18.74)


def test_bxm_flat_earns_the_call_premium_and_a_rally_is_capped_at_the_strike():
    c = atm_premium(4000, 28, SIGMA)
    flat = run(market(ROLL, EXPIRY), "bxm")
    assert nav_on(flat, EXPIRY) == pytest.approx(NAV0 * (1 + c / 4000), rel=1e-9)
    days = calendars.sessions(ROLL, EXPIRY)
    rally = run(market(ROLL, EXPIRY, spx=np.where(days == pd.Timestamp(EXPIRY), 4400.0, 4000.0)), "bxm")
    # the sleeve is rebalanced to NAV daily, so on the eve of expiry it holds NAV0 plus the premium's decay;
    # the +10% open then earns 10% on that, and the short call pays its 400 points of intrinsic
    n = NAV0 / (4000 * 100)
    m_eve = atm_premium(4000, 1, SIGMA)  # the call's mid one day before expiry
    nav_eve = NAV0 + n * (c - m_eve) * 100
    assert nav_on(rally, "2024-02-15") == pytest.approx(nav_eve, rel=1e-9)
    assert nav_on(rally, EXPIRY) == pytest.approx(1.1 * nav_eve + n * (m_eve - 400) * 100, rel=1e-9)
    assert nav_on(rally, EXPIRY) < NAV0 * 1.03  # the rally is capped: SPX alone made 10%
    assert rally.trades.iloc[0]["instrument"] == "SPX 2024-02-16 4000 call"


def test_pput_buys_the_5pct_otm_put_per_index_unit_and_a_crash_is_floored_at_the_strike():
    vol = smile_delta(3800, 4000, 28, SIGMA, "put")[1]  # the highest strike at or below 95% of 4000
    p = bs(3800, 4000, 28, vol, "put")
    n = NAV0 / (4000 * 100)  # one put per 100 index units held, the whole NAV in SPX
    flat = run(market(ROLL, EXPIRY), "pput")
    first = flat.trades.iloc[0]
    assert first["instrument"] == "SPX 2024-02-16 3800 put" and first["exit_reason"] == "SETTLED_AT_4000.00"
    assert first["contracts"] == pytest.approx(n, rel=1e-12)
    assert first["entry_price"] == pytest.approx(p, rel=1e-9)
    assert first["entry_cash"] == pytest.approx(-n * p * 100, rel=1e-9)  # bought: paid at mid, no fees
    assert first["pnl"] == pytest.approx(-n * p * 100, rel=1e-9)  # expired worthless
    assert nav_on(flat, EXPIRY) == pytest.approx(NAV0 - n * p * 100, rel=1e-9)  # flat: the premium is the cost
    assert flat.trades.iloc[1]["status"] == "open" and flat.trades.iloc[1]["entry_date"] == pd.Timestamp(EXPIRY)
    days = calendars.sessions(ROLL, EXPIRY)
    crash = run(market(ROLL, EXPIRY, spx=np.where(days == pd.Timestamp(EXPIRY), 3600.0, 4000.0)), "pput")
    settled = crash.trades.iloc[0]
    assert settled["exit_reason"] == "SETTLED_AT_3600.00"
    assert settled["exit_cash"] == pytest.approx(n * 200 * 100, rel=1e-12)  # 3800 - 3600 of intrinsic received
    # on the eve NAV is NAV0 less the premium's decay, all of it in SPX (the put's mark w is borrowed); the open
    # takes 10% off the sleeve, the put pays 5% of NAV0 and its mark goes: the loss stops at the strike plus the premium
    w = float(crash.equity.loc[pd.Timestamp("2024-02-15"), "writer_value"])
    assert 0 < w < n * 0.5 * 100  # a 1-day 5% OTM put is worth under half a point
    assert nav_on(crash, EXPIRY) == pytest.approx(0.9 * (NAV0 - n * p * 100 + w) - w + 0.05 * NAV0, rel=1e-12)


def test_spx_is_the_index_total_return_with_dividends_at_q():
    n = len(calendars.sessions("2024-01-02", "2024-12-31"))
    inputs = market(
        "2024-01-02", "2024-12-31", spx=4000 * np.exp(np.cumsum(np.random.default_rng(3).normal(0, 0.01, n)))
    )
    r = run(inputs, "spx", BookSettings())  # default q = 1.8%
    closes = inputs.features["spx_close"].to_numpy()
    expected = NAV0 * np.prod(closes[1:] / closes[:-1] + 0.018 / 252)  # daily price return plus q / 252
    assert r.equity["nav"].iloc[-1] == pytest.approx(expected, rel=1e-12)
    assert r.trades.empty


def smile_delta(strike: float, spot: float, days: int, sigma_atm: float, kind: str) -> float:
    """METHODOLOGY §4 smile (b_put 0.25, b_call 0.10, r = q = 0 so F = S) and the Black-Scholes delta."""
    t = days / 365
    z = math.log(strike / spot) / (sigma_atm * math.sqrt(t))
    vol = sigma_atm * min(max(1 - (0.25 if z < 0 else 0.10) * z, 0.5), 2.5)
    d1 = (math.log(spot / strike) + 0.5 * vol * vol * t) / (vol * math.sqrt(t))
    return norm.cdf(d1) if kind == "call" else norm.cdf(d1) - 1, vol


def bs(strike: float, spot: float, days: int, vol: float, kind: str) -> float:
    t = days / 365
    d1 = (math.log(spot / strike) + 0.5 * vol * vol * t) / (vol * math.sqrt(t))
    d2 = d1 - vol * math.sqrt(t)
    if kind == "call":
        return spot * norm.cdf(d1) - strike * norm.cdf(d2)
    return strike * norm.cdf(-d2) - spot * norm.cdf(-d1)


def test_cndr_sells_the_20_5_delta_condor_and_keeps_the_credit_in_a_flat_market():
    r = run(market(ROLL, EXPIRY), "cndr")
    trade = r.trades.iloc[0]
    lp, sp, sc, lc = (float(x) for x in trade["instrument"].split()[2].split("/"))
    for strike, kind, target in ((sp, "put", -0.20), (sc, "call", 0.20), (lp, "put", -0.05), (lc, "call", 0.05)):
        err = abs(smile_delta(strike, 4000, 28, SIGMA, kind)[0] - target)  # the nearest grid strike to the delta
        assert err <= min(abs(smile_delta(strike + d, 4000, 28, SIGMA, kind)[0] - target) for d in (-5, 5))
    credit = sum(
        sign * bs(k, 4000, 28, smile_delta(k, 4000, 28, SIGMA, kind)[1], kind)
        for k, kind, sign in ((lp, "put", -1), (sp, "put", 1), (sc, "call", 1), (lc, "call", -1))
    )
    max_loss = (max(sp - lp, lc - sc) - credit) * 100
    n = NAV0 / (10 * max_loss)  # collateral: 10x max loss in T-bills
    assert trade["contracts"] == pytest.approx(n, rel=1e-9)
    assert trade["pnl"] == pytest.approx(n * credit * 100, rel=1e-9)
    assert nav_on(r, EXPIRY) == pytest.approx(NAV0 + n * credit * 100, rel=1e-9)


def test_vxth_buys_l0_on_vix_expirations_within_its_weight_and_holds_to_expiry():
    r = run(market("2024-01-16", "2024-03-21"), "vxth")
    assert list(r.trades["entry_date"]) == [pd.Timestamp(d) for d in ("2024-01-17", "2024-02-14", "2024-03-20")]
    assert set(r.trades["layer"]) == {"L0"}
    navs = r.equity["nav"]
    for _, t in r.trades.iterrows():
        nav_before = float(navs[navs.index < t["entry_date"]].iloc[-1])
        assert 0.009 < -t["entry_cash"] / nav_before <= 0.01  # VX at 20: the 1% band, floored to contracts
    expired = r.trades[r.trades["status"] == "closed"]
    assert len(expired) == 2 and (expired["exit_cash"] == 0).all()  # VIX 20 settles below the 30-delta strikes
    assert (expired["exit_date"] == expired["expiry"]).all()
    # nothing else moves in this market: NAV is what the calls cost, compounded
    assert navs.iloc[-1] == pytest.approx(NAV0 + r.trades["pnl"].sum(), rel=1e-12)


def random_market(seed: int = 11) -> backtest.Inputs:
    """A year of SPX and VIX random walks with a crash, for the full book's accounting."""
    days = calendars.sessions("2022-01-03", "2023-06-30")
    rng = np.random.default_rng(seed)
    shocks = rng.normal(0.0003, 0.011, len(days))
    shocks[120:125] = -0.04  # a five-session crash through the short puts
    spx = 4500 * np.exp(np.cumsum(shocks))
    vix = np.clip(18 * np.exp(np.cumsum(rng.normal(0, 0.05, len(days)))), 11, 80)
    vix[120:135] = np.linspace(35, 25, 15)
    macd = rng.normal(0, 1, len(days))
    return market(
        "2022-01-03",
        "2023-06-30",
        spx=spx,
        vix=vix,
        rate=2.0,
        opens=spx * (1 + rng.normal(0, 0.002, len(days))),
        spx_macd=macd,
        spx_macd_signal=macd + rng.normal(0, 0.5, len(days)),
        vix_macd=-macd,
        vix_macd_signal=-macd - rng.normal(0, 0.5, len(days)),
        macro_stress=rng.uniform(0, 1, len(days)),
        bearish_divergence_active=rng.uniform(0, 1, len(days)) < 0.2,
    )


@pytest.mark.parametrize("strategy", list(backtest.STRATEGIES))
def test_nav_change_is_equity_pnl_plus_interest_plus_trade_pnl_every_session(strategy):
    base = replace(BookSettings(), condor=replace(CondorSettings(), commission_per_contract=0.65))
    r = run(random_market(), strategy, base)
    eq, fills = r.equity, r.fills
    # daily: balances (the book's NAV) against flows (fills) and marks of what is open
    open_value = eq["condor_value"] + eq["hedge_value"] + eq["writer_value"]
    flows = fills.groupby("date")["cash"].sum().reindex(eq.index, fill_value=0.0)
    nav_prev = eq["nav"].shift(1).fillna(NAV0)
    explained = eq["equity_pnl"] + eq["interest"] + flows + open_value - open_value.shift(1).fillna(0.0)
    np.testing.assert_allclose(eq["nav"] - nav_prev, explained, atol=1e-6)
    # over the run: trade P&L from the ledger alone
    assert abs(backtest.reconcile(r)["gap"]) < 1e-5
    # every opened position is closed or still open at the end, never both, never lost
    opened = set(fills.loc[fills["event"] == "open", "position_id"])
    assert set(r.trades["position_id"]) == opened
    still_open = r.trades[r.trades["status"] == "open"]
    assert (still_open["expiry"] > eq.index[-1]).all() and still_open["exit_date"].isna().all()
    closed = r.trades[r.trades["status"] == "closed"]
    assert (closed["exit_date"] >= closed["entry_date"]).all()
    assert (r.trades["costs"] >= 0).all()


def assert_accounts_balance(r: backtest.StrategyRun) -> None:
    """Each session's NAV change is its equity P&L, interest, fills and the change in open marks; over the
    run the ledger's trade P&L reconciles with the NAV."""
    eq = r.equity
    open_value = eq["condor_value"] + eq["hedge_value"] + eq["writer_value"]
    flows = r.fills.groupby("date")["cash"].sum().reindex(eq.index, fill_value=0.0)
    explained = eq["equity_pnl"] + eq["interest"] + flows + open_value - open_value.shift(1).fillna(0.0)
    np.testing.assert_allclose(eq["nav"] - eq["nav"].shift(1).fillna(NAV0), explained, atol=1e-6)
    assert abs(backtest.reconcile(r)["gap"]) < 1e-5


# sessions with an SPX close and no VIX close: a plain session, one with a condor, PUT and hedges open,
# and the PUT/BXM expiration (third Friday), which settles on SPX alone and rolls on the next VIX session
NO_VIX = ("2022-03-01", "2022-05-04", "2022-06-17")


@pytest.mark.parametrize("strategy", list(backtest.STRATEGIES))
def test_a_session_without_vix_accrues_and_the_accounts_still_balance(strategy):
    inputs = random_market()
    gaps = pd.to_datetime(list(NO_VIX))
    f = inputs.features.copy()
    f.loc[gaps, "vix"] = np.nan
    base = replace(BookSettings(), condor=replace(CondorSettings(), commission_per_contract=0.65))
    r = run(replace(inputs, features=f), strategy, base)
    eq = r.equity
    assert set(gaps) <= set(eq.index)  # the session is in the book, not dropped
    for day in gaps:
        prev = eq.index[eq.index.get_loc(day) - 1]
        ret = f.loc[day, "spx_ret"]
        want = eq.loc[prev, "equity_value"] * (math.exp(ret) - 1 + 0.018 / 252)
        assert eq.loc[day, "equity_pnl"] == pytest.approx(want, rel=1e-12)
        assert want != 0.0 or eq.loc[prev, "equity_value"] == 0.0  # cndr holds T-bills only
        assert eq.loc[day, "interest"] == pytest.approx(eq.loc[prev, "cash"] * 0.02 / 252, rel=1e-12)
    # no decision is taken on the session without VIX: nothing opens there
    assert not ((r.fills["event"] == "open") & r.fills["date"].isin(gaps)).any()
    assert_accounts_balance(r)


def test_spx_without_vix_is_still_the_index_total_return():
    inputs = market("2024-01-02", "2024-03-28", spx=4000 * np.exp(np.linspace(0, 0.05, 61)))
    f = inputs.features.copy()
    f.loc[pd.Timestamp("2024-02-01"), "vix"] = np.nan
    r = run(replace(inputs, features=f), "spx", BookSettings())
    closes = f["spx_close"].to_numpy()
    assert r.equity["nav"].iloc[-1] == pytest.approx(NAV0 * np.prod(closes[1:] / closes[:-1] + 0.018 / 252), rel=1e-12)


def spx_hole(inputs: backtest.Inputs, day: str) -> backtest.Inputs:
    """The inputs with no SPX close on `day` (a hole validation.accepted_holes let through), and so no return
    on the next session, as the features derive it."""
    f = inputs.features.copy()
    hole = f.index.get_loc(pd.Timestamp(day))
    f.iloc[hole, f.columns.get_loc("spx_close")] = np.nan
    f.iloc[hole : hole + 2, f.columns.get_loc("spx_ret")] = np.nan
    return replace(inputs, features=f)


def test_spx_across_an_spx_hole_is_still_the_index_total_return():
    """The sleeve is held through a session without an SPX close: the next close earns the return since the
    last one struck, with two sessions of dividends (by hand: the product of each interval's gross return).
    Before, the session after the hole earned nothing and the book lost that day's move for good."""
    closes = 4000 * np.exp(np.linspace(0, 0.05, 61))
    inputs = market("2024-01-02", "2024-03-28", spx=closes, rate=2.0)
    hole = 21  # 2024-02-01
    day = inputs.features.index[hole]
    r = run(spx_hole(inputs, f"{day:%Y-%m-%d}"), "spx", BookSettings())
    assert day not in r.equity.index
    q = 0.018 / 252
    gross = [closes[t] / closes[t - 1] + q for t in range(1, 61) if t not in (hole, hole + 1)]
    gross.append(closes[hole + 1] / closes[hole - 1] + 2 * q)
    assert r.equity["nav"].iloc[-1] == pytest.approx(NAV0 * np.prod(gross), rel=1e-12)
    whole = run(inputs, "spx", BookSettings()).equity["nav"].iloc[-1]
    assert r.equity["nav"].iloc[-1] == pytest.approx(whole, rel=1e-6)  # the hole costs no day's return


@pytest.mark.parametrize("strategy", list(backtest.STRATEGIES))
def test_an_spx_hole_is_carried_and_the_accounts_still_balance(strategy):
    """Every strategy steps over a session without an SPX close: on the next one the equity sleeve earns the
    return since the last close, and interest and dividends two sessions' worth; NAV still reconciles."""
    hole = pd.Timestamp("2022-05-04")  # a condor, PUT and hedges open
    inputs = spx_hole(random_market(), "2022-05-04")
    closes = random_market().features["spx_close"]
    base = replace(BookSettings(), condor=replace(CondorSettings(), commission_per_contract=0.65))
    r = run(inputs, strategy, base)
    eq = r.equity
    nxt = closes.index[closes.index.get_loc(hole) + 1]
    prev = eq.index[eq.index.get_loc(nxt) - 1]
    assert hole not in eq.index and prev == closes.index[closes.index.get_loc(hole) - 1]
    want = eq.loc[prev, "equity_value"] * (closes[nxt] / closes[prev] - 1 + 2 * 0.018 / 252)
    assert eq.loc[nxt, "equity_pnl"] == pytest.approx(want, rel=1e-12)
    assert want != 0.0 or eq.loc[prev, "equity_value"] == 0.0  # cndr and put hold T-bills only
    assert eq.loc[nxt, "interest"] == pytest.approx(eq.loc[prev, "cash"] * 0.02 * 2 / 252, rel=1e-12)
    assert_accounts_balance(r)


def test_the_daily_resume_across_an_spx_hole_is_the_uninterrupted_run():
    """The daily job resumes the book from its stored state: a run cut on the session before an SPX hole and
    resumed once two more sessions are known earns the same return across the hole as one run over both."""
    inputs = spx_hole(random_market(), "2022-05-04")
    f, s = inputs.features, BookSettings()
    full = run_book(f, inputs.regimes, inputs.vx, inputs.opens, s)
    cut = run_book(f.loc[:"2022-05-03"], inputs.regimes, inputs.vx, inputs.opens, s)
    resumed = run_book(f, inputs.regimes, inputs.vx, inputs.opens, s, state=pickle.loads(pickle.dumps(cut.state)))
    pd.testing.assert_frame_equal(pd.DataFrame(cut.daily + resumed.daily), pd.DataFrame(full.daily))
    assert pd.Timestamp("2022-05-05").date() in pd.DataFrame(full.daily)["date"].tolist()


def test_a_put_expiring_without_vix_settles_there_and_waits_for_the_next_roll_day():
    inputs = market(ROLL, "2024-03-28", spx=4000.0)
    f = inputs.features.copy()
    f.loc[pd.Timestamp(EXPIRY), "vix"] = np.nan
    fills = run(replace(inputs, features=f), "put").fills
    closes = fills[fills["event"] == "close"]
    opens = fills[fills["event"] == "open"]
    assert closes["date"].tolist() == [pd.Timestamp(EXPIRY)]
    # selling needs a vol: no roll on the session without VIX; T-bills until the March roll day
    assert opens["date"].tolist() == [pd.Timestamp(ROLL), pd.Timestamp("2024-03-15")]


def test_full_pays_its_costs_and_the_replicas_fill_at_mid():
    inputs = random_market()
    base = replace(BookSettings(), condor=replace(CondorSettings(), commission_per_contract=0.65))
    full = run(inputs, "full", base)
    cheap = run(inputs, "full", replace(base, condor=replace(base.condor, commission_per_contract=0.0)))
    condor_costs = full.trades.loc[full.trades["sleeve"] == "condor", "costs"].sum()
    assert condor_costs > 0 and full.equity["nav"].iloc[-1] < cheap.equity["nav"].iloc[-1]
    for name in ("cndr", "put", "bxm", "vxth", "pput"):
        assert run(inputs, name, base).trades["costs"].sum() == 0.0


def test_the_window_starts_fresh_and_vxth_waits_for_vx_data():
    inputs = random_market()
    r = backtest.run_strategy(inputs, "spx", backtest.strategy_settings("spx", FLAT), "2022-06-01", "2022-12-30")
    assert r.equity.index[0] == pd.Timestamp("2022-06-01") and r.equity.index[-1] == pd.Timestamp("2022-12-30")
    no_vx = replace(inputs, vx={d: v for d, v in inputs.vx.items() if d >= pd.Timestamp("2022-09-01")})
    assert run(no_vx, "vxth").equity.index[0] == pd.Timestamp("2022-09-01")


def test_ablation_and_sweep_tables_cover_every_variant_and_grid_point():
    inputs = random_market()
    results = backtest.run_many(backtest.ablation_jobs(FLAT), inputs, workers=1, full=False)
    table = backtest.ablation_table(results)
    assert list(table["variant"]) == ["full", *backtest.ABLATIONS]
    row = table.set_index("variant").loc["no_l2"]
    assert row["d_sharpe"] == pytest.approx(results["full"]["sharpe"] - results["no_l2"]["sharpe"])
    assert all(v.split(":")[0] in backtest.RULE_NAMES.values() for v in table["verdict"][1:])
    grid = {"short_delta": (0.12, 0.16), "take_profit": (0.5, 0.75)}
    sweep = backtest.sweep_table(
        backtest.run_many(backtest.sweep_jobs(FLAT, grid), inputs, workers=2, full=False), FLAT
    )
    assert len(sweep) == 4 and set(sweep["hedge_budget_pct"]) == {4.0}  # unswept: its setting
    default = sweep[(sweep["short_delta"] == 0.16) & (sweep["take_profit"] == 0.5)].iloc[0]
    assert default["sharpe"] == pytest.approx(results["full"]["sharpe"])  # the grid's default point is `full`
    with pytest.raises(ValueError, match="cannot sweep"):
        backtest.sweep_jobs(FLAT, {"kappa": (0.8,)})


def test_vxth_reports_its_vix_call_trades():
    r = run(random_market(), "vxth")
    closed = int((r.trades["status"] == "closed").sum())
    assert closed > 0 and r.metrics()[0]["trades"] == closed


def test_the_trades_table_is_the_same_from_text_columns_of_either_kind():
    """trades_from selects on the ledger's text columns as Python strings (pandas 3 stores them Arrow-backed,
    which is slow to take rows from in a new process): the same table, dtypes included, either way."""
    r = run(random_market(), "full")
    text = [c for c, t in r.fills.dtypes.items() if pd.api.types.is_object_dtype(t) or isinstance(t, pd.StringDtype)]
    assert {"position_id", "event", "sleeve"} <= set(text) and len(r.trades) > 10
    still_open = r.trades.loc[r.trades["status"] == "open", ["position_id", "open_value"]]
    opens = [{"position_id": p, "value": v} for p, v in still_open.itertuples(index=False)]
    as_objects = r.fills.astype(dict.fromkeys(text, object))
    pd.testing.assert_frame_equal(backtest.trades_from(as_objects, opens), r.trades)
    pd.testing.assert_frame_equal(backtest.trades_from(r.fills, opens), r.trades)


def test_the_research_pput_variant_pays_the_condors_modelled_spread_on_its_put():
    """SPX + PPUT in the research harness trades as the book trades: its put fills at the mid plus the
    modelled SPX half-spread the condors pay (docs/execution.md), computed here by hand, and their
    commission; the engine's `pput` replica stays at the mid, as Cboe's index is computed."""
    from vixshield.research.variants import VARIANTS

    book = FLAT
    variant = next(v for v in VARIANTS if v.name == "spx_pput")
    r = backtest.run_strategy(market(ROLL, EXPIRY), "pput", variant.build(book))
    first = r.trades.iloc[0]
    delta, vol = smile_delta(3800, 4000, 28, SIGMA, "put")
    p = bs(3800, 4000, 28, vol, "put")
    # base + rel x price x (0.50/|delta|)^0.25 x (30/28 DTE)^0.25, at VIX 20 (x 1), inside [half a tick, half
    # of Cboe's widest legal quote for the price]
    half = 0.05 + 0.01 * p * (0.5 / abs(delta)) ** 0.25 * (30 / 28) ** 0.25
    legal = next(w for upto, w in ((2, 0.25), (5, 0.40), (10, 0.50), (20, 0.80), (math.inf, 1.0)) if p < upto)
    half = min(max(half, (0.05 if p < 3 else 0.10) / 2), legal / 2)
    assert half > book.condor.slippage_per_leg  # a 5% OTM put's modelled spread is wider than the old fixed 0.10
    n = NAV0 / (4000 * 100)
    assert first["entry_price"] == pytest.approx(p, rel=1e-9)  # the ledger's price is the mid
    assert first["costs"] == pytest.approx(n * (half * 100 + book.condor.commission_per_contract), rel=1e-9)
    assert first["entry_cash"] == pytest.approx(-n * (p + half) * 100 - n * 0.65, rel=1e-9)
    assert run(market(ROLL, EXPIRY), "pput").trades.iloc[0]["costs"] == 0.0  # the replica: at the mid
