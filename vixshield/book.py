"""The model book (METHODOLOGY §7, daily side): equity sleeve, iron condors, hedge layers and cash,
run session by session. Its rows are the signal tables; its last session is today's plan, and the
same loop over history is the backtest.

Each session, in order: the equity sleeve and cash earn the day's return and interest; open condors
are marked on today's surface and managed; the monthly option writer (PUT/BXM replicas) settles and
rolls; the hedge layers act; the candidate condor is built, gated and sized; NAV is struck. Nothing
looks past today's row.

Every trade is also appended to a ledger of fills (signed cash, costs), from which the backtest builds
its trades table independently of the NAV arithmetic; the two must reconcile.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from vixshield import hedge
from vixshield.condor import (
    MULTIPLIER,
    Condor,
    CondorSettings,
    Market,
    candidate,
    gate_reasons,
    is_roll_day,
    manage,
    size,
)
from vixshield.ledger import Fill
from vixshield.writer import WriterSettings, Written, writer_session

TRADING_DAYS = 252


@dataclass(frozen=True)
class BookSettings:
    initial_nav: float = 1_000_000.0
    equity_weight: float = 1.0  # SPX total return sleeve, as a share of NAV (rebalanced daily)
    condors: bool = True
    hedges: bool = True
    condor: CondorSettings = field(default_factory=CondorSettings)
    hedge: hedge.HedgeSettings = field(default_factory=hedge.HedgeSettings)
    writer: WriterSettings | None = None  # the PUT/BXM replicas' monthly short option; off in the daily book


@dataclass
class SessionCache:
    """What runs over the same features can share (the ablation and sweeps run the book dozens of
    times): each session's row as a dict, and its pricing Market per (q, kappa), whose memos of
    prices, deltas and strikes are pure functions of that session's inputs. Never share one across
    different features."""

    records: dict[pd.Timestamp, dict] = field(default_factory=dict)
    markets: dict[tuple[int, float, float], Market] = field(default_factory=dict)
    hedge_markets: dict[tuple[int, float], hedge.HedgeMarket] = field(default_factory=dict)

    def __reduce__(self):
        return (SessionCache, ())  # a process gets an empty cache, never a pickled copy of another's memos

    def rows(self, rows: pd.DataFrame) -> list[tuple[pd.Timestamp, dict]]:
        if any(day not in self.records for day in rows.index):
            self.records.update(zip(rows.index, rows.to_dict("records"), strict=True))
        return [(day, self.records[day]) for day in rows.index]

    def market(self, day: pd.Timestamp, row: dict, s: CondorSettings) -> Market:
        key = (day.value, s.dividend_yield, s.kappa)
        m = self.markets.get(key)
        if m is None:
            m = self.markets[key] = Market.from_row(day, row, s)
        return m

    def hedge_market(self, day: pd.Timestamp, row: dict, vx: Mapping, s: hedge.HedgeSettings) -> hedge.HedgeMarket:
        key = (day.value, s.strike_step)
        m = self.hedge_markets.get(key)
        if m is None:
            m = self.hedge_markets[key] = hedge.HedgeMarket(day, row, vx, s)
        return m


@dataclass
class BookState:
    """Everything the loop carries from one session to the next. Stored after each daily run so the
    next run resumes from its last session instead of replaying all history (see signals.py)."""

    last_date: pd.Timestamp | None
    nav: float
    equity: float
    cash: float
    condors: list[Condor]
    hedge_book: hedge.HedgeBook
    written: Written | None
    last_entry_week: tuple[int, int] | None
    prev_rate: float
    seq: int

    @classmethod
    def initial(cls, s: BookSettings) -> BookState:
        equity = s.equity_weight * s.initial_nav
        return cls(None, s.initial_nav, equity, s.initial_nav - equity, [], hedge.HedgeBook(), None, None, 0.0, 0)


@dataclass
class BookOutput:
    plan: list[dict] = field(default_factory=list)
    actions: list[dict] = field(default_factory=list)
    hedges: list[dict] = field(default_factory=list)
    daily: list[dict] = field(default_factory=list)
    fills: list[Fill] = field(default_factory=list)  # every trade: sleeve, position, signed cash, costs
    open_positions: list[dict] = field(default_factory=list)  # what is still open after the last session
    state: BookState | None = None  # the loop's state after its last session

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
    plans: bool = True,
    cache: SessionCache | None = None,
    state: BookState | None = None,
) -> BookOutput:
    """Run the book over `features` (indexed by session date, ascending) from its first session
    with an SPX close and a VIX close. plans=False (the backtest) skips the plan, action and hedge-layer rows
    and prices a candidate condor only on sessions where one could open; NAV and trades are identical.
    cache: share session rows and pricing memos with other runs over the same features.
    state: resume after state.last_date (sessions up to it are skipped) instead of starting fresh."""
    rows = features[features["spx_close"].notna() & features["vix"].notna()]
    if state is not None and state.last_date is not None:
        rows = rows[rows.index > state.last_date]
    state = state or BookState.initial(s)
    out = BookOutput(state=state)
    nav, equity, cash = state.nav, state.equity, state.cash
    condors, hedge_book, written = list(state.condors), state.hedge_book, state.written
    last_entry_week, prev_rate, seq = state.last_entry_week, state.prev_rate, state.seq
    cs = s.condor
    cache = cache if cache is not None else SessionCache()
    for day, r in cache.rows(rows):
        regime = regimes.get(day)
        m = cache.market(day, r, cs)
        # 1. carry: equity total return (dividends at q) and interest on cash, both from yesterday's close
        ret = _num(r.get("spx_ret"))
        # no return on the first session (or across a missing close): nothing was held over a known interval
        equity_pnl = 0.0 if math.isnan(ret) else equity * (math.exp(ret) - 1 + cs.dividend_yield / TRADING_DAYS)
        interest = cash * prev_rate / TRADING_DAYS
        equity += equity_pnl
        cash += interest
        # 2. manage open condors
        reenter = False
        kept: list[Condor] = []
        condor_cash = 0.0
        held_value = 0.0  # the kept condors at today's mid, from the marks manage just struck
        for c in condors:
            d = manage(c, m, regime, cs, spx_open.get(day))
            condor_cash += d.cash
            if d.action != "hold":
                _condor_fill(out.fills, day, c, d, cs)
            if plans:
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
            if d.action == "hold" or (d.action == "adjust" and d.replacement is not None):
                kept.append(c if d.action == "hold" else d.replacement)
                held_value -= d.mark * kept[-1].contracts * MULTIPLIER  # mark = cost to close at mid
            reenter = reenter or d.reenter
        condors = kept
        cash += condor_cash
        # 3. the monthly option writer (replicas only): settle at the open, mark, roll at the close
        writer_cash = 0.0
        if s.writer is not None:
            nav_writer = equity + cash + held_value + hedge_book.market_value()
            nav_writer += written.value if written is not None else 0.0
            written, writer_cash = writer_session(
                m, spx_open.get(day), nav_writer, equity, written, s.writer, out.fills
            )
            cash += writer_cash
        writer_value = written.value if written is not None else 0.0
        # NAV for today's sizing: the hedge at its last marks (it re-marks itself inside hedge_session)
        nav_now = equity + cash + held_value + writer_value
        nav_now += hedge_book.market_value() if s.hedges else 0.0
        # 4. hedge layers
        hedge_cash = 0.0
        if s.hedges:
            vx = vx_settles.get(day, {})
            hedge_book, layer_rows, hedge_cash = hedge.hedge_session(
                day,
                r,
                vx,
                nav_now,
                hedge_book,
                s.hedge,
                fills=out.fills,
                rows=plans,
                mkt=cache.hedge_market(day, r, vx, s.hedge),
            )
            out.hedges.extend(layer_rows)
            cash += hedge_cash
        # 5. today's candidate condor, gates, cadence, capacity, sizing
        plan, opened = _plan(day, m, r, regime, nav_now, condors, last_entry_week, reenter, s, seq, plans)
        if plan is not None:
            out.plan.append(plan)
        if opened is not None:
            seq += 1
            condors.append(opened)
            fees = 4 * opened.contracts * cs.commission_per_contract
            received = opened.credit * opened.contracts * MULTIPLIER - fees
            cash += received
            condor_cash += received
            costs = 4 * cs.slippage_per_leg * opened.contracts * MULTIPLIER + fees
            out.fills.append(
                _fill(day, opened, "open", opened.credit + 4 * cs.slippage_per_leg, received, costs, _plan_reason(plan))
            )
            last_entry_week = day.isocalendar()[:2]
        # 6. strike NAV and rebalance the equity sleeve
        condor_value = held_value + (_condor_value([opened], m) if opened is not None else 0.0)
        hedge_value = hedge_book.market_value() if s.hedges else 0.0
        nav = equity + cash + condor_value + hedge_value + writer_value
        target = s.equity_weight * nav
        cash += equity - target
        equity = target
        cash_rate = prev_rate
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
                "writer_value": writer_value,
                "equity_pnl": equity_pnl,
                "interest": interest,
                "cash_rate": cash_rate,
                "condor_cash": condor_cash,
                "hedge_cash": hedge_cash,
                "writer_cash": writer_cash,
                "open_condors": len(condors),
                "open_risk_pct_nav": open_risk / nav if nav else math.nan,
                "regime": regime,
            }
        )
    if len(rows):
        out.open_positions = _open_positions(condors, m, hedge_book, written, s.hedge.multiplier)
        out.state = BookState(day, nav, equity, cash, condors, hedge_book, written, last_entry_week, prev_rate, seq)
    return out


def _open_positions(
    condors: list[Condor], m: Market, hedges: hedge.HedgeBook, written: Written | None, mult: float
) -> list[dict]:
    """Each position still open after the last session, at that session's marks (dollars)."""
    out = [{"position_id": c.position_id, "sleeve": "condor", "value": _condor_value([c], m)} for c in condors]
    out += [
        {"position_id": p.position_id, "sleeve": "hedge", "value": p.contracts * p.mark * mult}
        for p in hedges.positions
    ]
    if written is not None:
        out.append({"position_id": written.position_id, "sleeve": "writer", "value": written.value})
    return out


def _plan_reason(plan: dict | None) -> str:
    return ",".join(plan["reasons"]) if plan else "ENTER"


def _fill(day, c: Condor, event: str, price: float, cash: float, costs: float, reason: str) -> Fill:
    instrument = f"SPX {c.expiry:%Y-%m-%d} {c.long_put:g}/{c.short_put:g}/{c.short_call:g}/{c.long_call:g} IC"
    return Fill(
        day, "condor", c.position_id, instrument, None, c.expiry, event, c.contracts, price, cash, costs, reason
    )


def _condor_fill(fills: list[Fill], day, c: Condor, d, cs: CondorSettings) -> None:
    """A management decision as a ledger fill: the mid, the cash, and what slippage and fees cost."""
    units = c.contracts * MULTIPLIER
    fees = 4 * c.contracts * cs.commission_per_contract
    costs = 0.0 if d.action == "expire" else 4 * cs.slippage_per_leg * units + fees
    event = "adjust" if d.action == "adjust" else "close"
    fills.append(_fill(day, c, event, d.mark, d.cash, costs, f"{d.action}:{d.reason}"))


def _condor_value(condors: list[Condor], m: Market) -> float:
    """Open condors at mid: a liability (negative)."""
    total = 0.0
    for c in condors:
        value, _ = m.price(c.legs(), c.expiry)
        total += value * c.contracts * 100
    return total


def _entry_blocks(day, r, regime, condors, last_week, reenter, s: BookSettings) -> list[str]:
    """What stops a condor opening today, before it is priced: gates, cadence, capacity."""
    cs = s.condor
    if cs.mode == "cndr":  # the replica: no gates, one condor at a time, sold on the roll day
        reasons = [] if is_roll_day(day) else ["CNDR_NOT_ROLL_DAY"]
        reasons += ["CONDORS_OFF"] if not s.condors else []
        return reasons + (["CAPACITY_MAX_OPEN"] if condors else [])
    reasons = gate_reasons(r, regime, cs)
    if not s.condors:
        reasons.append("CONDORS_OFF")
    if last_week == day.isocalendar()[:2] and not reenter:
        reasons.append("CADENCE_ONE_PER_WEEK")
    if len(condors) >= cs.max_open:
        reasons.append("CAPACITY_MAX_OPEN")
    return reasons


def _plan(day, m: Market, r, regime, nav, condors, last_week, reenter, s: BookSettings, seq: int, detail: bool):
    cs = s.condor
    reasons = _entry_blocks(day, r, regime, condors, last_week, reenter, s)
    if reasons and not detail:
        return None, None  # nothing can open and no plan row is wanted: skip pricing the candidate
    cand = candidate(m, cs)
    base = {"date": day.date(), "regime": regime, "nav_for_sizing": nav}
    if cand is None:
        return {**base, "enter": False, "contracts": 0, "reasons": ["NO_CANDIDATE"]}, None
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
            am_settled=cs.mode == "cndr",
        )
    return plan, opened


def latest_date(frames: dict[str, pd.DataFrame]) -> dt.date | None:
    plan = frames["condor_plan"]
    return None if plan.empty else plan["date"].max()
