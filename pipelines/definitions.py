"""The one Definitions object: assets, checks, the daily job and its NYSE-session schedule."""

from __future__ import annotations

import datetime as dt
import os
from typing import TYPE_CHECKING

import dagster as dg

from assets.backtest import backtest_ablation, backtest_sweep, backtest_tables
from assets.checks import expectation_checks, sql_checks
from assets.core import core_tables, quarantine
from assets.features import features_daily, features_regime
from assets.publish import published
from assets.raw import raw_assets
from assets.replays import replay_session
from assets.research import research_tables
from assets.resources import default_resources
from assets.signals import signal_tables
from assets.tickets import ticket_table
from vixshield import calendars

if TYPE_CHECKING:
    from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

daily_job = dg.define_asset_job(
    "daily",
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups("backtest", "replays", "research"),
    description="Ingest every source, validate, and rebuild the core panel (then features and signals).",
    executor_def=dg.in_process_executor,
)


def _group_job(name: str, group: str, description: str) -> UnresolvedAssetJobDefinition:
    """A job materializing one asset group, in process like the daily job."""
    return dg.define_asset_job(
        name, selection=dg.AssetSelection.groups(group), description=description, executor_def=dg.in_process_executor
    )


replay_job = _group_job(
    "replay",
    "replays",
    "Replay NYSE sessions as of their close, each into $VIXSHIELD_HOME/replays/<session>: pick a "
    "session, or a range as a backfill, in the partitions view.",
)
backtest_job = _group_job(
    "backtest",
    "backtest",
    "Replay the book over history: every strategy and the report, the ablation, the parameter sweep.",
)
research_job = _group_job(
    "research",
    "research",
    "Walk-forward research: each comparison against SPX out of sample with intervals, the rules' "
    "contributions, the Deflated Sharpe Ratio, the report (minutes: every grid point is a full backtest).",
)


@dg.schedule(job=daily_job, cron_schedule="30 18 * * 1-5", execution_timezone="America/New_York")
def daily_after_close(context: dg.ScheduleEvaluationContext):
    """18:30 New York on NYSE sessions only: holidays are skipped, early closes run as usual."""
    day = context.scheduled_execution_time.date()
    if not calendars.is_session(day):
        return dg.SkipReason(f"{day} is not an NYSE session")
    return dg.RunRequest(run_key=f"daily-{day}", tags={"session": str(day)})


@dg.sensor(minimum_interval_seconds=3600, default_status=dg.DefaultSensorStatus.RUNNING)
def stale_snapshot(context: dg.SensorEvaluationContext) -> dg.SkipReason:
    """Alert once per session when the published snapshot is older than the last completed NYSE
    session (5 h after its close): the evening run did not run, failed, or was blocked."""
    from pipelines.instance import vixshield_home
    from vixshield.config import load_settings
    from vixshield.serve import alerts, publish

    home = vixshield_home()
    found = alerts.stale_since(publish.read_manifest(home), dt.datetime.now(dt.UTC))
    if found is None:
        return dg.SkipReason("the published snapshot is current")
    session, alert = found
    if context.cursor == session:
        return dg.SkipReason(f"stale since {session}; already announced")
    settings = load_settings(os.environ.get("VIXSHIELD_CONFIG") or None)
    delivery = alerts.send([alert], alerts.target_urls(settings.alerts.urls))
    context.update_cursor(session)
    return dg.SkipReason(f"{alert.body} Alerts: {delivery.summary()}")


defs = dg.Definitions(
    assets=[
        *raw_assets,
        quarantine,
        core_tables,
        features_daily,
        features_regime,
        signal_tables,
        ticket_table,
        published,
        backtest_tables,
        backtest_ablation,
        backtest_sweep,
        research_tables,
        replay_session,
    ],
    asset_checks=[*expectation_checks, *sql_checks],
    jobs=[daily_job, backtest_job, research_job, replay_job],
    schedules=[daily_after_close],
    sensors=[stale_snapshot],
    resources=default_resources(),
    executor=dg.in_process_executor,
)
