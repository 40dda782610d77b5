"""backtest.*: the model book replayed over history per strategy (METHODOLOGY §7), with the report's
charts attached as metadata so the Dagster UI shows them; the ablation and the parameter sweep."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from assets.metadata import analysis_specs, chart_markdown, reports_dir, table_metadata
from assets.resources import VixShieldResource

# vixshield.backtest.engine* (and matplotlib) are imported inside the assets: the daily job never pays for them

UPSTREAM = [
    dg.AssetKey(["features", "daily"]),
    dg.AssetKey(["features", "regime"]),
    dg.AssetKey(["core", "vx_futures"]),
    dg.AssetKey(["core", "market_daily"]),
]
DESCRIPTIONS = {
    "runs": "One row per backtest run and strategy: window, settings (JSON) and their digest.",
    "equity": "Daily NAV per run and strategy, with drawdown and the book's parts (equity, cash, condors, hedges).",
    "trades": "Every position per run and strategy: entry, exit, reason, cash, costs and P&L, from the fill ledger.",
    "metrics": "CAGR, vol, Sharpe and Sortino vs T-bills, drawdown, Calmar, worst month, hit rate, hedge cost, "
    "stress windows; for the whole run and the published indices' 1990-2015 window.",
}


@dg.multi_asset(specs=analysis_specs("backtest", DESCRIPTIONS, UPSTREAM))
def backtest_tables(context: dg.AssetExecutionContext, duckdb: DuckDBResource, vixshield: VixShieldResource):
    """Every strategy (full and the Cboe replicas) over all history, and the report."""
    from vixshield.backtest import job as backtest_job

    reports = reports_dir(duckdb.database)
    with duckdb.get_connection() as conn:
        result = backtest_job.run_backtest(
            conn, vixshield.settings().book, report_root=reports, progress=context.log.info
        )
        extra = {"run_id": result.run_id}
        for name in DESCRIPTIONS:
            meta = table_metadata(conn, f"backtest.{name}", "run_id", extra)
            if name == "metrics" and result.report is not None:
                meta["report"] = dg.MetadataValue.path(str(result.report.html))
                meta["charts"] = chart_markdown(result.report.charts)
                shown = result.metrics[result.metrics["window"] == "all"]
                meta["summary"] = dg.MetadataValue.md(
                    shown[["strategy", "cagr", "vol", "sharpe", "max_drawdown"]].round(4).to_markdown(index=False)
                )
            yield dg.MaterializeResult(asset_key=["backtest", name], metadata=meta)


@dg.asset(
    key=["backtest", "ablation"],
    group_name="backtest",
    kinds={"duckdb", "python"},
    deps=UPSTREAM,
    description="full against full without each [seed] rule (RSI-divergence modifier, event gate, L1, L2) and "
    "without the regime gates: metrics, deltas and a plain verdict per rule.",
)
def backtest_ablation(context: dg.AssetExecutionContext, duckdb: DuckDBResource, vixshield: VixShieldResource):
    from vixshield.backtest import job as backtest_job

    with duckdb.get_connection() as conn:
        result = backtest_job.run_backtest(
            conn, vixshield.settings().book, ("full",), ablation=True, progress=context.log.info
        )
        verdicts = "\n".join(f"- {v}" for v in result.ablation["verdict"][1:])
        return dg.MaterializeResult(
            metadata=table_metadata(
                conn,
                "backtest.ablation",
                "run_id",
                {"run_id": result.run_id, "verdicts": dg.MetadataValue.md(verdicts)},
            )
        )


@dg.asset(
    key=["backtest", "sweep"],
    group_name="backtest",
    kinds={"duckdb", "python"},
    deps=UPSTREAM,
    description="full over the default grid: short delta x profit target x hedge budget (50 points).",
)
def backtest_sweep(context: dg.AssetExecutionContext, duckdb: DuckDBResource, vixshield: VixShieldResource):
    from vixshield.backtest import engine as backtest
    from vixshield.backtest import job as backtest_job

    with duckdb.get_connection() as conn:
        result = backtest_job.run_backtest(
            conn, vixshield.settings().book, ("full",), sweep=backtest.DEFAULT_GRID, progress=context.log.info
        )
        best = result.sweep.sort_values("sharpe", ascending=False).head(10)
        return dg.MaterializeResult(
            metadata=table_metadata(
                conn,
                "backtest.sweep",
                "run_id",
                {"run_id": result.run_id, "best": dg.MetadataValue.md(best.round(4).to_markdown(index=False))},
            )
        )
