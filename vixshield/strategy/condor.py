"""The SPX iron-condor program (METHODOLOGY §5): every session's candidate condor with the decision and
its reasons, the opening fill, and the daily management of open condors.

A strategy's condor rules are one `CondorProgram` object: `ManagedCondors` is the methodology's default
(gates, cadence, risk sizing, management), `CndrReplica` the Cboe CNDR replica (monthly 20/5-delta
condor held to settlement, collateralized). `program` picks one from `CondorSettings.mode`, the only
place that reads it. Pure functions of one session's inputs; vixshield.strategy.book runs them day by day.
"""

from __future__ import annotations

import datetime as dt
import math
import operator
from abc import ABC, abstractmethod
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

import pandas as pd

from vixshield import calendars
from vixshield.features import term_structure
from vixshield.strategy import listings, options
from vixshield.strategy.costs import Costs, half_spread
from vixshield.strategy.ledger import Fill
from vixshield.strategy.options import Leg, leg
from vixshield.strategy.record import Record
from vixshield.strategy.settings import CondorSettings
from vixshield.values import flag, num

MULTIPLIER = 100


@dataclass
class Condor(Record):
    position_id: str
    entry_date: pd.Timestamp
    expiry: pd.Timestamp
    long_put: float
    short_put: float
    short_call: float
    long_call: float
    contracts: int | float  # whole for the managed program; CNDR's index units are fractional
    credit: float  # per unit, as filled
    max_loss: float  # dollars per condor
    adjusted: bool = False
    realized: float = 0.0  # dollars realized by adjustments
    am_settled: bool = False  # monthly SPX (cndr mode) settle at the open; SPXW at the close

    legs_: tuple[Leg, ...] = field(init=False, repr=False, compare=False)

    def __init__(
        self,
        position_id: str,
        entry_date: pd.Timestamp,
        expiry: pd.Timestamp,
        long_put: float,
        short_put: float,
        short_call: float,
        long_call: float,
        contracts: int | float,
        credit: float,
        max_loss: float,
        adjusted: bool = False,
        realized: float = 0.0,
        am_settled: bool = False,
    ) -> None:  # compiled, a dataclass's own __init__ stays Python: this one is native (vixshield/native.py)
        self.position_id, self.entry_date, self.expiry = position_id, entry_date, expiry
        self.long_put, self.short_put, self.short_call, self.long_call = long_put, short_put, short_call, long_call
        self.contracts, self.credit, self.max_loss = contracts, credit, max_loss
        self.adjusted, self.realized, self.am_settled = adjusted, realized, am_settled
        # built once: a condor's strikes never change (an adjustment is a new Condor)
        self.legs_ = (
            leg("put", self.long_put, 1),
            leg("put", self.short_put, -1),
            leg("call", self.short_call, -1),
            leg("call", self.long_call, 1),
        )

    def legs(self) -> tuple[Leg, ...]:
        return self.legs_

    def filled(self, credit: float, max_loss: float) -> Condor:
        """This condor at the credit and max loss of its fill (dataclasses.replace, ~10x slower, runs per fill)."""
        return Condor(
            self.position_id,
            self.entry_date,
            self.expiry,
            self.long_put,
            self.short_put,
            self.short_call,
            self.long_call,
            self.contracts,
            credit,
            max_loss,
            self.adjusted,
            self.realized,
            self.am_settled,
        )

    def value(self, m: Market) -> float:
        """Dollars at the session's mid: a liability (negative) for a short condor."""
        value, _ = m.price(self.legs(), self.expiry)
        return value * self.contracts * 100


@dataclass
class Market:
    """One session's pricing inputs, as known at its close; prices are memoized for the session."""

    day: pd.Timestamp
    spot: float
    rate: float
    row: dict[str, Any]  # a features row: a dict, so that compiled its reads take the dict's fast path
    q: float
    kappa: float
    pts: list[tuple[float, float]] = field(default_factory=list)
    # options.smile_vol's b_put, b_call, lo, hi, passed positionally: compiled, a call with **smile goes
    # through Python
    smile: tuple[float, float, float, float] = (0.25, 0.10, 0.5, 2.5)
    _exp: dict = field(default_factory=dict, repr=False)
    _prices: dict = field(default_factory=dict, repr=False)
    # (kind, strike, expiry ns) -> one leg's (price, delta)
    _units: dict[tuple[str, float, int], tuple[float, float]] = field(default_factory=dict, repr=False)
    _deltas: dict = field(default_factory=dict, repr=False)
    _strikes: dict = field(default_factory=dict, repr=False)
    _candidates: dict = field(default_factory=dict, repr=False)
    _spreads: dict = field(default_factory=dict, repr=False)
    _gates: dict = field(default_factory=dict, repr=False)  # (regime, gate settings) -> the gates that block

    def __init__(
        self,
        day: pd.Timestamp,
        spot: float,
        rate: float,
        row: dict[str, Any],
        q: float,
        kappa: float,
        pts: list[tuple[float, float]],
        smile: tuple[float, float, float, float],  # surface_smile
    ) -> None:  # compiled, a dataclass's own __init__ stays Python: this one is native (vixshield/native.py)
        self.day, self.spot, self.rate, self.row, self.q, self.kappa = day, spot, rate, row, q, kappa
        self.pts, self.smile = pts, smile
        self._day_ns: int = day.value
        self._exp, self._prices, self._units, self._deltas = {}, {}, {}, {}
        self._strikes, self._candidates, self._spreads, self._gates = {}, {}, {}, {}
        self._listed: dict[tuple[int, int, int], pd.Timestamp | None] = {}  # listed_expiry
        self._last_expiry: pd.Timestamp | None = None  # _expiry's last question and answer
        self._last_hit: tuple[int, float, float, float, options.Slice | None] = (0, 0.0, 0.0, 0.0, None)

    @classmethod
    def from_row(cls, day: pd.Timestamp, row: dict[str, Any], s: CondorSettings) -> Market:
        vix = num(row.get("vix"))
        kappa = s.kappa + (0.0 if math.isnan(vix) else s.kappa_vix_slope * (vix - 20.0) / 10.0)
        return Market(  # not cls(...): compiled, a call through a type object goes through Python
            day,
            num(row.get("spx_close")),
            options.risk_free_rate(row),
            row,
            s.dividend_yield,
            max(kappa, 0.05),
            term_structure.points(row),
            surface(s)[1],
        )

    def _expiry(self, expiry: pd.Timestamp) -> tuple[int, float, float, float, options.Slice | None]:
        """(days, years, sigma_atm, forward, smile slice) for an expiry, computed once per session; keyed
        by the expiry's integer nanoseconds (hashing an int is far cheaper than a Timestamp in the hot loop)."""
        if expiry is self._last_expiry:  # the same Timestamp again (a condor's expiry is asked for many times)
            return self._last_hit
        key: int = expiry.value
        hit = self._exp.get(key)
        if hit is None:
            days = max((key - self._day_ns) // calendars.NS_PER_DAY, 0)
            t = days / 365.0
            sigma = self.kappa * term_structure.term_vol(max(days, 1), self.pts)
            ok = t > 0 and sigma > 0 and self.spot > 0  # else the generic functions' degenerate cases
            b_put, b_call, lo, hi = self.smile
            sl = options.Slice(self.spot, t, self.rate, self.q, sigma, b_put, b_call, lo, hi) if ok else None
            hit = self._exp[key] = (days, t, sigma, options.forward(self.spot, t, self.rate, self.q), sl)
        self._last_expiry, self._last_hit = expiry, hit
        return hit

    def smile_vol(self, strike: float, fwd: float, t: float, sigma_atm: float) -> float:
        """options.smile_vol on this session's smile."""
        b_put, b_call, lo, hi = self.smile
        return options.smile_vol(strike, fwd, t, sigma_atm, b_put, b_call, lo, hi)

    def strike_for_delta(self, expiry: pd.Timestamp, delta: float, kind: str) -> float:
        """The unrounded strike of |delta| (signed by `kind`) on this session's smile."""
        signed = delta if kind == "call" else -delta
        b_put, b_call, lo, hi = self.smile
        t, sigma = self.years(expiry), self.sigma_atm(expiry)
        k, _ = options.strike_for_delta(self.spot, t, self.rate, self.q, sigma, signed, kind, b_put, b_call, lo, hi)
        return k

    def days(self, expiry: pd.Timestamp) -> int:
        return self._expiry(expiry)[0]

    def years(self, expiry: pd.Timestamp) -> float:
        return self._expiry(expiry)[1]

    def sigma_atm(self, expiry: pd.Timestamp) -> float:
        return self._expiry(expiry)[2]

    def forward(self, expiry: pd.Timestamp) -> float:
        return self._expiry(expiry)[3]

    def price(self, legs: tuple[Leg, ...], expiry: pd.Timestamp) -> tuple[float, float]:
        key = (legs, expiry.value)
        hit = self._prices.get(key)
        if hit is None:
            _, t, sigma, fwd, sl = self._expiry(expiry)
            if t <= 0:
                hit = (sum(leg.quantity * options.intrinsic(self.spot, leg.strike, leg.kind) for leg in legs), 0.0)
            else:  # price_legs, each leg's unit price and delta kept for `unit` and `delta`
                price = net_delta = 0.0
                units, ns = self._units, key[1]
                for leg in legs:
                    unit = (leg.kind, leg.strike, ns)
                    pd_ = units.get(unit)
                    if pd_ is None:
                        if sl is not None:
                            pd_ = sl.price_delta(leg.strike, leg.kind)
                        else:
                            vol = self.smile_vol(leg.strike, fwd, t, sigma)
                            pd_ = options.bs_price_delta(self.spot, leg.strike, t, self.rate, self.q, vol, leg.kind)
                        units[unit] = pd_
                    # typed: compiled, the products and sums are C doubles (the same IEEE operations)
                    quantity = float(leg.quantity)  # what int * float does first
                    unit_price: float = pd_[0]
                    unit_delta: float = pd_[1]
                    price += quantity * unit_price
                    net_delta += quantity * unit_delta
                hit = (price, net_delta)
            self._prices[key] = hit
        return hit

    def unit(self, kind: str, strike: float, expiry: pd.Timestamp) -> tuple[float, float]:
        """price((Leg(kind, strike, 1),), expiry), read off a combination that priced the leg when one did
        (0.0 + x: what the one-leg sum gives, -0.0 included)."""
        hit = self._units.get((kind, strike, expiry.value))
        if hit is None:
            return self.price((leg(kind, strike, 1),), expiry)
        return 0.0 + hit[0], 0.0 + hit[1]

    def delta(self, leg: Leg, expiry: pd.Timestamp) -> float:
        """Unit spot delta of one option (per long contract, whatever the leg's quantity): the priced
        leg's, else Black-Scholes at its smile vol."""
        key = (leg.kind, leg.strike, expiry.value)
        priced = self._units.get(key)
        if priced is not None:
            return priced[1]
        hit = self._deltas.get(key)
        if hit is None:
            _, t, sigma, fwd, _ = self._expiry(expiry)
            if t <= 0:
                return 0.0
            vol = self.smile_vol(leg.strike, fwd, t, sigma)
            hit = self._deltas[key] = options.bs_delta(self.spot, leg.strike, t, self.rate, self.q, vol, leg.kind)
        return hit


def listed_expiry(m: Market, s: CondorSettings) -> pd.Timestamp | None:
    """listings.spx_expiry_near for the session and the settings' DTE window, memoized on the Market (the
    gates and the candidate both ask; keyed by ints, not by the session's Timestamp)."""
    key = (s.target_dte, s.min_dte, s.max_dte)
    if key not in m._listed:
        m._listed[key] = listings.expiry_near(calendars.ordinal_of_ns(m._day_ns), *key)
    return m._listed[key]


def surface_smile(s: CondorSettings) -> tuple[float, float, float, float]:
    """The smile arguments (b_put, b_call, lo, hi) of options.smile_vol / strike_for_delta / Slice."""
    return (s.skew_put, s.skew_call, s.smile_floor, s.smile_cap)


def surface_key(s: CondorSettings) -> tuple[float, ...]:
    """Every setting a session's Market prices with: markets are shared only between equal keys."""
    return (s.dividend_yield, s.kappa, s.kappa_vix_slope, s.skew_put, s.skew_call, s.smile_floor, s.smile_cap)


# id(settings) -> (the settings, surface_key, surface_smile): made once per settings object, not each
# session (seven attribute reads of an uncompiled class); the settings are kept so that a reused id
# cannot match
_SURFACES: dict[int, tuple[CondorSettings, tuple[float, ...], tuple[float, float, float, float]]] = {}


def surface(s: CondorSettings) -> tuple[tuple[float, ...], tuple[float, float, float, float]]:
    """(surface_key(s), surface_smile(s))."""
    hit = _SURFACES.get(id(s))
    if hit is None or hit[0] is not s:
        if len(_SURFACES) > 4096:  # a long-lived process that makes settings by the thousand
            _SURFACES.clear()
        hit = _SURFACES[id(s)] = (s, surface_key(s), surface_smile(s))
    return hit[1], hit[2]


def strike_at(m: Market, expiry: pd.Timestamp, delta: float, kind: str, step: float) -> float:
    """The grid strike nearest |delta| on the session's smile (memoized on the Market)."""
    key = (expiry.value, delta, kind, step)
    hit = m._strikes.get(key)
    if hit is None:
        hit = m._strikes[key] = options.round_to_grid(m.strike_for_delta(expiry, delta, kind), step)
    return hit


def _wing(short: float, long: float, spot: float, s: CondorSettings, halve: bool) -> float:
    """Width from the short to the long-delta strike, bounded by the settings' fractions of spot and at
    least one strike step (both strikes are on the grid, so an unbounded width is the delta's)."""
    width = min(max(abs(short - long), s.wing_min_pct * spot), s.wing_max_pct * spot)
    if halve:
        width = math.ceil(width / 2 / s.strike_step) * s.strike_step
    return max(s.strike_step, round(width / s.strike_step) * s.strike_step)


def is_roll_day(day: pd.Timestamp) -> bool:
    """The monthly SPX expiration session, when the Cboe replicas (CNDR, PUT, BXM) roll."""
    return day == calendars.spx_monthly_expiration(day.year, day.month)


def _prob_between(m: Market, fwd: float, t: float, sigma_atm: float, lo: float, hi: float) -> float:
    """Risk-neutral probability that SPX settles between the breakevens, each at its smile vol."""

    def below(k: float) -> float:
        if k <= 0:
            return 0.0
        vol = m.smile_vol(k, fwd, t, sigma_atm)
        d2 = (math.log(fwd / k) - 0.5 * vol * vol * t) / (vol * math.sqrt(t))
        return options.norm_cdf(-d2)

    return max(0.0, below(hi) - below(lo))


def gate_reasons(row: dict[str, Any], regime: str | None, s: CondorSettings) -> list[str]:
    """The entry gates that block today (METHODOLOGY §5); empty when all pass."""
    out = []
    if s.regime_gates:
        if regime not in s.allowed_regimes:
            out.append(f"GATE_REGIME_{regime or 'UNKNOWN'}")
        vrp = num(row.get("vrp"))
        if math.isnan(vrp) or vrp <= 0:
            out.append("GATE_VRP_NOT_POSITIVE" if not math.isnan(vrp) else "GATE_VRP_MISSING")
        ivts = num(row.get("ivts"))
        if not math.isnan(ivts) and ivts >= 1.0:
            out.append("GATE_IVTS_GE_1")
    if s.event_gate:
        for kind in ("fomc", "cpi", "ppi"):
            n = num(row.get(f"sessions_to_{kind}"))
            if not math.isnan(n) and n <= 1:
                out.append(f"GATE_EVENT_{kind.upper()}_{'TODAY' if n == 0 else 'NEXT_SESSION'}")
    return out


@dataclass
class Decision:
    action: str  # hold | take_profit | stop | roll | adjust | crisis_close | expire
    reason: str
    mark: float  # cost to close per unit after the action's fills (mid)
    pnl: float  # dollars: realized for closes, unrealized for holds (since entry)
    cash: float = 0.0  # dollars paid (negative) or received today
    replacement: Condor | None = None
    spread: float = 0.0  # points per unit the fill paid beyond the mid
    reenter: bool = False
    adjust: tuple[str, float] | None = None  # an adjustment: (side rolled, new short strike), chosen when decided

    def __init__(
        self,
        action: str,
        reason: str,
        mark: float,
        pnl: float,
        cash: float = 0.0,
        replacement: Condor | None = None,
        spread: float = 0.0,
        reenter: bool = False,
        adjust: tuple[str, float] | None = None,
    ) -> None:  # compiled, a dataclass's own __init__ stays Python: this one is native (vixshield/native.py)
        self.action, self.reason, self.mark, self.pnl, self.cash = action, reason, mark, pnl, cash
        self.replacement, self.spread, self.reenter, self.adjust = replacement, spread, reenter, adjust


CLOSING = frozenset({"take_profit", "stop", "roll", "crisis_close"})  # the decisions that close a condor


@dataclass  # not frozen, so that compiled it is a native class (vixshield/native.py); never mutated
class CondorOrder(Record):
    """A decision of one session's close, waiting for its fill on the next session the book can price
    (book.fill = next_close). `condor` is the position to close or adjust, or the one to open with the
    strikes, expiry and contracts chosen when decided; the fill reprices it on the filling session."""

    decided: pd.Timestamp
    action: str  # open | take_profit | stop | roll | crisis_close | adjust
    reason: str
    condor: Condor
    adjust: tuple[str, float] | None = None

    def __init__(
        self, decided: pd.Timestamp, action: str, reason: str, condor: Condor, adjust: tuple[str, float] | None = None
    ) -> None:  # made per order: compiled, a dataclass's own __init__ stays Python (strategy/record.py)
        self.decided, self.action, self.reason, self.condor, self.adjust = decided, action, reason, condor, adjust


@dataclass  # not frozen, so that compiled it is a native class (vixshield/native.py); never mutated
class CondorBook(Record):
    """The condor sleeve carried from one session to the next; each session makes a new one."""

    condors: tuple[Condor, ...] = ()
    last_entry_week: tuple[int, int] | None = None  # ISO (year, week) of the last entry decision
    seq: int = 0  # condors decided so far (numbers the position ids)
    orders: tuple[CondorOrder, ...] = ()  # decided on the last session, not filled yet

    def __init__(
        self,
        condors: tuple[Condor, ...] = (),
        last_entry_week: tuple[int, int] | None = None,
        seq: int = 0,
        orders: tuple[CondorOrder, ...] = (),
    ) -> None:  # compiled, a dataclass's own __init__ stays Python: this one is native (vixshield/native.py)
        self.condors, self.last_entry_week, self.seq, self.orders = condors, last_entry_week, seq, orders

    def open_risk(self) -> float:
        """Dollars at risk in the open condors (max loss x contracts)."""
        return sum(c.max_loss * c.contracts for c in self.condors)

    def staying(self) -> CondorBook:
        """The book without the condors a pending order closes: what capacity and the risk budget count
        (a condor ordered closed today no longer takes a place, as when it closed at once)."""
        closing = {o.condor.position_id for o in self.orders if o.action in CLOSING}
        if not closing:
            return self
        kept = tuple(c for c in self.condors if c.position_id not in closing)
        return CondorBook(kept, self.last_entry_week, self.seq, self.orders)


@dataclass
class Managed:
    """The open condors after a session's management."""

    book: CondorBook
    cash: float  # dollars received (+) or paid (-) by today's closes and adjustments
    value: float  # the kept condors at today's mid (a liability: negative)
    reenter: bool  # a roll closed a condor today: the weekly cadence does not block a new one

    def __init__(
        self, book: CondorBook, cash: float, value: float, reenter: bool
    ) -> None:  # compiled, a dataclass's own __init__ stays Python: this one is native (vixshield/native.py)
        self.book, self.cash, self.value, self.reenter = book, cash, value, reenter


@dataclass
class Entry:
    """Today's candidate and, when it opens, the new condor."""

    book: CondorBook
    plan: dict | None = None  # the plan row (None when rows are not wanted and nothing could open)
    opened: Condor | None = None
    cash: float = 0.0  # the credit received, net of commissions
    fill: Fill | None = None

    def __init__(
        self,
        book: CondorBook,
        plan: dict | None = None,
        opened: Condor | None = None,
        cash: float = 0.0,
        fill: Fill | None = None,
    ) -> None:  # compiled, a dataclass's own __init__ stays Python: this one is native (vixshield/native.py)
        self.book, self.plan, self.opened, self.cash, self.fill = book, plan, opened, cash, fill


# a small int per distinct settings key of the Market memos: hashing a frozen settings dataclass field by
# field (Python code, ~40 fields) in every lookup costs more than the lookup; equal keys get the same int
_KEY_IDS: dict[object, int] = {}


def _key_id(key: object) -> int:
    return _KEY_IDS.setdefault(key, len(_KEY_IDS))


class CondorProgram(ABC):
    """The rules of one condor strategy; subclasses fill in what differs (see the module doc)."""

    am_settled = False  # SPXW settle at the expiration-day close; monthly SPX at its open

    def __init__(self, s: CondorSettings, enabled: bool = True):
        self.s = s
        self.enabled = enabled  # BookSettings.condors: off, every plan row says CONDORS_OFF
        self.costs = Costs(s.slippage_per_leg, s.commission_per_contract, legs=4, multiplier=MULTIPLIER)
        # what the candidate's strikes and prices depend on: every setting but the exit levels
        self._candidate_key = _key_id((type(self), replace(s, take_profit=0.0, stop_multiple=0.0, roll_dte=0)))
        self._spread_key = _key_id(s.spread)
        self._gate_key = (s.regime_gates, s.allowed_regimes, s.event_gate)  # every setting gate_reasons reads

    # --- what differs between strategies ---------------------------------------------------------

    @abstractmethod
    def blocks(self, m: Market, regime: str | None, book: CondorBook, reenter: bool) -> list[str]:
        """What stops a condor opening today, before it is priced: gates, cadence, capacity."""

    @abstractmethod
    def _candidate(self, m: Market) -> dict[str, Any] | None:
        """The condor the rules would place today, described by `_describe`; None when unpriceable."""

    @abstractmethod
    def _contracts(
        self, cand: dict[str, Any], nav: float, open_risk: float, regime: str | None
    ) -> tuple[float, list[str]]:
        """Contracts for a candidate with a credit, and the reasons when sizing blocks."""

    @abstractmethod
    def _manage_open(self, c: Condor, m: Market, regime: str | None, mark: float) -> Decision:
        """Today's action on a condor before its expiry; `mark` is the cost to buy it back at mid."""

    # --- shared ----------------------------------------------------------------------------------

    def candidate(self, m: Market) -> dict[str, Any] | None:
        """The condor the rules would place today (before gates and sizing), with every plan field.
        The strikes and prices are memoized on the Market per settings other than the exit levels, which
        only scale the credit: a sweep over take_profit shares them (callers must not mutate the dict)."""
        key = self._candidate_key
        if key not in m._candidates:
            m._candidates[key] = self._candidate(m)
        cand = m._candidates[key]
        if cand is None:
            return None
        s, credit = self.s, cand["credit"]
        # keys already in `cand`: the plan's field order is _describe's
        return {
            **cand,
            "take_profit_price": credit * s.take_profit,
            "stop_price": credit * (1 + s.stop_multiple),
            "roll_date": _roll_date(cand["expiry"], s.roll_dte),
        }

    def spread(self, m: Market, legs: tuple[Leg, ...], expiry: pd.Timestamp) -> float:
        """Points per unit between the combination's mid and its fill: each leg's modelled half-spread
        (its own price, delta, DTE and the session's VIX), or the fixed slippage_per_leg when the model
        is off."""
        sp = self.s.spread
        if not sp.model:
            return len(legs) * self.s.slippage_per_leg * sp.multiplier
        key = (legs, expiry.value, self._spread_key)  # a pure function of the session: memoized on its Market
        total = m._spreads.get(key)
        if total is None:
            days, vix = m.days(expiry), num(m.row.get("vix"))
            total = 0.0
            for leg in legs:
                price, delta = m.unit(leg.kind, leg.strike, expiry)
                total += abs(leg.quantity) * half_spread(price, delta, days, vix, sp)
            m._spreads[key] = total
        return total

    def fill_costs(self, spread: float, contracts: float) -> float:
        """Dollars of spread and commissions in a four-leg fill that paid `spread` points per unit."""
        c = self.costs
        return Costs(spread / c.legs, c.commission, c.legs, c.multiplier).of(contracts)

    def size(self, cand: dict[str, Any], nav: float, open_risk: float, regime: str | None) -> tuple[float, list[str]]:
        """Contracts for the candidate, and the reasons when sizing blocks."""
        if cand["max_loss"] <= 0 or cand["credit"] <= 0:
            return 0, ["NO_CREDIT"]
        return self._contracts(cand, nav, open_risk, regime)

    def manage(self, c: Condor, m: Market, regime: str | None, am_open: float | None) -> Decision:
        """Today's action on one open condor, priced on today's surface only and filled at once."""
        d = self.decide(c, m, regime, am_open)
        return d if d.action in ("hold", "expire") else self.fill(c, d, m)

    def decide(self, c: Condor, m: Market, regime: str | None, am_open: float | None) -> Decision:
        """Today's decision on one open condor, not yet filled (settlement at expiry is no decision:
        it is complete). mark: the cost to buy it back at today's mid; pnl: unrealized at that mark."""
        if m.day >= c.expiry:
            units = c.contracts * MULTIPLIER
            settle = options.settlement_value(c.expiry, c.am_settled, am_open, m.spot)
            cost = -sum(leg.quantity * options.intrinsic(settle, leg.strike, leg.kind) for leg in c.legs())
            pnl = (c.credit - cost) * units + c.realized
            return Decision("expire", f"SETTLED_AT_{settle:.2f}", cost, pnl, -cost * units)
        value, _ = m.price(c.legs(), c.expiry)
        return self._manage_open(c, m, regime, -value)  # mark: the cost to buy the condor back at mid

    def fill(self, c: Condor, d: Decision, m: Market) -> Decision:
        """Fill a close or an adjustment decided on `d` at `m`'s prices (the deciding session's or a
        later one's): the mid plus the legs' modelled half-spreads, and the commissions."""
        if d.adjust is not None:
            return self._adjust(c, m, d.reason, *d.adjust)
        units, fees = c.contracts * MULTIPLIER, self.costs.fees(c.contracts)
        value, _ = m.price(c.legs(), c.expiry)
        mark, spread = -value, self.spread(m, c.legs(), c.expiry)
        paid = mark + spread
        pnl = (c.credit - paid) * units - fees + c.realized
        return Decision(d.action, d.reason, mark, pnl, -paid * units - fees, reenter=d.reenter, spread=spread)

    def manage_book(
        self,
        book: CondorBook,
        m: Market,
        regime: str | None,
        am_open: float | None,
        fills: list[Fill],
        rows: bool,
        defer: bool = False,
    ) -> tuple[Managed, list[dict]]:
        """Manage every open condor; returns the result and, when rows are wanted, one action row each.
        defer (book.fill = next_close): a close or adjustment becomes an order for the next session and the
        condor stays open, at today's mid, until it fills; settlement at expiry is never deferred."""
        kept: list[Condor] = []
        orders: list[CondorOrder] = []
        cash = value = 0.0
        reenter = False
        actions = []
        for c in book.condors:
            d = self.decide(c, m, regime, am_open)
            ordered = d.action not in ("hold", "expire")
            if ordered and defer:
                orders.append(CondorOrder(m.day, d.action, d.reason, c, d.adjust))
            elif ordered:
                d = self.fill(c, d, m)
                costs = self.fill_costs(d.spread, c.contracts)
                fills.append(_fill(m.day, c, "adjust" if d.adjust else "close", d.mark, d.cash, costs, _why(d)))
            elif d.action == "expire":
                fills.append(_fill(m.day, c, "close", d.mark, d.cash, 0.0, _why(d)))
            cash += d.cash
            if rows:
                actions.append(_action_row(m.day, c, d, trade_date(m.day, defer) if ordered else None))
            if d.action == "hold" or (ordered and defer) or d.replacement is not None:
                kept.append(d.replacement or c)
                value -= d.mark * kept[-1].contracts * MULTIPLIER  # mark = cost to close at mid
            reenter = reenter or d.reenter
        unchanged = not orders and len(kept) == len(book.condors) and all(map(operator.is_, kept, book.condors))
        new = book if unchanged else CondorBook(tuple(kept), book.last_entry_week, book.seq, (*book.orders, *orders))
        return Managed(new, cash, value, reenter), actions

    def fill_orders(self, book: CondorBook, m: Market, fills: list[Fill], rows: bool) -> tuple[CondorBook, float, list]:
        """Fill the orders decided on an earlier close at this session's prices (book.fill = next_close):
        an entry keeps the strikes, expiry and contracts it was decided with; a close or an adjustment
        applies to the condor as it is now. An order whose condor has expired (or expires today) is
        dropped: settlement closes it. Returns the book, the cash and a `close` row per condor closed."""
        condors = {c.position_id: c for c in book.condors}
        cash, actions = 0.0, []
        for o in book.orders:
            c = condors.get(o.condor.position_id, o.condor if o.action == "open" else None)
            if c is None or m.day >= c.expiry:
                continue
            if o.action == "open":
                c, received, fill = self._opened(o.condor, m, o.reason)
                condors[c.position_id] = c
                cash += received
                fills.append(fill)
                continue
            d = self.fill(c, Decision(o.action, o.reason, math.nan, math.nan, adjust=o.adjust), m)
            cash += d.cash
            costs = self.fill_costs(d.spread, c.contracts)
            fills.append(_fill(m.day, c, "adjust" if d.adjust else "close", d.mark, d.cash, costs, _why(d)))
            if d.replacement is not None:
                condors[c.position_id] = d.replacement
            else:
                del condors[c.position_id]
                if rows:
                    actions.append(_action_row(m.day, c, replace(d, action="close", reason=_why(d)), None))
        return CondorBook(tuple(condors.values()), book.last_entry_week, book.seq), cash, actions

    def _opened(self, c: Condor, m: Market, reasons: str) -> tuple[Condor, float, Fill]:
        """The condor `c` (strikes, expiry, contracts) sold at `m`'s prices: (the position, the credit
        received net of commissions, its fill)."""
        value, _ = m.price(c.legs(), c.expiry)
        credit_mid = -value
        credit = credit_mid - self.spread(m, c.legs(), c.expiry)
        spread = credit_mid - credit  # as the plan reports it (credit_mid - credit)
        width = max(c.short_put - c.long_put, c.long_call - c.short_call)
        c = c.filled(credit, (width - credit) * MULTIPLIER)
        received = c.credit * c.contracts * MULTIPLIER - self.costs.fees(c.contracts)
        fill = _fill(m.day, c, "open", credit_mid, received, self.fill_costs(spread, c.contracts), reasons)
        return c, received, fill

    def _adjust(self, c: Condor, m: Market, reason: str, side: str, short: float) -> Decision:
        """Fill an adjustment at `m`'s prices: buy back the untested side's spread and sell the same width
        from the new short (chosen when decided), once; the new side's credit raises the position's
        credit and its risk."""
        units = c.contracts * MULTIPLIER
        if side == "call":
            old = (leg("call", c.short_call, 1), leg("call", c.long_call, -1))  # buy back the call spread
            width = c.long_call - c.short_call
            new_legs = (leg("call", short, -1), leg("call", short + width, 1))
        else:
            old = (leg("put", c.short_put, 1), leg("put", c.long_put, -1))
            width = c.short_put - c.long_put
            new_legs = (leg("put", short, -1), leg("put", short - width, 1))
        close_cost, _ = m.price(old, c.expiry)
        open_value, _ = m.price(new_legs, c.expiry)
        slip = self.spread(m, old + new_legs, c.expiry)
        fees = self.costs.fees(c.contracts)
        cash = (-close_cost + -open_value - slip) * units - fees  # pay to close, receive the new credit
        if side == "call":
            lp, sp, sc, lc = c.long_put, c.short_put, new_legs[0].strike, new_legs[1].strike
        else:
            lp, sp, sc, lc = new_legs[1].strike, new_legs[0].strike, c.short_call, c.long_call
        # keep the accounting in one number: credit becomes what the current legs were sold for in total
        credit = c.credit + (-close_cost + -open_value - slip)
        max_loss = (max(sp - lp, lc - sc) - credit) * MULTIPLIER
        realized = c.realized - fees
        # the constructor, not dataclasses.replace (~100,000 instructions compiled)
        new = Condor(
            c.position_id,
            c.entry_date,
            c.expiry,
            lp,
            sp,
            sc,
            lc,
            c.contracts,
            credit,
            max_loss,
            True,
            realized,
            c.am_settled,
        )
        value, _ = m.price(new.legs(), c.expiry)
        return Decision(
            "adjust",
            reason,
            -value,
            (new.credit + value) * units - fees,
            cash,
            replacement=new,
            spread=slip,
            adjust=(side, short),
        )

    def enter(
        self,
        book: CondorBook,
        m: Market,
        regime: str | None,
        nav: float,
        reenter: bool,
        rows: bool,
        defer: bool = False,
    ) -> Entry:
        """Today's candidate through the gates, cadence, capacity and sizing; opens it when all pass, or
        with defer (book.fill = next_close) orders it for the next session: the plan's strikes, expiry and
        contracts, filled at that session's prices. Without rows, a session where nothing could open is
        not priced at all."""
        day = m.day
        staying = book.staying()
        reasons = self.blocks(m, regime, staying, reenter)
        if reasons and not rows:
            return Entry(book)
        cand = self.candidate(m)
        base = {"date": day.date(), "regime": regime, "nav_for_sizing": nav}
        if cand is None:
            row = {**base, "enter": False, "contracts": 0, "reasons": [*reasons, "NO_CANDIDATE"], "trade_date": None}
            return Entry(book, row)
        contracts, size_reasons = self.size(cand, nav, staying.open_risk(), regime)
        reasons += size_reasons
        enter = not [x for x in reasons if not x.startswith("SIZE_HALF")]
        if enter:
            reasons = ["ENTER" + ("_ROLL" if reenter else ""), *reasons]
        if cand["divergence_modifier"]:
            reasons.append(f"MOD_{cand['divergence_modifier'].upper()}_DIVERGENCE")
        flags = {f"event_{k}": (num(m.row.get(f"sessions_to_{k}")) <= 1) for k in ("fomc", "cpi", "ppi")}
        plan = {
            **base,
            **cand,
            "contracts": contracts if enter else 0,
            "enter": enter,
            "pct_nav_at_risk": contracts * cand["max_loss"] / nav if enter and nav else 0.0,
            **flags,
            "reasons": reasons,
            "trade_date": trade_date(day, defer) if enter else None,
        }
        if not enter:
            return Entry(book, plan)
        expiry = _timestamp(cand["expiry"])
        c = Condor(
            f"IC-{calendars.date_of_ns(day.value):%Y%m%d}-{book.seq + 1}",  # a Timestamp formats slowly
            day,
            expiry,
            cand["long_put"],
            cand["short_put"],
            cand["short_call"],
            cand["long_call"],
            contracts,
            cand["credit"],
            cand["max_loss"],
            am_settled=self.am_settled or listings.am_settled(day, expiry),
        )
        week, seq = _iso_week(day.value), book.seq + 1
        if defer:
            order = CondorOrder(day, "open", ",".join(reasons), c)
            return Entry(CondorBook(book.condors, week, seq, (*book.orders, order)), plan)
        c, received, fill = self._opened(c, m, ",".join(reasons))
        return Entry(CondorBook((*book.condors, c), week, seq, book.orders), plan, c, received, fill)

    def _describe(
        self, m: Market, expiry: pd.Timestamp, strikes: tuple[float, float, float, float], modifier: str | None
    ) -> dict[str, Any]:
        """Every plan field of the condor with these strikes (long put, short put, short call, long call)."""
        long_put, short_put, short_call, long_call = strikes
        legs = (
            leg("put", long_put, 1),
            leg("put", short_put, -1),
            leg("call", short_call, -1),
            leg("call", long_call, 1),
        )
        value, _ = m.price(legs, expiry)
        credit_mid = -value
        credit = credit_mid - self.spread(m, legs, expiry)
        put_width, call_width = short_put - long_put, long_call - short_call
        t, sigma = m.years(expiry), m.sigma_atm(expiry)
        be_low, be_high = short_put - credit, short_call + credit
        fwd = m.forward(expiry)
        deltas = [m.delta(leg, expiry) for leg in legs]
        return {
            "expiry": expiry.date(),
            "dte": calendars.days_between(m.day, expiry),
            "long_put": long_put,
            "short_put": short_put,
            "short_call": short_call,
            "long_call": long_call,
            "long_put_delta": deltas[0],
            "short_put_delta": deltas[1],
            "short_call_delta": deltas[2],
            "long_call_delta": deltas[3],
            "sigma_atm": sigma,
            "short_put_vol": m.smile_vol(short_put, fwd, t, sigma),
            "short_call_vol": m.smile_vol(short_call, fwd, t, sigma),
            "credit_mid": credit_mid,
            "credit": credit,
            "put_width": put_width,
            "call_width": call_width,
            "max_loss": (max(put_width, call_width) - credit) * MULTIPLIER,
            "breakeven_low": be_low,
            "breakeven_high": be_high,
            "pop": _prob_between(m, fwd, t, sigma, be_low, be_high),
            "expected_move": m.spot * sigma * math.sqrt(t),
            "take_profit_price": None,  # the exit levels: set by `candidate` from the settings
            "stop_price": None,
            "roll_date": None,
            "divergence_modifier": modifier,
        }


class ManagedCondors(CondorProgram):
    """METHODOLOGY §5 default: the SPXW expiration nearest 45 DTE at 16/5 delta, gated, at most one new
    condor a week and four open, sized on risk, managed daily (take profit, stop, 21-DTE roll, one
    adjustment, crisis close)."""

    def blocks(self, m: Market, regime: str | None, book: CondorBook, reenter: bool) -> list[str]:
        day = m.day
        key = (regime, self._gate_key)  # the gates are a pure function of the session and these settings
        gates = m._gates.get(key)
        if gates is None:
            gates = m._gates[key] = tuple(gate_reasons(m.row, regime, self.s))
        reasons = list(gates)
        if not self.enabled:
            reasons.append("CONDORS_OFF")
        if book.last_entry_week == _iso_week(day.value) and not reenter:
            reasons.append("CADENCE_ONE_PER_WEEK")
        if len(book.condors) >= self.s.max_open:
            reasons.append("CAPACITY_MAX_OPEN")
        if listed_expiry(m, self.s) is None:
            reasons.append(f"NO_LISTED_EXPIRY_{self.s.min_dte}_{self.s.max_dte}_DTE")  # e.g. monthlies only, pre-2005
        return reasons

    def _candidate(self, m: Market) -> dict[str, Any] | None:
        s = self.s
        expiry = listed_expiry(m, s)  # only what was listed
        if expiry is None or math.isnan(m.spot) or math.isnan(m.sigma_atm(expiry)):
            return None
        bear = s.divergence_modifier and bool(flag(m.row.get("bearish_divergence_active")))
        bull = s.divergence_modifier and bool(flag(m.row.get("bullish_divergence_active")))
        put_delta = s.modified_short_delta if bear else s.short_delta
        call_delta = s.modified_short_delta if bull else s.short_delta
        short_put = strike_at(m, expiry, put_delta, "put", s.strike_step)
        short_call = strike_at(m, expiry, call_delta, "call", s.strike_step)
        long_put = short_put - _wing(
            short_put, strike_at(m, expiry, s.long_delta, "put", s.strike_step), m.spot, s, bear
        )
        long_call = short_call + _wing(
            strike_at(m, expiry, s.long_delta, "call", s.strike_step), short_call, m.spot, s, bull
        )
        modifier = "bearish" if bear else ("bullish" if bull else None)
        return self._describe(m, expiry, (long_put, short_put, short_call, long_call), modifier)

    def _contracts(
        self, cand: dict[str, Any], nav: float, open_risk: float, regime: str | None
    ) -> tuple[float, list[str]]:
        """Within the per-condor and total risk budgets, half size in ELEVATED."""
        s = self.s
        contracts = math.floor(s.risk_per_condor * nav / cand["max_loss"])
        reasons = []
        if regime == "ELEVATED":
            contracts = math.floor(contracts * s.elevated_size)
            reasons.append("SIZE_HALF_ELEVATED")
        room = math.floor(max(s.max_total_risk * nav - open_risk, 0.0) / cand["max_loss"])
        if room < contracts:
            contracts = room
            reasons.append("CAPACITY_RISK_BUDGET")
        if contracts <= 0:
            reasons.append("SIZE_ZERO")
        return max(contracts, 0), reasons

    def _manage_open(self, c: Condor, m: Market, regime: str | None, mark: float) -> Decision:
        s = self.s
        units = c.contracts * MULTIPLIER
        unrealized = (c.credit - mark) * units + c.realized

        def order(action: str, reason: str, reenter: bool = False, adjust: tuple[str, float] | None = None):
            return Decision(action, reason, mark, unrealized, reenter=reenter, adjust=adjust)

        if regime == "CRISIS":
            return order("crisis_close", "REGIME_CRISIS")
        if mark - c.credit >= s.stop_multiple * c.credit:
            return order("stop", f"MARK_{mark:.2f}_GE_{1 + s.stop_multiple:g}X_CREDIT")
        if mark <= s.take_profit * c.credit:
            return order("take_profit", f"MARK_{mark:.2f}_LE_{s.take_profit:.0%}_CREDIT")
        if m.days(c.expiry) <= s.roll_dte:  # calendar days to expiry (after it: `manage` settles)
            return order("roll", f"DTE_LE_{s.roll_dte}", reenter=True)
        if not c.adjusted:
            legs = c.legs()  # (long put, short put, short call, long call): the shorts' unit deltas
            d_put, d_call = m.delta(legs[1], c.expiry), m.delta(legs[2], c.expiry)
            tested = "put" if abs(d_put) >= s.adjust_delta else ("call" if abs(d_call) >= s.adjust_delta else None)
            if tested is not None:  # roll the untested side's short to |delta| 0.16, at today's smile
                side = "call" if tested == "put" else "put"
                short = strike_at(m, c.expiry, s.short_delta, side, s.strike_step)
                reason = f"{tested.upper()}_SHORT_DELTA_GE_{s.adjust_delta:.2f}_ROLL_{side.upper()}_TO_{short:g}"
                return order("adjust", reason, adjust=(side, short))
        return Decision("hold", "NO_RULE_FIRED", mark, unrealized)


class CndrReplica(CondorProgram):
    """Cboe CNDR: on each monthly expiration session sell next month's SPX monthly (AM-settled), shorts
    and longs at the strikes nearest 0.20 and 0.05 delta; one at a time, no gates, held to settlement,
    sized so that T-bills hold collateral_multiple x its max loss."""

    am_settled = True

    def blocks(self, m: Market, regime: str | None, book: CondorBook, reenter: bool) -> list[str]:
        reasons = [] if is_roll_day(m.day) else ["CNDR_NOT_ROLL_DAY"]
        reasons += ["CONDORS_OFF"] if not self.enabled else []
        return reasons + (["CAPACITY_MAX_OPEN"] if book.condors else [])

    def _candidate(self, m: Market) -> dict[str, Any] | None:
        s = self.s
        expiry = options.monthly_expiry_after(m.day)
        if math.isnan(m.spot) or math.isnan(m.sigma_atm(expiry)):
            return None
        short_put = strike_at(m, expiry, s.cndr_short_delta, "put", s.strike_step)
        short_call = strike_at(m, expiry, s.cndr_short_delta, "call", s.strike_step)
        long_put = min(strike_at(m, expiry, s.cndr_long_delta, "put", s.strike_step), short_put - s.strike_step)
        long_call = max(strike_at(m, expiry, s.cndr_long_delta, "call", s.strike_step), short_call + s.strike_step)
        return self._describe(m, expiry, (long_put, short_put, short_call, long_call), None)

    def _contracts(
        self, cand: dict[str, Any], nav: float, open_risk: float, regime: str | None
    ) -> tuple[float, list[str]]:
        """Index units (fractional), as the index is computed: collateral_multiple x max loss in T-bills."""
        return nav / (self.s.collateral_multiple * cand["max_loss"]), []

    def _manage_open(self, c: Condor, m: Market, regime: str | None, mark: float) -> Decision:
        units = c.contracts * MULTIPLIER
        return Decision("hold", "CNDR_HOLD_TO_SETTLEMENT", mark, (c.credit - mark) * units + c.realized)


PROGRAMS: dict[str, type[CondorProgram]] = {"default": ManagedCondors, "cndr": CndrReplica}


def program(s: CondorSettings, enabled: bool = True) -> CondorProgram:
    """The condor strategy `s.mode` names."""
    return PROGRAMS[s.mode](s, enabled)


# the program's rules for callers that hold settings rather than a program


def candidate(m: Market, s: CondorSettings) -> dict[str, Any] | None:
    return program(s).candidate(m)


def size(
    cand: dict[str, Any], nav: float, open_risk: float, regime: str | None, s: CondorSettings
) -> tuple[float, list[str]]:
    return program(s).size(cand, nav, open_risk, regime)


def manage(c: Condor, m: Market, regime: str | None, s: CondorSettings, am_open: float | None) -> Decision:
    return program(s).manage(c, m, regime, am_open)


def trade_date(day: pd.Timestamp, defer: bool) -> dt.date:
    """The session an order decided on `day`'s close fills on: the next NYSE session with defer
    (book.fill = next_close), else `day` itself."""
    return _trade_date(day.value, defer)


@lru_cache(maxsize=65_536)  # each entry asks, and a sweep's runs enter on the same sessions
def _trade_date(day_ns: int, defer: bool) -> dt.date:
    day = calendars.date_of_ns(day_ns)
    return dt.date.fromordinal(calendars.shift_ordinal(day.toordinal(), 0, "right")) if defer else day


def _why(d: Decision) -> str:
    """A fill's reason in the ledger: the decision and its rule."""
    return f"{d.action}:{d.reason}"


def _action_row(day: pd.Timestamp, c: Condor, d: Decision, trade: dt.date | None) -> dict:
    """One signals.condor_actions row; `trade`: the session its order fills on (None: no order)."""
    return {
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
        "trade_date": trade,
    }


def _fill(day: pd.Timestamp, c: Condor, event: str, price: float, cash: float, costs: float, reason: str) -> Fill:
    """One condor trade for the ledger."""
    instrument = _instrument(c.expiry.value, c.long_put, c.short_put, c.short_call, c.long_call)
    return Fill(
        day, "condor", c.position_id, instrument, None, c.expiry, event, c.contracts, price, cash, costs, reason
    )


@lru_cache(maxsize=65_536)  # a condor fills two to four times, and a sweep's runs share most condors
def _instrument(expiry_ns: int, long_put: float, short_put: float, short_call: float, long_call: float) -> str:
    expiry = calendars.date_of_ns(expiry_ns).isoformat()
    return f"SPX {expiry} {long_put:g}/{short_put:g}/{short_call:g}/{long_call:g} IC"


@lru_cache(maxsize=65_536)  # each candidate asks; Timestamp arithmetic is slow
def _roll_date(expiry: dt.date, roll_dte: int) -> dt.date:
    """The session on or before `roll_dte` calendar days ahead of the expiry: the plan's roll date."""
    return dt.date.fromordinal(calendars.shift_ordinal(expiry.toordinal() - roll_dte, -1, "right"))


@lru_cache(maxsize=65_536)  # each entry asks for its plan's expiry; building a Timestamp is slow
def _timestamp(day: dt.date) -> pd.Timestamp:
    return pd.Timestamp(day)


@lru_cache(maxsize=65_536)  # every session asks (the cadence gate); the Timestamp method is slow
def _iso_week(day_ns: int) -> tuple[int, int]:
    year, week, _ = calendars.date_of_ns(day_ns).isocalendar()
    return year, week
