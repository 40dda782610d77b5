"""Benchmark serving from the published snapshot on the real-data bundle.

    python -m bench.serving_bench [--data-dir ../shared/data/market] [--queries 100] [--publishes 3]

Builds the warehouse once with the real CLI, publishes it, then reports:

* how long a publish takes (checkpoint, Parquet export, copy, fsync, hash, rename);
* the latency of the app's query through the snapshot, p50 and p99, each sample including the
  read-only connection open (an app opens per request, so that it picks up each new snapshot);
* how long readers are blocked while publishes run: two reader processes query in a loop, one on a
  connection held open throughout, one opening a fresh connection per query; the longest gap
  between consecutive successful queries and every error are reported.

Figures are printed; nothing is asserted.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import duckdb

from tests.e2e.helpers import cli_env
from vixshield import METHODOLOGY_VERSION
from vixshield.serve import publish

APP_QUERY = "SELECT * FROM signals.latest_plan"  # what an app reads each evening
TABLES = publish.PUBLISHED_TABLES
DEFAULT_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "market"
READER = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    import duckdb

    snap, query, mode, stop, out = sys.argv[1:6]
    held = duckdb.connect(snap, read_only=True) if mode == "held" else None
    with open(out, "w", buffering=1) as f:
        f.write("ready\\n")
        while not Path(stop).exists():
            try:
                if held is not None:
                    held.execute(query).fetchall()
                else:
                    with duckdb.connect(snap, read_only=True) as conn:
                        conn.execute(query).fetchall()
                f.write(json.dumps({"t": time.monotonic()}) + "\\n")
            except Exception as exc:
                f.write(json.dumps({"t": time.monotonic(), "error": repr(exc)}) + "\\n")
    """
)


def build(home: Path, data_dir: Path) -> None:
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "run", "--source", "files", "--data-dir", str(data_dir)],
        env=cli_env(home),
        capture_output=True,
        text=True,
    )
    print(f"build: `vixshield run` exit {out.returncode} in {time.perf_counter() - started:.1f}s")
    if out.returncode != 0:
        print("  (the run did not succeed; publishing what it built)\n" + out.stderr[-1500:])


def timed_publish(home: Path, run_id: str) -> float:
    started = time.perf_counter()
    publish.publish(home / "warehouse.duckdb", home, run_id, None, METHODOLOGY_VERSION, TABLES)
    return time.perf_counter() - started


def query_latency(home: Path, n: int) -> list[float]:
    snap = str(publish.snapshot_path(home))
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        with duckdb.connect(snap, read_only=True) as conn:
            conn.execute(APP_QUERY).fetchall()
        samples.append(time.perf_counter() - started)
    return samples


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def blocked_readers(home: Path, tmp: Path, publishes: int) -> None:
    snap = str(publish.snapshot_path(home))
    stop = tmp / "stop"
    readers = {}
    for mode in ("held", "reopen"):
        out = tmp / f"{mode}.jsonl"
        proc = subprocess.Popen([sys.executable, "-c", READER, snap, APP_QUERY, mode, str(stop), str(out)])
        readers[mode] = (proc, out)
    for _, out in readers.values():
        while not (out.exists() and out.read_text().count("\n") >= 20):
            time.sleep(0.02)
    windows = []
    for i in range(publishes):
        time.sleep(0.3)
        started = time.monotonic()
        timed_publish(home, f"bench-{i}")
        windows.append((started, time.monotonic()))
    time.sleep(0.3)
    stop.write_text("stop")
    for proc, _ in readers.values():
        proc.wait(timeout=60)
    print(f"readers during {publishes} publishes ({', '.join(f'{b - a:.2f}s' for a, b in windows)}):")
    for mode, (_, out) in readers.items():
        rows = [json.loads(line) for line in out.read_text().splitlines()[1:]]
        ok = [r["t"] for r in rows if "error" not in r]
        errors = [r["error"] for r in rows if "error" in r]
        overall = max(b - a for a, b in itertools.pairwise(ok))
        during = [b - a for a, b in itertools.pairwise(ok) if any(b >= s and a <= e for s, e in windows)]
        typical = statistics.median(b - a for a, b in itertools.pairwise(ok))
        print(
            f"  {mode:<7} {len(ok):>6} queries, median gap {typical * 1000:.2f} ms, longest gap during a publish "
            f"{max(during, default=0) * 1000:.1f} ms (overall {overall * 1000:.1f} ms), errors: {len(errors)}"
            + (f" (first: {errors[0]})" if errors else "")
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--publishes", type=int, default=3)
    args = parser.parse_args()
    if not (args.data_dir / "MANIFEST.md").exists():
        print(f"skipped: the real-data bundle is not at {args.data_dir}")
        return
    with tempfile.TemporaryDirectory(prefix="vixshield-serving-") as tmp:
        home = Path(tmp) / "home"
        build(home, args.data_dir)
        seconds = timed_publish(home, "bench-first")
        manifest = publish.read_manifest(home)
        size = manifest["files"]["warehouse.duckdb"]["bytes"] / 1e6
        print(f"publish: {seconds:.2f}s for a {size:.1f} MB snapshot + {len(TABLES)} Parquet files")
        samples = query_latency(home, args.queries)
        print(
            f"app query incl. read-only open, {len(samples)} runs: p50 {percentile(samples, 0.5) * 1000:.2f} ms, "
            f"p99 {percentile(samples, 0.99) * 1000:.2f} ms, max {max(samples) * 1000:.2f} ms\n  ({APP_QUERY})"
        )
        blocked_readers(home, Path(tmp), args.publishes)


if __name__ == "__main__":
    main()
