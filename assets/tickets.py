"""signals/tickets: the day's actions as broker orders, with OCC symbols on every leg (and the
signals.condor_legs / hedge_legs views apps read symbols from). Runs after the signal tables."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from assets.metadata import table_metadata
from assets.resources import VixShieldResource
from vixshield import METHODOLOGY_VERSION
from vixshield.serve import tickets

SIGNAL_KEYS = [dg.AssetKey(["signals", t]) for t in ("condor_plan", "condor_actions", "hedge_layers")]


@dg.asset(
    key=["signals", "tickets"],
    code_version=METHODOLOGY_VERSION,
    group_name="signals",
    kinds={"duckdb", "python"},
    deps=[*SIGNAL_KEYS, dg.AssetKey(["features", "daily"])],
    description="One order ticket per action (open, close, roll, adjust, hedge add/monetize/remove): legs with "
    "OCC symbols and sides, quantity, DAY limit from the model mid and the spread model, reasons.",
)
def ticket_table(
    context: dg.AssetExecutionContext, duckdb: DuckDBResource, vixshield: VixShieldResource
) -> dg.MaterializeResult:
    settings = tickets.TicketSettings.from_book(vixshield.settings().book)
    with duckdb.get_connection() as conn:
        update = tickets.update_tickets(conn, settings, METHODOLOGY_VERSION)
        context.log.info(f"tickets: {update.rows} written, {update.reason}; condor root {settings.condor_root}")
        extra = {"rebuilt": update.reason}
        return dg.MaterializeResult(metadata=table_metadata(conn, tickets.TABLE, "date, ticket_id", extra))
