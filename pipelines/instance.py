"""The one Dagster instance: `$VIXSHIELD_HOME/dagster`, shared by `vixshield run`, `make ui` (and the
schedule and sensors it runs) and the tests that want one, so every run shows in the UI.

`python -m pipelines.instance` creates it if needed and prints its path (the Makefile exports it as
DAGSTER_HOME before `dg dev`)."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterator
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


@contextlib.contextmanager
def recording(home: Path | None = None) -> Iterator[dg.DagsterInstance]:
    """`instance_for(home)`, with its SQLite files written the way SQLite recommends for many small
    commits while a run records into it.

    Dagster's SQLite storage opens a connection per event and closes it after. With SQLite's default
    synchronous=FULL every commit fsyncs, and closing the last connection to a WAL file checkpoints
    it, which fsyncs again: 2,180 fsyncs for the 205 events of a one-session run (counted with strace),
    more time than the run's work on a busy disk. Here every file of the instance that is opened is
    in WAL mode with synchronous=NORMAL (a commit survives a crash of the process; a power loss may
    lose the latest commits but never corrupts a file), and one connection per file is held open
    until the end so that Dagster's closes do not checkpoint: about 30 fsyncs. Other processes (the
    UI, the daemon) read and write these files as usual meanwhile."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    instance = instance_for(home)
    folder = instance.root_directory.rstrip(os.sep) + os.sep
    held: dict[str, sqlite3.Connection] = {}
    lock = threading.Lock()

    def on_connect(conn, _record) -> None:
        if not isinstance(conn, sqlite3.Connection):
            return
        path = conn.execute("PRAGMA database_list").fetchone()[2]
        if not path or not path.startswith(folder):
            return
        if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            conn.execute("PRAGMA journal_mode=WAL")  # persistent: set once per file
        conn.execute("PRAGMA synchronous=NORMAL")  # per connection
        with lock:
            if path not in held:
                holder = held[path] = sqlite3.connect(path, check_same_thread=False)
                holder.execute("SELECT count(*) FROM sqlite_master").fetchone()  # opens the WAL index

    event.listen(Engine, "connect", on_connect)
    try:
        with instance:
            yield instance
    finally:
        event.remove(Engine, "connect", on_connect)
        for conn in held.values():  # the last close checkpoints each file
            conn.close()


if __name__ == "__main__":
    print(dagster_home())
