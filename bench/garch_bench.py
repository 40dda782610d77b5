"""Time vixshield.features.garch.garch_forecasts on the real ^GSPC history (1990 on) from the shared data bundle.

    python -m bench.garch_bench [--data-dir ../shared/data/market] [--repeats 3] [--all]

Prints the median of `--repeats` timings of the default call; `--all` also times the other refit/window
variants. Skips with a message when the bundle is absent. Nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import pandas as pd

from vixshield.features.garch import garch_forecasts

DEFAULT_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "market"

VARIANTS = {
    "monthly, expanding (default)": {},
    "monthly, window=2520": {"window": 2520},
    "quarterly, expanding": {"refit": "quarterly"},
    "yearly, expanding": {"refit": "yearly"},
}


def load_spx(data_dir: Path) -> pd.Series | None:
    path = data_dir / "yahoo" / "^GSPC.csv"
    if not path.exists():
        return None
    df = pd.read_csv(path, usecols=["Date", "Close"], parse_dates=["Date"], index_col="Date")
    return df["Close"].loc["1990-01-01":].astype(float)


def median_time(close: pd.Series, repeats: int, **kwargs) -> tuple[float, pd.DataFrame]:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = garch_forecasts(close, **kwargs)
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--all", action="store_true", help="also time the non-default variants")
    args = ap.parse_args()
    close = load_spx(args.data_dir)
    if close is None:
        print(f"skipped: {args.data_dir / 'yahoo' / '^GSPC.csv'} not found (shared real-data bundle absent)")
        return
    print(f"^GSPC {close.index[0].date()}..{close.index[-1].date()}: {len(close)} sessions")
    for name, kwargs in VARIANTS.items():
        secs, out = median_time(close, args.repeats, **kwargs)
        n_fits = out["garch_fit_date"].nunique()
        print(f"garch_forecasts {name:<30} median of {args.repeats}: {secs:6.2f} s  ({n_fits} fits)")
        if not args.all:
            break


if __name__ == "__main__":
    main()
