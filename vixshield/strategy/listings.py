"""When each traded instrument was first listed: the book trades only what existed that day.

Sources (README, Methodology changes):
- SPX monthly options (AM-settled, third Friday): listed throughout the history (since 1983).
- SPXW weekly expirations, PM-settled, by weekday: Friday from October 2005 (Cboe, "Weeklys Options":
  "In Oct 2005, Cboe introduced Weeklys"; taken as Friday 2005-10-28), Wednesday from 2016-02-23 (Cboe
  Options Hub, 2016-02-22), Monday from 2016-08-15 (Cboe Options Hub, 2016-08-11 and 2016-08-17),
  Tuesday from 2022-04-18 and Thursday from 2022-05-11 (Cboe announcement, Traders Magazine, 2022).
- VX futures: Cboe Futures Exchange, 2004-03-26. VIX options: Cboe, 2006-02-24.

How far out each weekly was listed (four, later six Friday weeklies before 2014) is not modelled: an
expiry counts as listed when its weekday was, so the earliest SPXW years are generous. A third-Friday
condor opened before the Friday weeklys is the standard monthly (AM-settled); from then on it is the
PM-settled SPXW series the tickets name (Cboe listed PM-settled third-Friday series some years after
the weeklys: an approximation of 2005-2011 third-Friday settlements).
"""

from __future__ import annotations

import bisect
import datetime as dt
from functools import lru_cache

import pandas as pd

from vixshield import calendars

VX_FUTURES = pd.Timestamp("2004-03-26")
VIX_OPTIONS = pd.Timestamp("2006-02-24")
# weekday (Monday 0) -> first listing of SPXW expirations on that weekday
SPXW_WEEKDAYS: dict[int, pd.Timestamp] = {
    4: pd.Timestamp("2005-10-28"),
    2: pd.Timestamp("2016-02-23"),
    0: pd.Timestamp("2016-08-15"),
    1: pd.Timestamp("2022-04-18"),
    3: pd.Timestamp("2022-05-11"),
}


def vix_options_listed(day: pd.Timestamp) -> bool:
    return day >= VIX_OPTIONS


def is_monthly(expiry: pd.Timestamp) -> bool:
    """The SPX standard monthly expiration (third Friday, the session before when it is a holiday)."""
    return expiry == calendars.spx_monthly_expiration(expiry.year, expiry.month)


def am_settled(day: pd.Timestamp, expiry: pd.Timestamp) -> bool:
    """Whether an SPX condor opened on `day` for `expiry` settles at the open (the monthly series)."""
    return is_monthly(expiry) and day < SPXW_WEEKDAYS[4]


def spx_expiry_listed(day: pd.Timestamp, expiry: pd.Timestamp) -> bool:
    """Whether an SPX option expiring on the session `expiry` was listed on `day`."""
    if is_monthly(expiry):
        return True
    for weekday in {expiry.weekday(), (expiry + pd.Timedelta(days=1)).weekday()}:
        moved = weekday != expiry.weekday()
        if moved and calendars.is_session((expiry + pd.Timedelta(days=1)).date()):
            continue  # the next day trades: this session is not a holiday-moved weekly
        first = SPXW_WEEKDAYS.get(weekday)
        if first is not None and day >= first:
            return True
    return False


def spx_expiry_near(
    day: dt.date | str | pd.Timestamp, target_dte: int = 45, min_dte: int = 35, max_dte: int = 60
) -> pd.Timestamp | None:
    """The listed SPX expiration (monthly or SPXW) nearest `target_dte` calendar days after `day`,
    within [min_dte, max_dte]; ties go to the earlier; None when nothing listed lies in the window."""
    # calendar days as ordinals: Timestamp arithmetic costs more than the search
    return expiry_near(calendars.ordinal(day), target_dte, min_dte, max_dte)


# the gates and the candidate ask for the same session, and every run of a sweep asks again for every
# session of the history: unbounded (a few params x ~9,000 sessions of small tuples)
_NEAR: dict[tuple[int, int, int, int], pd.Timestamp | None] = {}


def expiry_near(today: int, target_dte: int, min_dte: int, max_dte: int) -> pd.Timestamp | None:
    """spx_expiry_near for a day given as its ordinal, memoized on ints (condor.listed_expiry asks)."""
    key = (today, target_dte, min_dte, max_dte)
    if key not in _NEAR:
        _NEAR[key] = _near(today, target_dte, min_dte, max_dte)
    return _NEAR[key]


def _near(today: int, target_dte: int, min_dte: int, max_dte: int) -> pd.Timestamp | None:
    lo, hi = today + min_dte, today + max_dte
    target = min(max(today + target_dte, lo), hi)
    ords, first_listed, monthly, weeklys = _listing_table()
    if today < weeklys:  # only the monthlies were listed: search them, not every session between
        ords = monthly
    first, last = bisect.bisect_left(ords, lo), bisect.bisect_right(ords, hi)
    # the nearest listed session on each side of the target are the only candidates: scan outward
    after = bisect.bisect_left(ords, target, first, last)
    before = after - 1
    if today >= weeklys:
        while after < last and today < first_listed[after]:
            after += 1
        while before >= first and today < first_listed[before]:
            before -= 1
    if before >= first and (after == last or target - ords[before] <= ords[after] - target):
        return _stamp(ords[before])  # on a tie the earlier one
    return None if after == last else _stamp(ords[after])


_STAMPS: dict[int, pd.Timestamp] = {}


def _stamp(ordinal: int) -> pd.Timestamp:
    """The session's Timestamp, one object per session (callers compare expiries by identity first)."""
    stamp = _STAMPS.get(ordinal)
    if stamp is None:
        stamp = _STAMPS[ordinal] = pd.Timestamp(calendars.ns_of_ordinal(ordinal))
    return stamp


@lru_cache(maxsize=1)
def _listing_table() -> tuple[list[int], list[int], list[int], int]:
    """Every NYSE session (ordinal), the first day (ordinal) an SPX option expiring on it was listed, the
    monthly expirations (ordinals) and the first day a weekly was: `spx_expiry_listed(day, s)` is
    `day >= first_listed[s]`, the rule folded into one threshold per session (a monthly: always; a weekly:
    its weekday's first listing, or that of the weekday after it when a holiday moved it).
    tests/unit/test_listings.py checks it against the rule."""
    ords = calendars.session_ordinals()
    sessions = set(ords)
    years = range(dt.date.fromordinal(ords[0]).year, dt.date.fromordinal(ords[-1]).year + 1)
    monthly = sorted({calendars.spx_monthly_expiration(y, m).toordinal() for y in years for m in range(1, 13)})
    is_monthly = set(monthly)
    never = dt.date.max.toordinal() + 1
    weekly = {w: d.toordinal() for w, d in SPXW_WEEKDAYS.items()}
    first_listed = []
    for o in ords:
        if o in is_monthly:
            first_listed.append(0)
            continue
        weekday = (o + 6) % 7  # date.fromordinal(o).weekday(): ordinal 1 is a Monday
        first = weekly.get(weekday, never)
        if o + 1 not in sessions:  # moved by a holiday: listed also when the weekday after it was
            first = min(first, weekly.get((weekday + 1) % 7, never))
        first_listed.append(first)
    return ords, first_listed, monthly, min(weekly.values())
