"""Grid search of the SPX surface (kappa, its VIX slope, the call skew) against Cboe's published figures.

    python -m bench.calibrate_surface --home DIR   # a home built by `vixshield run` (features present)

Runs the PUT, BXM, BXMD and CNDR replicas over 1990-2015 for every grid point and prints, per point,
their CAGR and CNDR's vol and max drawdown. The fit uses PUT and BXMD CAGR (vixshield.backtest.report
PUBLISHED); CNDR's figures are left out of the fit and serve as its check (docs/execution.md).
"""

from __future__ import annotations

import argparse
import itertools
from dataclasses import replace
from pathlib import Path

import duckdb

from vixshield.backtest import engine, job
from vixshield.backtest.report import PUBLISHED
from vixshield.strategy.book import BookSettings

WINDOW = {"cboe_1990_2015": ("1990-01-01", "2015-12-31")}
GRID = {"kappa": (0.80, 0.84, 0.88), "kappa_vix_slope": (0.0, 0.03, 0.06), "skew_call": (0.10, 0.20)}
FIT = (("put", "cagr"), ("bxmd", "cagr"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", type=Path, required=True)
    args = ap.parse_args()
    with duckdb.connect(str(args.home / "warehouse.duckdb"), read_only=True) as conn:
        inputs = job.load_inputs(conn)
    target = {(r.strategy, r.figure): r.published for r in PUBLISHED.itertuples()}
    print("kappa slope skew_call | put bxm bxmd cndr CAGR | cndr vol mdd | fit error (pp)")
    for point in itertools.product(*GRID.values()):
        base = BookSettings()
        base = replace(base, condor=replace(base.condor, **dict(zip(GRID, point, strict=True))))
        got = {}
        for name in ("put", "bxm", "bxmd", "cndr"):
            start, end = WINDOW["cboe_1990_2015"]
            run = engine.run_strategy(inputs, name, engine.strategy_settings(name, base), start, end)
            m = run.metrics(WINDOW)[0]
            got |= {(name, k): m[k] for k in ("cagr", "vol", "max_drawdown")}
        err = sum(abs(got[key] - target[key]) for key in FIT) * 100
        cagr = " ".join(f"{got[(n, 'cagr')]:.2%}" for n in ("put", "bxm", "bxmd", "cndr"))
        cndr = f"{got[('cndr', 'vol')]:.2%} {got[('cndr', 'max_drawdown')]:.2%}"
        print(f"{point[0]:.2f} {point[1]:.2f} {point[2]:.2f} | {cagr} | {cndr} | {err:.2f}")


if __name__ == "__main__":
    main()
