"""`available_date` for each macro observation: the first NYSE session at whose close the value
was knowable (METHODOLOGY §1). Macro joins use this date, never the observation date."""

from __future__ import annotations

import pandas as pd

from vixshield import calendars
from vixshield.catalog import MACRO_BY_ID, Availability

CPI_FALLBACK_DAYS = 20  # month end + 20 days when no release calendar covers the month
RBUS_LAG_DAYS = 45


def _month_end(obs: pd.Series) -> pd.Series:
    return obs + pd.offsets.MonthEnd(0)


def _release(obs: pd.Series, kind: str) -> pd.Series:
    calendar = calendars.release_dates(kind)
    months = obs.dt.to_period("M")
    known = months.map(calendar) if len(calendar) else pd.Series(pd.NaT, index=obs.index)
    fallback = _month_end(obs) + pd.Timedelta(days=CPI_FALLBACK_DAYS)
    return pd.to_datetime(known).fillna(fallback)


def available_dates(series_id: str, observation_dates: pd.Series) -> pd.Series:
    """Vectorized availability for one series; raises KeyError for a series not in the catalog."""
    rule = MACRO_BY_ID[series_id].availability
    obs = pd.to_datetime(observation_dates).reset_index(drop=True)
    if obs.empty:
        return pd.Series(pd.NaT, index=observation_dates.index, dtype="datetime64[us]")
    match rule:
        case Availability.CLOSE:
            out = calendars.session_on_or_after(obs)
        case Availability.NEXT_SESSION:
            out = calendars.next_session(obs)
        case Availability.H10_WEEKLY:
            monday = obs + pd.to_timedelta(7 - obs.dt.weekday, unit="D")
            out = calendars.session_on_or_after(monday)
        case Availability.CPI_RELEASE:
            out = calendars.session_on_or_after(_release(obs, "cpi"))
        case Availability.PPI_RELEASE:
            out = calendars.session_on_or_after(_release(obs, "ppi"))
        case Availability.MONTH_END_PLUS_1:
            out = calendars.next_session(_month_end(obs))
        case Availability.MONTH_END_PLUS_45:
            out = calendars.session_on_or_after(_month_end(obs) + pd.Timedelta(days=RBUS_LAG_DAYS))
    return pd.Series(pd.DatetimeIndex(out).astype("datetime64[us]"), index=observation_dates.index)


def with_availability(frame: pd.DataFrame) -> pd.DataFrame:
    """Fill `available_date` per series for a macro_observations frame."""
    out = frame.copy()
    for series_id, rows in out.groupby("series_id", sort=False):
        out.loc[rows.index, "available_date"] = available_dates(str(series_id), rows["observation_date"])
    out["available_date"] = pd.to_datetime(out["available_date"]).astype("datetime64[us]")
    return out
