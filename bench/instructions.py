"""Instructions of one full-history `full` backtest in a new process, counted by valgrind's callgrind.

    python -m bench.instructions [--data-dir ../shared/data/market] [--db WAREHOUSE] [--source]

The wall-clock figures of bench.backtest_bench move +-20% with a shared host's load; an instruction count
moves by well under 1% from one run to the next, so it shows what a change to the engine saves where a
timing cannot. Runs the bench's new-process script twice under callgrind (a few minutes each): through
reading the warehouse, and through the run; the difference is the run's. --source counts the engine's
source (VIXSHIELD_NATIVE=0) instead of its compiled build. Needs valgrind (Debian: apt install valgrind).
Asserts nothing.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.run_pipeline import DEFAULT_DATA, build_warehouse

# imports, reading the warehouse and (with "run") one `full` run; os._exit skips the interpreter's
# teardown, which is not the run's
STEPS = """
import os, sys
import vixshield
from vixshield.backtest import engine, job
from vixshield.config import Settings
from vixshield.store import warehouse
with warehouse.connect(sys.argv[1], read_only=True) as conn:
    inputs = job.load_inputs(conn)
if sys.argv[2] == "run":
    engine.run_strategy(inputs, "full", Settings().book)
print(vixshield.ENGINE, flush=True)
os._exit(0)
"""


def counted(db: Path, step: str, env: dict[str, str], out: Path) -> tuple[int, str]:
    """(instructions executed, the engine that ran) of STEPS through `step` under callgrind."""
    cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable, "-c", STEPS, str(db), step]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
    found = re.search(r"Collected\s*:\s*(\d+)", done.stderr)
    if found is None:
        raise SystemExit(f"callgrind printed no count:\n{done.stderr[-2000:]}")
    return int(found.group(1)), done.stdout.strip().splitlines()[-1]


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--db", type=Path, help="a warehouse the daily job built (default: build one)")
    parser.add_argument("--source", action="store_true", help="count the engine's source, not its build")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (Debian: apt install valgrind)")
    env = os.environ | ({"VIXSHIELD_NATIVE": "0"} if args.source else {})
    with tempfile.TemporaryDirectory() as tmp:
        if args.db is None and not (args.data_dir / "MANIFEST.md").exists():
            raise SystemExit(f"no data bundle at {args.data_dir}; pass --data-dir or --db")
        db = args.db or build_warehouse(Path(tmp), args.data_dir)
        print("counting under callgrind: imports and reading the warehouse, then the same with the run ...")
        before, engine = counted(db, "load", env, Path(tmp) / "load.out")
        after, _ = counted(db, "run", env, Path(tmp) / "run.out")
    print(f"  engine: {engine}")
    print(f"  imports and reading the warehouse  {before / 1e9:6.3f} G instructions")
    print(f"  full, new process: the run         {(after - before) / 1e9:6.3f} G instructions")


if __name__ == "__main__":
    main()
