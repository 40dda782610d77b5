"""Benchmark the features computation (METHODOLOGY §2-§3) over the full 1990-2026 history.

    python -m bench.features_bench [--data-dir ../shared/data/market] [--repeats 3]

Builds a warehouse from the real-data bundle once (the daily job), then times compute_features
+ compute_regime (GARCH included) and GARCH alone on it. Prints medians; asserts nothing.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from bench.run_pipeline import build_warehouse, bundle_args
from vixshield.config import Settings
from vixshield.features import daily as features
from vixshield.features import garch
from vixshield.store import warehouse


def median_time(fn, repeats: int) -> tuple[float, list[float]]:
    runs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs), runs


def main() -> None:
    args = bundle_args(__doc__)
    settings = Settings()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        db = build_warehouse(home, args.data_dir)
        with warehouse.connect(db, read_only=True) as conn:
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
