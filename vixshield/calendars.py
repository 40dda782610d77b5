"""NYSE sessions and the option/futures expiration calendars, from exchange-calendars XNYS.

exchange-calendars carries every NYSE holiday and unscheduled closure since 1990 (9/11, Sandy,
presidential funerals), which a hand-written holiday list would get wrong.
"""

from __future__ import annotations

import bisect
import datetime as dt
from functools import lru_cache
from importlib import resources
from pathlib import Path

import exchange_calendars as xcals
import numpy as np
import pandas as pd
from exchange_calendars.exchange_calendar_xnys import XNYSExchangeCalendar

FIRST_SESSION_YEAR = 1990


def _span() -> tuple[pd.Timestamp, pd.Timestamp]:
    """The calendar's range: the first session year through two years past today."""
    return pd.Timestamp(f"{FIRST_SESSION_YEAR}-01-01"), pd.Timestamp.today().normalize() + pd.DateOffset(years=2)


@lru_cache(maxsize=1)
def _calendar() -> xcals.ExchangeCalendar:
    """The whole XNYS calendar, opens and closes included (last_completed_session needs its early closes)."""
    start, end = _span()
    return xcals.get_calendar("XNYS", start=start.strftime("%Y-%m-%d"), end=end.strftime("%Y-%m-%d"))


@lru_cache(maxsize=1)
def _session_index() -> pd.DatetimeIndex:
    """XNYS sessions by exchange-calendars' own rule (its weekmask, less its regular holidays and ad hoc
    closures) and data, without building the calendar: that also computes every session's open and
    close and evaluates the holiday rules from 1970 to 2200 (~0.2 s of every process that asks).
    tests/unit/test_calendars.py checks the two agree."""
    start, end = _span()
    rules = object.__new__(XNYSExchangeCalendar)  # its holiday properties read no instance state
    # each rule's dates, not the holiday calendar's (which evaluates every rule, 1874's included, and
    # builds a named Series of them): a rule never dates a holiday outside its own start and end dates
    live = [
        rule.dates(start, end).as_unit("ns").asi8  # the rules differ in resolution
        for rule in rules.regular_holidays.rules
        if (rule.end_date is None or rule.end_date >= start) and (rule.start_date is None or rule.start_date <= end)
    ]
    closed = pd.DatetimeIndex(np.concatenate(live)).union(pd.DatetimeIndex(rules.adhoc_holidays))
    days = pd.date_range(start, end, freq="D")
    open_weekday = np.array([c == "1" for c in rules.weekmask])[days.day_of_week]
    return days[open_weekday & ~days.isin(closed)].as_unit("ns")


NS_PER_DAY = 86_400_000_000_000
_EPOCH = dt.date(1970, 1, 1)
_EPOCH_ORDINAL = _EPOCH.toordinal()


def date_of_ns(day_ns: int) -> dt.date:
    """The calendar day of a midnight timestamp given in ns since the epoch (Timestamp.value): plain
    integer arithmetic, where a Timestamp's date methods cost microseconds."""
    return dt.date.fromordinal(day_ns // NS_PER_DAY + _EPOCH_ORDINAL)


def days_between(day: pd.Timestamp, later: pd.Timestamp) -> int:
    """(later - day).days, from the integer nanoseconds: the Timedelta that subtraction builds costs
    microseconds, and the book asks per quote and per plan."""
    return (later.value - day.value) // NS_PER_DAY


def ordinal_of_ns(day_ns: int) -> int:
    """date_of_ns(day_ns).toordinal(), without building the date."""
    return day_ns // NS_PER_DAY + _EPOCH_ORDINAL


def ns_of_ordinal(ordinal: int) -> int:
    """The midnight of a day ordinal in ns since the epoch (Timestamp.value): ordinal_of_ns's inverse."""
    return (ordinal - _EPOCH_ORDINAL) * NS_PER_DAY


def ordinal(day: dt.date | pd.Timestamp | str) -> int:
    """The day's ordinal; a Timestamp's from its integer nanoseconds (Timestamp.toordinal costs ~1 us,
    and the book asks every session)."""
    if isinstance(day, pd.Timestamp):
        return ordinal_of_ns(day.value)
    return day.toordinal() if isinstance(day, dt.date) else pd.Timestamp(day).toordinal()


@lru_cache(maxsize=1)
def _ordinals() -> list[int]:
    return (_session_index().asi8 // NS_PER_DAY + _EPOCH_ORDINAL).tolist()


def session_ordinals() -> list[int]:
    """Every session of the calendar as a day ordinal, ascending (shared: do not mutate)."""
    return _ordinals()


def session_list(start: dt.date | pd.Timestamp, end: dt.date | pd.Timestamp) -> list[pd.Timestamp]:
    """Sessions in [start, end] as a list: the fast path for day-by-day loops (bisect, no pandas ops)."""
    ords = _ordinals()
    lo, hi = bisect.bisect_left(ords, start.toordinal()), bisect.bisect_right(ords, end.toordinal())
    return [pd.Timestamp(dt.date.fromordinal(o)) for o in ords[lo:hi]]


def shift_ordinal(day: int, offset: int, side: str) -> int:
    """The session (day ordinal) `offset` places from where `day` (an ordinal) falls among the sessions:
    side "left" counts `day` itself as ahead of it, "right" as behind it (next_session: 0, "right";
    session_on_or_before: -1, "right"). The scalar path of the shifts below, without Timestamps."""
    ords = _ordinals()
    find = bisect.bisect_left if side == "left" else bisect.bisect_right
    pos = find(ords, day) + offset
    if not 0 <= pos < len(ords):
        raise ValueError("a date lies outside the NYSE calendar")
    return ords[pos]


def _scalar_shift(day: pd.Timestamp, offset: int, side: str) -> pd.Timestamp:
    return pd.Timestamp(dt.date.fromordinal(shift_ordinal(day.toordinal(), offset, side)))


def sessions(start: dt.date | str, end: dt.date | str) -> pd.DatetimeIndex:
    """NYSE sessions in [start, end], both inclusive."""
    idx = _session_index()
    return idx[(idx >= pd.Timestamp(start)) & (idx <= pd.Timestamp(end))]


def is_session(day: dt.date | str) -> bool:
    ords = _ordinals()
    o = pd.Timestamp(day).toordinal()
    i = bisect.bisect_left(ords, o)
    return i < len(ords) and ords[i] == o


def session_on_or_after(days: pd.Series | pd.DatetimeIndex | dt.date | str) -> pd.DatetimeIndex | pd.Timestamp:
    """The first session on or after each day (vectorized)."""
    return _shift(days, side="left")


def next_session(days: pd.Series | pd.DatetimeIndex | dt.date | str) -> pd.DatetimeIndex | pd.Timestamp:
    """The first session strictly after each day (vectorized)."""
    return _shift(days, side="right")


def previous_session(days: pd.Series | pd.DatetimeIndex | dt.date | str) -> pd.DatetimeIndex | pd.Timestamp:
    """The last session strictly before each day (vectorized)."""
    idx = _session_index()
    scalar = not isinstance(days, pd.Series | pd.DatetimeIndex)
    if scalar:
        return _scalar_shift(pd.Timestamp(days), -1, "left")
    values = pd.DatetimeIndex(pd.to_datetime(days))
    pos = idx.searchsorted(values, side="left") - 1
    if (pos < 0).any():
        raise ValueError("a date precedes the first NYSE session in the calendar")
    out = idx[pos]
    return out[0] if scalar else out


def session_on_or_before(days: pd.Series | pd.DatetimeIndex | dt.date | str) -> pd.DatetimeIndex | pd.Timestamp:
    """The last session on or before each day (vectorized)."""
    if not isinstance(days, pd.Series | pd.DatetimeIndex):
        return _scalar_shift(pd.Timestamp(days), -1, "right")
    return previous_session(pd.DatetimeIndex(pd.to_datetime(days)) + pd.Timedelta(days=1))


def _shift(days, side: str):
    idx = _session_index()
    scalar = not isinstance(days, pd.Series | pd.DatetimeIndex)
    if scalar:
        return _scalar_shift(pd.Timestamp(days), 0, side)
    values = pd.DatetimeIndex([pd.Timestamp(days)] if scalar else pd.to_datetime(days))
    pos = idx.searchsorted(values, side=side)
    if (pos >= len(idx)).any():
        raise ValueError("a date lies beyond the end of the NYSE calendar")
    out = idx[pos]
    return out[0] if scalar else out


def last_completed_session(now: pd.Timestamp | None = None) -> pd.Timestamp:
    """The latest session whose close has passed, in New York time (early closes included)."""
    cal = _calendar()
    now = pd.Timestamp.now(tz="UTC") if now is None else pd.Timestamp(now)
    if now.tzinfo is None:
        now = now.tz_localize("America/New_York")
    today = now.tz_convert("America/New_York").normalize().tz_localize(None)
    candidate = session_on_or_before(today)
    close = cal.session_close(candidate)
    if now < close:
        candidate = previous_session(candidate)
    return candidate


def third_friday(year: int, month: int) -> pd.Timestamp:
    return pd.Timestamp(dt.date.fromordinal(_third_friday(year, month)))


def _third_friday(year: int, month: int) -> int:
    """The month's third Friday as a day ordinal."""
    first = dt.date(year, month, 1)
    return first.toordinal() + (4 - first.weekday()) % 7 + 14


@lru_cache(maxsize=4096)  # the book asks per condor it opens, every run of a sweep again
def spx_monthly_expiration(year: int, month: int) -> pd.Timestamp:
    """Monthly SPX expiry: the third Friday, or the session before it when it is a holiday."""
    return session_on_or_before(third_friday(year, month))


def vix_expiration(year: int, month: int) -> pd.Timestamp:
    """VIX monthly expiry for contract month (year, month): the Wednesday 30 days before the
    next month's SPX third Friday; the session before when that Wednesday (or the Friday) is a
    holiday (e.g. 2024-06-18 for the Juneteenth contract)."""
    # day ordinals, no Timestamp math; a shift of -1 "right" is the session on or before the day
    friday = shift_ordinal(_third_friday(year + month // 12, month % 12 + 1), -1, "right")  # Good Friday: before
    return pd.Timestamp(dt.date.fromordinal(shift_ordinal(friday - 30, -1, "right")))


def vix_expirations(start: dt.date | str, end: dt.date | str) -> pd.DatetimeIndex:
    """Monthly VIX expirations in [start, end]."""
    s, e = pd.Timestamp(start), pd.Timestamp(end)
    months = pd.period_range(s - pd.DateOffset(months=1), e + pd.DateOffset(months=1), freq="M")
    out = sorted({vix_expiration(p.year, p.month) for p in months})
    return pd.DatetimeIndex([d for d in out if s <= d <= e])


def is_vix_monthly_expiration(days: pd.Series) -> np.ndarray:
    """True where a date is a monthly VIX expiration (weeklies and mislabels are False)."""
    d = pd.to_datetime(days)
    valid = vix_expirations(d.min() - pd.Timedelta(days=40), d.max() + pd.Timedelta(days=40)) if len(d) else []
    return np.asarray(d.isin(valid))


# --- Event and release calendars shipped with the package (vixshield/data/, see its README) ---

# the package's folder, not this file's: compiled (vixshield/native.py), this module lies in _native/
DATA_DIR = Path(str(resources.files("vixshield"))) / "data"


@lru_cache(maxsize=4)
def _release_dates(kind: str) -> pd.Series:
    path = DATA_DIR / f"{kind}_releases.csv"
    if not path.exists():
        return pd.Series(dtype="datetime64[us]")
    frame = pd.read_csv(path, dtype=str)
    months = pd.PeriodIndex(frame["reference_month"], freq="M")
    return pd.Series(pd.to_datetime(frame["release_date"]).to_numpy(), index=months).sort_index()


def release_dates(kind: str) -> pd.Series:
    """BLS release date per reference month (index: month Period) for kind 'cpi' or 'ppi'.
    Empty when the shipped file is absent; callers then fall back to the METHODOLOGY rule."""
    return _release_dates(kind).copy()


def shipped_events() -> pd.DataFrame:
    """FOMC decisions and CPI/PPI release dates from the package's data files: date, kind, scheduled."""
    frames = []
    fomc = DATA_DIR / "fomc_decisions.csv"
    if fomc.exists():
        f = pd.read_csv(fomc, dtype=str)
        frames.append(
            pd.DataFrame(
                {
                    "date": pd.to_datetime(f["date"]),
                    "kind": "fomc",
                    "scheduled": f["scheduled"].str.lower().map({"true": True, "false": False}),
                }
            )
        )
    for kind in ("cpi", "ppi"):
        rel = release_dates(kind)
        if len(rel):
            frames.append(pd.DataFrame({"date": rel.to_numpy(), "kind": kind, "scheduled": True}))
    if not frames:
        return pd.DataFrame(columns=["date", "kind", "scheduled"])
    # one BLS release can carry two reference months (e.g. after the 2025 shutdown): one event
    return pd.concat(frames, ignore_index=True).drop_duplicates(subset=["date", "kind"])
