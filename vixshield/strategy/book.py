"""The model book (METHODOLOGY §7, daily side): equity sleeve, iron condors, hedge layers and cash,
run session by session. Its rows are the signal tables; its last session is today's plan, and the
same loop over history is the backtest.

Each session, in order: the equity sleeve and cash earn the day's return and interest; the orders
decided on the previous session's close fill at today's prices; open condors are marked on today's
surface and managed; the monthly option writer (PUT/BXM replicas) settles and rolls; the hedge layers
act; the candidate condor is built, gated and sized; NAV is struck. Nothing looks past today's row.

Decide on t, fill on t+1 (`BookSettings.fill`, docs/execution.md): the signals are published after the
close, so a decision taken on today's close (an entry, a close, an adjustment, a hedge add or sale) is
an order carried in the state (and so across the daily resume) that fills at the next session's close,
on that session's surface; "same_close" fills it at once (the pre-#14 variant). Settlement at expiry
and the replicas' scheduled rolls are not decisions. The sleeves' rules live in their modules
(condor.py, hedge.py, writer.py); this module only carries the balances between them.

Every trade is also appended to a ledger of fills (signed cash, costs), from which the backtest builds
its trades table independently of the NAV arithmetic; the two must reconcile.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from vixshield import calendars
from vixshield.features import term_structure
from vixshield.strategy import hedge, options
from vixshield.strategy.condor import CondorBook, CondorProgram, CondorSettings, Market, program, surface
from vixshield.strategy.ledger import Fill
from vixshield.strategy.option_writer import Written, writer_session
from vixshield.strategy.settings import BookSettings
from vixshield.values import num, records

TRADING_DAYS = 252

# Every features column the book reads when it writes no rows (rows=False: the backtest), for any
# strategy and settings; carry's merged rows read what a session's read. A backtest's session rows hold
# only these: building the rows of all ~85 columns was a tenth of a full run. A column read but missing
# here would read as missing (NaN): tests/unit/test_book_columns.py records every read of every
# strategy, the ablation and the sweep's corners and fails on any outside this list.
BOOK_COLUMNS = (
    "spx_close",
    "spx_ret",
    "vix",
    "vix9d",
    "vix3m",
    "vix6m",
    "vvix",
    "ivts",
    "vrp",
    "dgs3mo",
    "fed_funds",
    "spx_macd",
    "spx_macd_signal",
    "vix_macd",
    "vix_macd_signal",
    "macro_stress",
    "breadth_divergence",
    "bearish_divergence_active",
    "bullish_divergence_active",
    "sessions_to_fomc",
    "sessions_to_cpi",
    "sessions_to_ppi",
)


@dataclass
class SessionCache:
    """What runs over the same features can share (the ablation and sweeps run the book dozens of
    times): each session's row as a dict, and its pricing Market per (q, kappa), whose memos of
    prices, deltas and strikes are pure functions of that session's inputs. Never share one across
    different features. `columns`: the features' columns its rows hold (None: every one); a cache of
    BOOK_COLUMNS serves only runs with rows=False."""

    records: dict[int, tuple[pd.Timestamp, dict]] = field(default_factory=dict)  # by the session's ns
    markets: dict[tuple[float, ...], Market] = field(default_factory=dict)
    hedge_markets: dict[tuple[int, float], hedge.HedgeMarket] = field(default_factory=dict)
    columns: tuple[str, ...] | None = None

    def __reduce__(self):
        # a process gets an empty cache, never a pickled copy of another's memos
        return (SessionCache, ({}, {}, {}, self.columns))

    def rows(self, features: pd.DataFrame, sessions: pd.DatetimeIndex) -> list[tuple[pd.Timestamp, dict]]:
        """(day, row as a dict) of each of `sessions` (a subset of the features' index), built once."""
        # keyed by integer nanoseconds: iterating a DatetimeIndex builds a Timestamp per session
        ns = sessions.asi8.tolist()
        if any(n not in self.records for n in ns):
            # most of the frame: all of it (a row selection first copies every column, strings included)
            rows = features if 2 * len(ns) > len(features) else features.loc[sessions]
            if self.columns is not None:
                rows = rows[[c for c in self.columns if c in rows.columns]]
            keys = rows.index.asi8.tolist()
            self.records.update(zip(keys, zip(rows.index, records(rows), strict=True), strict=True))
        return [self.records[n] for n in ns]

    def market(self, day: pd.Timestamp, row: dict, s: CondorSettings) -> Market:
        key = (day.value, *surface(s)[0])
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
    condors: CondorBook
    hedge_book: hedge.HedgeBook
    written: Written | None
    prev_rate: float  # yesterday's T-bill rate (decimal): today's interest on cash

    @classmethod
    def initial(cls, s: BookSettings) -> BookState:
        equity = s.equity_weight * s.initial_nav
        return cls(None, s.initial_nav, equity, s.initial_nav - equity, CondorBook(), hedge.HedgeBook(), None, 0.0)


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


def run_book(
    features: pd.DataFrame,
    regimes: Mapping[pd.Timestamp, str],
    vx_settles: Mapping[pd.Timestamp, Mapping[pd.Timestamp, float]],
    spx_open: Mapping[pd.Timestamp, float],
    s: BookSettings,
    rows: bool = True,
    cache: SessionCache | None = None,
    state: BookState | None = None,
) -> BookOutput:
    """Run the book over `features` (indexed by session date, ascending) from its first session
    with an SPX close and a VIX close, then on every session with an SPX close: one without a VIX
    close still accrues the equity sleeve and cash and settles what expires, while every decision
    that needs VIX waits (`_Loop.carry`). rows=False (the backtest) skips the plan, action and hedge-layer
    rows and prices a candidate condor only on sessions where one could open; NAV and trades are identical.
    cache: share session rows and pricing memos with other runs over the same features.
    state: resume after state.last_date (sessions up to it are skipped) instead of starting fresh."""
    if rows and cache is not None and cache.columns is not None:
        raise ValueError("a SessionCache of some columns (BOOK_COLUMNS) serves only runs with rows=False")
    has_vix = features["vix"].notna()
    if not has_vix.any():
        return BookOutput(state=state or BookState.initial(s))
    after = state.last_date if state is not None else None  # a resumed run: the session it struck last
    keep = features["spx_close"].notna() & (features.index >= has_vix.idxmax())
    if after is not None:
        keep &= features.index > after
    sessions = features.index[keep.to_numpy()]  # the rows themselves come from the cache
    # the last known vol surface, for marking (never deciding) on a session without a VIX close
    carried = features[list(term_structure.TENORS)].where(has_vix).ffill()
    state = state or BookState.initial(s)
    out = BookOutput(state=state)
    spans = _spans(features, sessions, after)
    loop = _Loop(s, replace(state), out, cache if cache is not None else SessionCache(), rows, spans)
    # the inputs by each session's ns: hashing a Timestamp costs ~0.3 us, a Mapping's get a method call
    opens, regime_of, vx_of = _by_ns(spx_open), _by_ns(regimes), _by_ns(vx_settles)
    m = None
    for day, r in loop.cache.rows(features, sessions):
        ns = day.value
        span = loop.spans.get(day) if loop.spans else None  # after an SPX hole the SOQ estimate starts from
        # the last close struck (asked only when there is a hole)
        am_open = settlement_open(opens.get(ns), r, s.open_proxy_weight, span[0] if span else None)
        if math.isnan(num(r.get("vix"))):
            m = loop.carry(day, {**r, **carried.loc[day].to_dict()}, am_open)
        else:
            m = loop.session(day, r, regime_of.get(ns), vx_of.get(ns, {}), am_open)
    if m is not None:
        out.open_positions = _open_positions(loop.st, m, s.hedge.multiplier)
        out.state = loop.st
    return out


def _by_ns(by_day: Mapping[pd.Timestamp, Any]) -> dict[int, Any]:
    """The mapping keyed by each day's ns (Timestamp.value)."""
    return {day.value: value for day, value in by_day.items()}


def _spans(
    features: pd.DataFrame, sessions: pd.DatetimeIndex, after: dt.date | None
) -> dict[pd.Timestamp, tuple[float, int]]:
    """The sessions that follow SPX closes the book could not strike (a hole the user accepted, or a row set
    aside: validation.accepted_holes, set_aside): each one's log return from the last close struck, and how
    many sessions that spans. The sleeve was held through the hole, so its return is earned on the next
    close, not lost; dividends and interest accrue on every session of it. `after`: the session a resumed
    run struck last."""
    index = features.index
    pos = index.get_indexer(sessions)
    if after is not None and len(pos):
        pos = np.concatenate([index.get_indexer([pd.Timestamp(after)]), pos])
    close = features["spx_close"].to_numpy()
    return {
        index[b]: (math.log(close[b] / close[a]), int(b - a))
        for a, b in itertools.pairwise(pos)
        if b - a > 1 and a >= 0
    }


def settlement_open(open_price: float | None, r: Mapping, weight: float, ret: float | None = None) -> float | None:
    """The level AM-settled options settle on: the session's open when it is a real print, else an
    estimate of Cboe's opening settlement (SOQ) between the previous close and today's close. The SOQ
    is struck from each stock's first trade, so it already holds the overnight move that a stale open
    lacks; without intraday data the least-squares weight of that move in the close-to-close move is
    the best linear estimate (README, Methodology changes). None without a close and a return. `ret`: the
    log return since the last close struck, where that is not the row's own (after an SPX hole)."""
    if open_price is not None and not math.isnan(open_price) and open_price > 0.0:
        return open_price
    close = num(r.get("spx_close"))
    ret = num(r.get("spx_ret")) if ret is None else ret
    if math.isnan(close) or math.isnan(ret):
        return None
    previous = close * math.exp(-ret)
    return previous + weight * (close - previous)


class _Loop:
    """One run of the book: the settings, the state it advances and the rows it writes."""

    def __init__(
        self,
        s: BookSettings,
        st: BookState,
        out: BookOutput,
        cache: SessionCache,
        rows: bool,
        spans: dict[pd.Timestamp, tuple[float, int]],  # _spans: the sessions after an SPX hole
    ):
        self.s, self.st, self.out, self.cache, self.rows, self.spans = s, st, out, cache, rows, spans
        self.condor: CondorProgram = program(s.condor, enabled=s.condors)
        self.defer = s.defer  # a property of the (uncompiled) settings: read once, not per session

    def _accrue(self, day: pd.Timestamp, r: dict) -> tuple[float, float]:
        """Equity total return (dividends at q) and interest on cash, both from the last close struck:
        yesterday's, or the one before an SPX hole (`spans`)."""
        st = self.st
        ret, sessions = (self.spans.get(day) if self.spans else None) or (num(r.get("spx_ret")), 1)
        # no return on the first session: nothing was held over a known interval
        q = self.s.condor.dividend_yield
        equity_pnl = 0.0 if math.isnan(ret) else st.equity * (math.exp(ret) - 1 + sessions * q / TRADING_DAYS)
        interest = st.cash * st.prev_rate * sessions / TRADING_DAYS
        st.equity += equity_pnl
        st.cash += interest
        return equity_pnl, interest

    def carry(self, day: pd.Timestamp, r: dict, am_open: float | None) -> Market:
        """A session with an SPX close but no VIX close (1991-03-01, 1997-01-31, ... in Cboe's file): the
        equity sleeve and cash accrue and NAV is struck, condors that expire settle on SPX alone, open
        condors and the replicas' option are marked on the last known vol surface (`r` carries it), hedge
        layers stay at their last marks; no entry, management, hedge or roll decision is taken (a replica
        whose roll day this is stays in T-bills until its next roll day), and the pending orders wait for
        the next session with a VIX close, which prices them."""
        s, st = self.s, self.st
        m = Market.from_row(day, r, s.condor)  # not cached: the cache's rows are the features' own
        equity_pnl, interest = self._accrue(day, r)
        expiring = tuple(c for c in st.condors.condors if day >= c.expiry)
        held = tuple(c for c in st.condors.condors if day < c.expiry)
        managed, actions = self.condor.manage_book(
            replace(st.condors, condors=expiring), m, None, am_open, self.out.fills, self.rows
        )
        self.out.actions.extend(actions)
        st.condors = replace(managed.book, condors=managed.book.condors + held)
        st.cash += managed.cash
        condor_value = sum(c.value(m) for c in held)
        writer_cash = self._writer(m, am_open, condor_value, roll=False)  # settle or mark; no roll without VIX
        self._strike(day, r, None, equity_pnl, interest, condor_value, managed.cash, 0.0, writer_cash)
        return m

    def session(self, day: pd.Timestamp, r: dict, regime: str | None, vx: Mapping, am_open: float | None) -> Market:
        s, st, out = self.s, self.st, self.out
        m = self.cache.market(day, r, s.condor)
        # 1. carry: equity total return (dividends at q) and interest on cash, both from yesterday's close
        equity_pnl, interest = self._accrue(day, r)
        # 2. yesterday's orders fill at today's close (book.fill = next_close), then open condors are managed
        condor_cash = 0.0
        if st.condors.orders:
            st.condors, condor_cash, filled = self.condor.fill_orders(st.condors, m, out.fills, self.rows)
            out.actions.extend(filled)
        managed, actions = self.condor.manage_book(st.condors, m, regime, am_open, out.fills, self.rows, self.defer)
        out.actions.extend(actions)
        st.condors = managed.book
        condor_cash += managed.cash
        st.cash += condor_cash
        # 3. the monthly option writer (replicas only): settle at the open, mark, roll at the close
        writer_cash = self._writer(m, am_open, managed.value)
        writer_value = st.written.value if st.written is not None else 0.0
        # NAV for today's sizing: the hedge at its last marks (it re-marks itself inside hedge.advance)
        nav_now = st.equity + st.cash + managed.value + writer_value
        nav_now += st.hedge_book.market_value() if s.hedges else 0.0
        # 4. hedge layers
        hedge_cash = self._hedge(day, r, vx, nav_now)
        # 5. today's candidate condor, gates, cadence, capacity, sizing
        entry = self.condor.enter(st.condors, m, regime, nav_now, managed.reenter, self.rows, self.defer)
        if entry.plan is not None:
            out.plan.append(entry.plan)
        condor_value = managed.value
        st.condors = entry.book  # with the entry: opened, or ordered for the next session
        if entry.opened is not None and entry.fill is not None:
            st.cash += entry.cash
            condor_cash += entry.cash
            out.fills.append(entry.fill)
            condor_value += entry.opened.value(m)
        # 6. strike NAV and rebalance the equity sleeve
        self._strike(day, r, regime, equity_pnl, interest, condor_value, condor_cash, hedge_cash, writer_cash)
        return m

    def _strike(
        self,
        day: pd.Timestamp,
        r: dict,
        regime: str | None,
        equity_pnl: float,
        interest: float,
        condor_value: float,
        condor_cash: float,
        hedge_cash: float,
        writer_cash: float,
    ) -> None:
        """Strike NAV, rebalance the equity sleeve, take tomorrow's cash rate and write the book row."""
        s, st, out = self.s, self.st, self.out
        writer_value = st.written.value if st.written is not None else 0.0
        hedge_value = st.hedge_book.market_value() if s.hedges else 0.0
        st.nav = nav = st.equity + st.cash + condor_value + hedge_value + writer_value
        target = s.equity_weight * nav
        st.cash += st.equity - target
        st.equity = target
        cash_rate = st.prev_rate
        st.prev_rate = options.risk_free_rate(r)  # tomorrow's interest on cash
        st.last_date = day
        out.daily.append(
            {
                "date": calendars.date_of_ns(day.value),  # Timestamp.date() costs ~1 us
                "nav": nav,
                "equity_value": st.equity,
                "cash": st.cash,
                "condor_value": condor_value,
                "hedge_value": hedge_value,
                "writer_value": writer_value,
                "equity_pnl": equity_pnl,
                "interest": interest,
                "cash_rate": cash_rate,
                "condor_cash": condor_cash,
                "hedge_cash": hedge_cash,
                "writer_cash": writer_cash,
                "open_condors": len(st.condors.condors),
                "open_risk_pct_nav": st.condors.open_risk() / nav if nav else math.nan,
                "regime": regime,
            }
        )

    def _writer(self, m: Market, am_open: float | None, condor_value: float, roll: bool = True) -> float:
        """Settle, mark and roll the replicas' monthly option; returns its cash flow."""
        st = self.st
        if self.s.writer is None:
            return 0.0
        nav = st.equity + st.cash + condor_value + st.hedge_book.market_value()
        nav += st.written.value if st.written is not None else 0.0
        st.written, cash = writer_session(m, am_open, nav, st.equity, st.written, self.s.writer, self.out.fills, roll)
        st.cash += cash
        return cash

    def _hedge(self, day: pd.Timestamp, r: dict, vx: Mapping, nav: float) -> float:
        """The hedge layers' session; returns their cash flow."""
        s, st = self.s, self.st
        if not s.hedges:
            return 0.0
        mkt = self.cache.hedge_market(day, r, vx, s.hedge)
        st.hedge_book, layer_rows, cash = hedge.advance(
            mkt, nav, st.hedge_book, s.hedge, fills=self.out.fills, rows=self.rows, defer=self.defer
        )
        self.out.hedges.extend(layer_rows)
        st.cash += cash
        return cash


def _open_positions(st: BookState, m: Market, mult: float) -> list[dict]:
    """Each position still open after the last session, at that session's marks (dollars)."""
    out = [{"position_id": c.position_id, "sleeve": "condor", "value": c.value(m)} for c in st.condors.condors]
    out += [
        {"position_id": p.position_id, "sleeve": "hedge", "value": p.contracts * p.mark * mult}
        for p in st.hedge_book.positions
    ]
    if st.written is not None:
        out.append({"position_id": st.written.position_id, "sleeve": "writer", "value": st.written.value})
    return out


def latest_date(frames: dict[str, pd.DataFrame]) -> dt.date | None:
    plan = frames["condor_plan"]
    return None if plan.empty else plan["date"].max()
