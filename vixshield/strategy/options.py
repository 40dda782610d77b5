"""SPX option pricing for the condor engine (METHODOLOGY §4-§5).

Black-Scholes with a continuous dividend yield, an ATM vol read off the VIX-family term structure
(scaled by kappa), a two-slope skew in moneyness z = ln(K/F)/(sigma_atm*sqrt(T)), strike-for-delta on
that smile, the 5-point strike grid and the SPXW / monthly SPX expiration rules.

The per-option functions are scalar `math` (no numpy): they run a few dozen times per session inside
a ~9,000-session loop. Conventions: T in years = calendar days / 365; r and q continuous decimals;
vols as decimals; deltas are spot deltas (e^{-qT} N(d1) for a call, e^{-qT}(N(d1) - 1) for a put).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from statistics import NormalDist
from typing import Any, Final, NamedTuple

import pandas as pd

from vixshield import calendars
from vixshield.features import term_structure
from vixshield.values import num

DAYS_PER_YEAR = 365.0
_INV_SQRT2: Final = 1.0 / math.sqrt(2.0)
# compiled, a Final name is a C static: math.erfc (which mypyc has no primitive for) is not looked up on
# the module at every call, four times a priced leg
_erfc: Final = math.erfc
_inv_cdf = NormalDist().inv_cdf


def risk_free_rate(row: dict[str, Any]) -> float:
    """The session's 3-month bill rate as a decimal (the `dgs3mo` feature: DGS3MO, DTB3 before it), the
    effective fed funds rate where neither is known, 0 where nothing is: what cash earns and what every
    option is priced with."""
    for key in ("dgs3mo", "fed_funds"):
        v = num(row.get(key))
        if not math.isnan(v):
            return v / 100.0
    return 0.0


def _check_kind(kind: str) -> bool:
    """True for a call, False for a put."""
    if kind == "call":
        return True
    if kind == "put":
        return False
    raise ValueError(f"kind must be 'call' or 'put', not {kind!r}")


def norm_cdf(x: float) -> float:
    """Standard normal CDF via erfc (accurate in both tails)."""
    return 0.5 * _erfc(-x * _INV_SQRT2)


def forward(spot: float, t: float, r: float, q: float) -> float:
    return spot * math.exp((r - q) * t)


def intrinsic(spot: float, strike: float, kind: str) -> float:
    return max(spot - strike, 0.0) if _check_kind(kind) else max(strike - spot, 0.0)


def bs_price(spot: float, strike: float, t: float, r: float, q: float, sigma: float, kind: str) -> float:
    """Black-Scholes price with continuous dividend yield q. T <= 0 gives intrinsic; sigma <= 0 gives
    the discounted forward payoff."""
    is_call = _check_kind(kind)
    if t <= 0.0:
        return max(spot - strike, 0.0) if is_call else max(strike - spot, 0.0)
    dq = math.exp(-q * t)
    dr = math.exp(-r * t)
    if sigma <= 0.0:
        diff = spot * dq - strike * dr
        return max(diff, 0.0) if is_call else max(-diff, 0.0)
    sd = sigma * math.sqrt(t)
    d1 = (math.log(spot / strike) + (r - q) * t) / sd + 0.5 * sd
    d2 = d1 - sd
    if is_call:
        return spot * dq * 0.5 * _erfc(-d1 * _INV_SQRT2) - strike * dr * 0.5 * _erfc(-d2 * _INV_SQRT2)
    return strike * dr * 0.5 * _erfc(d2 * _INV_SQRT2) - spot * dq * 0.5 * _erfc(d1 * _INV_SQRT2)


def bs_delta(spot: float, strike: float, t: float, r: float, q: float, sigma: float, kind: str) -> float:
    """Spot delta: call e^{-qT} N(d1), put e^{-qT}(N(d1) - 1). At T <= 0 (or sigma <= 0) the step
    function of moneyness (at the money counts as out of the money)."""
    is_call = _check_kind(kind)
    if t <= 0.0:
        itm = spot > strike if is_call else spot < strike
        return (1.0 if is_call else -1.0) if itm else 0.0
    dq = math.exp(-q * t)
    if sigma <= 0.0:
        fwd = spot * math.exp((r - q) * t)
        itm = fwd > strike if is_call else fwd < strike
        return (dq if is_call else -dq) if itm else 0.0
    sd = sigma * math.sqrt(t)
    d1 = (math.log(spot / strike) + (r - q) * t) / sd + 0.5 * sd
    if is_call:
        return dq * 0.5 * _erfc(-d1 * _INV_SQRT2)
    return -dq * 0.5 * _erfc(d1 * _INV_SQRT2)


def atm_vol(days: float, row: dict[str, Any], kappa: float = 0.80) -> float:
    """sigma_atm for a tenor of `days` calendar days: kappa * the VIX-family total-variance
    interpolation (row in vol points: vix9d, vix, vix3m, vix6m). NaN when no index is present."""
    return kappa * term_structure.term_vol(days, term_structure.points(row))


def smile_vol(
    strike: float,
    fwd: float,
    t: float,
    sigma_atm: float,
    b_put: float = 0.25,
    b_call: float = 0.10,
    lo: float = 0.5,
    hi: float = 2.5,
) -> float:
    """sigma(K) = sigma_atm * (1 - b*z), z = ln(K/F)/(sigma_atm*sqrt(T)); b = b_put below the forward,
    b_call above; clipped to [lo, hi] * sigma_atm. Degenerate T or sigma_atm returns sigma_atm."""
    if t <= 0.0 or sigma_atm <= 0.0:
        return sigma_atm
    z = math.log(strike / fwd) / (sigma_atm * math.sqrt(t))
    m = 1.0 - (b_put if z < 0.0 else b_call) * z
    if m < lo:
        m = lo
    elif m > hi:
        m = hi
    return sigma_atm * m


def strike_for_delta(
    spot: float,
    t: float,
    r: float,
    q: float,
    sigma_atm: float,
    target_delta: float,
    kind: str,
    b_put: float = 0.25,
    b_call: float = 0.10,
    lo: float = 0.5,
    hi: float = 2.5,
) -> tuple[float, float]:
    """The unrounded strike whose spot delta, priced at its own smile vol, equals `target_delta`
    (signed: -0.16 for a put, 0.16 for a call). Returns (strike, sigma_at_strike).

    The delta fixes d1 = N^{-1}(|delta| e^{qT}) (put: N^{-1}(1 + delta e^{qT})), so with x = ln(K/F)
    and s = sigma(K)*sqrt(T): x = -d1*s + s^2/2, solved on the smile in closed form (_smile_log_strike).
    Falls back to brentq on delta(x) - target where no piece of the smile holds a root.
    """
    is_call = _check_kind(kind)
    if t <= 0.0 or sigma_atm <= 0.0:
        raise ValueError("strike_for_delta needs t > 0 and sigma_atm > 0")
    p = target_delta * math.exp(q * t)
    if not is_call:
        p += 1.0
    if not (0.0 < p < 1.0) or (target_delta <= 0.0 if is_call else target_delta >= 0.0):
        raise ValueError(f"target delta {target_delta} is unattainable for a {kind} (q={q}, t={t})")
    d1 = _inv_cdf(p)
    fwd = spot * math.exp((r - q) * t)
    sqrt_t = math.sqrt(t)

    s_atm = sigma_atm * sqrt_t
    s_lo, s_hi = lo * s_atm, hi * s_atm
    x = _smile_log_strike(d1, s_atm, b_put, b_call, s_lo, s_hi)
    if x is None:
        smile = {"b_put": b_put, "b_call": b_call, "lo": lo, "hi": hi}
        x = _brent_log_strike(spot, fwd, t, r, q, sigma_atm, target_delta, kind, smile)
    strike = fwd * math.exp(x)
    return strike, smile_vol(strike, fwd, t, sigma_atm, b_put, b_call, lo, hi)


def _smile_log_strike(d1: float, s_atm: float, b_put: float, b_call: float, s_lo: float, s_hi: float) -> float | None:
    """The log-strike x = ln(K/F) with x = -d1 s + s^2/2, s = sigma(K) sqrt(T) on the smile (s_atm - b x,
    b = b_put below the forward and b_call above, clipped to [s_lo, s_hi]). On each piece of the smile s
    is constant (a clip: x is explicit) or linear in x, where (b/2) s^2 + (1 - b d1) s - s_atm = 0; the
    piece whose own bounds its root meets holds the answer (where a fixed-point iteration took ~40 steps to
    1e-13). None when no piece does (float edge cases): the caller brackets instead."""
    for s in (s_lo, s_hi):  # the clipped pieces
        x = -d1 * s + 0.5 * s * s
        raw = s_atm - (b_put if x < 0.0 else b_call) * x
        if (raw < s_lo) if s == s_lo else (raw > s_hi):
            return x
    for b, below in ((b_put, True), (b_call, False)):  # the linear pieces, below and above the forward
        b1 = 1.0 - b * d1
        disc = b1 * b1 + 2.0 * b * s_atm
        if disc < 0.0 or b1 + math.sqrt(disc) <= 0.0:
            continue
        s = 2.0 * s_atm / (b1 + math.sqrt(disc))  # the positive root, without cancellation at small b
        x = -d1 * s + 0.5 * s * s
        if (x < 0.0) == below and s_lo <= s <= s_hi:
            return x
    return None


def _brent_log_strike(spot, fwd, t, r, q, sigma_atm, target_delta, kind, smile) -> float:
    """Bracketing fallback: delta on the smile is monotone-decreasing in K for both kinds in practice;
    widen a bracket in z until it straddles the target, then brentq."""
    from scipy.optimize import brentq

    def f(x: float) -> float:
        k = fwd * math.exp(x)
        return bs_delta(spot, k, t, r, q, smile_vol(k, fwd, t, sigma_atm, **smile), kind) - target_delta

    width = sigma_atm * math.sqrt(t)
    lo, hi = -width, width
    for _ in range(60):
        if f(lo) > 0.0 > f(hi):
            return brentq(f, lo, hi, xtol=1e-15, rtol=1e-15, maxiter=200)
        lo, hi = lo * 2.0, hi * 2.0
    raise RuntimeError(f"strike_for_delta: no bracket for delta {target_delta} ({kind})")


def round_to_grid(strike: float, step: float = 5.0, direction: str = "nearest") -> float:
    """Round to the strike grid. "nearest" (exact halves round up), "down", "up". A 1e-9-step tolerance
    keeps float noise (4999.9999999) on its grid point."""
    u = strike / step
    if direction == "nearest":
        n = math.floor(u + 0.5)
    elif direction == "down":
        n = math.floor(u + 1e-9)
    elif direction == "up":
        n = math.ceil(u - 1e-9)
    else:
        raise ValueError(f"direction must be 'nearest', 'down' or 'up', not {direction!r}")
    return float(n * step)


def spxw_expiry_near(
    day: dt.date | str | pd.Timestamp, target_dte: int = 45, min_dte: int = 35, max_dte: int = 60
) -> pd.Timestamp | None:
    """SPXW expiration nearest `target_dte` calendar days after `day`, within [min_dte, max_dte].

    Modelled as an expiry on every NYSE session (PM-settled), per METHODOLOGY §4 (historically SPXW
    listed fewer weekdays; the model uses the full daily grid). Ties go to the earlier session; None when
    no session lies in the window."""
    d = pd.Timestamp(day).normalize()
    lo, hi = d + pd.Timedelta(days=min_dte), d + pd.Timedelta(days=max_dte)
    target = min(max(d + pd.Timedelta(days=target_dte), lo), hi)  # nearest in the window to the target
    # the sessions on either side of the target date; the nearer wins, the earlier on a tie
    before = calendars.session_on_or_before(target)
    after = calendars.session_on_or_after(target)
    best = None
    for s in (before, after):
        if lo <= s <= hi and (best is None or abs((s - target).days) < abs((best - target).days)):
            best = s
    return None if best is None else pd.Timestamp(best)


def monthly_expiry_after(day: dt.date | str | pd.Timestamp) -> pd.Timestamp:
    """The SPX monthly (AM-settled) expiring in the calendar month after `day`: its third Friday, or the
    session before when that Friday is a holiday (Good Friday). Cboe CNDR/PUT/BXM roll: on the third
    Friday, sell next month's."""
    d = pd.Timestamp(day)
    nxt = (d.to_period("M") + 1).to_timestamp()
    return calendars.spx_monthly_expiration(nxt.year, nxt.month)


def settlement_value(
    expiry: dt.date | str | pd.Timestamp, am_settled: bool, open_price: float | None, close_price: float
) -> float:
    """Index level an expiring option settles on. PM-settled (SPXW): the expiration-day close.
    AM-settled (monthly SPX, METHODOLOGY: "settle at the expiration-day open"): the expiration day's
    opening print. Close-only history (no open, NaN or non-positive) falls back to the close, a proxy
    for the SOQ. `expiry` identifies the day the prices belong to; it does not change the value."""
    if am_settled and open_price is not None and not math.isnan(open_price) and open_price > 0.0:
        return float(open_price)
    return float(close_price)


class Leg(NamedTuple):
    """One option leg. A NamedTuple: immutable, and hashed in C (legs key the per-session price memo)."""

    kind: str  # "call" | "put"
    strike: float
    quantity: int  # +1 long, -1 short (any signed multiple)


def leg(kind: str, strike: float, quantity: int) -> Leg:
    """Leg(kind, strike, quantity), made as the tuple it is: a NamedTuple's own __new__ is a Python
    lambda (~2,000 instructions where the engine runs compiled), and condors make legs every session."""
    return tuple.__new__(Leg, (kind, strike, quantity))


def price_legs(
    legs: Iterable[Leg], spot: float, t: float, r: float, q: float, sigma_atm: float, **smile: float
) -> tuple[float, float]:
    """(net price per unit, net spot delta) of a combination, long positive, each leg at its smile vol.
    A short iron condor therefore prices negative (a credit)."""
    fwd = spot * math.exp((r - q) * t)
    price = delta = 0.0
    for leg in legs:
        sig = smile_vol(leg.strike, fwd, t, sigma_atm, **smile)
        p, d = bs_price_delta(spot, leg.strike, t, r, q, sig, leg.kind)
        price += leg.quantity * p
        delta += leg.quantity * d
    return price, delta


def bs_price_delta(
    spot: float, strike: float, t: float, r: float, q: float, sigma: float, kind: str
) -> tuple[float, float]:
    """bs_price and bs_delta in one pass (they share d1 and N(d1)); the book prices every open leg
    every session, so this halves its hottest path. Degenerate T or sigma defer to the two functions."""
    if t <= 0.0 or sigma <= 0.0:
        return bs_price(spot, strike, t, r, q, sigma, kind), bs_delta(spot, strike, t, r, q, sigma, kind)
    is_call = _check_kind(kind)
    dq = math.exp(-q * t)
    dr = math.exp(-r * t)
    sd = sigma * math.sqrt(t)
    d1 = (math.log(spot / strike) + (r - q) * t) / sd + 0.5 * sd
    d2 = d1 - sd
    if is_call:
        n1 = 0.5 * _erfc(-d1 * _INV_SQRT2)
        return spot * dq * n1 - strike * dr * 0.5 * _erfc(-d2 * _INV_SQRT2), dq * n1
    m1 = 0.5 * _erfc(d1 * _INV_SQRT2)  # N(-d1)
    return strike * dr * 0.5 * _erfc(d2 * _INV_SQRT2) - spot * dq * m1, -dq * m1


class Slice:
    """One expiry of the smile with what every leg reuses precomputed (T, sqrt T, ln F, discount
    factors), so a leg costs one log and two erfc. Same model as smile_vol + bs_price/bs_delta:
    d1 = -ln(K/F) / (sigma(K) sqrt T) + sigma(K) sqrt T / 2. Needs T > 0 and sigma_atm > 0."""

    __slots__ = ("b_call", "b_put", "dq", "dr", "hi", "ln_f", "lo", "s_dq", "sa_sqrt")

    def __init__(
        self,
        spot: float,
        t: float,
        r: float,
        q: float,
        sigma_atm: float,
        b_put: float = 0.25,
        b_call: float = 0.10,
        lo: float = 0.5,
        hi: float = 2.5,
    ):
        self.b_put, self.b_call, self.lo, self.hi = b_put, b_call, lo, hi
        self.dq, self.dr = math.exp(-q * t), math.exp(-r * t)
        self.s_dq = spot * self.dq
        self.ln_f = math.log(spot) + (r - q) * t
        self.sa_sqrt = sigma_atm * math.sqrt(t)

    def price_delta(self, strike: float, kind: str) -> tuple[float, float]:
        x = math.log(strike) - self.ln_f  # ln(K/F)
        z = x / self.sa_sqrt
        m = 1.0 - (self.b_put * z if z < 0.0 else self.b_call * z)  # smile_vol's two slopes
        m = self.lo if m < self.lo else (self.hi if m > self.hi else m)  # clipped to [lo, hi] x sigma_atm
        sd = self.sa_sqrt * m
        d1 = -x / sd + 0.5 * sd
        d2 = d1 - sd
        if kind == "call":
            n1 = 0.5 * _erfc(-d1 * _INV_SQRT2)
            return self.s_dq * n1 - strike * self.dr * 0.5 * _erfc(-d2 * _INV_SQRT2), self.dq * n1
        if kind != "put":
            raise ValueError(f"kind must be 'call' or 'put', not {kind!r}")
        m1 = 0.5 * _erfc(d1 * _INV_SQRT2)  # N(-d1)
        return strike * self.dr * 0.5 * _erfc(d2 * _INV_SQRT2) - self.s_dq * m1, -self.dq * m1
