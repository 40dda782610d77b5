"""available_date per METHODOLOGY §1, against dates worked out by hand from the NYSE calendar."""

import pandas as pd
import pytest

from vixshield import calendars
from vixshield.ingest.sources import availability


def avail(series_id: str, *dates: str) -> list[str]:
    out = availability.available_dates(series_id, pd.Series(pd.to_datetime(list(dates))))
    return out.dt.strftime("%Y-%m-%d").tolist()


def test_daily_rates_become_known_the_next_session():
    # Wed 2024-07-03 -> Fri 07-05 (07-04 holiday); Fri 07-05 -> Mon 07-08
    assert avail("DGS10", "2024-07-03", "2024-07-05") == ["2024-07-05", "2024-07-08"]
    assert avail("BAMLH0A0HYM2", "2001-09-10") == ["2001-09-17"]  # markets shut after 9/11


def test_h10_weekly_is_the_monday_after_the_observation_week():
    # Wed 2024-07-03 -> Mon 07-08; Fri 2024-01-12 -> Mon 01-15 is MLK day -> Tue 01-16
    assert avail("DEXUSEU", "2024-07-03", "2024-01-12") == ["2024-07-08", "2024-01-16"]


def test_rbusbis_is_month_end_plus_45_days():
    assert avail("RBUSBIS", "2023-10-01") == ["2023-12-15"]  # Oct 31 + 45 = Dec 15 (a Friday)


def test_monthly_average_is_known_the_session_after_month_end():
    assert avail("AAA", "2018-11-01") == ["2018-12-03"]  # Nov 30 is a Friday -> Monday Dec 3


def test_cpi_uses_the_release_calendar(monkeypatch: pytest.MonkeyPatch):
    # BLS released January 2024 CPI on Tuesday 2024-02-13.
    published = pd.Series([pd.Timestamp("2024-02-13")], index=pd.PeriodIndex(["2024-01"], freq="M"))
    monkeypatch.setattr(calendars, "release_dates", lambda kind: published)
    assert avail("CPIAUCSL", "2024-01-01") == ["2024-02-13"]
    # a month the calendar does not cover falls back to month end + 20 days, then the next session:
    # Feb 29 2024 + 20 = Tue Mar 20
    assert avail("CPIAUCSL", "2024-02-01") == ["2024-03-20"]


def test_cpi_fallback_without_any_calendar(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(calendars, "release_dates", lambda kind: pd.Series(dtype="datetime64[us]"))
    # Jun 30 2024 + 20 = Sat Jul 20 -> Mon Jul 22
    assert avail("PPIFIS", "2024-06-01") == ["2024-07-22"]


def test_every_value_is_known_no_earlier_than_it_happened():
    obs = pd.Series(pd.date_range("1995-01-01", "2025-12-01", freq="MS"))
    for series_id in ("CPIAUCSL", "DGS2", "DTWEXBGS", "RBUSBIS", "FEDFUNDS"):
        out = availability.available_dates(series_id, obs)
        assert (out > obs).all(), series_id
        assert out.map(calendars.is_session).all(), series_id
