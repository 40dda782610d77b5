"""Sessions until the next FOMC decision, CPI and PPI release, as known at each close."""

from __future__ import annotations

import numpy as np
import pandas as pd

from vixshield import calendars
from vixshield.catalog import EVENT_KINDS

HORIZON_DAYS = 370


def sessions_until(events: pd.DataFrame, sessions: pd.DatetimeIndex) -> pd.DataFrame:
    """`sessions_to_<kind>`: 0 on the event's session, 1 the session before, ...; NaN when no
    upcoming event of that kind is known yet. An event on a non-session day (the Sunday
    2020-03-15 FOMC cut) counts on the next session. `events` has date, kind, known_from."""
    out = pd.DataFrame(index=sessions)
    pos = np.arange(len(sessions))
    for kind in EVENT_KINDS:
        ev = events[events["kind"] == kind]
        if ev.empty or sessions.empty:
            out[f"sessions_to_{kind}"] = np.nan
            continue
        # the horizon that matters: the next event of every kind is weeks away, never a year
        ev = ev[pd.to_datetime(ev["date"]) <= sessions[-1] + pd.DateOffset(days=HORIZON_DAYS)]
        event_session = pd.DatetimeIndex(calendars.session_on_or_after(pd.to_datetime(ev["date"])))
        event_pos = sessions.searchsorted(event_session)  # len(sessions) when beyond the panel
        known_pos = sessions.searchsorted(pd.to_datetime(ev["known_from"]))  # first session it is known
        # sessions (rows) x events: upcoming and already known
        upcoming = (event_pos[None, :] >= pos[:, None]) & (known_pos[None, :] <= pos[:, None])
        beyond = event_pos >= len(sessions)  # after the panel's end: count with the calendar instead
        ahead = np.where(beyond, len(sessions) - 1 + _sessions_after(sessions[-1], event_session), event_pos)
        dist = np.where(upcoming, ahead[None, :] - pos[:, None], np.iinfo(np.int64).max)
        best = dist.min(axis=1)
        out[f"sessions_to_{kind}"] = np.where(best == np.iinfo(np.int64).max, np.nan, best)
    return out


def _sessions_after(last: pd.Timestamp, days: pd.DatetimeIndex) -> np.ndarray:
    """How many sessions lie in (last, day] for each day (0 for days on or before `last`)."""
    future = calendars.sessions(last + pd.Timedelta(days=1), days.max()) if days.max() > last else pd.DatetimeIndex([])
    return np.asarray(future.searchsorted(days, side="right"))
