"""Benchmark the backtest over the full 1990-2026 history.

    python -m bench.backtest_bench [--data-dir ../shared/data/market] [--repeats 3] [--db WAREHOUSE]

Builds a warehouse once with the daily job (or reads --db), then times (medians, wall and CPU):
- one full-history backtest of `full` (the book loop, the fill ledger and the trades table) from a cold
  session cache in this process (imports and the calendars' one-time tables already paid);
- the same in a new Python process (imports, reading the warehouse and the run, each timed; the NYSE
  sessions' one-time build, part of the run, on its own), and the CLI call
  `vixshield backtest --strategy full --no-report` from outside (Python start-up included);
- every strategy at once (full, spx, cndr, put, bxm, bxmd, vxth), in parallel processes;
- the ablation (full and five variants), in parallel processes;
- the default 50-point parameter sweep and the 100-point GRID_100, in parallel processes;
- the report (five charts, HTML and Markdown).
CPU is this process's plus its pool workers' (os.times): on a machine shared with other work it moves
less than the wall time does. Asserts nothing; prints the figures against the issue's targets.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

import vixshield
from bench.features_bench import median_time
from bench.run_pipeline import build_warehouse, bundle_args
from tests.e2e.helpers import cli_env
from vixshield.backtest import engine as backtest
from vixshield.backtest import job as backtest_job
from vixshield.backtest import report as backtest_report
from vixshield.config import Settings
from vixshield.store import warehouse

# one `full` run in a new process: what each step costs, as JSON on stdout
FRESH_RUN = """
import json, sys, time
t0 = time.perf_counter()
from vixshield.backtest import engine, job
from vixshield.config import Settings
from vixshield.store import warehouse
t1 = time.perf_counter()
with warehouse.connect(sys.argv[1], read_only=True) as conn:
    inputs = job.load_inputs(conn)
t2 = time.perf_counter(); c2 = time.process_time()
engine.run_strategy(inputs, "full", Settings().book)
t3 = time.perf_counter(); c3 = time.process_time()
print(json.dumps({"imports": t1 - t0, "load": t2 - t1, "run": t3 - t2, "run_cpu": c3 - c2}))
"""

# the NYSE sessions' one-time build (XNYS's holiday rules evaluated from 1990 to two years ahead), which
# a new process's run pays on its first session lookup: part of "the run" above, shown on its own
CALENDAR_BUILD = """
import time
from vixshield import calendars
t0 = time.perf_counter()
calendars.session_ordinals()
print(time.perf_counter() - t0)
"""


def fresh(inputs: backtest.Inputs) -> backtest.Inputs:
    """The same inputs with an empty session cache: each timed call starts cold, as one CLI call does."""
    return backtest.Inputs(inputs.features, inputs.regimes, inputs.vx, inputs.opens)


def cpu() -> float:
    """CPU seconds of this process and of its children that have exited (the pools' workers)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def timed(fn: Callable[[], object], repeats: int) -> tuple[float, list[float], float]:
    """(median wall, wall per run, median CPU) of `repeats` calls."""
    walls, cpus = [], []
    for _ in range(repeats):
        c0, t0 = cpu(), time.perf_counter()
        fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(cpu() - c0)
    return statistics.median(walls), walls, statistics.median(cpus)


def line(name: str, runs: list[float], median: float, target: str = "", cpu_s: float | None = None) -> None:
    spent = f"cpu {cpu_s:6.2f}s" if cpu_s is not None else " " * 11
    print(f"  {name:<40} median {median:6.2f}s  {spent}  {target:<22} runs: {', '.join(f'{r:.2f}' for r in runs)}")


def fresh_process(db: Path, repeats: int) -> None:
    """`full` in a new Python process, each step timed inside it."""
    steps = []
    for _ in range(repeats):
        out = subprocess.run([sys.executable, "-c", FRESH_RUN, str(db)], capture_output=True, text=True, check=True)
        steps.append(json.loads(out.stdout))
    med = {k: statistics.median(s[k] for s in steps) for k in steps[0]}
    line("full, new process: the run", [s["run"] for s in steps], med["run"], "target <= 1.0s (0.5)", med["run_cpu"])
    builds = [
        float(subprocess.run([sys.executable, "-c", CALENDAR_BUILD], capture_output=True, text=True, check=True).stdout)
        for _ in range(repeats)
    ]
    line("  of the run: the NYSE sessions' build", builds, statistics.median(builds))
    line("  imports (engine, job, settings)", [s["imports"] for s in steps], med["imports"])
    line("  reading the warehouse", [s["load"] for s in steps], med["load"])


def cli_call(db: Path, home: Path, repeats: int) -> None:
    """`vixshield backtest --strategy full --no-report` timed from outside, on a copy of the warehouse."""
    walls = []
    for i in range(repeats):
        run_home = home / f"cli{i}"
        run_home.mkdir()
        shutil.copy(db, run_home / "warehouse.duckdb")
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "pipelines.cli", "backtest", "--strategy", "full", "--no-report"],
            env=cli_env(run_home),
            capture_output=True,
            check=True,
        )
        walls.append(time.perf_counter() - t0)
    line("CLI backtest --strategy full --no-report", walls, statistics.median(walls), "(start-up, writes)")


def main() -> None:
    args = bundle_args(__doc__, db=True)
    base = Settings().book
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        db = args.db if args.db else build_warehouse(home, args.data_dir)
        with warehouse.connect(db, read_only=True) as conn:
            inputs = backtest_job.load_inputs(conn)
        n = len(inputs.features)
        backtest.run_strategy(fresh(inputs), "full", base)  # the calendars' one-time tables, paid once per process
        print(f"backtest over {n:,} sessions (1990-2026), {args.repeats} repeats, each from a cold session cache")
        print(f"the engine runs {vixshield.ENGINE} (VIXSHIELD_NATIVE=0 times the source)")
        full, runs, c = timed(lambda: backtest.run_strategy(fresh(inputs), "full", base), args.repeats)
        line("full (one strategy, this process)", runs, full, "target <= 1.0s (0.5)", c)
        fresh_process(db, args.repeats)
        cli_call(db, home, args.repeats)
        jobs = [(s, s, backtest.strategy_settings(s, base)) for s in backtest.STRATEGIES]
        every, runs, c = timed(lambda: backtest.run_many(jobs, fresh(inputs)), args.repeats)
        line(f"all {len(jobs)} strategies (2 processes)", runs, every, "", c)
        ablation = backtest.ablation_jobs(base)
        abl, runs, c = timed(lambda: backtest.run_many(ablation, fresh(inputs), full=False), args.repeats)
        line("ablation (6 runs)", runs, abl, "target <= 20s", c)
        for grid, target in ((backtest.DEFAULT_GRID, "target <= 60s"), (backtest.GRID_100, "target <= 60s (20)")):
            points = backtest.sweep_jobs(base, grid)
            sweep, runs, c = timed(lambda p=points: backtest.run_many(p, fresh(inputs), full=False), args.repeats)
            line(f"sweep ({len(points)} points)", runs, sweep, target, c)
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
