"""The model book (METHODOLOGY §7, daily side): equity sleeve, iron condors, hedge layers and cash,
run session by session. Its rows are the signal tables; its last session is today's plan, and the
same loop over history is the backtest.

Each session, in order: the equity sleeve and cash earn the day's return and interest; open condors
are marked on today's surface and managed; the hedge layers act; the candidate condor is built,
gated and sized; NAV is struck. Nothing looks past today's row.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from vixshield import hedge
from vixshield.condor import Condor, CondorSettings, Market, candidate, gate_reasons, manage, size

TRADING_DAYS = 252


@dataclass(frozen=True)
class BookSettings:
    initial_nav: float = 1_000_000.0
    equity_weight: float = 1.0  # SPX total return sleeve, as a share of NAV (rebalanced daily)
    condors: bool = True
    hedges: bool = True
    condor: CondorSettings = field(default_factory=CondorSettings)
    hedge: hedge.HedgeSettings = field(default_factory=hedge.HedgeSettings)


@dataclass
class BookOutput:
    plan: list[dict] = field(default_factory=list)
    actions: list[dict] = field(default_factory=list)
    hedges: list[dict] = field(default_factory=list)
    daily: list[dict] = field(default_factory=list)

    def frames(self) -> dict[str, pd.DataFrame]:
        return {
            "condor_plan": pd.DataFrame(self.plan),
            "condor_actions": pd.DataFrame(self.actions),
            "hedge_layers": pd.DataFrame(self.hedges),
            "book_daily": pd.DataFrame(self.daily),
        }


def _num(x: Any) -> float:
    try:
        return float(x)
    except (TypeError, ValueError):
        return math.nan


def run_book(
    features: pd.DataFrame,
    regimes: Mapping[pd.Timestamp, str],
    vx_settles: Mapping[pd.Timestamp, Mapping[pd.Timestamp, float]],
    spx_open: Mapping[pd.Timestamp, float],
    s: BookSettings,
) -> BookOutput:
    """Run the book over `features` (indexed by session date, ascending) from its first session
    with an SPX close and a VIX close."""
    rows = features[features["spx_close"].notna() & features["vix"].notna()]
    out = BookOutput()
    nav = s.initial_nav
    equity = s.equity_weight * nav
    cash = nav - equity
    condors: list[Condor] = []
    hedge_book = hedge.HedgeBook()
    last_entry_week: tuple[int, int] | None = None
    prev_rate = 0.0
    seq = 0
    cs = s.condor
    for day, r in zip(rows.index, rows.to_dict("records"), strict=True):
        day = pd.Timestamp(day)
        regime = regimes.get(day)
        m = Market.from_row(day, r, cs)
        # 1. carry: equity total return (dividends at q) and interest on cash, both from yesterday's close
        ret = _num(r.get("spx_ret"))
        equity_pnl = equity * ((math.exp(ret) if not math.isnan(ret) else 1.0) - 1 + cs.dividend_yield / TRADING_DAYS)
        interest = cash * prev_rate / TRADING_DAYS
        equity += equity_pnl
        cash += interest
        # 2. manage open condors
        reenter = False
        kept: list[Condor] = []
        condor_cash = 0.0
        for c in condors:
            d = manage(c, m, regime, cs, spx_open.get(day))
            condor_cash += d.cash
            out.actions.append(
                {
                    "date": day.date(),
                    "position_id": c.position_id,
                    "action": d.action,
                    "reason": d.reason,
                    "mark": d.mark,
                    "pnl": d.pnl,
                    "cash": d.cash,
                    "contracts": c.contracts,
                    "expiry": c.expiry.date(),
                    "entry_date": c.entry_date.date(),
                    "credit": c.credit,
                    "short_put": c.short_put,
                    "short_call": c.short_call,
                }
            )
            if d.action in ("hold",):
                kept.append(c)
            elif d.action == "adjust" and d.replacement is not None:
                kept.append(d.replacement)
            reenter = reenter or d.reenter
        condors = kept
        cash += condor_cash
        # NAV for today's sizing: the hedge at its last marks (it re-marks itself inside hedge_session)
        nav_now = equity + cash + _condor_value(condors, m) + (hedge_book.market_value() if s.hedges else 0.0)
        # 3. hedge layers
        hedge_cash = 0.0
        if s.hedges:
            hedge_book, layer_rows, hedge_cash = hedge.hedge_session(
                day, r, vx_settles.get(day, {}), nav_now, hedge_book, s.hedge
            )
            out.hedges.extend(layer_rows)
            cash += hedge_cash
        # 4. today's candidate condor, gates, cadence, capacity, sizing
        plan, opened = _plan(day, m, r, regime, nav_now, condors, last_entry_week, reenter, s, seq)
        out.plan.append(plan)
        if opened is not None:
            seq += 1
            condors.append(opened)
            cash += opened.credit * opened.contracts * 100 - 4 * opened.contracts * cs.commission_per_contract
            last_entry_week = day.isocalendar()[:2]
        # 5. strike NAV and rebalance the equity sleeve
        condor_value = _condor_value(condors, m)
        hedge_value = hedge_book.market_value() if s.hedges else 0.0
        nav = equity + cash + condor_value + hedge_value
        target = s.equity_weight * nav
        cash += equity - target
        equity = target
        rate = _num(r.get("dgs3mo"))
        prev_rate = (rate if not math.isnan(rate) else _num(r.get("fed_funds"))) / 100
        prev_rate = 0.0 if math.isnan(prev_rate) else prev_rate
        open_risk = sum(c.max_loss * c.contracts for c in condors)
        out.daily.append(
            {
                "date": day.date(),
                "nav": nav,
                "equity_value": equity,
                "cash": cash,
                "condor_value": condor_value,
                "hedge_value": hedge_value,
                "equity_pnl": equity_pnl,
                "interest": interest,
                "condor_cash": condor_cash,
                "hedge_cash": hedge_cash,
                "open_condors": len(condors),
                "open_risk_pct_nav": open_risk / nav if nav else math.nan,
                "regime": regime,
            }
        )
    return out


def _condor_value(condors: list[Condor], m: Market) -> float:
    """Open condors at mid: a liability (negative)."""
    total = 0.0
    for c in condors:
        value, _ = m.price(c.legs(), c.expiry)
        total += value * c.contracts * 100
    return total


def _plan(day, m: Market, r, regime, nav, condors, last_week, reenter, s: BookSettings, seq: int):
    cs = s.condor
    cand = candidate(m, cs)
    base = {"date": day.date(), "regime": regime, "nav_for_sizing": nav}
    if cand is None:
        return {**base, "enter": False, "contracts": 0, "reasons": ["NO_CANDIDATE"]}, None
    reasons = gate_reasons(r, regime, cs)
    if not s.condors:
        reasons.append("CONDORS_OFF")
    if last_week == day.isocalendar()[:2] and not reenter:
        reasons.append("CADENCE_ONE_PER_WEEK")
    if len(condors) >= cs.max_open:
        reasons.append("CAPACITY_MAX_OPEN")
    open_risk = sum(c.max_loss * c.contracts for c in condors)
    contracts, size_reasons = size(cand, nav, open_risk, regime, cs)
    reasons += size_reasons
    blocking = [x for x in reasons if not x.startswith("SIZE_HALF")]
    enter = not blocking
    if enter:
        reasons = ["ENTER" + ("_ROLL" if reenter else ""), *reasons]
    if cand["divergence_modifier"]:
        reasons.append(f"MOD_{cand['divergence_modifier'].upper()}_DIVERGENCE")
    flags = {f"event_{k}": (_num(r.get(f"sessions_to_{k}")) <= 1) for k in ("fomc", "cpi", "ppi")}
    plan = {
        **base,
        **cand,
        "contracts": contracts if enter else 0,
        "enter": enter,
        "pct_nav_at_risk": contracts * cand["max_loss"] / nav if enter and nav else 0.0,
        **flags,
        "reasons": reasons,
    }
    opened = None
    if enter:
        opened = Condor(
            f"IC-{day:%Y%m%d}-{seq + 1}",
            day,
            pd.Timestamp(cand["expiry"]),
            cand["long_put"],
            cand["short_put"],
            cand["short_call"],
            cand["long_call"],
            contracts,
            cand["credit"],
            cand["max_loss"],
        )
    return plan, opened


def latest_date(frames: dict[str, pd.DataFrame]) -> dt.date | None:
    plan = frames["condor_plan"]
    return None if plan.empty else plan["date"].max()
