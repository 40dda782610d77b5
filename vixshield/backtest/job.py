"""One backtest run end to end: read the warehouse's features, run the strategies (and optionally the
ablation and a parameter sweep), write the backtest.* tables in one transaction, render the report.

Shared by `vixshield backtest` and the Dagster backtest assets.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pandas as pd

from vixshield import METHODOLOGY_VERSION
from vixshield.backtest import engine as backtest
from vixshield.backtest import metrics
from vixshield.config import digest, settings_json
from vixshield.store import warehouse
from vixshield.strategy import signals
from vixshield.strategy.book import BookSettings

if TYPE_CHECKING:
    from vixshield.backtest import report as backtest_report

EQUITY_COLUMNS = [
    "run_id",
    "strategy",
    "date",
    "nav",
    "daily_return",
    "drawdown",
    "equity_value",
    "cash",
    "condor_value",
    "hedge_value",
    "writer_value",
    "equity_pnl",
    "interest",
    "cash_rate",
    "regime",
]


@dataclass
class BacktestResult:
    run_id: str
    equity: pd.DataFrame
    trades: pd.DataFrame
    metrics: pd.DataFrame
    runs: pd.DataFrame
    ablation: pd.DataFrame | None = None
    sweep: pd.DataFrame | None = None
    report: backtest_report.ReportFiles | None = None
    reconciliation: dict[str, dict[str, float]] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


def load_inputs(conn: duckdb.DuckDBPyConnection) -> backtest.Inputs:
    n = conn.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'features' AND table_name = 'daily'")
    if not n.fetchone()[0]:
        raise LookupError("the warehouse has no features yet: run `vixshield run` first")
    return backtest.Inputs(*signals.load_inputs(conn))


def equity_frame(run_id: str, run: backtest.StrategyRun) -> pd.DataFrame:
    eq = run.equity.reset_index()
    prev = eq["nav"].shift(1).fillna(run.settings.initial_nav)
    eq["daily_return"] = eq["nav"] / prev - 1
    eq["drawdown"] = metrics.drawdown(eq["nav"])
    eq["run_id"], eq["strategy"] = run_id, run.strategy
    return eq[EQUITY_COLUMNS]


def run_backtest(
    conn: duckdb.DuckDBPyConnection,
    base: BookSettings,
    strategies: Sequence[str] = tuple(backtest.STRATEGIES),
    start: str | None = None,
    end: str | None = None,
    ablation: bool = False,
    sweep: Mapping[str, Sequence[float]] | None = None,
    report_root: Path | None = None,
    workers: int | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> BacktestResult:
    """Run, store and report one backtest; the tables are written only when every part succeeded."""
    unknown = [s for s in strategies if s not in backtest.STRATEGIES]
    if unknown:
        raise ValueError(f"unknown strategy {unknown}; known: {', '.join(backtest.STRATEGIES)}")
    for day in (start, end):
        if day is not None:
            dt.date.fromisoformat(str(day))  # a malformed date fails before any work
    run_id = str(uuid.uuid4())
    started = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    timings: dict[str, float] = {}
    inputs = load_inputs(conn)
    t0 = time.perf_counter()
    jobs = [(name, name, backtest.strategy_settings(name, base)) for name in strategies]
    runs = backtest.run_many(jobs, inputs, start, end, workers, progress=lambda s: progress(f"strategy {s} done"))
    timings["strategies"] = time.perf_counter() - t0
    eq = pd.concat([equity_frame(run_id, r) for r in runs.values() if len(r.equity)], ignore_index=True)
    parts = [r.trades.assign(run_id=run_id, strategy=r.strategy) for r in runs.values() if len(r.trades)]
    empty = pd.DataFrame(columns=[*backtest.TRADE_COLUMNS, "run_id", "strategy"])  # e.g. spx alone trades nothing
    trades = pd.concat(parts, ignore_index=True) if parts else empty
    mets = pd.DataFrame([row for r in runs.values() if len(r.equity) for row in r.metrics()])
    mets.insert(0, "run_id", run_id)
    run_rows = []
    for name, r in runs.items():
        text = settings_json(r.settings)
        run_rows.append(
            {
                "run_id": run_id,
                "strategy": name,
                "description": backtest.STRATEGIES[name],
                "started_at": started,
                "from_date": start,
                "to_date": end,
                "first_session": r.equity.index.min() if len(r.equity) else None,
                "last_session": r.equity.index.max() if len(r.equity) else None,
                "sessions": len(r.equity),
                "initial_nav": r.settings.initial_nav,
                "settings": text,
                "settings_digest": digest(text),
                "elapsed_s": timings["strategies"],
            }
        )
    result = BacktestResult(
        run_id,
        eq,
        trades,
        mets,
        pd.DataFrame(run_rows),
        reconciliation={n: backtest.reconcile(r) for n, r in runs.items() if len(r.equity)},
        timings=timings,
    )
    if ablation:
        t0 = time.perf_counter()
        found = backtest.run_many(backtest.ablation_jobs(base), inputs, start, end, workers, full=False)
        result.ablation = backtest.ablation_table(found).assign(run_id=run_id)
        timings["ablation"] = time.perf_counter() - t0
        progress(f"ablation: {len(found)} runs in {timings['ablation']:.1f}s")
    if sweep:
        t0 = time.perf_counter()
        jobs = backtest.sweep_jobs(base, sweep)
        progress(f"sweep: {len(jobs)} points")
        found = backtest.run_many(jobs, inputs, start, end, workers, full=False)
        result.sweep = backtest.sweep_table(found, base).assign(run_id=run_id)
        timings["sweep"] = time.perf_counter() - t0
        progress(f"sweep: {len(jobs)} runs in {timings['sweep']:.1f}s")
    write_results(conn, result)
    if report_root is not None:  # one folder per run: reports are never overwritten
        from vixshield.backtest import report as backtest_report  # matplotlib: only when a report is drawn

        t0 = time.perf_counter()
        spx = inputs.features["spx_close"].dropna()
        result.report = backtest_report.write_report(
            Path(report_root) / run_id, run_id, eq, trades, mets, spx, result.ablation, result.sweep
        )
        timings["report"] = time.perf_counter() - t0
    return result


def write_results(conn: duckdb.DuckDBPyConnection, result: BacktestResult) -> None:
    """Append the run's rows to backtest.* in one transaction (all tables or none)."""
    frames = {
        "runs": result.runs,
        "equity": result.equity,
        "trades": result.trades,
        "metrics": result.metrics,
        "ablation": result.ablation,
        "sweep": result.sweep,
    }
    warehouse.init_schema(conn)
    with warehouse.transaction(conn):
        for table, frame in frames.items():
            if frame is None or frame.empty:
                continue
            frame = frame.assign(methodology_version=METHODOLOGY_VERSION)
            with warehouse.registered(conn, "_frame", frame):
                conn.execute(f"INSERT INTO backtest.{table} BY NAME SELECT * FROM _frame")
