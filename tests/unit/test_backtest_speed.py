"""The backtest's fast paths give exactly what their reference paths give: memos shared between runs
(a warm session cache) against a cold cache, unit leg prices read off a combination against pricing the
leg alone, the budget window's tail against the filter, and run_many on an injected executor against
the default pool. Exact equality throughout: the fast paths reorder no arithmetic, so any difference,
even in the last bit, is a bug (bench/engine_check.py checks the same on the real history against
another checkout)."""

from __future__ import annotations

import concurrent.futures as cf
import math
import multiprocessing
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from tests.unit.test_backtest import random_market
from vixshield import calendars
from vixshield.backtest import engine as backtest
from vixshield.strategy import hedge
from vixshield.strategy.book import BookSettings
from vixshield.strategy.condor import CondorSettings, Market
from vixshield.strategy.costs import SpreadSettings
from vixshield.strategy.options import Leg

BASE = BookSettings()
C = BASE.condor
# runs that share sessions' Markets (same surface) but differ in what they price and how they fill
VARIANTS = {
    "full": BASE,
    "short_delta": replace(BASE, condor=replace(C, short_delta=0.12)),
    "take_profit": replace(BASE, condor=replace(C, take_profit=0.3)),
    "spread_2x": replace(BASE, condor=replace(C, spread=SpreadSettings(multiplier=2.0))),
    "fixed_slippage": replace(BASE, condor=replace(C, spread=SpreadSettings(model=False))),
    "budget": replace(BASE, hedge=replace(BASE.hedge, budget_pct_nav=1.0)),
    "kappa": replace(BASE, condor=replace(C, kappa=0.9)),  # another surface: its own Markets
}


def frames(run: backtest.StrategyRun) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    return run.equity, run.fills, run.trades


def same_frames(a: backtest.StrategyRun, b: backtest.StrategyRun) -> None:
    for x, y in zip(frames(a), frames(b), strict=True):
        pd.testing.assert_frame_equal(x, y, check_exact=True)


def test_a_warm_session_cache_gives_every_run_exactly_what_a_cold_one_does():
    shared = random_market()
    strategies = [("full", name, s) for name, s in VARIANTS.items()] + [(s, s, None) for s in ("cndr", "put", "bxmd")]
    for strategy, _name, settings in strategies:
        settings = settings or backtest.strategy_settings(strategy, BASE)
        warm = backtest.run_strategy(shared, strategy, settings)  # after every run before it
        cold = random_market()  # its own empty cache: every price computed afresh
        same_frames(warm, backtest.run_strategy(cold, strategy, settings))
    assert len(shared.cache.markets) > len(cold.cache.markets)  # the shared cache did hold both surfaces


def market_on(day: str, row: dict, s: CondorSettings = C) -> Market:
    return Market.from_row(pd.Timestamp(day), row, s)


ROW = {"spx_close": 4500.0, "vix": 18.0, "vix9d": 17.0, "vix3m": 19.5, "vix6m": 20.5, "dgs3mo": 4.2}


def test_a_unit_leg_read_off_a_combination_is_the_leg_priced_alone():
    rng = np.random.default_rng(5)
    day = "2024-01-10"
    expiries = [pd.Timestamp(d) for d in ("2024-01-10", "2024-01-11", "2024-02-16", "2024-06-21")]
    m = market_on(day, ROW)
    legs = []
    for _ in range(40):  # random condors and spreads, some legs shared between them
        expiry = expiries[rng.integers(len(expiries))]
        strikes = np.sort(rng.choice(np.arange(3500.0, 5600.0, 5.0), 4, replace=False))
        combo = (
            Leg("put", strikes[0], 1),
            Leg("put", strikes[1], -1),
            Leg("call", strikes[2], -1),
            Leg("call", strikes[3], 1),
        )
        m.price(combo[: rng.integers(2, 5)], expiry)
        legs += [(leg, expiry) for leg in combo]
    for leg, expiry in legs:
        alone = market_on(day, ROW)  # a cold Market: the one-leg combination priced by itself
        want = alone.price((Leg(leg.kind, leg.strike, 1),), expiry)
        got = m.unit(leg.kind, leg.strike, expiry)
        assert got == want and [math.copysign(1, x) for x in got] == [math.copysign(1, x) for x in want]
        assert m.delta(leg, expiry) == want[1]


def test_the_budget_window_tail_is_the_filter():
    days = calendars.sessions("2023-01-03", "2024-12-31")
    rng = np.random.default_rng(2)
    for _ in range(200):
        picked = sorted(rng.choice(len(days), rng.integers(0, 40), replace=False))
        dated = tuple((days[i], float(i)) for i in picked)
        start = int(days[rng.integers(len(days))].value)
        assert hedge._since(dated, start) == tuple(x for x in dated if x[0].value >= start)


def test_the_budget_window_start_is_the_searchsorted_one():
    ns = np.asarray(hedge._session_ns(), dtype=np.int64)
    for day in calendars.sessions("1990-01-02", "2026-12-31")[::7]:
        for n in (1, 5, 252):
            want = int(ns[max(int(np.searchsorted(ns, day.value, side="right")) - n, 0)])
            assert hedge._window_start(day.value, n) == want


def same_metrics(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(
        (x != x and y != y) or x == y for x, y in ((a[k], b[k]) for k in a)
    )  # NaN where both are NaN


def test_run_many_on_an_injected_executor_gives_what_the_default_pool_gives():
    """A spawn-context pool is what a cluster executor does to the jobs: each chunk and its inputs are
    pickled to a fresh interpreter, which imports vixshield and runs them cold."""
    inputs = random_market()
    grid = {"short_delta": (0.12, 0.16), "take_profit": (0.5, 0.75)}
    jobs = [*backtest.sweep_jobs(BASE, grid), ("cndr", "cndr", backtest.strategy_settings("cndr", BASE))]
    default = backtest.run_many(jobs, inputs, workers=2, full=False)
    with cf.ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        elsewhere = backtest.run_many(jobs, random_market(), workers=2, full=False, executor=pool)
    assert list(elsewhere) == list(default) == [label for label, _, _ in jobs]
    assert all(same_metrics(elsewhere[k], default[k]) for k in default)
    with cf.ThreadPoolExecutor(1) as threads:
        runs = backtest.run_many(jobs[:2], random_market(), full=True, executor=threads)
    same_frames(runs[jobs[0][0]], backtest.run_strategy(random_market(), "full", jobs[0][2]))


def test_inputs_keep_their_name_across_processes_and_a_fresh_copy_gets_a_new_one():
    import pickle

    inputs = random_market()
    back = pickle.loads(pickle.dumps(inputs))
    assert back.token == inputs.token and not back.cache.markets  # the cache never travels
    assert backtest.Inputs(inputs.features, inputs.regimes, inputs.vx, inputs.opens).token != inputs.token


@pytest.mark.parametrize("enabled", [True, False])
def test_the_collector_is_back_as_it_was_after_a_run(enabled):
    import gc

    was = gc.isenabled()
    try:
        (gc.enable if enabled else gc.disable)()
        backtest.run_strategy(random_market(), "spx", BASE, "2022-01-03", "2022-02-28")
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()


def test_the_column_wise_records_are_pandas_own_records():
    """values.records against pandas' to_dict("records"), value and type, on every dtype the features
    frame holds: floats with NaN, bools, nullable ints and booleans with NA, strings with a gap."""
    from vixshield.values import records

    frame = pd.DataFrame(
        {
            "vix": [18.5, math.nan, 21.0],
            "flag": [True, False, True],
            "sessions_to_cpi": pd.array([3, None, 0], dtype="Int64"),
            "above": pd.array([True, None, False], dtype="boolean"),
            "source": pd.array(["nyse", None, "proxy"], dtype="str"),
            "version": ["v1", "v1", None],
            "when": pd.to_datetime(["2024-01-02", None, "2024-01-04"]),
        },
        index=pd.to_datetime(["2024-01-02", "2024-01-03", "2024-01-04"]),
    )

    def same(x: object, y: object) -> bool:
        return type(x) is type(y) and (x == y or (x != x and y != y))  # NaN, NaT: unequal to themselves

    expected = frame.to_dict("records")
    got = records(frame)
    assert [list(r) for r in got] == [list(r) for r in expected]
    assert all(same(g[k], e[k]) for g, e in zip(got, expected, strict=True) for k in e)
    assert records(frame.iloc[:0]) == []


@pytest.mark.parametrize("day", ["1990-01-02", "2006-02-24", "2024-02-29", "2099-12-31"])
def test_the_ordinal_from_nanoseconds_is_the_dates(day):
    stamp = pd.Timestamp(day)
    assert calendars.ordinal_of_ns(stamp.value) == stamp.toordinal() == stamp.date().toordinal()


def test_a_trigger_memo_key_belongs_to_its_own_settings_object():
    """The memo key of a trigger is built once per settings object and found by its id: a new object
    that happens to get a dead one's id must not take that one's key, and each object's memoized result
    is the trigger called directly."""
    from vixshield.strategy.hedge_layers import momentum

    day = pd.Timestamp("2008-10-10")
    row = {"spx_macd": -50.0, "spx_macd_signal": -40.0, "vix_macd": 5.0, "vix_macd_signal": 3.0, "ivts": 0.97}
    low, high = hedge.HedgeSettings(l1_ivts_on=0.90), hedge.HedgeSettings(l1_ivts_on=0.99)
    hedge._TRIGGER_KEYS[(momentum, id(high))] = (low, (momentum, 0.90))  # as if `low` had lived at high's address
    mkt = hedge.HedgeMarket(day, row, {}, low)
    for s in (low, high, low, high):
        assert mkt.trigger(momentum, s) == momentum(mkt, s)
    assert mkt.trigger(momentum, low)[0] and not mkt.trigger(momentum, high)[0]


@pytest.mark.parametrize(
    ("day", "later"),
    [
        ("2024-01-02", "2024-02-14"),
        ("2024-02-14", "2024-01-02"),
        ("2024-01-02 15:00", "2024-01-03 09:00"),
        ("2024-03-09", "2024-03-11"),
    ],
)
def test_days_between_is_the_timedelta_days(day, later):
    a, b = pd.Timestamp(day), pd.Timestamp(later)
    assert calendars.days_between(a, b) == (b - a).days
