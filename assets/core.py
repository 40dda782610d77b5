"""meta.quarantine and the core.* tables: validated, session-aligned, point-in-time."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from assets.metadata import table_metadata
from assets.resources import VixShieldResource
from vixshield import METHODOLOGY_VERSION
from vixshield.store import warehouse
from vixshield.store.schemas import FAMILIES
from vixshield.validate.core_tables import build_core, resolve_as_of
from vixshield.validate.quarantine import rebuild_quarantine

RAW_KEYS = [dg.AssetKey(["raw", f]) for f in FAMILIES]


@dg.asset(
    key=["meta", "quarantine"],
    code_version=METHODOLOGY_VERSION,
    group_name="validation",
    kinds={"duckdb", "sql"},
    deps=RAW_KEYS,
    description="Rows and cells set aside, each with the rule and the reason (known defects, unreadable rows).",
)
def quarantine(duckdb: DuckDBResource, vixshield: VixShieldResource) -> dg.MaterializeResult:
    with duckdb.get_connection() as conn:
        warehouse.init_schema(conn)
        by_rule = rebuild_quarantine(conn, vixshield.settings().validation)
        extra = {"rows_by_rule": dg.MetadataValue.json(by_rule)}
        return dg.MaterializeResult(metadata=table_metadata(conn, "meta.quarantine", "table_name", extra))


CORE_TABLES = {
    "sessions": ("NYSE sessions from the first SPX/VIX print to the as-of session.", "date"),
    "market_daily": ("The validated wide panel: SPX OHLC, the VIX family, VVIX, SKEW, VX M1/M2.", "date"),
    "vx_futures": ("Monthly VIX futures with a usable price (settle, or close where settle is 0).", "trade_date"),
    "macro_observations": ("Macro values known by the as-of session (available_date <= as_of).", "available_date"),
    "events": ("FOMC / CPI / PPI dates known by the as-of session (scheduled ones a year ahead).", "date"),
    "breadth_closes": ("Closes of the configured breadth universe (adjusted where published).", "date"),
    "breadth_vendor": ("A vendor's NYSE A-D line (NYAD) and McClellan oscillator (NYMO).", "date"),
}


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ["core", name],
            group_name="core",
            kinds={"duckdb", "sql"},
            description=desc,
            deps=[*RAW_KEYS, dg.AssetKey(["meta", "quarantine"])],
            code_version=METHODOLOGY_VERSION,
        )
        for name, (desc, _) in CORE_TABLES.items()
    ],
)
def core_tables(context: dg.AssetExecutionContext, duckdb: DuckDBResource, vixshield: VixShieldResource):
    """All core tables are rebuilt together, in one transaction, through the run's as-of session."""
    with duckdb.get_connection() as conn:
        as_of = resolve_as_of(conn, vixshield.requested_as_of(), vixshield.is_live)
        context.log.info(f"building core through {as_of}")
        settings = vixshield.settings()
        build_core(conn, as_of, settings.validation, settings.universe)
        for name, (_, order_by) in CORE_TABLES.items():
            yield dg.MaterializeResult(
                asset_key=["core", name],
                metadata=table_metadata(conn, f"core.{name}", order_by, {"as_of": str(as_of)}),
            )
