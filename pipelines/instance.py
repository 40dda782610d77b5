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
    engines = _reuse_engines(instance.event_log_storage)
    try:
        with instance:
            yield instance
    finally:
        event.remove(Engine, "connect", on_connect)
        for engine in engines.values():
            engine.dispose()
        for conn in held.values():  # the last close checkpoints each file
            conn.close()


def _reuse_engines(storage: object) -> dict:
    """Make Dagster's SQLite event log build one SQLAlchemy engine per file for this instance, not one
    per connection; returns the engines (the caller disposes of them).

    The stock storage creates (and initializes the dialect of) a new engine for every event it
    stores, twice for an asset event and three times for a check's (one more just to ask whether a
    table exists), then connects afresh: ~2 s of a one-session run's 200 events on shared cores. What
    is written, and where, is unchanged: the same statements on the same files, each event in its own
    transaction; the engines' pools keep their connections open between events (a pooled connection
    serves one thread at a time) until the run ends. Only the stock class is touched; another storage
    is left as it is."""
    from dagster._core.storage import sqlite as dagster_sqlite
    from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

    # the busy timeout the stock engines get (Dagster 1.13; 1.12 set none, so SQLite's default applies)
    busy = getattr(dagster_sqlite, "SQLITE_BUSY_TIMEOUT_SECONDS", None)
    connect_args = {} if busy is None else {"timeout": busy}

    engines: dict = {}
    if type(storage) is not SqliteEventLogStorage or not all(
        hasattr(storage, name) for name in ("_connect", "_db_lock", "_initdb", "_initialized_dbs", "has_table")
    ):
        return engines
    from sqlalchemy import create_engine

    def engine_for(shard: str):
        if shard not in engines:
            engines[shard] = create_engine(storage.conn_string_for_shard(shard), connect_args=connect_args)
        return engines[shard]

    @contextlib.contextmanager
    def connect(shard: str):
        with storage._db_lock:
            engine = engine_for(shard)
            if shard not in storage._initialized_dbs:
                storage._initdb(engine)
                storage._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    tables: set[str] = set()  # tables are created, never dropped, while a run records
    has_table = storage.has_table

    def cached_has_table(name: str) -> bool:
        if name not in tables and has_table(name):
            tables.add(name)
        return name in tables

    storage._connect = connect
    storage.has_table = cached_has_table
    return engines


if __name__ == "__main__":
    print(dagster_home())
