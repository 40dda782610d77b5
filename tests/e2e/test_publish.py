"""Publishing the read-only snapshot: readers keep a consistent view, failures change nothing.

One warehouse is built with the CLI per module; each test copies it into its own home and
publishes from there (the CLI does not publish yet).
"""

from __future__ import annotations

import errno
import hashlib
import itertools
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from tests.e2e.helpers import cli_env, kill_at_marker, published_bytes
from vixshield import METHODOLOGY_VERSION
from vixshield.serve import publish

pytestmark = pytest.mark.slow  # runs the whole pipeline

TABLES = ("features.daily", "features.regime")
READER = textwrap.dedent(
    """
    import hashlib, json, os, sys, time
    from pathlib import Path
    import duckdb

    snap, stop, out = sys.argv[1:4]
    held = os.open(snap, os.O_RDONLY)        # the inode this reader opened, to hash at the end
    conn = duckdb.connect(snap, read_only=True)
    with open(out, "w", buffering=1) as f:
        while not Path(stop).exists():
            t = time.monotonic()
            try:
                row = conn.execute(
                    "SELECT count(*), max(date)::VARCHAR, (SELECT sum(spx_close) FROM core.market_daily) "
                    "FROM features.regime"
                ).fetchone()
                f.write(json.dumps({"t": t, "row": list(row)}) + "\\n")
            except Exception as exc:
                f.write(json.dumps({"t": t, "error": repr(exc)}) + "\\n")
            time.sleep(0.002)
        digest = hashlib.sha256()
        while chunk := os.read(held, 1 << 20):
            digest.update(chunk)
        f.write(json.dumps({"held_sha256": digest.hexdigest()}) + "\\n")
    """
)
KILLED_PUBLISHER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from vixshield.serve import publish

    db, home, marker = sys.argv[1:4]

    def slow_copy(conn, dst):                # part of the snapshot is on disk when the kill comes
        with open(dst, "xb") as f:
            f.write(Path(db).read_bytes()[: 1 << 16])
            f.flush()
        Path(marker).write_text("copying")
        time.sleep(60)

    publish._copy = slow_copy
    publish.publish(db, home, "killed", "2024-03-28", "v-killed", ["features.daily", "features.regime"])
    """
)


@pytest.fixture
def built(cli_built) -> Path:
    """A working warehouse built from the small market folder by `vixshield run` (the session's)."""
    db = cli_built.home / "warehouse.duckdb"
    with duckdb.connect(str(db), read_only=True) as conn:
        assert conn.execute("SELECT count(*) FROM features.regime").fetchone()[0] > 100
    return db


@pytest.fixture
def home(tmp_path: Path, built: Path) -> Path:
    h = tmp_path / "home"
    h.mkdir()
    shutil.copyfile(built, h / "warehouse.duckdb")
    return h


def do_publish(home: Path, run_id: str = "run-1") -> dict:
    return publish.publish(home / "warehouse.duckdb", home, run_id, "2024-03-28", METHODOLOGY_VERSION, TABLES)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def drop_last_session(db: Path) -> None:
    """Make every file of the next publication differ from the last one."""
    with duckdb.connect(str(db)) as conn:
        for table in TABLES:
            conn.execute(f"DELETE FROM {table} WHERE date = (SELECT max(date) FROM {table})")


def test_publish_writes_snapshot_parquet_and_manifest(home):
    manifest = do_publish(home)

    folder = publish.published_dir(home)
    assert sorted(p.name for p in folder.iterdir()) == ["manifest.json", "parquet", "warehouse.duckdb"]
    assert sorted(p.name for p in (folder / "parquet").iterdir()) == [f"{t}.parquet" for t in TABLES]
    assert publish.read_manifest(home) == manifest
    assert manifest["run_id"] == "run-1" and manifest["as_of"] == "2024-03-28"
    assert manifest["methodology_version"] == METHODOLOGY_VERSION and manifest["published_at"]
    for name, meta in manifest["files"].items():  # checksums verify, recomputed here
        assert sha256(folder / name) == meta["sha256"], name
        assert (folder / name).stat().st_size == meta["bytes"]
    assert set(manifest["files"]) == {"warehouse.duckdb", *(f"parquet/{t}.parquet" for t in TABLES)}
    assert publish.verify(home) == []

    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as working:
        want_counts = publish.table_counts(working)
        want = {t: working.execute(f"SELECT * FROM {t} ORDER BY date").df() for t in TABLES}
    assert manifest["row_counts"] == want_counts
    assert manifest["storage_version"] == publish.STORAGE_VERSION
    assert manifest["writer"] == f"duckdb {duckdb.__version__}"
    assert publish.storage_header_version(publish.snapshot_path(home)) != publish.storage_header_version(
        home / "warehouse.duckdb"
    )  # written afresh in the older format, not copied byte for byte
    assert set(manifest["columns"]) == {*TABLES, "signals.latest_plan"}  # tables published, views apps read
    assert [c["name"] for c in manifest["columns"]["features.regime"]] == list(want["features.regime"].columns)
    with publish.open_snapshot(home) as snap, duckdb.connect() as files:  # readers open no files: another connection
        assert publish.table_counts(snap) == want_counts
        with pytest.raises(duckdb.Error, match="read-only"):
            snap.execute("DELETE FROM features.regime")
        for table in TABLES:
            snap_rows = snap.execute(f"SELECT * FROM {table} ORDER BY date").df()
            parquet = files.execute(
                f"SELECT * FROM read_parquet('{folder}/parquet/{table}.parquet') ORDER BY date"
            ).df()
            assert len(parquet) == manifest["files"][f"parquet/{table}.parquet"]["rows"] == len(want[table])
            assert parquet.equals(want[table]), table
            assert snap_rows.equals(want[table]), table


def test_open_snapshot_without_a_publication_says_run_first(tmp_path):
    with pytest.raises(publish.NoSnapshotError, match=r"run `vixshield run` first"):
        publish.open_snapshot(tmp_path)
    assert publish.read_manifest(tmp_path) is None


def test_reader_holding_the_old_snapshot_keeps_its_view_during_a_republish(home, tmp_path, monkeypatch, capsys):
    first = do_publish(home)
    snap = publish.snapshot_path(home)
    old_inode = snap.stat().st_ino
    stop, out = tmp_path / "stop", tmp_path / "reads.jsonl"
    reader = subprocess.Popen([sys.executable, "-c", READER, str(snap), str(stop), str(out)], env=cli_env(home))
    try:
        deadline = time.monotonic() + 30
        while not (out.exists() and out.read_text().count("\n") >= 5):
            assert reader.poll() is None, "the reader died before its first reads"
            assert time.monotonic() < deadline
            time.sleep(0.02)

        drop_last_session(home / "warehouse.duckdb")
        real_copy = publish._copy

        def slower_copy(conn: duckdb.DuckDBPyConnection, dst: Path) -> None:  # a bigger warehouse: a longer window
            time.sleep(0.5)
            real_copy(conn, dst)

        monkeypatch.setattr(publish, "_copy", slower_copy)
        started = time.monotonic()
        second = do_publish(home, "run-2")
        finished = time.monotonic()
        time.sleep(0.3)  # let the reader go on reading the replaced file
    finally:
        stop.write_text("stop")
        reader.wait(timeout=30)
    assert reader.returncode == 0

    lines = [json.loads(line) for line in out.read_text().splitlines()]
    held = lines.pop()["held_sha256"]
    errors = [r for r in lines if "error" in r]
    assert errors == []
    values = {tuple(r["row"]) for r in lines}
    assert len(values) == 1, values  # one consistent view throughout
    [(count, last_date, _)] = values
    assert (count, last_date) == (first["row_counts"]["features.regime"], "2024-03-28")
    times = [r["t"] for r in lines]
    assert any(t < started for t in times) and any(t > finished for t in times)
    assert any(started <= t <= finished for t in times), "the reader stopped reading during the publish"
    assert held == first["files"]["warehouse.duckdb"]["sha256"]  # the old inode is intact
    assert snap.stat().st_ino != old_inode  # replaced by rename, not rewritten in place

    gaps = [b - a for a, b in itertools.pairwise(times) if b >= started and a <= finished]
    with capsys.disabled():
        print(
            f"\n[publish] {len(lines)} reads; publish took {finished - started:.3f}s (0.5s of it an injected pause); "
            f"longest gap between reads during it {max(gaps) * 1000:.1f} ms"
        )

    assert second["row_counts"]["features.regime"] == count - 1
    with publish.open_snapshot(home) as fresh:  # a new reader sees the new data
        assert fresh.execute("SELECT count(*), max(date)::VARCHAR FROM features.regime").fetchone() == (
            count - 1,
            "2024-03-27",
        )
    assert publish.verify(home) == []


def test_in_process_readers_and_the_duckdb_instance_cache(home):
    """A connection held open in this process pins the old snapshot for plain opens of the same path;
    isolated opens see the new one. Both are read-only."""
    do_publish(home)
    held = publish.open_snapshot(home)
    try:
        drop_last_session(home / "warehouse.duckdb")
        do_publish(home, "run-2")
        query = "SELECT max(date)::VARCHAR FROM features.regime"
        with publish.open_snapshot(home) as cached, publish.open_snapshot(home, isolated=True) as isolated:
            assert cached.execute(query).fetchone() == ("2024-03-28",)  # DuckDB's per-process cache
            assert isolated.execute(query).fetchone() == ("2024-03-27",)
            with pytest.raises(duckdb.Error, match="read-only"):
                isolated.execute("DELETE FROM features.regime")
        assert held.execute(query).fetchone() == ("2024-03-28",)
    finally:
        held.close()
    with publish.open_snapshot(home) as fresh:
        assert fresh.execute(query).fetchone() == ("2024-03-27",)


def test_publish_into_a_path_under_a_file_fails_clearly(tmp_path, built):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the home should be")
    with pytest.raises(publish.PublishError, match=r"not-a-folder/published") as err:
        publish.publish(built, blocker, "r", "2024-03-28", METHODOLOGY_VERSION, TABLES)
    assert "previous snapshot is unchanged" in str(err.value)
    assert blocker.read_text() == "a file where the home should be"


def test_disk_full_during_the_copy_leaves_the_previous_publication(home, monkeypatch):
    do_publish(home)
    before = published_bytes(home)
    drop_last_session(home / "warehouse.duckdb")

    def full_disk(conn: duckdb.DuckDBPyConnection, dst: Path) -> None:
        dst.write_bytes(b"partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(publish, "_copy", full_disk)
    with pytest.raises(publish.PublishError, match=r"disk full.*No space left") as err:
        do_publish(home, "run-2")
    assert str(publish.published_dir(home)) in str(err.value)
    assert published_bytes(home) == before  # byte-identical, and no temp file left behind


@pytest.mark.parametrize("fail_at", [1, 2, 3, 4])  # parquet, parquet, snapshot, manifest
def test_a_failed_rename_rolls_back_every_file(home, monkeypatch, fail_at):
    do_publish(home)
    before = published_bytes(home)
    drop_last_session(home / "warehouse.duckdb")
    real_replace, calls = os.replace, []

    def flaky_replace(src, dst):
        calls.append(dst)
        if len(calls) == fail_at:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_replace(src, dst)

    monkeypatch.setattr(publish.os, "replace", flaky_replace)
    with pytest.raises(publish.PublishError, match="disk full"):
        do_publish(home, "run-2")
    monkeypatch.undo()
    assert published_bytes(home) == before
    assert publish.verify(home) == []
    assert publish.read_manifest(home)["run_id"] == "run-1"


def test_a_failed_first_publish_leaves_no_file_under_a_final_name(home, monkeypatch):
    real_replace, calls = os.replace, []

    def flaky_replace(src, dst):
        calls.append(dst)
        if len(calls) == 3:  # the snapshot, after both Parquet files were renamed into place
            raise OSError(errno.EIO, "Input/output error")
        return real_replace(src, dst)

    monkeypatch.setattr(publish.os, "replace", flaky_replace)
    with pytest.raises(publish.PublishError, match="Input/output error"):
        do_publish(home)
    assert published_bytes(home) == {}
    with pytest.raises(publish.NoSnapshotError):
        publish.open_snapshot(home)


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores directory permissions")
def test_publish_into_a_read_only_folder_fails_and_changes_nothing(home):
    do_publish(home)
    before = published_bytes(home)
    folder = publish.published_dir(home)
    folder.chmod(0o500)
    try:
        with pytest.raises(publish.PublishError, match=str(folder)):
            do_publish(home, "run-2")
    finally:
        folder.chmod(0o755)
    assert published_bytes(home) == before


def test_unknown_table_fails_before_anything_changes(home):
    do_publish(home)
    before = published_bytes(home)
    with pytest.raises(publish.PublishError, match=r"signals\.nope"):
        publish.publish(home / "warehouse.duckdb", home, "r", None, METHODOLOGY_VERSION, ["signals.nope"])
    assert published_bytes(home) == before


def test_sigkill_mid_publish_leaves_the_old_publication_and_the_next_publish_succeeds(home, tmp_path):
    do_publish(home)
    before = published_bytes(home)
    drop_last_session(home / "warehouse.duckdb")
    marker = tmp_path / "marker"
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_PUBLISHER, str(home / "warehouse.duckdb"), str(home), str(marker)],
        env=cli_env(home),
    )
    kill_at_marker(child, marker)

    after = published_bytes(home)
    leftovers = sorted(set(after) - set(before))
    assert leftovers and all(Path(name).name.startswith(".publish-") for name in leftovers)  # temps only
    assert {k: v for k, v in after.items() if k in before} == before  # final names untouched
    assert publish.verify(home) == []
    with publish.open_snapshot(home) as snap:
        assert snap.execute("SELECT max(date)::VARCHAR FROM features.regime").fetchone() == ("2024-03-28",)

    manifest = do_publish(home, "run-3")
    assert manifest["run_id"] == "run-3" and publish.verify(home) == []
    assert not [n for n in published_bytes(home) if Path(n).name.startswith(".publish-")]  # stale temps removed
    with publish.open_snapshot(home) as snap:
        assert snap.execute("SELECT max(date)::VARCHAR FROM features.regime").fetchone() == ("2024-03-27",)


def test_a_duckdb_that_cannot_write_the_storage_version_publishes_nothing(home, monkeypatch):
    """Readers from OLDEST_READER on rely on the snapshot's storage version: a DuckDB that cannot write
    it (an unknown version name here) fails the publish, saying so, and the old snapshot stays."""
    do_publish(home)
    before = published_bytes(home)
    monkeypatch.setattr(publish, "STORAGE_VERSION", "v9.9.9")
    with pytest.raises(publish.PublishError, match=r"cannot write the snapshot's storage version v9\.9\.9") as err:
        do_publish(home, "run-2")
    assert "previous snapshot is unchanged" in str(err.value)
    assert published_bytes(home) == before
