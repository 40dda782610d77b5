"""Backtest metrics against hand calculations on constructed NAV paths."""

import math

import numpy as np
import pandas as pd
import pytest

from vixshield import calendars
from vixshield.backtest import metrics

NO_TRADES = pd.DataFrame(columns=["sleeve", "status", "pnl", "entry_cash", "entry_date"])


def equity(navs, start="2020-01-02", rate=0.0) -> pd.DataFrame:
    days = calendars.sessions(start, "2030-12-31")[: len(navs)]
    return pd.DataFrame({"nav": np.asarray(navs, dtype=float), "cash_rate": rate}, index=days)


def test_cagr_vol_and_sharpe_of_a_known_path():
    # alternate +1% / -0.5% for two calendar years of sessions, T-bills at 2%
    days = calendars.sessions("2020-01-02", "2021-12-31")
    rets = np.where(np.arange(len(days)) % 2 == 0, 0.01, -0.005)
    navs = 100 * np.cumprod(1 + rets)
    eq = pd.DataFrame({"nav": navs, "cash_rate": 0.02}, index=days)
    m = metrics.performance(eq, NO_TRADES, 100.0)
    years = (days[-1] - (days[0] - pd.Timedelta(days=1))).days / 365.25
    assert m["cagr"] == pytest.approx((navs[-1] / 100) ** (1 / years) - 1)
    assert m["vol"] == pytest.approx(np.std(rets, ddof=1) * math.sqrt(252))
    excess = rets - 0.02 / 252
    assert m["sharpe"] == pytest.approx(excess.mean() / excess.std(ddof=1) * math.sqrt(252))
    downside = math.sqrt(np.mean(np.minimum(excess, 0) ** 2))
    assert m["sortino"] == pytest.approx(excess.mean() * math.sqrt(252) / downside)


def test_drawdown_calmar_and_worst_month():
    # 100 -> 120 (January) -> 90 (February) -> 130 (March): max drawdown 90 / 120 - 1 = -25%
    jan = np.linspace(101, 120, len(calendars.sessions("2021-01-04", "2021-01-29")))
    feb = np.linspace(118, 90, len(calendars.sessions("2021-02-01", "2021-02-26")))
    mar = np.linspace(95, 130, len(calendars.sessions("2021-03-01", "2021-03-31")))
    eq = equity(np.r_[jan, feb, mar], start="2021-01-04")
    m = metrics.performance(eq, NO_TRADES, 100.0)
    assert m["max_drawdown"] == pytest.approx(-0.25)
    assert m["worst_month"] == pytest.approx(90 / 120 - 1)  # February, from January's close
    assert m["calmar"] == pytest.approx(m["cagr"] / 0.25)


def test_a_window_starts_from_the_close_before_it():
    eq = equity([100, 110, 121, 133.1])  # Jan 2, 3, 6, 7 2020
    assert metrics.window_return(eq["nav"], "2020-01-06", "2020-01-07") == pytest.approx(133.1 / 110 - 1)
    assert math.isnan(metrics.window_return(eq["nav"], "2019-12-01", "2019-12-31"))  # not covered
    m = metrics.performance(eq, NO_TRADES, 100.0, first="2020-01-06")
    assert m["start"] == pd.Timestamp("2020-01-06") and m["max_drawdown"] == 0.0


def test_trade_statistics_and_hedge_cost():
    eq = equity(np.full(252, 1_000_000.0))
    trades = pd.DataFrame(
        {
            "sleeve": ["condor", "condor", "writer", "condor", "hedge", "hedge"],
            "status": ["closed", "closed", "closed", "open", "closed", "open"],
            "pnl": [300.0, -900.0, 600.0, 50.0, -2_000.0, 1_000.0],
            "entry_cash": [500.0, 400.0, 800.0, 300.0, -6_000.0, -4_000.0],
            "entry_date": eq.index[[1, 5, 9, 200, 3, 100]],
        }
    )
    m = metrics.performance(eq, trades, 1_000_000.0)
    assert m["trades"] == 4  # every closed position, the hedge's included (a VXTH replica has only those)
    assert m["hit_rate"] == pytest.approx(2 / 3)  # closed condor/writer trades only
    assert m["pnl_per_trade"] == pytest.approx(0.0)
    assert m["hedge_cost_per_year"] == pytest.approx(10_000 / 1_000_000 / m["years"])
