"""The one Definitions object: assets, checks, the daily job and its NYSE-session schedule."""

import dagster as dg

from assets.backtest import backtest_ablation, backtest_sweep, backtest_tables
from assets.checks import expectation_checks, sql_checks
from assets.core import core_tables, quarantine
from assets.features import features_daily, features_regime
from assets.publish import published
from assets.raw import raw_assets
from assets.resources import default_resources
from assets.signals import signal_tables
from assets.tickets import ticket_table
from vixshield import calendars

daily_job = dg.define_asset_job(
    "daily",
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups("backtest"),
    description="Ingest every source, validate, and rebuild the core panel (then features and signals).",
    executor_def=dg.in_process_executor,
)
backtest_job = dg.define_asset_job(
    "backtest",
    selection=dg.AssetSelection.groups("backtest"),
    description="Replay the book over history: every strategy and the report, the ablation, the parameter sweep.",
    executor_def=dg.in_process_executor,
)


@dg.schedule(job=daily_job, cron_schedule="30 18 * * 1-5", execution_timezone="America/New_York")
def daily_after_close(context: dg.ScheduleEvaluationContext):
    """18:30 New York on NYSE sessions only: holidays are skipped, early closes run as usual."""
    day = context.scheduled_execution_time.date()
    if not calendars.is_session(day):
        return dg.SkipReason(f"{day} is not an NYSE session")
    return dg.RunRequest(run_key=f"daily-{day}", tags={"session": str(day)})


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
    ],
    asset_checks=[*expectation_checks, *sql_checks],
    jobs=[daily_job, backtest_job],
    schedules=[daily_after_close],
    resources=default_resources(),
    executor=dg.in_process_executor,
)
