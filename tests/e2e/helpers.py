"""Run the `vixshield` CLI in a subprocess, as a user would."""

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from vixshield.serve import publish


def cli_env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["VIXSHIELD_HOME"] = str(home)
    env["DAGSTER_HOME"] = str(home / "dagster")
    env.pop("FRED_API_KEY", None)
    return env


def vixshield(
    home: Path, *args: str, timeout: float = 300, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipelines.cli", *args],
        env={**cli_env(home), **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def start(home: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", *args],
        env=cli_env(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def kill_at_marker(child: subprocess.Popen, marker: Path, timeout: float = 60) -> None:
    """SIGKILL `child` as soon as it writes `marker` (the point it pauses at); fail if it never does."""
    deadline = time.monotonic() + timeout
    while not marker.exists():
        assert child.poll() is None, "the child exited before reaching its marker"
        assert time.monotonic() < deadline, "the child never reached its marker"
        time.sleep(0.02)
    child.send_signal(signal.SIGKILL)
    child.wait()


def published_bytes(home: Path) -> dict[str, bytes]:
    """Every file under published/ (temp files included, so leftovers show up too)."""
    root = publish.published_dir(home)
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def signals_digest(db: Path) -> dict[str, str]:
    """A content hash per signals.* table (rows in full order): what a plan comparison compares."""
    with duckdb.connect(str(db), read_only=True) as conn:
        tables = [
            r[0]
            for r in conn.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'signals'").fetchall()
        ]
        return {
            t: hashlib.sha256(
                conn.execute(f"SELECT * FROM signals.{t} ORDER BY ALL").df().to_csv().encode()
            ).hexdigest()
            for t in tables
        }
