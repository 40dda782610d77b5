"""Benchmark the features computation (METHODOLOGY §2-§3) over the full 1990-2026 history.

    python -m bench.features_bench [--data-dir ../shared/data/market] [--repeats 3]

Builds a warehouse from the real-data bundle once (the daily job), then times compute_features
+ compute_regime (GARCH included) and GARCH alone on it. Prints medians; asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.run_pipeline import DEFAULT_DATA
from tests.e2e.helpers import cli_env
from vixshield import features, garch, warehouse
from vixshield.config import Settings


def median_time(fn, repeats: int) -> tuple[float, list[float]]:
    runs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs), runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if not (args.data_dir / "MANIFEST.md").exists():
        raise SystemExit(f"no data bundle at {args.data_dir}; pass --data-dir")
    settings = Settings()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        subprocess.run(
            [sys.executable, "-m", "vixshield.cli", "run", "--source", "files", "--data-dir", str(args.data_dir)],
            env=cli_env(home),
            check=True,
            capture_output=True,
        )
        with warehouse.connect(home / "warehouse.duckdb", read_only=True) as conn:
            n = conn.execute("SELECT count(*) FROM core.market_daily").fetchone()[0]
            spx = conn.execute("SELECT date, spx_close FROM core.market_daily ORDER BY date").df()
            spx = spx.set_index("date")["spx_close"]

            def everything() -> None:
                daily = features.compute_features(conn, settings)
                features.compute_regime(daily, settings)

            total, runs = median_time(everything, args.repeats)
            g, gruns = median_time(lambda: garch.garch_forecasts(spx), args.repeats)
    print(f"features over {n:,} sessions (1990-2026)")
    print(
        f"  features.daily + features.regime  median {total:5.2f}s  target <= 5s  "
        f"runs: {', '.join(f'{r:.2f}' for r in runs)}"
    )
    print(f"  of which GARCH(1,1), monthly refit median {g:5.2f}s  runs: {', '.join(f'{r:.2f}' for r in gruns)}")


if __name__ == "__main__":
    main()
