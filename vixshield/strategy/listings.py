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
    return _near(pd.Timestamp(day).normalize(), target_dte, min_dte, max_dte)


@lru_cache(maxsize=4096)  # the gates and the candidate ask for the same session, and sweeps re-run it
def _near(d: pd.Timestamp, target_dte: int, min_dte: int, max_dte: int) -> pd.Timestamp | None:
    lo, hi = d + pd.Timedelta(days=min_dte), d + pd.Timedelta(days=max_dte)
    target = min(max(d + pd.Timedelta(days=target_dte), lo), hi)
    listed = [s for s in calendars.sessions(lo.date(), hi.date()) if spx_expiry_listed(d, s)]
    return min(listed, key=lambda s: (abs((s - target).days), s), default=None)
