"""meta/published: the read-only snapshot and Parquet files apps read, written only when every
upstream asset and blocking check succeeded (a failed run publishes nothing)."""

import datetime as dt
from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from vixshield import METHODOLOGY_VERSION
from vixshield.serve import publish
from vixshield.store import warehouse

SIGNAL_KEYS = [
    dg.AssetKey(["signals", t]) for t in ("condor_plan", "condor_actions", "hedge_layers", "book_daily", "tickets")
]


@dg.asset(
    key=["meta", "published"],
    group_name="serving",
    kinds={"duckdb", "parquet"},
    deps=[*SIGNAL_KEYS, dg.AssetKey(["features", "daily"]), dg.AssetKey(["features", "regime"])],
    # visible in the UI: a weekday evening's snapshot must exist by 23:00 New York (cron knows no NYSE
    # holidays; the stale_snapshot sensor, which does, is what alerts)
    freshness_policy=dg.FreshnessPolicy.cron(
        deadline_cron="0 23 * * 1-5", lower_bound_delta=dt.timedelta(hours=7), timezone="America/New_York"
    ),
    description="Atomically published read-only snapshot (published/warehouse.duckdb), Parquet files of the "
    "signal tables and manifest.json. Readers never block a run and a run never breaks a reader.",
)
def published(context: dg.AssetExecutionContext, duckdb: DuckDBResource) -> dg.MaterializeResult:
    db = Path(duckdb.database)
    with duckdb.get_connection() as conn:
        as_of = warehouse.as_of(conn)
    from vixshield.serve import today

    manifest = publish.publish(
        db, db.parent, context.run.run_id, as_of, METHODOLOGY_VERSION, publish.PUBLISHED_TABLES,
        export_all=True, page=today.render_page,
    )  # fmt: skip
    return dg.MaterializeResult(
        metadata={
            "snapshot": dg.MetadataValue.path(str(publish.snapshot_path(db.parent))),
            "as_of": str(as_of),
            "files": dg.MetadataValue.json({k: v.get("sha256", "")[:12] for k, v in manifest.get("files", {}).items()}),
        }
    )
