"""Performance metrics of a NAV series (METHODOLOGY §7): CAGR, vol, Sharpe and Sortino against
T-bills, drawdowns, Calmar, worst month, trade statistics, hedge cost and the stress windows.

Conventions: daily simple returns; 252 sessions a year; the T-bill return of a session is the cash
rate the book actually credited that session (cash_rate / 252), so Sharpe's risk-free leg is what a
collateral account earned. CAGR uses calendar years between the NAV before the window's first session
and its last. Returns over a window start from the NAV at the close before the window.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

TRADING_DAYS = 252

# METHODOLOGY §7 stress windows: name -> (first day, last day), inclusive
STRESS_WINDOWS: dict[str, tuple[str, str]] = {
    "stress_1998_08": ("1998-08-01", "1998-08-31"),
    "stress_2008_10": ("2008-10-01", "2008-10-31"),
    "stress_2011_08": ("2011-08-01", "2011-08-31"),
    "stress_2015_08": ("2015-08-01", "2015-08-31"),
    "stress_2018_02": ("2018-02-01", "2018-02-28"),
    "stress_2020_03": ("2020-03-01", "2020-03-31"),
    "stress_2022": ("2022-01-01", "2022-12-31"),
}
# the window the published Cboe figures cover (1986-2015), cut to where our data starts
WINDOWS: dict[str, tuple[str | None, str | None]] = {
    "all": (None, None),
    "cboe_1990_2015": ("1990-01-01", "2015-12-31"),
}
METRIC_COLUMNS = (
    "cagr",
    "vol",
    "sharpe",
    "sortino",
    "max_drawdown",
    "calmar",
    "worst_month",
    "hit_rate",
    "trades",
    "pnl_per_trade",
    "hedge_cost_per_year",
)


def window_return(nav: pd.Series, first: str, last: str) -> float:
    """NAV return from the close before `first` to the last close on or before `last`; NaN unless the
    series covers the whole window."""
    before = nav[nav.index < pd.Timestamp(first)]
    inside = nav[(nav.index >= pd.Timestamp(first)) & (nav.index <= pd.Timestamp(last))]
    if before.empty or inside.empty:
        return math.nan
    return float(inside.iloc[-1] / before.iloc[-1] - 1)


def clip(frame: pd.DataFrame | pd.Series, first: str | None, last: str | None) -> pd.DataFrame | pd.Series:
    """The rows of a date-indexed frame inside [first, last] (either end open when None)."""
    if first is not None:
        frame = frame[frame.index >= pd.Timestamp(first)]
    if last is not None:
        frame = frame[frame.index <= pd.Timestamp(last)]
    return frame


def drawdown(nav: pd.Series) -> pd.Series:
    return nav / nav.cummax() - 1


def performance(
    equity: pd.DataFrame,
    trades: pd.DataFrame,
    initial_nav: float,
    first: str | None = None,
    last: str | None = None,
) -> dict[str, float]:
    """Metrics of one strategy over [first, last]. equity: date-indexed nav and cash_rate (annual,
    fraction); trades: the strategy's trades (sleeve, status, pnl, entry_date, entry_cash)."""
    eq = equity.sort_index()
    start_nav, base_date = initial_nav, None  # the NAV (and its date) the window's returns start from
    if first is not None:
        before = eq[eq.index < pd.Timestamp(first)]
        if len(before):
            start_nav, base_date = float(before["nav"].iloc[-1]), before.index[-1]
    eq = clip(eq, first, last)
    out: dict[str, float] = {"start": eq.index.min(), "end": eq.index.max()}
    if len(eq) < 2:
        return out | dict.fromkeys(METRIC_COLUMNS, math.nan) | {"years": math.nan}
    nav = eq["nav"]
    prev = np.concatenate([[start_nav], nav.to_numpy()[:-1]])
    ret = nav.to_numpy() / prev - 1
    rf = eq["cash_rate"].fillna(0.0).to_numpy() / TRADING_DAYS
    excess = ret - rf
    base_date = base_date if base_date is not None else eq.index[0] - pd.Timedelta(days=1)
    years = (eq.index[-1] - base_date).days / 365.25
    cagr = (nav.iloc[-1] / start_nav) ** (1 / years) - 1 if nav.iloc[-1] > 0 else -1.0
    sd = float(np.std(ret, ddof=1))
    sd_excess = float(np.std(excess, ddof=1))
    down = math.sqrt(float(np.mean(np.minimum(excess, 0.0) ** 2)))
    mdd = float(drawdown(pd.concat([pd.Series([start_nav]), nav], ignore_index=True)).min())
    monthly = nav.groupby(nav.index.to_period("M")).last()
    monthly_ret = monthly / monthly.shift(1).fillna(start_nav) - 1
    income = _window_trades(trades, eq.index[0], eq.index[-1])
    done = income[income["status"] == "closed"]
    closed = done[done["sleeve"].isin(["condor", "writer"])]  # income trades: hit rate, P&L per trade
    hedges = income[income["sleeve"] == "hedge"]
    hedge_paid = float(-hedges["entry_cash"].sum()) if len(hedges) else 0.0
    return out | {
        "years": years,
        "cagr": float(cagr),
        "vol": sd * math.sqrt(TRADING_DAYS),
        "sharpe": float(np.mean(excess)) / sd_excess * math.sqrt(TRADING_DAYS) if sd_excess > 0 else math.nan,
        "sortino": float(np.mean(excess)) * math.sqrt(TRADING_DAYS) / down if down > 0 else math.nan,
        "max_drawdown": mdd,
        "calmar": float(cagr) / abs(mdd) if mdd < 0 else math.nan,
        "worst_month": float(monthly_ret.min()),
        "hit_rate": float((closed["pnl"] > 0).mean()) if len(closed) else math.nan,
        "trades": float(len(done)),  # every closed position: VXTH's VIX calls count too
        "pnl_per_trade": float(closed["pnl"].mean()) if len(closed) else math.nan,
        "hedge_cost_per_year": hedge_paid / float(nav.mean()) / years if len(hedges) else 0.0,
    }


def _window_trades(trades: pd.DataFrame, first: pd.Timestamp, last: pd.Timestamp) -> pd.DataFrame:
    """Trades entered inside the window."""
    if trades.empty:
        return pd.DataFrame(columns=["sleeve", "status", "pnl", "entry_cash", "entry_date"])
    entry = pd.to_datetime(trades["entry_date"])
    return trades[(entry >= first) & (entry <= last)]


def stress(nav: pd.Series) -> dict[str, float]:
    return {name: window_return(nav, first, last) for name, (first, last) in STRESS_WINDOWS.items()}
