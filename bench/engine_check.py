"""Bit-for-bit check of the backtest engine against another checkout's (e.g. main's) on the same warehouse.

    python -m bench.engine_check --db WAREHOUSE --out mine.json
    PYTHONPATH=<other checkout> python bench/engine_check.py --db WAREHOUSE --out theirs.json
    python -m bench.engine_check --compare mine.json theirs.json

Runs every strategy, the ablation and a few sweep points in full (equity, fills, trades) and digests
each frame column by column from its exact bytes (float bit patterns, not rounded text), plus every
whole-period metric as float.hex. Two engines agree bit for bit when the digests are equal; --compare
names the first columns that differ. Asserts nothing on time.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
from pathlib import Path

import pandas as pd

from vixshield.backtest import engine as backtest
from vixshield.backtest import job as backtest_job
from vixshield.config import Settings
from vixshield.store import warehouse

# sweep points run in full: the grid's corners and its middle (every swept parameter moves)
SWEEP_POINTS = {
    "short_delta": (0.10, 0.25),
    "take_profit": (0.30, 0.80),
    "hedge_budget_pct": (2.0,),
}


def frame_digest(frame: pd.DataFrame) -> dict[str, str]:
    """sha256 per column (index included) of pandas' exact value hash: floats by their bit patterns."""
    out = {"__index__": _sha(pd.util.hash_pandas_object(frame.index.to_series(), index=False))}
    for col in frame.columns:
        out[str(col)] = _sha(pd.util.hash_pandas_object(frame[col].astype(str) if _listy(frame[col]) else frame[col]))
    return out


def _listy(col: pd.Series) -> bool:
    return col.dtype == object and any(isinstance(v, list | tuple | dict) for v in col.head(100))


def _sha(hashed: pd.Series) -> str:
    return hashlib.sha256(hashed.to_numpy().tobytes()).hexdigest()[:16]


def _exact(value) -> str:
    return float(value).hex() if isinstance(value, float) and not math.isnan(value) else str(value)


def digests(inputs: backtest.Inputs) -> dict[str, dict]:
    base = Settings().book
    jobs = [(s, s, backtest.strategy_settings(s, base)) for s in backtest.STRATEGIES]
    jobs += [(f"ablation:{name}", "full", settings) for name, _, settings in backtest.ablation_jobs(base)[1:]]
    jobs += [(f"sweep:{label}", "full", settings) for label, _, settings in backtest.sweep_jobs(base, SWEEP_POINTS)]
    out: dict[str, dict] = {}
    for label, run in backtest.run_many(jobs, inputs).items():
        metrics = run.metrics()
        out[label] = {
            "sessions": len(run.equity),
            "equity": frame_digest(run.equity),
            "fills": frame_digest(run.fills),
            "trades": frame_digest(run.trades),
            "metrics": {f"{m['window']}:{k}": _exact(v) for m in metrics for k, v in m.items()},
        }
    return out


def compare(a: dict, b: dict) -> list[str]:
    """Every (run, part, column) whose digest differs, or that one side lacks."""
    diffs = []
    for label in sorted(set(a) | set(b)):
        if label not in a or label not in b:
            diffs.append(f"{label}: only in {'the second' if label in b else 'the first'}")
            continue
        for part in ("sessions", "equity", "fills", "trades", "metrics"):
            x, y = a[label][part], b[label][part]
            if isinstance(x, dict):
                diffs += [f"{label}: {part}.{k}" for k in sorted(set(x) | set(y)) if x.get(k) != y.get(k)]
            elif x != y:
                diffs.append(f"{label}: {part} {x} != {y}")
    return diffs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, help="a warehouse the daily job built")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("A", "B"))
    args = parser.parse_args()
    if args.compare:
        a, b = (json.loads(p.read_text()) for p in args.compare)
        diffs = compare(a, b)
        print("\n".join(diffs) if diffs else f"identical: {len(a)} runs, every frame and metric bit for bit")
        sys.exit(1 if diffs else 0)
    with warehouse.connect(args.db, read_only=True) as conn:
        inputs = backtest_job.load_inputs(conn)
    found = digests(inputs)
    args.out.write_text(json.dumps(found, indent=1, sort_keys=True))
    print(f"{len(found)} runs digested into {args.out}")


if __name__ == "__main__":
    main()
