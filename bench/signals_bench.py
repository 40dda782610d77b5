"""Benchmark the model book over the full 1990-2026 history (signals.* tables).

    python -m bench.signals_bench [--data-dir ../shared/data/market] [--repeats 3]

Builds a warehouse once with the daily job, then times compute_signals (the book loop: condor
candidates, management, hedge layers, NAV) and the write of the four tables. Prints medians.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.features_bench import median_time
from bench.run_pipeline import DEFAULT_DATA
from tests.e2e.helpers import cli_env
from vixshield import signals, warehouse
from vixshield.config import Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if not (args.data_dir / "MANIFEST.md").exists():
        raise SystemExit(f"no data bundle at {args.data_dir}; pass --data-dir")
    book = Settings().book
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        subprocess.run(
            [sys.executable, "-m", "vixshield.cli", "run", "--source", "files", "--data-dir", str(args.data_dir)],
            env=cli_env(home),
            capture_output=True,
        )
        with warehouse.connect(home / "warehouse.duckdb") as conn:
            n = conn.execute("SELECT count(*) FROM features.daily").fetchone()[0]
            frames = {}

            def compute() -> None:
                frames.update(signals.compute_signals(conn, book))

            total, runs = median_time(compute, args.repeats)
            write, wruns = median_time(lambda: signals.write_signals(conn, frames), args.repeats)
    print(f"signals over {n:,} sessions (1990-2026)")
    print(
        f"  book + signal tables (compute)  median {total:5.2f}s  target <= 5s  runs: "
        f"{', '.join(f'{r:.2f}' for r in runs)}"
    )
    print(f"  write signals.* + view          median {write:5.2f}s  runs: {', '.join(f'{r:.2f}' for r in wruns)}")


if __name__ == "__main__":
    main()
