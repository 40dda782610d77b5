"""Benchmark the backtest over the full 1990-2026 history.

    python -m bench.backtest_bench [--data-dir ../shared/data/market] [--repeats 3]

Builds a warehouse once with the daily job, then times (medians):
- one full-history backtest of `full` (the book loop, the fill ledger and the trades table);
- every strategy at once (full, spx, cndr, put, bxm, bxmd, vxth), in parallel processes;
- the ablation (full and five variants), in parallel processes;
- the default 50-point parameter sweep, in parallel processes;
- the report (five charts, HTML and Markdown).
Asserts nothing; prints the figures against the issue's targets.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd

from bench.features_bench import median_time
from bench.run_pipeline import build_warehouse, bundle_args
from vixshield.backtest import engine as backtest
from vixshield.backtest import job as backtest_job
from vixshield.backtest import report as backtest_report
from vixshield.config import Settings
from vixshield.store import warehouse


def fresh(inputs: backtest.Inputs) -> backtest.Inputs:
    """The same inputs with an empty session cache: each timed call starts cold, as one CLI call does."""
    return backtest.Inputs(inputs.features, inputs.regimes, inputs.vx, inputs.opens)


def line(name: str, runs: list[float], median: float, target: str = "") -> None:
    print(f"  {name:<34} median {median:6.2f}s  {target:<14} runs: {', '.join(f'{r:.2f}' for r in runs)}")


def main() -> None:
    args = bundle_args(__doc__)
    base = Settings().book
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        db = build_warehouse(home, args.data_dir)
        with warehouse.connect(db, read_only=True) as conn:
            inputs = backtest_job.load_inputs(conn)
        n = len(inputs.features)
        backtest.run_strategy(fresh(inputs), "spx", base)  # the calendars' lru caches, paid once per process
        print(f"backtest over {n:,} sessions (1990-2026), {args.repeats} repeats, each from a cold session cache")
        full, runs = median_time(lambda: backtest.run_strategy(fresh(inputs), "full", base), args.repeats)
        line("full (one strategy)", runs, full, "target <= 3s")
        jobs = [(s, s, backtest.strategy_settings(s, base)) for s in backtest.STRATEGIES]
        every, runs = median_time(lambda: backtest.run_many(jobs, fresh(inputs)), args.repeats)
        line(f"all {len(jobs)} strategies (2 processes)", runs, every)
        ablation = backtest.ablation_jobs(base)
        abl, runs = median_time(lambda: backtest.run_many(ablation, fresh(inputs), full=False), args.repeats)
        line("ablation (6 runs)", runs, abl, "target <= 20s")
        grid = backtest.sweep_jobs(base, backtest.DEFAULT_GRID)
        sweep, runs = median_time(lambda: backtest.run_many(grid, fresh(inputs), full=False), args.repeats)
        line(f"sweep ({len(grid)} points)", runs, sweep, "target <= 60s")
        results = backtest.run_many(jobs, inputs)
        equity = [backtest_job.equity_frame("bench", r) for r in results.values()]
        eq = pd.concat(equity, ignore_index=True)
        trades = pd.concat([r.trades.assign(strategy=s) for s, r in results.items()], ignore_index=True)
        mets = pd.DataFrame([row for r in results.values() for row in r.metrics()])
        spx = inputs.features["spx_close"].dropna()
        rep, runs = median_time(
            lambda: backtest_report.write_report(home / "report", "bench", eq, trades, mets, spx), args.repeats
        )
        line("report (5 charts, HTML, MD)", runs, rep)


if __name__ == "__main__":
    main()
