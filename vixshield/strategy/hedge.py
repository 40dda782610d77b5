"""The adaptive layered VIX-call hedge (METHODOLOGY §6) as a pure per-session state machine.

`advance` takes one session's market (features row and VX prices), the NAV and the book carried from
the previous session, and returns the new book, one row per layer and the session's cash flow. The
layers themselves are data (vixshield.strategy.hedge_layers.LAYERS); this module runs any list of them.
Nothing here reads a later session, so a backtest built on it is causal by construction.

Conventions (each documented where it matters below)
- Marks at the Black-76 model price (VIX future of the option's expiry, vol = VVIX/100); a buy fills
  its modelled bid-ask half-spread above it and a sale below it (costs.half_spread with the VIX-option
  defaults of `HedgeSettings.spread`: one tick wide for a 1-month 30-delta call near 1.00 at VIX 20,
  wider for dear options and high VIX, within Cboe's legal quote width), plus a commission; multiplier
  100; contracts = floor(weight% x NAV x beta / all-in cost of one contract).
- Expiry: a position whose expiry is on or before the session settles at intrinsic against the VIX
  *close* of that session. Real VIX options settle to the special opening quotation (SOQ) of the
  expiration morning, which is not in our data; the close is the nearest knowable value.
- Rules run in the METHODOLOGY order: settle expiries, monetize, removals, adds (in layer order).
  No adds while VIX >= the monetize level (they would be closed at the next session).
- Each layer's entry policy decides whether a triggered session buys: L0 (Cboe VXTH) buys on every
  VIX expiration day and holds each purchase to its expiry; L1/L2 add only when the layer is flat
  (the weight is a target, not a per-session increment) and hold to removal, monetization or expiry.
- The half-sale at 3x is tested position by position (once per position, contracts // 2 sold),
  so a fresh cheap add never dilutes an old winner.
- Budget (L1/L2 only: L0 is Cboe VXTH's own sleeve, sized by its bands alone): gross premium the
  budgeted layers paid over the last 252 NYSE sessions (today included), in % of the mean NAV over
  the same sessions (`budget_nav="mean"`; "current" is today's NAV). Premium per year over average
  assets is how a fund's expense ratio is measured, and the mean does not shrink the moment a loss
  lands, so a drawdown does not by itself shut the protection off. An add that would exceed it is cut
  to what still fits ("BUDGET_CAPPED") or, when not even one contract fits, dropped ("BUDGET_BLOCKED").
  Adds are tried in layer order.
- Row `action` is the last action the layer took in the session (settle/remove < add order),
  `reasons` lists every rule that fired. A disabled layer describes no contract.
- Decide on t, fill on t+1 (advance's `defer`, book.fill = next_close): a decision of t's close is an
  order (HedgeOrder, carried in the book) that fills at the next priced session's model price; the
  layer's row on that session says FILLED_<action>. Settlement at expiry is never deferred.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache
from operator import itemgetter
from typing import Any

import pandas as pd
from mypy_extensions import mypyc_attr

from vixshield import calendars
from vixshield.strategy import listings
from vixshield.strategy.costs import Costs, fill_half_spread
from vixshield.strategy.hedge_layers import LAYERS, READS, Detail, LayerSpec, Trigger, setting
from vixshield.strategy.ledger import Fill
from vixshield.strategy.options import risk_free_rate
from vixshield.strategy.record import Record
from vixshield.strategy.settings import HedgeSettings
from vixshield.strategy.vix_options import (
    black76_delta,
    black76_price,
    strike_for_delta,
    vix_expiry,
    vix_future_price,
    vix_option_vol,
)
from vixshield.values import num

# Row columns (one row per layer per session). Money in dollars, prices in VIX points, *_pct_nav in
# percent of that session's NAV (1.0 = 1%). The instrument fields (expiry .. option_price) describe the
# contract bought today, else the layer's latest open (or just closed) position, else today's candidate.
# contracts: today's order (+ buy, - sell; a settlement is no order: it shows in contracts_held and the
# reasons); contracts_held: after today's fills (with book.fill = next_close an order of today's close
# fills on trade_date).
# weight_pct_nav: the target of an add considered today (band weight x beta for L0 on expiration days,
# layer weight x beta for L1/L2 while triggered), 0 otherwise. trigger_details: "part=True/False/NA; ...".
# contango_m1_spot = vx_m1 / vix - 1, contango_m2_m1 = vx_m2 / vx_m1 - 1 (the cost of carrying calls).
INSTRUMENT = "VIX call"
ROW_COLUMNS = [
    "date",
    "layer",
    "action",
    "instrument",
    "expiry",
    "strike",
    "delta",
    "future_price",
    "future_source",
    "option_price",
    "contracts",
    "contracts_held",
    "weight_pct_nav",
    "premium_pct_nav",
    "cash_flow",
    "mark_value",
    "budget_used_pct_nav",
    "trigger",
    "trigger_details",
    "contango_m1_spot",
    "contango_m2_m1",
    "reasons",
    "trade_date",
]


@dataclass  # not frozen, so that compiled it is a native class (vixshield/native.py); never mutated
class HedgePosition(Record):
    """One open VIX-call purchase. Prices are per unit (index points); cost is dollars paid."""

    layer: str
    expiry: pd.Timestamp
    strike: float
    contracts: int
    entry_price: float
    cost: float
    entry_date: pd.Timestamp
    half_sold: bool = False
    mark: float = math.nan  # last model price (carried when a session cannot price it)

    def __init__(
        self,
        layer: str,
        expiry: pd.Timestamp,
        strike: float,
        contracts: int,
        entry_price: float,
        cost: float,
        entry_date: pd.Timestamp,
        half_sold: bool = False,
        mark: float = math.nan,
    ) -> None:  # compiled, a dataclass's own __init__ stays Python: this one is native (vixshield/native.py)
        self.layer, self.expiry, self.strike, self.contracts = layer, expiry, strike, contracts
        self.entry_price, self.cost, self.entry_date = entry_price, cost, entry_date
        self.half_sold, self.mark = half_sold, mark

    def with_mark(self, mark: float) -> HedgePosition:
        """A copy at a new mark (dataclasses.replace is ~5x slower and this runs per position per session)."""
        return HedgePosition(
            self.layer,
            self.expiry,
            self.strike,
            self.contracts,
            self.entry_price,
            self.cost,
            self.entry_date,
            self.half_sold,
            mark,
        )

    @property
    def position_id(self) -> str:
        return _position_id(self.layer, self.entry_date.value, self.expiry.value, self.strike)


@lru_cache(maxsize=65_536)  # asked per position per session (orders, fills); strftime is slow
def _position_id(layer: str, entry_ns: int, expiry_ns: int, strike: float) -> str:
    return f"{layer}-{calendars.date_of_ns(entry_ns):%Y%m%d}-{calendars.date_of_ns(expiry_ns):%Y%m%d}-{strike:g}"


@mypyc_attr(native_class=False)  # a plain class when compiled: frozen, picklable, introspectable
@dataclass(frozen=True)
class HedgeOrder:
    """A trade decided on one session's close, filled on the next session that can price it (advance's
    defer). A purchase keeps the expiry, strike and contracts chosen when decided; a sale names its position."""

    decided: pd.Timestamp
    layer: str
    side: str  # buy | sell
    expiry: pd.Timestamp
    strike: float
    contracts: int
    action: str  # add | monetize | remove
    code: str  # the reason the fill records (L1:ADD, MONETIZE:..., L1:REMOVED)
    position_id: str | None = None  # a sale's position


@dataclass  # not frozen, so that compiled it is a native class (vixshield/native.py); never mutated
class HedgeBook(Record):
    """State carried between sessions; never mutated (advance returns a new one)."""

    positions: tuple[HedgePosition, ...] = ()
    premiums: tuple[tuple[pd.Timestamp, float], ...] = ()  # (date, dollars the budgeted layers paid) in the window
    off_sessions: Mapping[str, int] = field(default_factory=dict)  # per layer: consecutive sessions, trigger off
    last_date: pd.Timestamp | None = None
    navs: tuple[tuple[pd.Timestamp, float], ...] = ()  # (date, NAV) inside the budget window: its mean NAV
    orders: tuple[HedgeOrder, ...] = ()  # decided on the last session, not filled yet

    def __init__(
        self,
        positions: tuple[HedgePosition, ...] = (),
        premiums: tuple[tuple[pd.Timestamp, float], ...] = (),
        off_sessions: Mapping[str, int] | None = None,
        last_date: pd.Timestamp | None = None,
        navs: tuple[tuple[pd.Timestamp, float], ...] = (),
        orders: tuple[HedgeOrder, ...] = (),
    ) -> None:  # compiled, a dataclass's own __init__ stays Python: this one is native (vixshield/native.py)
        self.positions, self.premiums, self.last_date, self.navs, self.orders = (
            positions,
            premiums,
            last_date,
            navs,
            orders,
        )
        self.off_sessions = {} if off_sessions is None else off_sessions

    def layer(self, name: str) -> list[HedgePosition]:
        return [p for p in self.positions if p.layer == name]

    def market_value(self, multiplier: float = 100.0) -> float:
        """Dollar value of the open calls at their last marks (the session's own, after advance)."""
        return sum(p.contracts * p.mark * multiplier for p in self.positions)


# --- pricing ---------------------------------------------------------------------------------------


_NOT_LISTED = f"VIX_OPTIONS_NOT_LISTED_UNTIL_{listings.VIX_OPTIONS:%Y-%m-%d}"


@lru_cache(maxsize=1)
def _session_ns() -> list[int]:
    return calendars.sessions(f"{calendars.FIRST_SESSION_YEAR}-01-01", "2100-01-01").asi8.tolist()


def _window_start(day: int, n: int) -> int:
    """First session (ns since epoch) of the n-session window ending at `day` (ns, today included)."""
    ns = _session_ns()
    return ns[max(bisect.bisect_right(ns, day) - n, 0)]


def _since(dated: Sequence[tuple[pd.Timestamp, Any]], start: int) -> Sequence[tuple[pd.Timestamp, Any]]:
    """The entries dated on or after `start` (ns) of a date-ordered sequence: a tail, found from the front
    (the window moves one session a day, so at most a few entries drop)."""
    i = 0
    while i < len(dated) and dated[i][0].value < start:
        i += 1
    return dated[i:]


# (trigger, id(settings)) -> (the settings, the trigger's memo key): built once per settings object, not
# on each of the ~28,000 trigger lookups of a run; the settings are kept so a reused id cannot match
_TRIGGER_KEYS: dict[tuple[Trigger, int], tuple[HedgeSettings, tuple | None]] = {}


def _trigger_key(trigger: Trigger, s: HedgeSettings) -> tuple | None:
    """(trigger, the values of the settings it reads), or None for a trigger that declares none."""
    hit = _TRIGGER_KEYS.get((trigger, id(s)))
    if hit is None or hit[0] is not s:
        if len(_TRIGGER_KEYS) > 4096:  # a long-lived process that makes settings by the thousand
            _TRIGGER_KEYS.clear()
        names = READS.get(trigger)
        key = None if names is None else (trigger, *[getattr(s, n) for n in names])
        hit = _TRIGGER_KEYS[(trigger, id(s))] = (s, key)
    return hit[1]


class HedgeMarket:
    """One session's pricing inputs, with futures, quotes and candidates memoized: pure functions of
    the session's row and VX prices, so runs over the same data may share one (see book.SessionCache)."""

    def __init__(self, day: pd.Timestamp, row: dict[str, Any], vx: Mapping[Any, float], s: HedgeSettings):
        self.day, self.row, self.vx, self.s = day, row, vx, s
        self.vix = num(row.get("vix"))
        self.ivts = num(row.get("ivts"))
        self.vol = vix_option_vol(row)
        self.r = risk_free_rate(row)
        self._fut: dict[pd.Timestamp, tuple[float, str]] = {}
        self._quotes: dict[tuple[int, float], tuple[float, float, float, str]] = {}
        self._candidates: dict[tuple[int, float], tuple[pd.Timestamp, float]] = {}
        self._triggers: dict[tuple, tuple[bool, Detail | str]] = {}

    def trigger(self, trigger: Trigger, s: HedgeSettings) -> tuple[bool, Detail | str]:
        """`trigger(self, s)`, memoized per the settings it declares it reads (hedge_layers.reads): a
        trigger is a pure function of the session and those settings."""
        key = _trigger_key(trigger, s)
        if key is None:
            return trigger(self, s)
        hit = self._triggers.get(key)
        if hit is None:
            hit = self._triggers[key] = trigger(self, s)
        return hit

    def future(self, expiry: pd.Timestamp) -> tuple[float, str]:
        if expiry not in self._fut:
            self._fut[expiry] = vix_future_price(self.day, expiry, self.vx, self.row)
        return self._fut[expiry]

    def quote(self, expiry: pd.Timestamp, strike: float) -> tuple[float, float, float, str]:
        """(option price, delta, future, source); at or after expiry: intrinsic vs the VIX close."""
        key = (expiry.value, strike)
        hit = self._quotes.get(key)
        if hit is None:
            hit = self._quotes[key] = self._quote(expiry, strike)
        return hit

    def _quote(self, expiry: pd.Timestamp, strike: float) -> tuple[float, float, float, str]:
        if expiry <= self.day:
            return max(self.vix - strike, 0.0), float(self.vix > strike), self.vix, "vix_close"
        fwd, src = self.future(expiry)
        if not fwd > 0:
            return math.nan, math.nan, math.nan, src
        t = calendars.days_between(self.day, expiry) / 365.0
        return (
            black76_price(fwd, strike, t, self.r, self.vol),
            black76_delta(fwd, strike, t, self.r, self.vol),
            fwd,
            src,
        )

    def candidate(self, months: int, delta: float) -> tuple[pd.Timestamp, float]:
        """(expiry, strike) of the `months`-month call at target `delta`; strike nan when unpriceable."""
        hit = self._candidates.get((months, delta))
        if hit is None:
            hit = self._candidates[(months, delta)] = self._candidate(months, delta)
        return hit

    def _candidate(self, months: int, delta: float) -> tuple[pd.Timestamp, float]:
        expiry = vix_expiry(self.day, months)
        fwd, _ = self.future(expiry)
        if not fwd > 0:
            return expiry, math.nan
        t = calendars.days_between(self.day, expiry) / 365.0
        return expiry, strike_for_delta(fwd, t, self.r, self.vol, delta, "call", self.s.strike_step)


class _Layer:
    """What happened to one layer during the session (becomes its row). A plain class: one is made per
    layer per session, and compiled, a dataclass's __init__ stays Python (vixshield/native.py)."""

    def __init__(self) -> None:
        self.reasons: list[str] = []
        self.action: str | None = None
        self.contracts = 0  # signed: + bought, - sold or settled
        self.cash = 0.0
        self.premium = 0.0
        self.weight = 0.0
        self.trigger = False
        self.details: Detail | str = ""
        self.shown: tuple[pd.Timestamp, float] | None = None  # (expiry, strike) the row describes
        self.ordered = False  # an order was placed today (add, monetize, remove; not a settlement)

    def note(self, code: str) -> None:
        if code not in self.reasons:
            self.reasons.append(code)


# --- the state machine ----------------------------------------------------------------------------


def hedge_session(
    day: pd.Timestamp,
    row: Mapping[str, Any],
    vx_settles: Mapping[Any, float],
    nav: float,
    book: HedgeBook,
    s: HedgeSettings,
    beta: float = 1.0,
    fills: list[Fill] | None = None,
    layers: Sequence[LayerSpec] = LAYERS,
) -> tuple[HedgeBook, list[dict], float]:
    """`advance` on `day`'s features row and VX prices by expiry (settle or close)."""
    mkt = HedgeMarket(pd.Timestamp(day).normalize(), dict(row), vx_settles, s)  # a features row: a dict
    return advance(mkt, nav, book, s, beta=beta, fills=fills, layers=layers)


def advance(
    mkt: HedgeMarket,
    nav: float,
    book: HedgeBook,
    s: HedgeSettings,
    *,
    beta: float = 1.0,
    fills: list[Fill] | None = None,
    rows: bool = True,
    layers: Sequence[LayerSpec] = LAYERS,
    defer: bool = False,
) -> tuple[HedgeBook, list[dict], float]:
    """Advance the hedge by one session.

    nav: today's NAV in dollars; beta: portfolio beta to SPX (weights scale with it; NaN -> 1, < 0 -> 0).
    fills: when given, every trade is appended to it (the backtest's trade ledger); rows=False skips the
    per-layer rows (the backtest needs only cash and marks).
    defer (book.fill = next_close): the book's orders of the previous session fill first, at today's
    prices; today's adds, monetizations and removals become orders for the next session (a position being
    sold stays held, at today's mark, until then). Settlement at expiry is never deferred.
    Returns (new book, one row per layer, net cash flow: premium negative, sales/settlements positive).
    """
    day = mkt.day
    if book.last_date is not None and day <= book.last_date:
        raise ValueError(f"sessions must increase: {day.date()} after {book.last_date.date()}")
    if not rows and not book.positions and not book.orders and not listings.vix_options_listed(day):
        return _unlisted(mkt, nav, book, s, layers), [], 0.0
    beta = 1.0 if beta is None or math.isnan(beta) else max(float(beta), 0.0)
    run = _Session(mkt, nav, s, fills, layers, book.navs, defer)
    positions, paid = run.fill_orders(book)
    held = run.settle_and_mark(positions)
    off = run.triggers(book.off_sessions)
    held = run.monetize(held)
    held = run.remove(held, off)
    premiums = run.add(held, paid, beta)
    new = HedgeBook(tuple(held + run.selling), tuple(premiums), off, day, run.navs, tuple(run.orders))
    cash = sum(lay.cash for lay in run.st.values())
    return new, (run.rows(held + run.selling, premiums) if rows else []), cash


def _budget_window(
    day: pd.Timestamp, nav: float, navs: tuple[tuple[pd.Timestamp, float], ...], s: HedgeSettings
) -> tuple[int, tuple[tuple[pd.Timestamp, float], ...]]:
    """(first session of the budget's rolling window, in ns; the (date, NAV) pairs inside it, today's last)."""
    start = _window_start(day.value, s.budget_sessions)
    # a tuple's slice and concatenation: C copies (unpacking into a new tuple builds a list first)
    return start, tuple(_since(navs, start)) + ((day, nav),)  # noqa: RUF005


def _unlisted(
    mkt: HedgeMarket, nav: float, book: HedgeBook, s: HedgeSettings, layers: Sequence[LayerSpec]
) -> HedgeBook:
    """`advance` without rows on a session before VIX options were listed, holding nothing and with no
    order: nothing can be settled, sold or bought, so only the triggers' off counters and the budget's
    windows move (the backtest's first ~4,000 sessions; tests/unit/test_hedge.py checks it against the
    full session)."""
    start, navs = _budget_window(mkt.day, nav, book.navs, s)
    off = {spec.name: _off_count(mkt.trigger(spec.trigger, s)[0], book.off_sessions, spec.name) for spec in layers}
    return HedgeBook((), tuple(_in_window(book.premiums, start)), off, mkt.day, navs, ())


def _off_count(on: bool, before: Mapping[str, int], name: str) -> int:
    """Sessions in a row the layer's trigger has now been off."""
    return 0 if on else before.get(name, 0) + 1


def _in_window(premiums: Sequence[tuple[pd.Timestamp, float]], start: int) -> list[tuple[pd.Timestamp, float]]:
    """The premiums paid inside the budget's window (from `start`, in ns)."""
    return [(d, x) for d, x in premiums if d.value >= start]


class _Session:
    """One session's steps over the layers, in METHODOLOGY order; `st` collects each layer's row."""

    def __init__(
        self,
        mkt: HedgeMarket,
        nav: float,
        s: HedgeSettings,
        fills: list[Fill] | None,
        layers: Sequence[LayerSpec],
        navs: tuple[tuple[pd.Timestamp, float], ...] = (),
        defer: bool = False,
    ):
        self.mkt, self.nav, self.s, self.fills, self.layers, self.defer = mkt, nav, s, fills, layers, defer
        self.start, self.navs = _budget_window(mkt.day, nav, navs, s)
        self.st = {spec.name: _Layer() for spec in layers}
        self.crisis = mkt.vix >= s.monetize_vix
        self.orders: list[HedgeOrder] = []  # today's decisions, for the next session (defer)
        self.selling: list[HedgePosition] = []  # positions an order sells in full: held until it fills
        self.ordered = 0.0  # dollars today's purchase orders would pay at today's prices (the budget counts them)

    @cached_property
    def budget_nav(self) -> float:
        """The NAV the budget is a share of (see the module doc); only a budgeted purchase or a row asks."""
        if self.s.budget_nav == "current":
            return self.nav
        return sum(map(itemgetter(1), self.navs)) / len(self.navs)

    def costs(self, expiry: pd.Timestamp, strike: float, price: float) -> Costs:
        """What a fill of the call pays beyond its model `price`: its modelled half-spread (or the fixed
        slippage when the model is off) and the commission."""
        s, mkt = self.s, self.mkt
        delta, dte = mkt.quote(expiry, strike)[1], calendars.days_between(mkt.day, expiry)
        half = fill_half_spread(price, delta, dte, mkt.vix, s.spread, s.slippage)
        return Costs(half, s.commission_per_contract, multiplier=s.multiplier)

    def close(self, p: HedgePosition, n: int, price: float, action: str, code: str) -> None:
        """Sell (or settle, free of costs) n contracts of p at `price`; with defer, a sale is ordered for
        the next session instead (settlement is not a decision)."""
        lay, settles = self.st[p.layer], code.endswith(":EXPIRED")
        if self.defer and not settles:
            self.orders.append(
                HedgeOrder(self.mkt.day, p.layer, "sell", p.expiry, p.strike, n, action, code, p.position_id)
            )
            if n == p.contracts:
                self.selling.append(p)
        else:
            self._sold(p, n, price, code)
        if not settles:  # an order: the row's contracts are what a ticket trades
            lay.ordered = True
            lay.contracts -= n
        lay.action = action
        lay.shown = (p.expiry, p.strike)
        lay.note(code)

    def _sold(self, p: HedgePosition, n: int, price: float, code: str) -> None:
        """The fill of a sale (or a settlement, free of costs) of n contracts of p at `price`."""
        lay = self.st[p.layer]
        costs = 0.0 if code.endswith(":EXPIRED") else self.costs(p.expiry, p.strike, price).of(n)
        cash = n * price * self.s.multiplier - costs
        lay.cash += cash
        if self.fills is not None:
            event = "close" if n == p.contracts else "partial"
            self.fills.append(_fill(self.mkt.day, p, event, n, price, cash, costs, code))

    def _bought(self, layer: str, expiry: pd.Timestamp, strike: float, n: int, price: float) -> HedgePosition:
        """The fill of a purchase of n calls at `price` (plus slippage and commissions)."""
        lay, day, fill = self.st[layer], self.mkt.day, self.costs(expiry, strike, price)
        cost = n * fill.unit_cost(price)
        pos = HedgePosition(layer, expiry, strike, n, price, cost, day, mark=price)
        if self.fills is not None:
            self.fills.append(_fill(day, pos, "open", n, price, -cost, fill.of(n), f"{layer}:ADD"))
        lay.cash -= cost
        lay.premium += cost
        return pos

    def fill_orders(self, book: HedgeBook) -> tuple[list[HedgePosition], list[tuple[pd.Timestamp, float]]]:
        """0. Fill the previous session's orders at today's prices; returns the positions and the premiums
        paid. An order for a call that has expired (or expires today) is dropped: a held call settles
        instead; one today's market cannot price is cancelled, with the reason on the layer's row."""
        positions, premiums = list(book.positions), list(book.premiums)
        day = self.mkt.day
        for o in book.orders:
            lay = self.st.get(o.layer)
            if lay is None or o.expiry <= day:
                continue
            price = self.mkt.quote(o.expiry, o.strike)[0]
            if not price > 0:
                lay.note(f"{o.layer}:ORDER_CANCELLED_NO_PRICE")
                continue
            if o.side == "buy":
                positions.append(self._bought(o.layer, o.expiry, o.strike, o.contracts, price))
                if any(spec.budgeted for spec in self.layers if spec.name == o.layer):
                    premiums.append((day, positions[-1].cost))
            else:
                i = next((i for i, p in enumerate(positions) if p.position_id == o.position_id), None)
                if i is None:
                    continue
                p = positions[i]
                n = min(o.contracts, p.contracts)
                self._sold(p, n, price, o.code)
                positions[i] = replace(p, contracts=p.contracts - n)
            lay.note(f"{o.layer}:FILLED_{o.action.upper()}")
        return [p for p in positions if p.contracts > 0], premiums

    def settle_and_mark(self, positions: Sequence[HedgePosition]) -> list[HedgePosition]:
        """1. Mark every open position at today's prices; settle what expires today (or was missed)."""
        mkt, held = self.mkt, []
        for p in positions:
            if p.expiry <= mkt.day:
                price = max(mkt.vix - p.strike, 0.0) if mkt.vix == mkt.vix else p.mark
                self.close(p, p.contracts, price, "remove", f"{p.layer}:EXPIRED")
            else:
                price = mkt.quote(p.expiry, p.strike)[0]
                held.append(p.with_mark(price) if price == price else p)
        return held

    def triggers(self, off_before: Mapping[str, int]) -> dict[str, int]:
        """Each layer's trigger and details; returns the sessions each has now been off in a row."""
        off = {}
        for spec in self.layers:
            lay = self.st[spec.name]
            lay.trigger, lay.details = self.mkt.trigger(spec.trigger, self.s)
            off[spec.name] = _off_count(lay.trigger, off_before, spec.name)
        return off

    def monetize(self, held: list[HedgePosition]) -> list[HedgePosition]:
        """2. VIX at the monetize level closes everything; a position at half_multiple x cost sells half."""
        s = self.s
        if self.crisis:
            for p in held:
                self.close(p, p.contracts, p.mark, "monetize", f"MONETIZE:VIX_GE_{s.monetize_vix:g}")
            return []
        if self.mkt.ivts > s.half_ivts:
            for i, p in enumerate(held):
                if not p.half_sold and p.mark >= s.half_multiple * p.entry_price:
                    n = p.contracts // 2  # a single contract cannot be halved: it is kept (and flagged)
                    if n:
                        self.close(p, n, p.mark, "monetize", f"MONETIZE:HALF_AT_{s.half_multiple:g}X")
                    held[i] = replace(p, contracts=p.contracts - (0 if self.defer else n), half_sold=True)
        return held

    def remove(self, held: list[HedgePosition], off: Mapping[str, int]) -> list[HedgePosition]:
        """3. Each held layer's removal rules, first that fires wins (no rules: held to expiry)."""
        gone: set[str] = set()
        for spec in self.layers:
            if not spec.exits or not any(p.layer == spec.name for p in held):
                continue
            for rule in spec.exits:
                code = rule(self.mkt, off[spec.name], self.s)
                if code is not None:
                    gone.add(spec.name)
                    self.st[spec.name].reasons.append(f"{spec.name}:{code}")
                    break
        for p in held:
            if p.layer in gone:
                self.close(p, p.contracts, p.mark, "remove", f"{p.layer}:REMOVED")
        return [p for p in held if p.layer not in gone and p.contracts > 0]

    def add(
        self, held: list[HedgePosition], paid: Sequence[tuple[pd.Timestamp, float]], beta: float
    ) -> list[tuple[pd.Timestamp, float]]:
        """4. Each enabled, triggered layer's entry policy, budget permitting; returns the premiums paid
        inside the budget window (today's included). Appends today's purchases to `held`."""
        premiums = _in_window(paid, self.start)
        listed = listings.vix_options_listed(self.mkt.day)
        for spec in self.layers:
            name, lay = spec.name, self.st[spec.name]
            if not setting(self.s, spec.enabled):
                lay.reasons.append(f"{name}:DISABLED")
                continue
            if not listed:  # no VIX option existed: nothing to buy
                lay.reasons.append(f"{name}:{_NOT_LISTED}")
                continue
            has = any(p.layer == name for p in held)
            if not lay.trigger:
                lay.reasons.append(f"{name}:{spec.entry.off_held if has else spec.entry.off}")
                continue
            lay.reasons.append(f"{name}:{spec.entry.on}")
            base, codes = spec.weight(self.mkt, self.s)
            lay.reasons += codes
            lay.weight = base * beta
            buy, code = spec.entry.add(has, lay.weight)
            if code is not None:
                lay.reasons.append(f"{name}:{code}")
            if buy:
                self._buy(spec, lay, held, premiums)
        return premiums

    def _buy(self, spec: LayerSpec, lay: _Layer, held: list[HedgePosition], premiums: list) -> None:
        """Buy the layer's weight of its call, cut to what the budget still allows."""
        s, mkt, nav = self.s, self.mkt, self.nav
        expiry, strike = mkt.candidate(setting(s, spec.months), setting(s, spec.delta))
        lay.shown = (expiry, strike)
        if self.crisis:
            lay.reasons.append(f"MONETIZE:NO_ADD_VIX_GE_{s.monetize_vix:g}")
            return
        if not nav > 0:
            lay.reasons.append("NO_NAV")
            return
        price = mkt.quote(expiry, strike)[0] if strike == strike else math.nan
        if not price > 0:
            lay.reasons.append("NO_PRICE")
            return
        fill = self.costs(expiry, strike, price)
        unit = fill.unit_cost(price)  # all-in, per contract
        n = max(math.floor(lay.weight / 100.0 * nav / unit + 1e-9), 0)
        if n == 0:
            lay.reasons.append("ZERO_CONTRACTS")
            return
        if spec.budgeted:
            cap = s.budget_pct_nav / 100.0 * self.budget_nav
            room = max(math.floor((cap - sum(x for _, x in premiums) - self.ordered) / unit + 1e-9), 0)
            if room == 0:
                lay.reasons.append("BUDGET_BLOCKED")
                return
            if room < n:
                lay.reasons.append("BUDGET_CAPPED")
                n = room
        if self.defer:  # an order for the next session, at its price: the budget counts it from today
            self.orders.append(HedgeOrder(mkt.day, spec.name, "buy", expiry, strike, n, "add", f"{spec.name}:ADD"))
            self.ordered += n * unit if spec.budgeted else 0.0
        else:
            held.append(self._bought(spec.name, expiry, strike, n, price))
            if spec.budgeted:
                premiums.append((mkt.day, held[-1].cost))
        lay.ordered = True
        lay.contracts += n
        lay.action = "add"

    def rows(self, held: list[HedgePosition], premiums: list[tuple[pd.Timestamp, float]]) -> list[dict]:
        """One row per layer (ROW_COLUMNS)."""
        s, mkt, nav, day = self.s, self.mkt, self.nav, self.mkt.day
        used = sum(x for _, x in premiums)
        budget_pct = 100.0 * used / self.budget_nav if self.budget_nav > 0 else math.nan
        m1, m2 = num(mkt.row.get("vx_m1")), num(mkt.row.get("vx_m2"))
        contango_m1 = m1 / mkt.vix - 1 if mkt.vix > 0 else math.nan
        contango_m2 = m2 / m1 - 1 if m1 > 0 else math.nan
        trade = calendars.next_session(day) if self.defer else day  # when today's orders fill
        out = []
        for spec in self.layers:
            name, lay = spec.name, self.st[spec.name]
            mine = [p for p in held if p.layer == name]
            if lay.action != "add" and mine:
                lay.shown = (mine[-1].expiry, mine[-1].strike)
            elif lay.shown is None and setting(s, spec.enabled):
                lay.shown = mkt.candidate(setting(s, spec.months), setting(s, spec.delta))  # today's candidate
            expiry, strike = lay.shown if lay.shown else (pd.NaT, math.nan)
            opt, dlt, fwd, src = mkt.quote(expiry, strike) if strike == strike else (math.nan,) * 3 + ("none",)
            out.append(
                {
                    "date": day,
                    "layer": name,
                    "action": lay.action or ("hold" if mine else "none"),
                    "instrument": INSTRUMENT,
                    "expiry": expiry,
                    "strike": strike,
                    "delta": dlt,
                    "future_price": fwd,
                    "future_source": src,
                    "option_price": opt,
                    "contracts": lay.contracts,
                    "contracts_held": sum(p.contracts for p in mine),
                    "weight_pct_nav": lay.weight,
                    "premium_pct_nav": 100.0 * lay.premium / nav if nav > 0 else math.nan,
                    "cash_flow": lay.cash,
                    "mark_value": sum(p.contracts * p.mark * s.multiplier for p in mine),
                    "budget_used_pct_nav": budget_pct,
                    "trigger": lay.trigger,
                    "trigger_details": str(lay.details),
                    "contango_m1_spot": contango_m1,
                    "contango_m2_m1": contango_m2,
                    "reasons": lay.reasons,
                    "trade_date": trade if lay.ordered else pd.NaT,
                }
            )
        return out


def _fill(
    day: pd.Timestamp, p: HedgePosition, event: str, n: int, price: float, cash: float, costs: float, reason: str
) -> Fill:
    """One hedge trade for the ledger."""
    instrument = f"VIX {calendars.date_of_ns(p.expiry.value):%Y-%m-%d} {p.strike:g} call"  # Timestamp formats slowly
    return Fill(day, "hedge", p.position_id, instrument, p.layer, p.expiry, event, n, price, cash, costs, reason)


def run_hedge(
    features: pd.DataFrame,
    vx: pd.DataFrame,
    nav: float | pd.Series,
    s: HedgeSettings | None = None,
    beta: float | pd.Series = 1.0,
    book: HedgeBook | None = None,
    layers: Sequence[LayerSpec] = LAYERS,
) -> tuple[pd.DataFrame, pd.Series]:
    """Loop `hedge_session` over `features` (index = session dates) with a constant or per-session NAV.

    vx: core.vx_futures rows (trade_date, expiry, price; `settle` is used when `price` is absent).
    NAV and beta series are aligned to the features index (forward-filled). Cash flows do not feed
    back into NAV here: the engine (book.py) owns the NAV; this is for tests and a VXTH-style replica.
    Returns (rows, cash flow per session).
    """
    s = s or HedgeSettings()
    book = book or HedgeBook()
    index = pd.DatetimeIndex(features.index).normalize()
    navs = nav.reindex(index).ffill().to_numpy() if isinstance(nav, pd.Series) else [float(nav)] * len(index)
    betas = beta.reindex(index).ffill().to_numpy() if isinstance(beta, pd.Series) else [float(beta)] * len(index)
    by_day: dict[pd.Timestamp, dict[pd.Timestamp, float]] = {}
    if vx is not None and len(vx):
        col = "price" if "price" in vx.columns else "settle"
        for td, ex, px in zip(
            pd.to_datetime(vx["trade_date"]), pd.to_datetime(vx["expiry"]), vx[col].to_numpy(), strict=True
        ):
            by_day.setdefault(td.normalize(), {})[ex.normalize()] = float(px)
    rows: list[dict] = []
    cash = []
    for day, rec, n, b in zip(index, features.to_dict("records"), navs, betas, strict=True):
        book, day_rows, flow = hedge_session(day, rec, by_day.get(day, {}), float(n), book, s, float(b), layers=layers)
        rows += day_rows
        cash.append(flow)
    return pd.DataFrame(rows, columns=ROW_COLUMNS), pd.Series(cash, index=index, name="hedge_cash_flow")
