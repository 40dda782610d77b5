"""The one Dagster instance: `$VIXSHIELD_HOME/dagster`, shared by `vixshield run`, `make ui` (and the
schedule and sensors it runs) and the tests that want one, so every run shows in the UI.

`python -m pipelines.instance` creates it if needed and prints its path (the Makefile exports it as
DAGSTER_HOME before `dg dev`)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import dagster as dg

# Telemetry off; the run records of every run (CLI, schedule, UI) in the instance's own SQLite files.
DAGSTER_YAML = "telemetry:\n  enabled: false\n"


def vixshield_home() -> Path:
    """`$VIXSHIELD_HOME`, default `./data` (what `vixshield run` writes to)."""
    return Path(os.environ.get("VIXSHIELD_HOME") or "data")


def dagster_home(home: Path | None = None) -> Path:
    """The instance folder of a VixShield home, absolute, with its dagster.yaml (written once, never
    overwritten: a user may add run-queue or retention settings to it)."""
    path = ((home if home is not None else vixshield_home()) / "dagster").resolve()
    path.mkdir(parents=True, exist_ok=True)
    config = path / "dagster.yaml"
    if not config.exists():
        config.write_text(DAGSTER_YAML)
    return path


def instance_for(home: Path | None = None) -> dg.DagsterInstance:
    """The persistent instance of `home` (not DagsterInstance.get(), which follows whatever
    DAGSTER_HOME says and would let the CLI and the UI drift apart)."""
    import dagster as dg

    return dg.DagsterInstance.from_config(str(dagster_home(home)))


if __name__ == "__main__":
    print(dagster_home())
