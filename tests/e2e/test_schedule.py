"""A scheduled run, evaluated and launched the way `dagster-daemon` does it, records itself in
meta.runs and shows in `vixshield doctor` like a CLI run.

The daemon's own functions run here with a fixed clock: the scheduler's `launch_scheduled_runs`
evaluates the daily schedule's tick (2024-03-28 18:30 New York) and queues the run in the home's
instance, the queued-run coordinator's iteration dequeues it, and the instance's run launcher starts
it in its own process, as under `make ui`. Only the clock is not the wall clock (the daemon itself
cannot be told what time it is)."""

import datetime as dt
import logging
import time
from zoneinfo import ZoneInfo

import dagster as dg
import dagster._daemon  # imports the scheduler module in the order the daemon does (else a circular import)
import duckdb
import pytest
from dagster._core.scheduler.instigation import (
    InstigatorState,
    InstigatorStatus,
    InstigatorType,
    ScheduleInstigatorData,
)
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._core.workspace.load_target import WorkspaceFileTarget
from dagster._daemon.run_coordinator.queued_run_coordinator_daemon import QueuedRunCoordinatorDaemon
from dagster._scheduler.scheduler import launch_scheduled_runs

from pipelines.instance import instance_for
from tests.conftest import REPO
from tests.e2e.helpers import vixshield

pytestmark = pytest.mark.slow  # a code server and a run in their own processes

NY = ZoneInfo("America/New_York")
TICK = dt.datetime(2024, 3, 28, 18, 30, tzinfo=NY)  # a Thursday session, the small market folder's last


def test_a_scheduled_run_records_itself_and_shows_in_doctor(tmp_path, market_template, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("VIXSHIELD_HOME", str(home))  # what `make ui` passes to the code location and runs
    monkeypatch.setenv("VIXSHIELD_SOURCE", "files")
    monkeypatch.setenv("VIXSHIELD_DATA_DIR", str(market_template))
    monkeypatch.delenv("VIXSHIELD_CONFIG", raising=False)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "elsewhere"))  # the home's instance is used regardless
    with (
        instance_for(home) as instance,
        WorkspaceProcessContext(instance, WorkspaceFileTarget(paths=[str(REPO / "workspace.yaml")])) as workspace,
    ):
        location = workspace.create_request_context().get_code_location("vixshield")
        (repo,) = location.get_repositories().values()
        schedule = repo.get_schedule("daily_after_close")
        instance.add_instigator_state(  # the schedule switched on an hour before the tick
            InstigatorState(
                schedule.get_remote_origin(),
                InstigatorType.SCHEDULE,
                InstigatorStatus.RUNNING,
                ScheduleInstigatorData(
                    schedule.cron_schedule, start_timestamp=(TICK - dt.timedelta(hours=1)).timestamp()
                ),
            )
        )
        now = (TICK + dt.timedelta(minutes=1)).astimezone(dt.UTC)
        list(launch_scheduled_runs(workspace, logging.getLogger("scheduler"), now, {}))
        (run,) = instance.get_runs()
        assert run.tags["dagster/schedule_name"] == "daily_after_close" and run.tags["session"] == "2024-03-28"
        assert run.status == dg.DagsterRunStatus.QUEUED
        with QueuedRunCoordinatorDaemon(interval_seconds=1) as coordinator:
            list(coordinator.run_iteration(workspace))
        deadline = time.monotonic() + 600
        while not (run := instance.get_run_by_id(run.run_id)).is_finished:
            assert time.monotonic() < deadline, f"the scheduled run is still {run.status}"
            time.sleep(2)
        assert run.status == dg.DagsterRunStatus.SUCCESS
        assert run.job_name == "daily"
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as conn:
        ((run_id, status, source, as_of, message),) = conn.execute(
            "SELECT run_id, status, source, as_of::VARCHAR, message FROM meta.runs"
        ).fetchall()
    assert (run_id, status, source, as_of) == (run.run_id, "success", "files", "2024-03-28")
    assert "book replayed all history" in message and "0 failed" in message
    assert (home / "published" / "warehouse.duckdb").exists()
    doctor = vixshield(home, "doctor", "--offline")
    assert f"last run {run.run_id[:8]} success" in doctor.stdout, doctor.stdout
