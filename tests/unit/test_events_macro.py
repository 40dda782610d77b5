"""Event distances and macro features as known at each close, on hand-built inputs."""

import duckdb
import numpy as np
import pandas as pd
import pytest

from vixshield import calendars
from vixshield.config import FeatureSettings
from vixshield.features import macro
from vixshield.features.events import sessions_until

T = pd.Timestamp


def ev(rows):
    frame = pd.DataFrame(rows, columns=["date", "kind", "known_from"])
    return frame.assign(date=pd.to_datetime(frame["date"]), known_from=pd.to_datetime(frame["known_from"]))


def test_sessions_until_counts_known_events_only():
    sessions = calendars.sessions("2024-01-02", "2024-03-28")
    events = ev(
        [
            ("2024-01-31", "fomc", "2023-01-31"),
            ("2024-03-20", "fomc", "2023-03-20"),
            ("2024-03-04", "fomc", "2024-03-04"),  # unscheduled: known only on its day
            ("2024-05-01", "fomc", "2023-05-01"),  # beyond the panel's last session
            ("2024-02-13", "cpi", "2023-02-13"),
        ]
    )
    out = sessions_until(events, sessions)
    assert out.loc[T("2024-01-29"), "sessions_to_fomc"] == 2  # Mon -> Wed
    assert out.loc[T("2024-01-31"), "sessions_to_fomc"] == 0
    # Mar 1: the Mar 4 action is unknown; Mar 20 is 13 sessions away (4-8, 11-15, 18-20)
    assert out.loc[T("2024-03-01"), "sessions_to_fomc"] == 13
    assert out.loc[T("2024-03-04"), "sessions_to_fomc"] == 0
    # Mar 28: Good Friday closed, 22 April sessions, then May 1
    assert out.loc[T("2024-03-28"), "sessions_to_fomc"] == 23
    assert out.loc[T("2024-02-12"), "sessions_to_cpi"] == 1
    assert np.isnan(out.loc[T("2024-02-14"), "sessions_to_cpi"])
    assert out["sessions_to_ppi"].isna().all()


def test_an_event_on_a_sunday_counts_on_the_next_session_and_only_once_known():
    sessions = calendars.sessions("2020-03-10", "2020-03-20")
    events = ev([("2020-03-15", "fomc", "2020-03-15"), ("2020-03-18", "fomc", "2019-03-18")])
    out = sessions_until(events, sessions)["sessions_to_fomc"]
    assert out[T("2020-03-13")] == 3  # the cut is not known on Friday: Mar 18 is
    assert out[T("2020-03-16")] == 0


def test_sessions_until_is_causal():
    sessions = calendars.sessions("2023-01-02", "2024-06-28")
    events = ev(
        [
            (d.strftime("%Y-%m-%d"), "cpi", (d - pd.Timedelta(days=365)).strftime("%Y-%m-%d"))
            for d in pd.date_range("2023-01-12", "2024-12-12", freq="MS") + pd.Timedelta(days=11)
        ]
    )
    full = sessions_until(events, sessions)
    for cut in ("2023-06-30", "2024-01-05"):
        part = sessions_until(events, sessions[sessions <= cut])
        pd.testing.assert_frame_equal(part, full.loc[:cut])


@pytest.fixture
def conn():
    c = duckdb.connect()
    c.execute("CREATE SCHEMA core")
    sessions = pd.DataFrame({"date": calendars.sessions("2023-01-03", "2024-03-28")})
    c.register("s", sessions)
    c.execute("CREATE TABLE core.sessions AS SELECT CAST(date AS DATE) AS date FROM s")
    rows = []
    # CPI: 2022-01 .. 2024-02, value rises 0.5/month; month M released on the 12th of M+1
    for i, month in enumerate(pd.date_range("2022-01-01", "2024-02-01", freq="MS")):
        rows.append(("CPIAUCSL", month, 300 + 0.5 * i, month + pd.DateOffset(months=1) + pd.Timedelta(days=11)))
    # DGS10 daily, known next session; stops on 2024-02-29 (as if discontinued)
    for i, day in enumerate(calendars.sessions("2023-01-03", "2024-02-29")):
        rows.append(("DGS10", day, 4.0 + 0.01 * i, calendars.next_session(day)))
    frame = pd.DataFrame(rows, columns=["series_id", "observation_date", "value", "available_date"])
    c.register("m", frame)
    c.execute(
        "CREATE TABLE core.macro_observations AS SELECT series_id, CAST(observation_date AS DATE) "
        "observation_date, value, CAST(available_date AS DATE) available_date FROM m"
    )
    yield c
    c.close()


def test_macro_values_join_on_release_not_observation(conn):
    f = macro.macro_features(macro.known_values(conn), FeatureSettings())
    # January 2024 CPI (index 24: 312.0) is released 2024-02-12; its YoY vs Jan 2023 (306.0)
    assert f.loc[T("2024-02-09"), "cpi_yoy"] == pytest.approx(311.5 / 305.5 - 1)  # still December's
    assert f.loc[T("2024-02-12"), "cpi_yoy"] == pytest.approx(312.0 / 306.0 - 1)
    assert f.loc[T("2024-02-12"), "cpi_3m_ann"] == pytest.approx((312.0 / 310.5) ** 4 - 1)
    # Friday's yield is known on Monday
    assert f.loc[T("2024-01-08"), "dgs10"] == pytest.approx(
        4.0 + 0.01 * (len(calendars.sessions("2023-01-03", "2024-01-05")) - 1)
    )
    # 1-month change: today's known value minus the value known 21 sessions earlier
    assert f.loc[T("2024-01-08"), "dgs10_chg1m"] == pytest.approx(0.21)


def test_a_discontinued_series_goes_missing_instead_of_being_carried(conn):
    f = macro.macro_features(macro.known_values(conn), FeatureSettings())
    assert not np.isnan(f.loc[T("2024-03-01"), "dgs10"])
    assert np.isnan(f.loc[T("2024-03-28"), "dgs10"])  # last observation 28 days old: beyond its max age


def test_macro_stress_needs_a_year_of_history_and_adds_the_inversion(conn):
    f = macro.macro_features(macro.known_values(conn), FeatureSettings())
    assert f["macro_stress"].iloc[:251].isna().all()  # fewer than 252 sessions of any z-score input
    later = f["macro_stress"].dropna()
    assert len(later) > 0
    np.testing.assert_allclose(later, f.loc[later.index, "z_dgs10_abs_chg1m"])  # the only input present


def test_the_bill_rate_falls_back_to_dtb3_as_a_bond_equivalent_yield_where_dgs3mo_is_missing():
    """Cash before DGS3MO (2000-01 in some copies) earns the 3-month bill, not fed funds: DTB3 is a discount
    rate, so it is put on DGS3MO's bond-equivalent basis. By hand: a 5.00% discount on a 91-day bill is
    365 x 0.05 / (360 - 91 x 0.05) = 18.25 / 355.45 = 5.1343% bond-equivalent."""
    c = duckdb.connect()
    c.execute("CREATE SCHEMA core")
    c.register("s", pd.DataFrame({"date": calendars.sessions("2023-01-03", "2023-03-31")}))
    c.execute("CREATE TABLE core.sessions AS SELECT CAST(date AS DATE) AS date FROM s")
    rows = [("DTB3", day, 5.0, calendars.next_session(day)) for day in calendars.sessions("2023-01-03", "2023-03-31")]
    rows += [
        ("DGS3MO", day, 5.5, calendars.next_session(day)) for day in calendars.sessions("2023-03-01", "2023-03-31")
    ]
    frame = pd.DataFrame(rows, columns=["series_id", "observation_date", "value", "available_date"])
    c.register("m", frame)
    c.execute(
        "CREATE TABLE core.macro_observations AS SELECT series_id, CAST(observation_date AS DATE) "
        "observation_date, value, CAST(available_date AS DATE) available_date FROM m"
    )
    f = macro.macro_features(macro.known_values(c), FeatureSettings())
    assert np.isnan(f.loc[T("2023-01-03"), "dgs3mo"])  # nothing known yet on the first session
    assert f.loc[T("2023-02-15"), "dgs3mo"] == pytest.approx(5.1343, abs=5e-5)
    assert f.loc[T("2023-03-01"), "dgs3mo"] == pytest.approx(5.1343, abs=5e-5)  # DGS3MO's first value: known tomorrow
    assert f.loc[T("2023-03-02"), "dgs3mo"] == 5.5  # from then on the constant-maturity yield
    c.close()
