"""One research run end to end: read the warehouse's features, evaluate the walk-forward and the comparisons
(`harness`), append the research.* tables in one transaction, draw the report.

Shared by `vixshield research` and the Dagster research assets.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pandas as pd

from vixshield import METHODOLOGY_VERSION
from vixshield.backtest import job as backtest_job
from vixshield.backtest.metrics import drawdown
from vixshield.config import Settings, digest
from vixshield.research import harness
from vixshield.store import contract, warehouse

if TYPE_CHECKING:
    from vixshield.backtest.report import ReportFiles

TABLES = tuple(t.name.split(".")[1] for t in contract.RESEARCH)


@dataclass
class ResearchResult:
    run_id: str
    findings: harness.Findings
    tables: dict[str, pd.DataFrame]  # research.<name> -> the rows this run appended
    report: ReportFiles | None = None
    timings: dict[str, float] = field(default_factory=dict)


def equity_rows(findings: harness.Findings) -> pd.DataFrame:
    """research.equity: each variant's stitched out-of-sample returns as a NAV from 1.0 and its drawdown."""
    parts = []
    for variant, r in findings.returns.items():
        nav = (1 + r).cumprod()
        parts.append(
            pd.DataFrame(
                {
                    "variant": variant,
                    "date": r.index,
                    "daily_return": r.to_numpy(),
                    "nav": nav.to_numpy(),
                    "drawdown": drawdown(pd.concat([pd.Series([1.0]), nav], ignore_index=True)).iloc[1:].to_numpy(),
                    "tbill_return": findings.rf.to_numpy(),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def settings_text(settings: Settings) -> str:
    """The book and research settings as canonical JSON: what a run stores and its digest hashes."""
    parts = {"book": dataclasses.asdict(settings.book), "research": dataclasses.asdict(settings.research)}
    return json.dumps(parts, default=str, sort_keys=True)


def tables(
    run_id: str, findings: harness.Findings, settings: Settings, started: dt.datetime, elapsed: float
) -> dict[str, pd.DataFrame]:
    """Every research.* table's rows for one run, keyed by table name (without the schema)."""
    rs, dates = settings.research, findings.returns.index
    text = settings_text(settings)
    run = {
        "started_at": started,
        "split": rs.split,
        "objective": rs.objective,
        "first_oos_year": rs.first_oos_year,
        "fit_years": rs.fit_years,
        "oos_first": dates.min(),
        "oos_last": dates.max(),
        "sessions": len(dates),
        "grid_points": sum(findings.trials.values()),
        "backtests": findings.backtests,
        "block_length": findings.block,
        "bootstrap_reps": rs.bootstrap_reps,
        "confidence": rs.confidence,
        "seed": rs.seed,
        "settings": text,
        "settings_digest": digest(text),
        "elapsed_s": elapsed,
    }
    frames = {
        "runs": pd.DataFrame([run]),
        "selections": findings.selections,
        "equity": equity_rows(findings),
        "comparisons": findings.comparisons,
        "verdict": findings.verdict,
        "contributions": findings.contributions,
        "deflated": findings.deflated,
        "crashes": findings.crashes,
    }
    out = {}
    for name, frame in frames.items():
        declared = contract.TABLES[f"research.{name}"].names
        frame = frame.assign(run_id=run_id, methodology_version=METHODOLOGY_VERSION)
        out[name] = frame[[c for c in declared if c in frame.columns]]
    return out


def write_results(conn: duckdb.DuckDBPyConnection, frames: dict[str, pd.DataFrame]) -> None:
    """Append a run's rows to research.* in one transaction (all tables or none)."""
    warehouse.init_schema(conn)
    with warehouse.transaction(conn):
        for name, frame in frames.items():
            warehouse.write_table(conn, f"research.{name}", frame, replace=False)


def run_research(
    conn: duckdb.DuckDBPyConnection,
    settings: Settings,
    report_root: Path | None = None,
    workers: int | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> ResearchResult:
    """Evaluate, store and report one research run; the tables are written only when the evaluation succeeded."""
    run_id = str(uuid.uuid4())
    started = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    inputs = backtest_job.load_inputs(conn)
    t0 = time.perf_counter()
    findings = harness.evaluate(inputs, settings.book, settings.research, workers, progress)
    timings = {"evaluate": time.perf_counter() - t0}
    frames = tables(run_id, findings, settings, started, timings["evaluate"])
    write_results(conn, frames)
    result = ResearchResult(run_id, findings, frames, timings=timings)
    if report_root is not None:  # one folder per run, beside the backtest reports
        from vixshield.research import report  # matplotlib: only when a report is drawn

        t0 = time.perf_counter()
        result.report = report.write_report(Path(report_root) / f"research-{run_id}", frames)
        timings["report"] = time.perf_counter() - t0
    return result
