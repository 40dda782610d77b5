"""raw.* assets: fetch one family from the configured source and upsert it in one transaction."""

import datetime as dt

import dagster as dg
from dagster_duckdb import DuckDBResource

from assets.metadata import table_metadata
from assets.resources import VixShieldResource
from vixshield import calendars
from vixshield.ingest import cache
from vixshield.ingest import load as ingest
from vixshield.ingest.sources.base import FetchWindow, Source, SourceError
from vixshield.store import contract, warehouse
from vixshield.store.schemas import FAMILIES

OPEN_END = dt.date(2200, 1, 1)  # offline sources: no cut unless --as-of says so
# A live source that gave up after its own retries may heal later: the step is retried this many
# times, this long apart. Nothing else is retried: a bad file or response fails the step at once.
NETWORK_RETRIES, NETWORK_RETRY_WAIT = 2, 30.0

DESCRIPTIONS = {f.name: f.comment for f in contract.FAMILIES}  # one per raw family


def fetch_window(conn, family: str, cfg: VixShieldResource) -> FetchWindow:
    requested = cfg.requested_as_of()
    if not cfg.is_live:
        return FetchWindow(None, requested or OPEN_END)
    end = requested or calendars.last_completed_session().date()
    start = ingest.incremental_start(conn, family, cfg.settings().live.overlap_sessions)
    return FetchWindow(start, end)


def make_raw_asset(family: str) -> dg.AssetsDefinition:
    keys, _ = FAMILIES[family]

    @dg.asset(
        key=["raw", family],
        group_name="raw",
        kinds={"duckdb", "python"},
        description=DESCRIPTIONS[family],
        metadata={"primary_key": list(keys)},
    )
    def _raw(context: dg.AssetExecutionContext, duckdb: DuckDBResource, vixshield: VixShieldResource):
        source = vixshield.make_source(cache.cache_dir(duckdb.database))
        try:
            return _materialize(context, duckdb, source, family, keys, vixshield)
        except SourceError as exc:
            if exc.transient:
                raise dg.RetryRequested(max_retries=NETWORK_RETRIES, seconds_to_wait=NETWORK_RETRY_WAIT) from exc
            raise

    return _raw


def _materialize(
    context: dg.AssetExecutionContext,
    duckdb: DuckDBResource,
    source: Source,
    family: str,
    keys: tuple[str, ...],
    vixshield: VixShieldResource,
) -> dg.MaterializeResult:
    if source.live:
        source.preflight()
    with duckdb.get_connection() as conn:
        warehouse.init_schema(conn)
        window = fetch_window(conn, family, vixshield)
        context.log.info(f"fetching {family} from {source.name}: {window.start or 'full history'} .. {window.end}")
        limit = vixshield.settings().validation.max_revised_share
        result = ingest.load(conn, source, family, window, context.run.run_id, limit)
        extra = {
            "source": source.name,
            "inserted": result.inserted,
            "revised": result.revised,
            "unchanged": result.unchanged,
            "rejected_to_quarantine": result.rejected,
            "withdrawn": result.withdrawn,
            "first_date": str(result.first_date),
            "last_date": str(result.last_date),
        }
        return dg.MaterializeResult(metadata=table_metadata(conn, f"raw.{family}", keys[-1], extra))


raw_assets = [make_raw_asset(family) for family in FAMILIES]
