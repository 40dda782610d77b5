"""vixshield.calendars and the event calendars shipped in vixshield/data/.

Expected values are published facts (NYSE closures, Cboe VIX settlement dates, Fed/BLS release
dates), written out by hand, never copied from the code under test.
"""

from __future__ import annotations

import datetime as dt

import exchange_calendars as xcals
import pandas as pd
import pytest

from vixshield import calendars

DATA = calendars.DATA_DIR
T = pd.Timestamp


# --- NYSE sessions ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "day",
    [
        "2001-09-11",
        "2001-09-12",
        "2001-09-13",
        "2001-09-14",  # September 11 attacks
        "2012-10-29",
        "2012-10-30",  # Hurricane Sandy
        "2024-03-29",
        "2019-04-19",
        "2022-04-15",  # Good Friday
        "2025-01-09",  # national day of mourning, President Carter
        "2018-12-05",  # national day of mourning, President G. H. W. Bush
        "2024-06-19",
        "2024-12-25",
        "2024-11-28",  # Juneteenth, Christmas, Thanksgiving
        "2024-03-30",  # a Saturday
    ],
)
def test_closed_days_are_not_sessions(day):
    assert not calendars.is_session(day)


@pytest.mark.parametrize("day", ["2001-09-10", "2001-09-17", "2012-10-31", "2024-03-28", "2024-11-29"])
def test_open_days_are_sessions(day):
    assert calendars.is_session(day)


def test_sessions_from_the_rules_equal_the_built_calendar():
    """The session index comes from XNYS's weekmask, regular holidays and ad hoc closures without
    building the calendar; exchange-calendars' full build (opens, closes, its own session rule) is
    the second method. Every day of the range, 1990 to two years ahead, must agree."""
    start, end = calendars._span()
    built = xcals.get_calendar("XNYS", start=start.strftime("%Y-%m-%d"), end=end.strftime("%Y-%m-%d")).sessions
    ours = calendars._session_index()
    assert ours.dtype == "datetime64[ns]"  # the ordinals read asi8 as nanoseconds
    assert len(ours) > 9_000 and ours.asi8.tolist() == built.as_unit("ns").asi8.tolist()


def test_sessions_range_skips_the_9_11_closure():
    got = calendars.sessions("2001-09-07", "2001-09-18")
    assert list(got) == [T("2001-09-07"), T("2001-09-10"), T("2001-09-17"), T("2001-09-18")]


def test_sessions_range_is_inclusive_and_skips_sandy():
    got = calendars.sessions(dt.date(2012, 10, 26), dt.date(2012, 10, 31))
    assert list(got) == [T("2012-10-26"), T("2012-10-31")]


def test_next_session_crosses_holidays():
    assert calendars.next_session("2024-12-24") == T("2024-12-26")
    assert calendars.next_session("2001-09-10") == T("2001-09-17")
    assert calendars.next_session("2024-03-28") == T("2024-04-01")  # Good Friday + weekend
    assert calendars.next_session("2025-01-08") == T("2025-01-10")  # Carter day of mourning


def test_previous_session_crosses_holidays():
    assert calendars.previous_session("2024-04-01") == T("2024-03-28")
    assert calendars.previous_session("2012-10-31") == T("2012-10-26")
    assert calendars.previous_session("2025-01-10") == T("2025-01-08")
    assert calendars.previous_session("2024-03-28") == T("2024-03-27")  # strictly before


def test_session_on_or_after_and_before():
    assert calendars.session_on_or_after("2012-10-29") == T("2012-10-31")
    assert calendars.session_on_or_after("2001-09-11") == T("2001-09-17")
    assert calendars.session_on_or_after("2024-03-28") == T("2024-03-28")  # a session maps to itself
    assert calendars.session_on_or_before("2024-03-31") == T("2024-03-28")
    assert calendars.session_on_or_before("2024-03-28") == T("2024-03-28")


def test_shifts_are_vectorized():
    days = pd.Series(pd.to_datetime(["2024-12-24", "2024-12-25", "2025-01-09"]))
    assert list(calendars.next_session(days)) == [T("2024-12-26"), T("2024-12-26"), T("2025-01-10")]
    assert list(calendars.session_on_or_after(days)) == [T("2024-12-24"), T("2024-12-26"), T("2025-01-10")]
    assert list(calendars.previous_session(days)) == [T("2024-12-23"), T("2024-12-24"), T("2025-01-08")]


# --- last completed session (16:00 ET close; 13:00 ET on early-close days) ----------------------------


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (T("2024-03-28 15:59", tz="America/New_York"), "2024-03-27"),  # before a regular close
        (T("2024-03-28 16:00", tz="America/New_York"), "2024-03-28"),  # at the close
        (T("2024-03-28 16:01", tz="America/New_York"), "2024-03-28"),
        (T("2024-03-29 12:00", tz="America/New_York"), "2024-03-28"),  # Good Friday, closed
        (T("2024-03-30 12:00", tz="America/New_York"), "2024-03-28"),  # Saturday
        (T("2024-04-01 09:30", tz="America/New_York"), "2024-03-28"),  # Monday before the close
        (T("2024-11-29 12:59", tz="America/New_York"), "2024-11-27"),  # early close at 13:00; 11-28 closed
        (T("2024-11-29 13:01", tz="America/New_York"), "2024-11-29"),
        (T("2024-11-29 14:30", tz="America/New_York"), "2024-11-29"),
        (T("2024-11-29 18:30", tz="UTC"), "2024-11-29"),  # 13:30 ET
        (T("2024-11-29 17:30", tz="UTC"), "2024-11-27"),  # 12:30 ET
        (T("2024-03-29 02:00", tz="UTC"), "2024-03-28"),  # still the evening of 03-28 in New York
        (T("2024-11-29 13:30"), "2024-11-29"),  # naive timestamps are New York time
        (T("2024-11-29 12:30"), "2024-11-27"),
    ],
)
def test_last_completed_session(now, expected):
    assert calendars.last_completed_session(now) == T(expected)


# --- expirations ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("year", "month", "expected"),
    [
        (2024, 1, "2024-01-19"),
        (2024, 6, "2024-06-21"),
        (2024, 3, "2024-03-15"),
        (2023, 9, "2023-09-15"),
        (2022, 4, "2022-04-15"),
        (2026, 11, "2026-11-20"),
        (2021, 10, "2021-10-15"),
    ],
)
def test_third_friday(year, month, expected):
    assert calendars.third_friday(year, month) == T(expected)


@pytest.mark.parametrize(
    ("year", "month", "expected"),
    [
        (2022, 4, "2022-04-14"),  # third Friday 2022-04-15 was Good Friday
        (2025, 4, "2025-04-17"),  # third Friday 2025-04-18 was Good Friday
        (2019, 4, "2019-04-18"),  # third Friday 2019-04-19 was Good Friday
        (2024, 1, "2024-01-19"),
        (2024, 6, "2024-06-21"),
    ],
)
def test_spx_monthly_expiration(year, month, expected):
    assert calendars.spx_monthly_expiration(year, month) == T(expected)


@pytest.mark.parametrize(
    ("year", "month", "expected"),
    [
        (2024, 1, "2024-01-17"),  # normal month: Wednesday 30 days before 2024-02-16
        (2024, 6, "2024-06-18"),  # Wednesday 2024-06-19 is Juneteenth -> Tuesday
        (2019, 3, "2019-03-19"),  # 2019-04-19 Good Friday -> 30 days before Thursday 04-18
        (2022, 3, "2022-03-15"),  # 2022-04-15 Good Friday
        (2025, 3, "2025-03-18"),  # 2025-04-18 Good Friday
        (2024, 12, "2024-12-18"),  # crosses the year: 30 days before 2025-01-17
    ],
)
def test_vix_expiration_matches_cboe(year, month, expected):
    assert calendars.vix_expiration(year, month) == T(expected)


def test_vix_expirations_over_2024_are_cboes_twelve_dates():
    got = calendars.vix_expirations("2024-01-01", "2024-12-31")
    expected = [
        "2024-01-17",
        "2024-02-14",
        "2024-03-20",
        "2024-04-17",
        "2024-05-22",
        "2024-06-18",
        "2024-07-17",
        "2024-08-21",
        "2024-09-18",
        "2024-10-16",
        "2024-11-20",
        "2024-12-18",
    ]
    assert list(got) == [T(d) for d in expected]


def test_vix_expirations_bounds_are_inclusive():
    assert list(calendars.vix_expirations("2024-06-18", "2024-07-17")) == [T("2024-06-18"), T("2024-07-17")]
    assert len(calendars.vix_expirations("2024-06-19", "2024-07-16")) == 0


def test_is_vix_monthly_expiration():
    days = pd.Series(
        pd.to_datetime(
            ["2024-06-18", "2024-06-19", "2024-01-17", "2024-01-10", "2019-03-19", "2019-03-20", "2024-12-18"]
        )
    )
    assert calendars.is_vix_monthly_expiration(days).tolist() == [True, False, True, False, True, False, True]


def test_is_vix_monthly_expiration_empty():
    assert calendars.is_vix_monthly_expiration(pd.Series([], dtype="datetime64[ns]")).tolist() == []


# --- shipped data files: FOMC ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def fomc() -> pd.DataFrame:
    frame = pd.read_csv(DATA / "fomc_decisions.csv", dtype=str, keep_default_na=False)
    assert list(frame.columns) == ["date", "scheduled"]
    return frame


def test_fomc_rows_are_unique_sorted_and_flagged(fomc):
    dates = pd.to_datetime(fomc["date"], format="%Y-%m-%d")
    assert dates.is_unique and dates.is_monotonic_increasing
    assert set(fomc["scheduled"]) <= {"True", "False", ""}
    assert dates.min() == T("1990-02-07")  # first 1990 meeting (February 6-7)
    assert dates.max() >= T("2026-12-09")  # last meeting of the 2026 schedule


def test_fomc_has_about_eight_scheduled_decisions_a_year(fomc):
    sched = pd.to_datetime(fomc.loc[fomc["scheduled"] == "True", "date"])
    counts = sched.dt.year.value_counts()
    for year in range(1990, 2027):
        # 2020 had seven: the March 17-18 meeting was replaced by the unscheduled Sunday 2020-03-15 one
        assert counts.get(year, 0) == (7 if year == 2020 else 8), year


def test_fomc_scheduled_dates_are_nyse_sessions(fomc):
    sched = fomc.loc[fomc["scheduled"] == "True", "date"]
    assert [d for d in sched if not calendars.is_session(d)] == []


def test_fomc_unscheduled_dates_are_weekdays_except_the_sunday_2020_cut(fomc):
    unsched = pd.to_datetime(fomc.loc[fomc["scheduled"] == "False", "date"])
    weekend = [d.strftime("%Y-%m-%d") for d in unsched if d.weekday() >= 5]
    assert weekend == ["2020-03-15"]


@pytest.mark.parametrize(
    ("date", "scheduled"),
    [
        ("2008-12-16", "True"),  # cut to 0-1/4
        ("2015-12-16", "True"),  # first increase after the zero-rate period
        ("2022-03-16", "True"),  # first increase of the 2022 cycle
        ("2024-09-18", "True"),  # 50 bp cut
        ("2024-11-07", "True"),  # Thursday decision after the election
        ("2026-01-28", "True"),  # 2026 schedule announced 2024-08-09
        ("2026-12-09", "True"),
        ("2001-01-03", "False"),  # intermeeting cut
        ("2001-09-17", "False"),  # intermeeting cut after 9/11
        ("2008-01-22", "False"),  # 75 bp intermeeting cut
        ("2008-10-08", "False"),  # coordinated cut
        ("2020-03-03", "False"),
        ("2020-03-15", "False"),
    ],
)
def test_fomc_known_decisions(fomc, date, scheduled):
    assert dict(zip(fomc["date"], fomc["scheduled"], strict=True)).get(date) == scheduled


def test_fomc_has_no_meeting_that_did_not_happen(fomc):
    # 2020-03-18 was on the schedule but replaced; the others appear in some public lists in error
    assert not {"2020-03-18", "2025-11-05", "2025-12-17", "2017-01-27"} & set(fomc["date"])


# --- shipped data files: CPI and PPI release dates ------------------------------------------------


def _release_file(kind: str) -> pd.DataFrame:
    frame = pd.read_csv(DATA / f"{kind}_releases.csv", dtype=str)
    assert list(frame.columns) == ["reference_month", "release_date"]
    return frame


# Releases more than 50 days after the end of the reference month, all caused by the 2025 lapse in
# appropriations (BLS published September 2025 PPI on 2025-11-25 and October 2025 PPI with November's).
LATE_RELEASES = {"cpi": set(), "ppi": {"2025-09", "2025-10"}}


@pytest.mark.parametrize("kind", ["cpi", "ppi"])
def test_release_file_sanity(kind):
    frame = _release_file(kind)
    months = pd.PeriodIndex(frame["reference_month"], freq="M")
    released = pd.to_datetime(frame["release_date"], format="%Y-%m-%d")
    assert months.is_unique and months.is_monotonic_increasing  # one row per month
    assert (released.dt.dayofweek < 5).all()  # weekdays
    lag = (released - months.end_time.normalize()).dt.days.to_numpy()
    assert (lag > 0).all()  # strictly after the reference month
    late = {str(m) for m, days in zip(months, lag, strict=True) if days > 50}
    assert late == LATE_RELEASES[kind]
    assert len(frame) >= 100


@pytest.mark.parametrize(
    ("kind", "month", "released"),
    [
        ("cpi", "2024-01", "2024-02-13"),
        ("cpi", "2022-05", "2022-06-10"),
        ("cpi", "2013-09", "2013-10-30"),  # delayed by the 2013 shutdown
        ("cpi", "2025-09", "2025-10-24"),  # rescheduled during the 2025 shutdown
        ("cpi", "2025-11", "2025-12-18"),
        ("cpi", "2004-12", "2005-01-19"),
        ("ppi", "2024-07", "2024-08-13"),
        ("ppi", "2025-10", "2026-01-14"),  # October 2025 published with November's data
        ("ppi", "2025-11", "2026-01-14"),
    ],
)
def test_known_release_dates(kind, month, released):
    frame = _release_file(kind)
    assert dict(zip(frame["reference_month"], frame["release_date"], strict=True))[month] == released


def test_cancelled_october_2025_cpi_has_no_row():
    assert "2025-10" not in set(_release_file("cpi")["reference_month"])


def test_release_dates_loads_the_cpi_file():
    rel = calendars.release_dates("cpi")
    assert isinstance(rel.index, pd.PeriodIndex)
    assert rel.index.is_monotonic_increasing
    assert len(rel) == len(_release_file("cpi"))
    assert rel[pd.Period("2024-01", freq="M")] == T("2024-02-13")
    assert calendars.release_dates("ppi")[pd.Period("2024-07", freq="M")] == T("2024-08-13")


def test_release_dates_for_a_kind_without_a_file_is_empty():
    assert len(calendars.release_dates("nfp")) == 0


def test_shipped_events_loads_all_three_calendars(fomc):
    events = calendars.shipped_events()
    assert list(events.columns) == ["date", "kind", "scheduled"]
    counts = events["kind"].value_counts()
    assert counts["fomc"] == len(fomc)
    assert counts["cpi"] == len(_release_file("cpi"))
    # one PPI release (2026-01-14) carried two reference months: it is one event
    assert counts["ppi"] == _release_file("ppi")["release_date"].nunique()
    cpi = events[events["kind"] == "cpi"]
    assert cpi["scheduled"].eq(True).all()
    row = events[(events["kind"] == "fomc") & (events["date"] == T("2020-03-15"))]
    assert row["scheduled"].tolist() == [False]
    row = events[(events["kind"] == "fomc") & (events["date"] == T("2024-09-18"))]
    assert row["scheduled"].tolist() == [True]
