"""Benchmark the daily job on the real-data bundle: full history and a one-new-session run.

    python -m bench.run_pipeline [--data-dir ../shared/data/market] [--repeats 3]

Prints medians of several runs. Each run is the real CLI in a fresh process (so Python start-up
and imports count, as they do for a user), timed from outside; the job's own elapsed time, as
printed by `vixshield run`, is shown beside it. Nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.e2e.helpers import cli_env

DEFAULT_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "market"


def timed_run(home: Path, *args: str) -> tuple[float, float]:
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "run", *args], env=cli_env(home), capture_output=True, text=True
    )
    wall = time.perf_counter() - t0
    if out.returncode != 0:
        raise SystemExit(f"run failed:\n{out.stderr[-2000:]}")
    job = float(re.search(r"SUCCESS: .*; ([\d.]+)s$", out.stderr, re.M).group(1))
    return wall, job


def bundle_args(description: str, db: bool = False) -> argparse.Namespace:
    """--data-dir/--repeats for every benchmark (and --db, a warehouse already built, when `db`); exits
    with a message when the bundle is absent."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--repeats", type=int, default=3)
    if db:
        parser.add_argument("--db", type=Path, help="a warehouse the daily job built (default: build one)")
    args = parser.parse_args()
    if not (args.data_dir / "MANIFEST.md").exists():
        raise SystemExit(f"no data bundle at {args.data_dir}; pass --data-dir")
    return args


def build_warehouse(home: Path, data_dir: Path) -> Path:
    """One daily-job run on the bundle; returns the working warehouse path."""
    subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "run", "--source", "files", "--data-dir", str(data_dir)],
        env=cli_env(home),
        check=True,
        capture_output=True,
    )
    return home / "warehouse.duckdb"


def report(name: str, samples: list[tuple[float, float]], target: float) -> None:
    wall = statistics.median(s[0] for s in samples)
    job = statistics.median(s[1] for s in samples)
    print(
        f"{name:<34} median wall {wall:6.2f}s  (job {job:6.2f}s)  target <= {target:.0f}s  "
        f"runs: {', '.join(f'{s[0]:.2f}' for s in samples)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--last", default="2026-07-10", help="the newest session in the bundle")
    parser.add_argument("--previous", default="2026-07-09", help="the session before it")
    args = parser.parse_args()
    if not (args.data_dir / "MANIFEST.md").exists():
        raise SystemExit(f"no data bundle at {args.data_dir}; pass --data-dir")
    files = ("--source", "files", "--data-dir", str(args.data_dir))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        print(f"vixshield pipeline benchmark: {args.repeats} runs each, data {args.data_dir.name}/")
        full = []
        for i in range(args.repeats):
            full.append(timed_run(root / f"full{i}", *files))
        report("full history (1990-2026), empty", full, 30)

        base = root / "base"
        timed_run(base, *files, "--as-of", args.previous)
        incremental = []
        for i in range(args.repeats):
            home = root / f"inc{i}"
            shutil.copytree(base, home)
            incremental.append(timed_run(home, *files, "--as-of", args.last))
        report("one new session (incremental)", incremental, 10)
        warm = warm_incremental(root, base, files, args.last, args.repeats)
        print(
            f"{'one new session, warm process':<34} median {statistics.median(warm):6.2f}s  (imports already paid, "
            f"as in a long-lived process)  runs: {', '.join(f'{w:.2f}' for w in warm)}"
        )


def warm_incremental(root: Path, base: Path, files: tuple[str, ...], last: str, repeats: int) -> list[float]:
    """The one-new-session run repeated inside one Python process after a first (untimed) run has
    imported everything: what the run costs without interpreter start-up and imports."""
    import contextlib
    import io
    import os

    from pipelines import cli

    times = []
    log = io.StringIO()  # the runs' progress lines: not this report's
    for i in range(repeats + 1):
        home = root / f"warm{i}"
        shutil.copytree(base, home)
        os.environ["VIXSHIELD_HOME"] = str(home)
        t0 = time.perf_counter()
        with contextlib.redirect_stderr(log):
            rc = cli.main(["run", *files, "--as-of", last])
        if rc != 0:
            raise SystemExit(f"warm run failed:\n{log.getvalue()[-2000:]}")
        if i:  # the first run pays the imports
            times.append(time.perf_counter() - t0)
    return times


if __name__ == "__main__":
    main()
