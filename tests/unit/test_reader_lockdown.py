"""Readers of the published snapshot can read it and nothing else.

`open_snapshot` (both forms) and so `vixshield query` / `signals`, doctor and apps: no writes to
the snapshot, no other file opened (ATTACH, COPY, EXPORT, read_*), no extension installed or
loaded, no setting changed back. Every refusal is followed by a byte-for-byte check of the home.
A tiny warehouse is published once per module; no pipeline runs here.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from tests.e2e.helpers import start, vixshield
from vixshield import METHODOLOGY_VERSION
from vixshield.serve import publish
from vixshield.store import warehouse

TABLES = ("features.regime", "signals.condor_plan")
LONG_QUERY = "SELECT count(*) FROM range(1000000000000)"  # minutes of work, stopped by interrupt()
TINY = """
CREATE SCHEMA features;
CREATE SCHEMA signals;
CREATE TABLE features.regime AS
    SELECT DATE '2024-03-26' + i::INT AS date, 'calm' AS regime, i::INT + 1 AS sessions_in_regime,
           ['vix low'] AS reasons
    FROM range(3) t(i);
COMMENT ON COLUMN features.regime.regime IS 'the regime after hysteresis';
CREATE TABLE signals.condor_plan AS SELECT date, true AS enter, 5000.0 AS short_put FROM features.regime;
CREATE TABLE signals.condor_actions (date DATE, position_id INT, action VARCHAR);
CREATE TABLE signals.hedge_layers AS SELECT date, 'L0' AS layer FROM features.regime;
CREATE TABLE signals.book_daily AS SELECT date, 1e6 AS nav, 0 AS open_condors, 0.0 AS open_risk_pct_nav
    FROM features.regime;
"""


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home with a working warehouse and its publication (snapshot, Parquet, manifest)."""
    h = tmp_path_factory.mktemp("lockdown") / "home"
    h.mkdir()
    with duckdb.connect(str(h / "warehouse.duckdb")) as conn:
        warehouse.init_schema(conn)
        conn.execute(TINY)
        conn.execute(warehouse.sql_text("views/latest_plan.sql"))
    publish.publish(h / "warehouse.duckdb", h, "run-1", "2024-03-28", METHODOLOGY_VERSION, TABLES)
    return h


def tree(root: Path) -> dict[str, bytes]:
    """Every file under `root` with its bytes: a write, or a file created anywhere, shows up."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def untouched(home: Path, tmp_path: Path) -> Iterator[Path]:
    """`tmp_path` as a place statements try to write to; afterwards neither it nor the home changed."""
    before = tree(home)
    yield tmp_path
    assert tree(home) == before  # working warehouse, snapshot, Parquet and manifest byte-identical
    assert list(tmp_path.iterdir()) == []


def paths(home: Path, out: Path) -> dict[str, str]:
    return {
        "working": str(home / "warehouse.duckdb"),
        "snapshot": str(publish.snapshot_path(home)),
        "manifest": str(publish.manifest_path(home)),
        "parquet": str(publish.parquet_path(home, "features.regime")),
        "home": str(home),
        "out": str(out),
    }


REFUSED = [
    "ATTACH '{working}' AS w (READ_WRITE)",
    "ATTACH '{working}' AS w (READ_ONLY)",
    "ATTACH '{working}' AS w",
    "ATTACH '{out}/new.duckdb' AS n",
    "ATTACH '{snapshot}' AS again (READ_WRITE)",
    "COPY (SELECT 1 AS x) TO '{manifest}' (FORMAT json)",
    "COPY features.regime TO '{out}/regime.parquet' (FORMAT parquet)",
    "COPY features.regime TO '{working}'",
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_parquet('{parquet}')",
    "SELECT * FROM read_json('{manifest}')",
    "SELECT * FROM read_text('{manifest}')",
    "SELECT * FROM glob('{home}/*')",
    "EXPORT DATABASE '{out}/export'",
    "IMPORT DATABASE '{home}'",
    "INSTALL httpfs",
    "LOAD httpfs",
    "SELECT * FROM read_csv('https://example.com/x.csv')",
    "SET enable_external_access = true",
    "SET GLOBAL enable_external_access = true",
    "RESET enable_external_access",
    "SET disabled_filesystems = ''",
    "SET lock_configuration = false",
    "SET autoinstall_known_extensions = true",
    "SET autoload_known_extensions = true",
    "SET allow_community_extensions = true",
    "SET temp_directory = '{out}'",
    "CREATE TABLE features.x AS SELECT 1 AS x",
    "DELETE FROM features.regime",
    "UPDATE signals.condor_plan SET enter = false",
    "DROP VIEW signals.latest_plan",
    "SET profiling_output = '{out}/profile.json'",
    "CREATE PERSISTENT SECRET s (TYPE s3, KEY_ID 'a', SECRET 'b')",
]


@pytest.mark.parametrize("isolated", [False, True], ids=["plain", "isolated"])
@pytest.mark.parametrize("sql", REFUSED)
def test_a_reader_cannot_write_open_other_files_or_unlock(home, untouched, isolated, sql):
    with publish.open_snapshot(home, isolated=isolated) as conn:
        with pytest.raises(duckdb.Error) as err:
            conn.execute(sql.format(**paths(home, untouched))).fetchall()
        assert publish.refused(err.value), err.value
        assert conn.execute("SELECT count(*) FROM features.regime").fetchone() == (3,)  # still usable


# Pragmas that newer DuckDB refuses under the lock and older DuckDB (1.3) accepts: either way they
# must change nothing (the `untouched` fixture compares the home byte for byte after the connection closed).
REFUSED_OR_INERT = [
    "PRAGMA enable_checkpoint_on_shutdown",
    "PRAGMA force_checkpoint",
    "PRAGMA enable_profiling",
]


@pytest.mark.parametrize("isolated", [False, True], ids=["plain", "isolated"])
@pytest.mark.parametrize("sql", REFUSED_OR_INERT)
def test_a_writing_pragma_is_refused_or_changes_nothing(home, untouched, isolated, sql):
    with publish.open_snapshot(home, isolated=isolated) as conn:
        try:
            conn.execute(sql).fetchall()
        except duckdb.Error as exc:
            assert publish.refused(exc), exc
        assert conn.execute("SELECT count(*) FROM features.regime").fetchone() == (3,)


@pytest.mark.parametrize("isolated", [False, True], ids=["plain", "isolated"])
def test_detaching_the_snapshot_does_not_let_it_be_reattached_writable(home, untouched, isolated):
    """enable_external_access alone allows the attached file's own path: without the local file
    system disabled, `USE memory; DETACH snapshot; ATTACH <snapshot> (READ_WRITE)` could write it."""
    snapshot = publish.snapshot_path(home)
    steps = ("ATTACH ':memory:' AS scratch", "USE scratch", "USE memory", "DETACH snapshot", "DETACH warehouse")
    with publish.open_snapshot(home, isolated=isolated) as conn:
        for step in steps:
            with contextlib.suppress(duckdb.Error):  # each step may or may not be refused; the ATTACH must be
                conn.execute(step)
        with pytest.raises(duckdb.Error) as err:
            conn.execute(f"ATTACH '{snapshot}' AS w (READ_WRITE)")
        assert publish.refused(err.value), err.value


@pytest.mark.parametrize("isolated", [False, True], ids=["plain", "isolated"])
def test_a_reader_still_reads_tables_views_and_comments(home, untouched, isolated):
    manifest = publish.read_manifest(home)
    with publish.open_snapshot(home, isolated=isolated) as conn:
        assert publish.table_counts(conn) == manifest["row_counts"]
        plan = conn.execute("SELECT date::VARCHAR, enter, regime_after_hysteresis FROM signals.latest_plan").fetchall()
        assert plan == [("2024-03-28", True, "calm")]
        comment = conn.execute(
            "SELECT comment FROM duckdb_columns() WHERE table_name = 'regime' AND column_name = 'regime'"
        ).fetchone()
        assert comment == ("the regime after hysteresis",)
        assert len(conn.execute("SELECT * FROM features.regime").df()) == 3
        assert conn.execute("SELECT current_setting('enable_external_access')").fetchone() == (False,)
        assert conn.execute("SELECT current_setting('lock_configuration')").fetchone() == (True,)


def test_a_second_plain_open_joins_the_locked_database_and_checks_it(home, untouched):
    """DuckDB's per-path cache: the second open shares the first's (locked) database."""
    with publish.open_snapshot(home) as first, publish.open_snapshot(home) as second:
        assert second.execute("SELECT count(*) FROM signals.condor_plan").fetchone() == (3,)
        with pytest.raises(duckdb.PermissionException):
            second.execute("SELECT * FROM read_csv('/etc/passwd')")
        assert first.execute("SELECT count(*) FROM features.regime").fetchone() == (3,)


def test_an_unlocked_open_of_the_snapshot_in_the_process_is_not_joined(home, untouched):
    """Fail closed: open_snapshot never hands out a connection to a database opened without the locks."""
    unlocked = duckdb.connect(str(publish.snapshot_path(home)), read_only=True)
    try:
        with pytest.raises(duckdb.Error, match="different configuration"):
            publish.open_snapshot(home)
    finally:
        unlocked.close()
    with publish.open_snapshot(home) as conn:  # once it is closed, a locked open works again
        assert conn.execute("SELECT count(*) FROM features.regime").fetchone() == (3,)


def test_cli_query_refusal_is_one_clear_line_and_exit_2(home, untouched):
    manifest = publish.manifest_path(home)
    out = vixshield(home, "query", f"COPY (SELECT 1 AS x) TO '{manifest}' (FORMAT json)", timeout=60)
    assert out.returncode == 2, out.stderr
    assert "refused: the published snapshot is read-only" in out.stderr
    assert "no file, network or extension access" in out.stderr
    assert "Traceback" not in out.stderr and out.stdout == ""


def test_cli_query_stops_at_its_timeout(home, untouched):
    t0 = time.monotonic()
    out = vixshield(home, "query", LONG_QUERY, "--timeout", "1", timeout=60)
    elapsed = time.monotonic() - t0
    assert out.returncode == 124, out.stderr
    assert "query interrupted after 1 s" in out.stderr and "raise --timeout" in out.stderr
    assert "Traceback" not in out.stderr
    assert elapsed < 20  # Python and DuckDB start, one second of query, then it stops


def test_cli_query_rejects_a_negative_timeout(home):
    out = vixshield(home, "query", "SELECT 1", "--timeout", "-1", timeout=60)
    assert out.returncode == 2 and "--timeout" in out.stderr


def _wait_until_open(pid: int, path: Path, timeout: float = 30) -> None:
    """Wait until process `pid` has `path` open: the CLI reached the query (imports are done)."""
    deadline = time.monotonic() + timeout
    fds = Path(f"/proc/{pid}/fd")
    while time.monotonic() < deadline:
        for fd in fds.iterdir() if fds.exists() else ():
            try:
                if os.readlink(fd) == str(path):
                    return
            except OSError:
                continue
        time.sleep(0.05)
    raise AssertionError(f"process {pid} never opened {path}")


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="needs /proc to see the child open the snapshot")
def test_cli_query_stops_promptly_on_ctrl_c(home, untouched):
    child = start(home, "query", LONG_QUERY)
    try:
        _wait_until_open(child.pid, publish.snapshot_path(home).resolve())
        time.sleep(0.5)  # the query is running
        assert child.poll() is None
        child.send_signal(signal.SIGINT)
        t0 = time.monotonic()
        rc = child.wait(timeout=15)
        waited = time.monotonic() - t0
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    output = child.stdout.read()
    assert rc == 130, output
    assert "interrupted" in output and "Traceback" not in output
    assert waited < 5
