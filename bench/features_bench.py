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

import numpy as np
import pandas as pd

from bench.run_pipeline import build_warehouse, bundle_args
from vixshield.config import Settings
from vixshield.features import breadth, garch
from vixshield.features import daily as features
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
    b, bruns = median_time(_breadth_universe(), args.repeats)
    print(
        f"  universe breadth, 100 members x 10,000 sessions median {b:5.2f}s  target <= 0.3s  runs: "
        f"{', '.join(f'{r:.2f}' for r in bruns)}"
    )


def _breadth_universe():
    """Breadth of a constructed 100-member universe over 10,000 sessions (a third listed late)."""
    rng = np.random.default_rng(0)
    n, m = 10_000, 100
    sessions = pd.bdate_range("1985-01-01", periods=n)
    closes = pd.DataFrame(100 * np.exp(np.cumsum(rng.normal(0, 0.01, (n, m)), axis=0)), index=sessions)
    closes.iloc[:500, :30] = np.nan
    return lambda: breadth.universe_breadth(closes, sessions)


if __name__ == "__main__":
    main()
