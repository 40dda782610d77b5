"""Benchmark the model book over the full 1990-2026 history (signals.* tables).

    python -m bench.signals_bench [--data-dir ../shared/data/market] [--repeats 3]

Builds a warehouse once with the daily job, then times compute_signals (the book loop: condor
candidates, management, hedge layers, NAV) and the write of the four tables. Prints medians.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from bench.features_bench import median_time
from bench.run_pipeline import build_warehouse, bundle_args
from vixshield.config import Settings
from vixshield.store import warehouse
from vixshield.strategy import signals


def main() -> None:
    args = bundle_args(__doc__)
    book = Settings().book
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        db = build_warehouse(home, args.data_dir)
        with warehouse.connect(db) as conn:
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
