"""research.*: the walk-forward research (vixshield.research): every comparison against SPX out of sample
with bootstrap intervals, the rules' contributions and the Deflated Sharpe Ratio; the report's charts and
the verdict table attached as metadata so the Dagster UI shows them."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from assets.backtest import UPSTREAM
from assets.metadata import analysis_specs, chart_markdown, reports_dir, table_metadata
from assets.resources import VixShieldResource
from vixshield.store import contract

# vixshield.research (the engine, matplotlib) is imported inside the asset: the daily job never pays for it
TABLES = {t.name.split(".")[1]: t.comment for t in contract.RESEARCH}


@dg.multi_asset(specs=analysis_specs("research", TABLES, UPSTREAM))
def research_tables(context: dg.AssetExecutionContext, duckdb: DuckDBResource, vixshield: VixShieldResource):
    """The walk-forward over the configured grid, the comparisons, the statistics and the report."""
    from vixshield.research import job as research_job
    from vixshield.research import readme

    reports = reports_dir(duckdb.database)
    with duckdb.get_connection() as conn:
        result = research_job.run_research(conn, vixshield.settings(), report_root=reports, progress=context.log.info)
        for name in TABLES:
            meta = table_metadata(conn, f"research.{name}", "run_id", {"run_id": result.run_id})
            if name == "verdict":
                shown = result.tables["verdict"][["variant", "sharpe", "d_sharpe", "d_sharpe_low", "d_sharpe_high"]]
                meta["verdict"] = dg.MetadataValue.md(
                    shown.assign(verdict=result.tables["verdict"]["verdict"]).round(3).to_markdown(index=False)
                )
                meta["summary"] = dg.MetadataValue.md(readme.paragraph(result.tables))
                if result.report is not None:
                    meta["report"] = dg.MetadataValue.path(str(result.report.html))
                    meta["charts"] = chart_markdown(result.report.charts)
            yield dg.MaterializeResult(asset_key=["research", name], metadata=meta)
