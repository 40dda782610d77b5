"""Per-session partitions on the real NYSE calendar, and a replay launched through Dagster."""

import datetime as dt
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb
import exchange_calendars as xcals
import pandas as pd
import pytest

from assets.replays import SESSIONS, ReplayResource, holidays, refusal, session_partitions
from assets.resources import VixShieldResource
from pipelines.definitions import defs
from tests.conftest import SHARED_MARKET, write_market_dir
from tests.e2e.helpers import signals_digest, vixshield

NY = ZoneInfo("America/New_York")
XNYS = xcals.get_calendar("XNYS", start="1990-01-01", end="2026-11-30")


def keys_at(when: dt.datetime, end_offset: int = 1) -> list[str]:
    return session_partitions(end_offset).get_partition_keys(current_time=when)


def test_the_partitions_are_exactly_the_nyse_sessions_1990_2026():
    keys = keys_at(dt.datetime(2026, 11, 30, 19, 0, tzinfo=NY))
    want = [d.strftime("%Y-%m-%d") for d in XNYS.sessions]
    assert keys == want  # 9/11, Sandy, presidential funerals and every holiday left out
    assert len(keys) == len(want) > 9000
    weekday_closures = set(pd.bdate_range("1990-01-02", "2026-11-30").date) - set(XNYS.sessions.date)
    assert {d for d in holidays() if d <= dt.date(2026, 11, 30)} == weekday_closures
    assert dt.date(2001, 9, 11) in weekday_closures and dt.date(2012, 10, 29) in weekday_closures


@pytest.mark.parametrize(
    ("when", "end_offset", "last"),
    [
        # end_offset=0: a session's window closes at the next session's 18:30, so Friday's appears on Monday
        (dt.datetime(2024, 3, 22, 19, 0, tzinfo=NY), 0, "2024-03-21"),
        (dt.datetime(2024, 3, 24, 12, 0, tzinfo=NY), 0, "2024-03-21"),
        (dt.datetime(2024, 3, 25, 18, 31, tzinfo=NY), 0, "2024-03-22"),
        # end_offset=1 (ours): the session is offered from 18:30 on its own day ...
        (dt.datetime(2024, 3, 22, 18, 31, tzinfo=NY), 1, "2024-03-22"),
        (dt.datetime(2024, 3, 22, 18, 29, tzinfo=NY), 1, "2024-03-21"),
        # ... and on a holiday evening the next session, which has not traded yet
        (dt.datetime(2024, 7, 4, 18, 31, tzinfo=NY), 1, "2024-07-05"),
        (dt.datetime(2024, 3, 29, 19, 0, tzinfo=NY), 1, "2024-04-01"),  # Good Friday
    ],
)
def test_the_edges_of_the_session_partitions(when, end_offset, last):
    assert keys_at(when, end_offset)[-1] == last


def test_the_partitions_do_not_offer_a_holiday_even_with_end_offset_1():
    plain = dg.TimeWindowPartitionsDefinition(
        start="2024-06-01", fmt="%Y-%m-%d", cron_schedule="30 18 * * 1-5", timezone="America/New_York", end_offset=1
    )
    evening = dt.datetime(2024, 7, 4, 18, 31, tzinfo=NY)
    assert plain.get_partition_keys(current_time=evening)[-1] == "2024-07-04"  # without the exclusions
    assert "2024-07-04" not in SESSIONS.get_partition_keys(current_time=evening)


def _replay_job(partition: str, data_dir, root):
    return defs.resolve_job_def("replay").execute_in_process(
        partition_key=partition,
        instance=dg.DagsterInstance.ephemeral(),
        resources={
            "vixshield": VixShieldResource(source="files", data_dir=str(data_dir)),
            "replays": ReplayResource(root=str(root)),
        },
        raise_on_error=False,
    )


def test_what_a_holiday_evening_offers_is_refused_until_it_has_traded():
    evening = dt.datetime(2024, 7, 4, 18, 31, tzinfo=NY)
    offered = SESSIONS.get_partition_keys(current_time=evening)[-1]
    assert refusal(offered, evening) == "2024-07-05 has not closed yet (the last completed NYSE session is 2024-07-03)"
    assert refusal(offered, dt.datetime(2024, 7, 5, 16, 1, tzinfo=NY)) is None
    assert refusal("2024-07-04") == "2024-07-04 is not an NYSE session"


@pytest.mark.slow
@pytest.mark.parametrize(
    "case",
    [
        pytest.param("fixture", id="fixture-2024-03-22"),
        pytest.param("bundle", id="bundle-2020-03-16", marks=pytest.mark.market_data),
    ],
)
def test_a_replay_launched_through_dagster_equals_the_as_of_cli_run(tmp_path, case):
    if case == "bundle":
        if not (SHARED_MARKET / "MANIFEST.md").exists():
            pytest.skip("the shared real-data bundle is not present")
        data, session = SHARED_MARKET, "2020-03-16"
    else:
        data, session = write_market_dir(tmp_path / "market"), "2024-03-22"
    result = _replay_job(session, data, tmp_path / "replays")
    assert result.success
    (mat,) = result.get_asset_materialization_events()
    meta = mat.materialization.metadata
    assert meta["loaded"].value is True and meta["validated"].value is True
    cli = vixshield(tmp_path / "cli", "run", "--source", "files", "--data-dir", str(data), "--as-of", session)
    assert cli.returncode == 0, cli.stderr
    replayed = signals_digest(tmp_path / "replays" / session / "warehouse.duckdb")
    assert {"condor_plan", "condor_actions", "hedge_layers", "book_daily", "tickets"} <= set(replayed)
    assert replayed == signals_digest(tmp_path / "cli" / "warehouse.duckdb")
    with duckdb.connect(str(tmp_path / "replays" / session / "warehouse.duckdb"), read_only=True) as conn:
        assert conn.execute("SELECT max(date)::VARCHAR FROM signals.condor_plan").fetchone()[0] == session
