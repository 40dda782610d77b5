"""Publish a read-only snapshot of the warehouse for readers (ARCHITECTURE "Serving and concurrency").

DuckDB allows one read-write process XOR many readers, so apps and `vixshield query` never open
the working file a run writes: they read `home/published/warehouse.duckdb`, which a successful run
replaces whole. Every published file is written under a temporary name in the same folder, fsynced,
then renamed over the old one. A rename swaps the directory entry only: a reader that already has
the old file open keeps reading the old inode (POSIX), a reader that opens afterwards gets the new
file, and nobody ever sees a half-written file under a final name.

Everything that can fail (checkpoint, copy, Parquet export, fsync, hashing, a test open of the
copy) happens before the first rename, and the renames that follow are rolled back from hard-link
backups if one of them fails, so a failed publish leaves the previous snapshot, Parquet files and
manifest exactly as they were. `manifest.json` is renamed last: it describes the files next to it.
A publish killed between renames (SIGKILL, power loss) can leave new files beside the old manifest;
`verify` (and `vixshield doctor`) then report a checksum mismatch until the next publish.

Apps do not all run the DuckDB the pipeline runs, so the snapshot is not a byte copy of the working
file (which keeps the newest storage format): it is written afresh in STORAGE_VERSION, which every
DuckDB from OLDEST_READER on opens (README "Which readers open the snapshot"). The manifest records
that storage version, the writer's DuckDB version, each published table's columns (name, type,
comment: the sidecar schema of the Parquet files) and the contract version (vixshield/serve/app_contract.py).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import hashlib
import json
import os
import re
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import duckdb

import vixshield
from vixshield.serve import app_contract

PUBLISHED = "published"
SNAPSHOT = "warehouse.duckdb"
MANIFEST = "manifest.json"
PARQUET = "parquet"
CHUNK = 8 << 20  # read buffer for hashing, bytes
# The storage format of the published snapshot (ATTACH ... (STORAGE_VERSION ...)), chosen for reach at
# little cost: v1.2.0 files (header version 65) open in every DuckDB from 1.2.0 on (1.2, 1.3, the 1.4
# LTS, 1.5, 2.x), and DuckDB 1.3.0 (pyproject's floor) writes them. Measured: the 1990-2026 warehouse is
# 31.5 MB in v1.2.0, 30.2 MB in the newest format; v1.0.0 (32.8 MB) would add only DuckDB 1.1.x readers,
# not 1.0.0 (which cannot read the primary keys newer writers store in it). tests/e2e/test_compat.py
# reads the snapshot with DuckDB OLDEST_READER, pinned in tests/compat/oldest-duckdb.txt.
STORAGE_VERSION = "v1.2.0"
OLDEST_READER = "1.2.0"  # the oldest DuckDB that opens the snapshot, tested in a separate environment
_SNAPSHOT_ALIAS = "vixshield_publish_snapshot"  # the new snapshot while it is written, attached to the working DB
# Tables apps read without DuckDB also get a Parquet file (signals.* join this list as they land).
PUBLISHED_TABLES: tuple[str, ...] = (
    "features.daily",
    "features.regime",
    "signals.condor_plan",
    "signals.condor_actions",
    "signals.hedge_layers",
    "signals.book_daily",
)
# With export_all, every table of these schemas also gets a Parquet file (listed under "exported" in the
# manifest): backtest.*, research.*, signals.tickets and whatever lands there next, beyond the contract's tables.
EXPORT_SCHEMAS = ("features", "signals", "backtest", "research")
PAGE = "today.html"  # the today page (vixshield/serve/today.py), rendered from the new snapshot
_TMP_PREFIX = ".publish-"  # .publish-<pid>-<hex>.<final name>: the pid lets a later publish clean up
_TMP_RE = re.compile(r"^\.publish-(\d+)-[0-9a-f]+\.")
_TABLE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$")


class PublishError(RuntimeError):
    """Publishing failed; the previous snapshot, Parquet files and manifest are unchanged."""


class NoSnapshotError(FileNotFoundError):
    """Nothing has been published in this home yet."""


def published_dir(home: str | Path) -> Path:
    return Path(home) / PUBLISHED


def snapshot_path(home: str | Path) -> Path:
    return published_dir(home) / SNAPSHOT


def manifest_path(home: str | Path) -> Path:
    return published_dir(home) / MANIFEST


def parquet_path(home: str | Path, table: str) -> Path:
    return published_dir(home) / PARQUET / f"{table}.parquet"


def read_manifest(home: str | Path) -> dict | None:
    """The manifest of the current snapshot, or None when nothing was published."""
    path = manifest_path(home)
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise PublishError(f"cannot read the snapshot manifest {path}: {exc}") from exc


# Readers get the snapshot's tables and nothing else: SQL typed into `vixshield query` (or passed on by
# an app) must not write files, read other files, reach the network or install code. A plain open
# passes these at connect (DuckDB still opens the file it is asked for); an isolated one sets them
# after its ATTACH.
_READER_CONFIG: dict[str, bool] = {
    "enable_external_access": False,  # no ATTACH of other files, COPY TO, read_csv/read_parquet, INSTALL
    "autoinstall_known_extensions": False,  # no download triggered by a query
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
}
# Then, with the file open (DuckDB takes disabled_filesystems only once started): with the local file system
# disabled, no statement can open any file, not even the snapshot again in read-write mode after a
# DETACH (enable_external_access alone allows the attached file's own path); the lock keeps SQL
# from SETting any of this back. Order matters: external access goes off while the file system works.
_READER_LOCKS: tuple[tuple[str, str], ...] = (
    *((name, str(value).lower()) for name, value in _READER_CONFIG.items()),
    ("disabled_filesystems", "LocalFileSystem"),
    ("lock_configuration", "true"),
)
READER_LIMITS = (
    "the published snapshot is read-only, and readers have no file, network or extension access "
    "(no ATTACH, COPY, EXPORT, read_csv/read_parquet/read_json of a path, INSTALL/LOAD or SET)"
)
_REFUSALS = (
    "read-only",
    "disabled by configuration",
    "disabled through configuration",
    "configuration has been locked",
    "already attached",
    "Cannot detach",
    "autoload_known_extensions",  # "... exists in the httpfs extension; enable autoload": it is off for readers
)


class ReaderLockdownError(RuntimeError):
    """A reader connection could not be locked down; it is closed rather than handed out."""


def open_snapshot(home: str | Path, isolated: bool = False) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the published snapshot; it never blocks, nor is blocked by, a run.

    The connection is locked down (see READER_LIMITS): it can read the snapshot's tables and views
    and nothing else, whatever SQL it is given, and cannot SET its way back.

    DuckDB caches open databases per process by path: while any connection from `duckdb.connect`
    to the snapshot is open in this process, another `duckdb.connect` returns that same (possibly
    replaced) snapshot. One-shot readers (`vixshield query`) do not care; a long-lived process that
    keeps a connection open should pass `isolated=True`, which attaches the file read-only to a new
    in-memory database (about 7 ms more per open) and so always sees the current snapshot. Within a
    process, open the snapshot only through this function: DuckDB refuses a second `duckdb.connect`
    of the same path with a different configuration while the first is open.
    """
    path = snapshot_path(home)
    if not path.exists():
        raise NoSnapshotError(f"no published snapshot at {path}; run `vixshield run` first")
    if not isolated:
        conn = duckdb.connect(str(path), read_only=True, config=dict(_READER_CONFIG))
    else:  # external access stays on until the ATTACH is done: it is what lets the file be opened
        conn = duckdb.connect(config={k: v for k, v in _READER_CONFIG.items() if k != "enable_external_access"})
    try:
        if isolated:
            conn.execute(f"ATTACH '{_sql_str(path)}' AS snapshot (READ_ONLY)")
            conn.execute("USE snapshot")
        _lock_down(conn, path)
    except BaseException:
        conn.close()
        raise
    return conn


def _lock_down(conn: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Apply _READER_LOCKS, then check them: a connection that is not locked down is never returned.

    A plain open can join a database this process already opened and locked (DuckDB's per-path
    cache); its settings are then only checked, since a locked configuration refuses any SET.
    DuckDB does not report disabled_filesystems, so a glob of the snapshot's own path (which
    external access alone would allow) proves the local file system is off."""
    want = {name: value for name, value in _READER_LOCKS if name != "disabled_filesystems"}

    def current() -> dict[str, str]:
        rows = conn.execute("SELECT name, value FROM duckdb_settings() WHERE list_contains(?, name)", [list(want)])
        return dict(rows.fetchall())

    if current().get("lock_configuration") != "true":
        for name, value in _READER_LOCKS:
            conn.execute(f"SET {name} = '{value}'")
    if (got := current()) != want:
        raise ReaderLockdownError(f"the snapshot connection is not locked down: {got} instead of {want}")
    try:
        conn.execute("SELECT count(*) FROM glob(?)", [str(path)]).fetchall()
    except duckdb.PermissionException as exc:
        if "LocalFileSystem" in str(exc):
            return
        raise
    raise ReaderLockdownError("the snapshot connection can still open local files")


def refused(exc: BaseException) -> bool:
    """Whether DuckDB refused a statement because of the reader lockdown (rather than bad SQL), so
    that a caller can say what readers may not do instead of echoing DuckDB's message alone."""
    return isinstance(exc, duckdb.PermissionException) or (
        isinstance(exc, duckdb.Error) and any(marker in str(exc) for marker in _REFUSALS)
    )


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def verify(home: str | Path) -> list[str]:
    """Problems with the published files against the manifest (empty list: consistent)."""
    manifest = read_manifest(home)
    if manifest is None:
        return [f"no manifest at {manifest_path(home)}"]
    problems = []
    for name, meta in manifest.get("files", {}).items():
        path = published_dir(home) / name
        if not path.exists():
            problems.append(f"{name}: missing")
        elif sha256_file(path) != meta.get("sha256"):
            problems.append(f"{name}: checksum differs from the manifest")
    return problems


def _fsync(path: Path) -> None:
    """Flush a file's data, or a folder's entries (so that a rename survives a power loss)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _copy(conn: duckdb.DuckDBPyConnection, dst: Path) -> None:
    """Copy the database open on `conn` (tables, views, constraints, comments) into a new file `dst`
    written in STORAGE_VERSION, then fsync it: the data is on disk before the rename makes it visible.
    A DuckDB that cannot write that version fails here, naming it, and nothing is published."""
    source = conn.execute("SELECT current_database()").fetchone()[0]
    try:
        conn.execute(f"ATTACH '{_sql_str(dst)}' AS {_SNAPSHOT_ALIAS} (STORAGE_VERSION '{STORAGE_VERSION}')")
    except duckdb.InvalidInputException as exc:
        raise PublishError(
            f"DuckDB {duckdb.__version__} cannot write the snapshot's storage version {STORAGE_VERSION} "
            f"(readers from DuckDB {OLDEST_READER} on rely on it): {exc}; the previous snapshot is unchanged"
        ) from exc
    try:
        conn.execute(f'COPY FROM DATABASE "{source}" TO {_SNAPSHOT_ALIAS}')
    finally:
        conn.execute(f"DETACH {_SNAPSHOT_ALIAS}")  # checkpoints the new file: no WAL is left beside it
    _fsync(dst)


def storage_header_version(path: Path) -> int:
    """The storage version number in a DuckDB file's header (64: v0.10-v1.1, 65: v1.2, ..., as DuckDB's
    "Trying to read a database file with version number N" error names it)."""
    with open(path, "rb") as f:
        head = f.read(20)
    if head[8:12] != b"DUCK":
        raise ValueError(f"{path} is not a DuckDB database file")
    return int.from_bytes(head[12:20], "little")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def _remove_stale_temps(folder: Path) -> None:
    """Temp files left by a publish that was killed (its pid is gone) are removed."""
    for path in [*folder.glob(f"{_TMP_PREFIX}*"), *(folder / PARQUET).glob(f"{_TMP_PREFIX}*")]:
        match = _TMP_RE.match(path.name)
        if match and not _pid_alive(int(match.group(1))):
            with contextlib.suppress(OSError):
                path.unlink()


def _tmp_for(final: Path, tag: str) -> Path:
    return final.with_name(f"{_TMP_PREFIX}{os.getpid()}-{tag}.{final.name}")


@contextlib.contextmanager
def _step(what: str, path: Path) -> Iterator[None]:
    """Turn any OS or DuckDB failure into a PublishError naming the path and the cause."""
    try:
        yield
    except PublishError:
        raise
    except (OSError, duckdb.Error) as exc:
        hint = " (disk full)" if isinstance(exc, OSError) and exc.errno == errno.ENOSPC else ""
        raise PublishError(
            f"publish failed while {what} {path}{hint}: {exc}; the previous snapshot is unchanged"
        ) from exc


def _swap(pairs: list[tuple[Path, Path]], tag: str) -> None:
    """Rename each temp over its final name; if one rename fails, put back every final name already
    replaced. The backups are hard links to the old files: no data is copied, no name is ever empty."""
    done: list[tuple[Path, Path | None]] = []  # (final, backup of the file it replaced, or None)
    backups: list[Path] = []
    try:
        for tmp, final in pairs:
            backup = None
            if final.exists():
                backup = final.with_name(f"{_TMP_PREFIX}{os.getpid()}-{tag}.bak.{final.name}")
                os.link(final, backup)
                backups.append(backup)
            os.replace(tmp, final)
            done.append((final, backup))
    except OSError:
        for final, backup in reversed(done):
            with contextlib.suppress(OSError):
                if backup is None:
                    final.unlink()  # nothing was published under this name before
                else:
                    os.replace(backup, final)
        raise
    finally:
        for backup in backups:
            with contextlib.suppress(OSError):
                backup.unlink()


def _sql_str(path: Path) -> str:
    return str(path).replace("'", "''")


def _file_entry(path: Path, rows: int | None = None) -> dict:
    entry: dict = {"sha256": sha256_file(path), "bytes": path.stat().st_size}
    if rows is not None:
        entry["rows"] = rows
    return entry


def table_counts(conn: duckdb.DuckDBPyConnection) -> dict[str, int]:
    tables = conn.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() "
        "WHERE NOT temporary AND database_name = current_database() ORDER BY 1, 2"
    ).fetchall()
    return {f"{s}.{t}": conn.execute(f'SELECT count(*) FROM "{s}"."{t}"').fetchone()[0] for s, t in tables}


def published_columns(conn: duckdb.DuckDBPyConnection, tables: Sequence[str]) -> dict[str, list[dict]]:
    """Each of `tables` (tables or views, "schema.table") that exists: its columns in order, with DuckDB
    type and comment (None where the column has none). The manifest's sidecar schema."""
    rows = conn.execute(
        "SELECT schema_name || '.' || table_name, column_name, data_type, comment FROM duckdb_columns() "
        "WHERE database_name = current_database() AND list_contains(?, schema_name || '.' || table_name) "
        "ORDER BY 1, column_index",
        [list(tables)],
    ).fetchall()
    columns: dict[str, list[dict]] = {}
    for table, name, data_type, comment in rows:
        columns.setdefault(table, []).append({"name": name, "type": data_type, "comment": comment or None})
    return columns


def publish(
    working_db: str | Path,
    home: str | Path,
    run_id: str,
    as_of: dt.date | str | None,
    methodology_version: str,
    tables: Sequence[str],
    export_all: bool = False,
    page: Callable[[duckdb.DuckDBPyConnection, dict], str] | None = None,
) -> dict:
    """Publish the working warehouse as `home/published/`: the DuckDB snapshot, one Parquet file per
    table in `tables` ("schema.table"), and manifest.json. Returns the manifest written.

    Holds a read-write connection to `working_db` throughout, so no other process can change the
    file while it is copied (and two publishes of one warehouse cannot interleave). Raises
    PublishError, leaving the previous publication untouched, when anything fails.
    export_all: also write Parquet for every other table in EXPORT_SCHEMAS. page: renders the today page
    from the new snapshot (read-only) and the run's facts; it is published as PAGE with the rest.
    """
    working_db, folder = Path(working_db), published_dir(home)
    bad = [t for t in tables if not _TABLE_RE.match(t)]
    if bad:
        raise PublishError(f"table names must be schema.table; got {bad}")
    if not working_db.exists():
        raise PublishError(f"no working warehouse at {working_db}; nothing to publish")
    with _step("creating", folder / PARQUET):
        (folder / PARQUET).mkdir(parents=True, exist_ok=True)
    _remove_stale_temps(folder)
    tag = uuid.uuid4().hex[:12]
    snapshot = snapshot_path(home)
    pairs: list[tuple[Path, Path]] = []  # (temp, final), renamed in this order
    files: dict[str, dict] = {}
    try:
        with _step("opening the working warehouse", working_db):
            conn = duckdb.connect(str(working_db))
        with conn:
            with _step("checkpointing", working_db):
                conn.execute("CHECKPOINT")
            counts = table_counts(conn)
            missing = [t for t in tables if t not in counts]
            if missing:
                raise PublishError(f"cannot publish {missing}: no such table in {working_db}")
            exported = list(tables)
            if export_all:
                exported += [t for t in counts if t.split(".")[0] in EXPORT_SCHEMAS and t not in exported]
            for table in exported:
                final = parquet_path(home, table)
                tmp = _tmp_for(final, tag)
                pairs.append((tmp, final))
                schema, name = table.split(".")
                with _step("writing Parquet", tmp):
                    conn.execute(f'COPY (SELECT * FROM "{schema}"."{name}") TO \'{_sql_str(tmp)}\' (FORMAT parquet)')
                    _fsync(tmp)
                    files[f"{PARQUET}/{final.name}"] = _file_entry(tmp, counts[table])
            tmp = _tmp_for(snapshot, tag)
            pairs.append((tmp, snapshot))
            with _step("copying the warehouse to", tmp):
                _copy(conn, tmp)
            apps_read = [*tables, *app_contract.VIEWS]
            with _step("checking the copied snapshot", tmp), duckdb.connect(str(tmp), read_only=True) as check:
                columns = published_columns(check, apps_read)  # names, types, comments as readers see them
                if table_counts(check) != counts or columns != published_columns(conn, apps_read):
                    raise PublishError(f"the copied snapshot {tmp} does not match {working_db}; not published")
            with _step("hashing", tmp):
                files[SNAPSHOT] = _file_entry(tmp)
            facts = {"run_id": run_id, "as_of": as_of.isoformat() if isinstance(as_of, dt.date) else as_of}
            facts["published_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
            if page is not None:
                snap, final = tmp, published_dir(home) / PAGE
                tmp = _tmp_for(final, tag)
                pairs.append((tmp, final))
                with _step("rendering the today page", tmp), duckdb.connect(str(snap), read_only=True) as view:
                    tmp.write_text(page(view, facts))
                    _fsync(tmp)
                    files[PAGE] = _file_entry(tmp)
            manifest = {
                "run_id": run_id,
                "as_of": as_of.isoformat() if isinstance(as_of, dt.date) else as_of,
                "methodology_version": methodology_version,
                "vixshield_version": vixshield.__version__,
                "published_at": facts["published_at"],
                "tables": list(tables),
                "exported": exported,
                "row_counts": counts,
                "files": files,
                "storage_version": STORAGE_VERSION,
                "oldest_reader": f"duckdb {OLDEST_READER}",
                "writer": f"duckdb {duckdb.__version__}",
                "contract_version": app_contract.load().version,
                "columns": columns,
            }
            final = manifest_path(home)
            tmp = _tmp_for(final, tag)
            pairs.append((tmp, final))
            with _step("writing", tmp), open(tmp, "x") as f:
                json.dump(manifest, f, indent=2, sort_keys=True)
                f.write("\n")
                f.flush()
                os.fsync(f.fileno())
            with _step("renaming into place under", folder):
                _swap(pairs, tag)
                _fsync(folder / PARQUET)
                _fsync(folder)
        return manifest
    finally:
        for tmp, _ in pairs:
            for leftover in (tmp, tmp.with_name(f"{tmp.name}.wal")):
                with contextlib.suppress(OSError):
                    leftover.unlink()
