"""The SPX iron-condor program (METHODOLOGY §5): the candidate condor of every session with the
decision and its reasons, and the daily management of open condors.

Pure functions over one session's inputs; vixshield.book runs them day by day.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from vixshield import calendars, options, term_structure
from vixshield.options import Leg

MULTIPLIER = 100
_NS_PER_DAY = 86_400_000_000_000


@dataclass(frozen=True)
class CondorSettings:
    """METHODOLOGY §4-§5 defaults; [seed] rules are switchable for the ablation."""

    mode: str = "default"  # "default" | "cndr" (the Cboe CNDR replica, METHODOLOGY §5)
    target_dte: int = 45  # SPXW expiration nearest 45 DTE
    min_dte: int = 35
    max_dte: int = 60
    short_delta: float = 0.16
    long_delta: float = 0.05
    wing_min: float = 25.0  # index points
    wing_max: float = 100.0
    strike_step: float = 5.0  # SPX strike grid
    max_new_per_week: int = 1  # first eligible session of the ISO week
    max_open: int = 4
    allowed_regimes: tuple[str, ...] = ("CALM", "NORMAL", "ELEVATED")
    event_gate: bool = True  # [seed] no FOMC/CPI/PPI today or next session
    divergence_modifier: bool = True  # [seed] active divergence: threatened short to 0.10, wing halved
    modified_short_delta: float = 0.10
    regime_gates: bool = True  # regime / VRP / IVTS gates (off for the "without gates" ablation)
    risk_per_condor: float = 0.02  # of NAV
    max_total_risk: float = 0.10  # of NAV, all open condors
    elevated_size: float = 0.5
    take_profit: float = 0.50  # close when mark <= 50% of credit
    stop_multiple: float = 2.0  # close when mark - credit >= 2x credit
    roll_dte: int = 21  # close at 21 DTE and re-enter if gates allow
    adjust_delta: float = 0.30  # a short at |delta| >= 0.30: roll the untested short to 0.16, once
    slippage_per_leg: float = 0.10  # conservative fill: mid - 0.10 per leg
    commission_per_contract: float = 0.65  # dollars per option contract, per fill (a retail SPX rate)
    kappa: float = 0.80  # ATM vol = kappa x VIX-family vol
    dividend_yield: float = 0.018
    # cndr mode: monthly SPX (AM-settled) sold on the third Friday, shorts nearest +-0.20 delta, longs
    # nearest +-0.05, held to settlement, collateral_multiple x max loss in T-bills, no gates
    cndr_short_delta: float = 0.20
    cndr_long_delta: float = 0.05
    collateral_multiple: float = 10.0

    def __post_init__(self) -> None:
        if self.mode not in ("default", "cndr"):
            raise ValueError(f"condor mode must be 'default' or 'cndr', not {self.mode!r}")


@dataclass
class Condor:
    position_id: str
    entry_date: pd.Timestamp
    expiry: pd.Timestamp
    long_put: float
    short_put: float
    short_call: float
    long_call: float
    contracts: int
    credit: float  # per unit, as filled
    max_loss: float  # dollars per condor
    adjusted: bool = False
    realized: float = 0.0  # dollars realized by adjustments
    am_settled: bool = False  # monthly SPX (cndr mode) settle at the open; SPXW at the close

    def legs(self) -> tuple[Leg, ...]:
        key = (self.long_put, self.short_put, self.short_call, self.long_call)
        if self.__dict__.get("_legs_key") != key:  # strikes change only on an adjustment
            self.__dict__["_legs_key"] = key
            self.__dict__["_legs"] = (
                Leg("put", self.long_put, 1),
                Leg("put", self.short_put, -1),
                Leg("call", self.short_call, -1),
                Leg("call", self.long_call, 1),
            )
        return self.__dict__["_legs"]


@dataclass
class Market:
    """One session's pricing inputs, as known at its close; prices are memoized for the session."""

    day: pd.Timestamp
    spot: float
    rate: float
    row: Mapping[str, Any]
    q: float
    kappa: float
    pts: list[tuple[float, float]] = field(default_factory=list)
    _exp: dict = field(default_factory=dict, repr=False)
    _prices: dict = field(default_factory=dict, repr=False)
    _deltas: dict = field(default_factory=dict, repr=False)
    _strikes: dict = field(default_factory=dict, repr=False)
    _candidates: dict = field(default_factory=dict, repr=False)

    @classmethod
    def from_row(cls, day: pd.Timestamp, row: Mapping[str, Any], s: CondorSettings) -> Market:
        rate = _num(row.get("dgs3mo"))
        if math.isnan(rate):
            rate = _num(row.get("fed_funds"))  # DGS3MO starts 2000: DFF before (METHODOLOGY §4)
        return cls(
            day,
            _num(row.get("spx_close")),
            0.0 if math.isnan(rate) else rate / 100,
            row,
            s.dividend_yield,
            s.kappa,
            term_structure.points(row),
        )

    def _expiry(self, expiry: pd.Timestamp) -> tuple[int, float, float, float, options.Slice | None]:
        """(days, years, sigma_atm, forward, smile slice) for an expiry, computed once per session; keyed
        by the expiry's integer nanoseconds (hashing an int is far cheaper than a Timestamp in the hot loop)."""
        key = expiry.value
        hit = self._exp.get(key)
        if hit is None:
            days = max((key - self.day.value) // _NS_PER_DAY, 0)
            t = days / 365.0
            sigma = self.kappa * term_structure.term_vol(max(days, 1), self.pts)
            ok = t > 0 and sigma > 0 and self.spot > 0  # else the generic functions' degenerate cases
            sl = options.Slice(self.spot, t, self.rate, self.q, sigma) if ok else None
            hit = self._exp[key] = (days, t, sigma, options.forward(self.spot, t, self.rate, self.q), sl)
        return hit

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
            else:  # price_legs, keeping each leg's unit delta for `delta` (management asks for the shorts')
                price = net_delta = 0.0
                for leg in legs:
                    if sl is not None:
                        p, d = sl.price_delta(leg.strike, leg.kind)
                    else:
                        vol = options.smile_vol(leg.strike, fwd, t, sigma)
                        p, d = options.bs_price_delta(self.spot, leg.strike, t, self.rate, self.q, vol, leg.kind)
                    self._deltas[(leg.kind, leg.strike, expiry.value)] = d
                    price += leg.quantity * p
                    net_delta += leg.quantity * d
                hit = (price, net_delta)
            self._prices[key] = hit
        return hit

    def delta(self, leg: Leg, expiry: pd.Timestamp) -> float:
        """Unit spot delta of one option (per long contract, whatever the leg's quantity)."""
        key = (leg.kind, leg.strike, expiry.value)
        hit = self._deltas.get(key)
        if hit is None:
            _, t, sigma, fwd, _ = self._expiry(expiry)
            if t <= 0:
                return 0.0
            vol = options.smile_vol(leg.strike, fwd, t, sigma)
            hit = self._deltas[key] = options.bs_delta(self.spot, leg.strike, t, self.rate, self.q, vol, leg.kind)
        return hit


def _num(x: Any) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return math.nan
    return v


def _flag(x: Any) -> bool:
    return bool(x) if x is not None and not (isinstance(x, float) and math.isnan(x)) and x is not pd.NA else False


def strike_at(m: Market, expiry: pd.Timestamp, delta: float, kind: str, step: float) -> float:
    """The grid strike nearest |delta| on the session's smile (memoized on the Market)."""
    key = (expiry.value, delta, kind, step)
    hit = m._strikes.get(key)
    if hit is None:
        t = m.years(expiry)
        k, _ = options.strike_for_delta(
            m.spot, t, m.rate, m.q, m.sigma_atm(expiry), delta if kind == "call" else -delta, kind
        )
        hit = m._strikes[key] = options.round_to_grid(k, step)
    return hit


def _wing(short: float, long: float, s: CondorSettings, halve: bool) -> float:
    width = min(max(abs(short - long), s.wing_min), s.wing_max)
    if halve:
        width = max(s.strike_step, math.ceil(width / 2 / s.strike_step) * s.strike_step)
    return round(width / s.strike_step) * s.strike_step


def is_roll_day(day: pd.Timestamp) -> bool:
    """The monthly SPX expiration session, when the Cboe replicas (CNDR, PUT, BXM) roll."""
    return day == calendars.spx_monthly_expiration(day.year, day.month)


def candidate(m: Market, s: CondorSettings) -> dict[str, Any] | None:
    """The condor the rules would place today (before gates and sizing), with every plan field.
    Memoized on the Market per settings (callers must not mutate the dict)."""
    if s not in m._candidates:
        m._candidates[s] = _candidate(m, s)
    return m._candidates[s]


def _candidate(m: Market, s: CondorSettings) -> dict[str, Any] | None:
    if s.mode == "cndr":
        return _cndr_candidate(m, s)
    expiry = options.spxw_expiry_near(m.day, s.target_dte, s.min_dte, s.max_dte)
    if expiry is None or math.isnan(m.spot) or math.isnan(m.sigma_atm(expiry)):
        return None
    bear = s.divergence_modifier and _flag(m.row.get("bearish_divergence_active"))
    bull = s.divergence_modifier and _flag(m.row.get("bullish_divergence_active"))
    put_delta = s.modified_short_delta if bear else s.short_delta
    call_delta = s.modified_short_delta if bull else s.short_delta
    short_put = strike_at(m, expiry, put_delta, "put", s.strike_step)
    short_call = strike_at(m, expiry, call_delta, "call", s.strike_step)
    long_put = short_put - _wing(short_put, strike_at(m, expiry, s.long_delta, "put", s.strike_step), s, bear)
    long_call = short_call + _wing(strike_at(m, expiry, s.long_delta, "call", s.strike_step), short_call, s, bull)
    modifier = "bearish" if bear else ("bullish" if bull else None)
    return _describe(m, expiry, (long_put, short_put, short_call, long_call), s, modifier)


def _cndr_candidate(m: Market, s: CondorSettings) -> dict[str, Any] | None:
    """Cboe CNDR: next month's SPX monthly, shorts and longs at the strikes nearest their deltas."""
    expiry = options.monthly_expiry_after(m.day)
    if math.isnan(m.spot) or math.isnan(m.sigma_atm(expiry)):
        return None
    short_put = strike_at(m, expiry, s.cndr_short_delta, "put", s.strike_step)
    short_call = strike_at(m, expiry, s.cndr_short_delta, "call", s.strike_step)
    long_put = min(strike_at(m, expiry, s.cndr_long_delta, "put", s.strike_step), short_put - s.strike_step)
    long_call = max(strike_at(m, expiry, s.cndr_long_delta, "call", s.strike_step), short_call + s.strike_step)
    return _describe(m, expiry, (long_put, short_put, short_call, long_call), s, None)


def _describe(
    m: Market, expiry: pd.Timestamp, strikes: tuple[float, float, float, float], s: CondorSettings, modifier
) -> dict[str, Any]:
    """Every plan field of the condor with these strikes (long put, short put, short call, long call)."""
    long_put, short_put, short_call, long_call = strikes
    legs = (Leg("put", long_put, 1), Leg("put", short_put, -1), Leg("call", short_call, -1), Leg("call", long_call, 1))
    value, _ = m.price(legs, expiry)
    credit_mid = -value
    credit = credit_mid - 4 * s.slippage_per_leg
    put_width, call_width = short_put - long_put, long_call - short_call
    t, sigma = m.years(expiry), m.sigma_atm(expiry)
    be_low, be_high = short_put - credit, short_call + credit
    fwd = m.forward(expiry)
    deltas = [m.delta(leg, expiry) for leg in legs]
    return {
        "expiry": expiry.date(),
        "dte": (expiry - m.day).days,
        "long_put": long_put,
        "short_put": short_put,
        "short_call": short_call,
        "long_call": long_call,
        "long_put_delta": deltas[0],
        "short_put_delta": deltas[1],
        "short_call_delta": deltas[2],
        "long_call_delta": deltas[3],
        "sigma_atm": sigma,
        "short_put_vol": options.smile_vol(short_put, fwd, t, sigma),
        "short_call_vol": options.smile_vol(short_call, fwd, t, sigma),
        "credit_mid": credit_mid,
        "credit": credit,
        "put_width": put_width,
        "call_width": call_width,
        "max_loss": (max(put_width, call_width) - credit) * MULTIPLIER,
        "breakeven_low": be_low,
        "breakeven_high": be_high,
        "pop": _prob_between(m, fwd, t, sigma, be_low, be_high),
        "expected_move": m.spot * sigma * math.sqrt(t),
        "take_profit_price": credit * s.take_profit,
        "stop_price": credit * (1 + s.stop_multiple),
        "roll_date": calendars.session_on_or_before(expiry - pd.Timedelta(days=s.roll_dte)).date(),
        "divergence_modifier": modifier,
    }


def _prob_between(m: Market, fwd: float, t: float, sigma_atm: float, lo: float, hi: float) -> float:
    """Risk-neutral probability that SPX settles between the breakevens, each at its smile vol."""

    def below(k: float) -> float:
        if k <= 0:
            return 0.0
        vol = options.smile_vol(k, fwd, t, sigma_atm)
        d2 = (math.log(fwd / k) - 0.5 * vol * vol * t) / (vol * math.sqrt(t))
        return options.norm_cdf(-d2)

    return max(0.0, below(hi) - below(lo))


def gate_reasons(row: Mapping[str, Any], regime: str | None, s: CondorSettings) -> list[str]:
    """The entry gates that block today (METHODOLOGY §5); empty when all pass."""
    out = []
    if s.regime_gates:
        if regime not in s.allowed_regimes:
            out.append(f"GATE_REGIME_{regime or 'UNKNOWN'}")
        vrp = _num(row.get("vrp"))
        if math.isnan(vrp) or vrp <= 0:
            out.append("GATE_VRP_NOT_POSITIVE" if not math.isnan(vrp) else "GATE_VRP_MISSING")
        ivts = _num(row.get("ivts"))
        if not math.isnan(ivts) and ivts >= 1.0:
            out.append("GATE_IVTS_GE_1")
    if s.event_gate:
        for kind in ("fomc", "cpi", "ppi"):
            n = _num(row.get(f"sessions_to_{kind}"))
            if not math.isnan(n) and n <= 1:
                out.append(f"GATE_EVENT_{kind.upper()}_{'TODAY' if n == 0 else 'NEXT_SESSION'}")
    return out


def size(
    cand: dict[str, Any], nav: float, open_risk: float, regime: str | None, s: CondorSettings
) -> tuple[int, list[str]]:
    """Contracts within the per-condor and total risk budgets; reasons when sizing blocks."""
    if cand["max_loss"] <= 0 or cand["credit"] <= 0:
        return 0, ["NO_CREDIT"]
    if s.mode == "cndr":  # index units (fractional), collateralized: T-bills = collateral_multiple x max loss
        return nav / (s.collateral_multiple * cand["max_loss"]), []
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


@dataclass
class Decision:
    action: str  # hold | take_profit | stop | roll | adjust | crisis_close | expire
    reason: str
    mark: float  # cost to close per unit after the action's fills (mid)
    pnl: float  # dollars: realized for closes, unrealized for holds (since entry)
    cash: float = 0.0  # dollars paid (negative) or received today
    replacement: Condor | None = None
    reenter: bool = False
    extra: dict = field(default_factory=dict)


def manage(c: Condor, m: Market, regime: str | None, s: CondorSettings, am_open: float | None) -> Decision:
    """Today's action on one open condor, priced on today's surface only."""
    units = c.contracts * MULTIPLIER
    fees = 4 * c.contracts * s.commission_per_contract
    if m.day >= c.expiry:
        settle = options.settlement_value(c.expiry, c.am_settled, am_open, m.spot)
        value = sum(leg.quantity * options.intrinsic(settle, leg.strike, leg.kind) for leg in c.legs())
        cost = -value
        return Decision(
            "expire", f"SETTLED_AT_{settle:.2f}", cost, (c.credit - cost) * units + c.realized, -cost * units
        )
    value, _ = m.price(c.legs(), c.expiry)
    mark = -value  # cost to buy the condor back at mid
    fill = mark + 4 * s.slippage_per_leg
    if s.mode == "cndr":
        return Decision("hold", "CNDR_HOLD_TO_SETTLEMENT", mark, (c.credit - mark) * units + c.realized)

    def close(action: str, reason: str, reenter: bool = False) -> Decision:
        return Decision(
            action, reason, mark, (c.credit - fill) * units - fees + c.realized, -fill * units - fees, reenter=reenter
        )

    if regime == "CRISIS":
        return close("crisis_close", "REGIME_CRISIS")
    if mark - c.credit >= s.stop_multiple * c.credit:
        return close("stop", f"MARK_{mark:.2f}_GE_{1 + s.stop_multiple:g}X_CREDIT")
    if mark <= s.take_profit * c.credit:
        return close("take_profit", f"MARK_{mark:.2f}_LE_{s.take_profit:.0%}_CREDIT")
    if (c.expiry - m.day).days <= s.roll_dte:
        return close("roll", f"DTE_LE_{s.roll_dte}", reenter=True)
    if not c.adjusted:
        d_put, d_call = m.delta(Leg("put", c.short_put, -1), c.expiry), m.delta(Leg("call", c.short_call, -1), c.expiry)
        tested = "put" if abs(d_put) >= s.adjust_delta else ("call" if abs(d_call) >= s.adjust_delta else None)
        if tested is not None:
            return _adjust(c, m, tested, s, mark)
    return Decision("hold", "NO_RULE_FIRED", mark, (c.credit - mark) * units + c.realized)


def _adjust(c: Condor, m: Market, tested: str, s: CondorSettings, mark: float) -> Decision:
    """Roll the untested side's short (and its wing) to |delta| 0.16, once; the new side's credit
    raises the position's credit and its risk."""
    units = c.contracts * MULTIPLIER
    side = "call" if tested == "put" else "put"
    if side == "call":
        old = (Leg("call", c.short_call, 1), Leg("call", c.long_call, -1))  # buy back the call spread
        short = strike_at(m, c.expiry, s.short_delta, "call", s.strike_step)
        width = c.long_call - c.short_call
        new_legs = (Leg("call", short, -1), Leg("call", short + width, 1))
    else:
        old = (Leg("put", c.short_put, 1), Leg("put", c.long_put, -1))
        short = strike_at(m, c.expiry, s.short_delta, "put", s.strike_step)
        width = c.short_put - c.long_put
        new_legs = (Leg("put", short, -1), Leg("put", short - width, 1))
    close_cost, _ = m.price(old, c.expiry)
    open_value, _ = m.price(new_legs, c.expiry)
    slip = 4 * s.slippage_per_leg
    fees = 4 * c.contracts * s.commission_per_contract
    cash = (-close_cost + -open_value - slip) * units - fees  # pay to close, receive the new credit
    new = replace(c, adjusted=True, realized=c.realized - fees)
    if side == "call":
        new.short_call, new.long_call = new_legs[0].strike, new_legs[1].strike
    else:
        new.short_put, new.long_put = new_legs[0].strike, new_legs[1].strike
    # keep the accounting in one number: credit becomes what the current legs were sold for in total
    new.credit = c.credit + (-close_cost + -open_value - slip)
    new.max_loss = (max(new.short_put - new.long_put, new.long_call - new.short_call) - new.credit) * MULTIPLIER
    value, _ = m.price(new.legs(), c.expiry)
    return Decision(
        "adjust",
        f"{tested.upper()}_SHORT_DELTA_GE_{s.adjust_delta:.2f}_ROLL_{side.upper()}_TO_{short:g}",
        -value,
        (new.credit + value) * units - fees,
        cash,
        replacement=new,
    )
