"""signals.*: the condor plan, condor actions, hedge layers and the model book, plus the app view."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from assets.metadata import table_metadata
from assets.resources import VixShieldResource
from vixshield import METHODOLOGY_VERSION
from vixshield.store import contract
from vixshield.strategy import signals

FEATURE_KEYS = [dg.AssetKey(["features", "daily"]), dg.AssetKey(["features", "regime"])]
DESCRIPTIONS = {t.name.split(".")[1]: t.comment for t in contract.SIGNALS}  # one per signals table


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ["signals", name],
            group_name="signals",
            kinds={"duckdb", "python"},
            description=desc,
            deps=[*FEATURE_KEYS, dg.AssetKey(["core", "vx_futures"])],
            code_version=METHODOLOGY_VERSION,
        )
        for name, desc in DESCRIPTIONS.items()
    ],
)
def signal_tables(context: dg.AssetExecutionContext, duckdb: DuckDBResource, vixshield: VixShieldResource):
    """One run of the book over history writes all four tables and the signals.latest_plan view."""
    with duckdb.get_connection() as conn:
        update = signals.update_signals(conn, vixshield.settings().book)
        context.log.info(f"signals: {update.reason}")
        extra = {"book": update.reason}
        for name in signals.TABLES:
            yield dg.MaterializeResult(
                asset_key=["signals", name], metadata=table_metadata(conn, f"signals.{name}", "date", extra)
            )
