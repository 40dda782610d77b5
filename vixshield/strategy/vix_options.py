"""VIX options for the hedge (METHODOLOGY §4, VIX options bullet): Black-76 on the VIX future of the
option's own expiry, vol = VVIX/100, and the monthly VIX expiration ladder.

Scalar `math` code on purpose: the hedge prices a handful of contracts per session over ~9,000
sessions, where numpy/scipy call overhead would dominate.

Conventions
- Time to expiry T = calendar days / 365 from the session's close to the expiration date.
- r = options.risk_free_rate (the 3-month bill, DFF where missing), used as a continuous rate.
- Strikes sit on a 1-point grid (Cboe lists 1-point VIX strikes across the usual range; the
  0.5/2.5-point strikes that also exist are ignored) and are rounded to the nearest grid point.
- Expirations: "front" = the first monthly VIX expiration on or after the session (on an expiration
  day that is the contract expiring today). "1-month" = the next expiration after the front (what
  Cboe VXTH buys on each expiration Wednesday: the contract expiring the following month);
  "2-month" = the one after that. Between expirations the 1-month contract is therefore 5-9 weeks
  out and the 2-month 9-13 weeks.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping
from functools import lru_cache
from statistics import NormalDist
from typing import Any, Literal

import pandas as pd

from vixshield import calendars
from vixshield.features.term_structure import forward_vol, points
from vixshield.values import num

Kind = Literal["call", "put"]
DEFAULT_VOL = 0.90  # METHODOLOGY §4: VIX-option vol where VVIX is missing
VIX_FUTURE_DAYS = 30  # a VX future settles on the 30-day vol starting at its expiry
_N = NormalDist()
_SQRT2 = math.sqrt(2.0)


def _ncdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / _SQRT2))


def _d1(fwd: float, strike: float, t: float, sigma: float) -> float:
    sd = sigma * math.sqrt(t)
    return (math.log(fwd / strike) + 0.5 * sd * sd) / sd


def black76_price(fwd: float, strike: float, t: float, r: float, sigma: float, kind: Kind = "call") -> float:
    """Black-76 price of a European option on a future; discounted intrinsic when t or sigma is 0."""
    disc = math.exp(-r * max(t, 0.0))
    if t <= 0 or sigma <= 0:
        return disc * max(fwd - strike if kind == "call" else strike - fwd, 0.0)
    d1 = _d1(fwd, strike, t, sigma)
    d2 = d1 - sigma * math.sqrt(t)
    if kind == "call":
        return disc * (fwd * _ncdf(d1) - strike * _ncdf(d2))
    return disc * (strike * _ncdf(-d2) - fwd * _ncdf(-d1))


def black76_delta(fwd: float, strike: float, t: float, r: float, sigma: float, kind: Kind = "call") -> float:
    """dPrice/dF: e^{-rT} N(d1) for calls, -e^{-rT} N(-d1) for puts (the intrinsic step at t = 0)."""
    disc = math.exp(-r * max(t, 0.0))
    if t <= 0 or sigma <= 0:
        itm = fwd > strike if kind == "call" else fwd < strike
        return (disc if kind == "call" else -disc) * float(itm)
    d1 = _d1(fwd, strike, t, sigma)
    return disc * _ncdf(d1) if kind == "call" else -disc * _ncdf(-d1)


def strike_for_delta(
    fwd: float, t: float, r: float, sigma: float, delta: float, kind: Kind = "call", step: float = 1.0
) -> float:
    """Strike with Black-76 delta `delta` (puts: negative or absolute), rounded to the nearest `step`.

    Closed form (vol is flat in strike here): N(d1) = |delta| e^{rT}, K = F exp(-d1 σ√T + σ²T/2).
    The grid rounding leaves the delta within the deltas of the two neighbouring half-step strikes.
    """
    if not (fwd > 0 and t > 0 and sigma > 0):
        return math.nan
    p = min(max(abs(delta) * math.exp(r * t), 1e-9), 1 - 1e-9)
    d1 = _N.inv_cdf(p) if kind == "call" else -_N.inv_cdf(p)
    sd = sigma * math.sqrt(t)
    strike = fwd * math.exp(-d1 * sd + 0.5 * sd * sd)
    return max(step, round(strike / step) * step)


def vix_option_vol(row: dict[str, Any]) -> float:
    """VVIX/100, or 0.90 where VVIX is missing (before 2006-03 and on gaps)."""
    v = num(row.get("vvix"))
    return v / 100.0 if v > 0 else DEFAULT_VOL


def vix_future_price(
    day: pd.Timestamp, expiry: pd.Timestamp, vx_settles: Mapping[Any, float], row: dict[str, Any]
) -> tuple[float, str]:
    """The VX future for `expiry` as of `day`'s close: (price, source).

    `vx_settles` holds `day`'s VX prices by expiry (settle, or close where settle is 0, as in
    core.vx_futures). Without one: 100 x the forward 30-day vol from `day` + days-to-expiry implied by
    the VIX family on `day` ("term_structure"). (nan, "none") when neither exists.
    """
    expiry = expiry if isinstance(expiry, pd.Timestamp) else pd.Timestamp(expiry)
    v = vx_settles.get(expiry)
    if v is None:
        v = vx_settles.get(expiry.date())
    if v is not None and v == v and v > 0:
        return float(v), "settle"
    day = day if isinstance(day, pd.Timestamp) else pd.Timestamp(day)
    days = calendars.days_between(day, expiry)
    fwd = 100.0 * forward_vol(float(days), VIX_FUTURE_DAYS, points(row))
    return (fwd, "term_structure") if fwd == fwd else (math.nan, "none")


# --- the monthly expiration ladder ---------------------------------------------------------------


@lru_cache(maxsize=1)
def _expirations() -> tuple[pd.Timestamp, ...]:
    """Every monthly VIX expiration the NYSE calendar can place (1990-01 to ~2 months before its end)."""
    last = calendars.sessions("2000-01-01", "2100-01-01")[-1] - pd.DateOffset(months=2)
    months = pd.period_range(f"{calendars.FIRST_SESSION_YEAR}-01", last, freq="M")
    return tuple(calendars.vix_expiration(p.year, p.month) for p in months)


@lru_cache(maxsize=1)
def _expiration_days() -> frozenset[int]:
    return frozenset(d.toordinal() for d in _expirations())


def is_vix_expiration(day: pd.Timestamp) -> bool:
    """True on a monthly VIX expiration date (a Wednesday, or the session before it on holidays)."""
    return calendars.ordinal(day) in _expiration_days()  # asked every session: no Timestamp hashing


@lru_cache(maxsize=65536)  # called per layer per session; a bisect over Timestamps is not free
def vix_expiry(day: pd.Timestamp, months: int) -> pd.Timestamp:
    """0 = front (first expiration on or after `day`), 1 = 1-month, 2 = 2-month (see module doc)."""
    ladder = _expirations()
    i = bisect.bisect_left(ladder, pd.Timestamp(day).normalize()) + months
    if i >= len(ladder):
        raise ValueError(f"no VIX expiration {months} month(s) after {day}: beyond the calendar")
    return ladder[i]
