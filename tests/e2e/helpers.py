"""Run the `vixshield` CLI in a subprocess, as a user would."""

import os
import subprocess
import sys
from pathlib import Path


def cli_env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["VIXSHIELD_HOME"] = str(home)
    env["DAGSTER_HOME"] = str(home / "dagster")
    env.pop("FRED_API_KEY", None)
    return env


def vixshield(home: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "vixshield.cli", *args],
        env=cli_env(home),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def start(home: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "vixshield.cli", *args],
        env=cli_env(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
