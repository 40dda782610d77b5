"""DuckDB warehouse: the contract's tables (migrated in place), idempotent upserts, check results and
quarantine records.

Every write here is one transaction: it commits whole or not at all, so a crash or an error
mid-write leaves the tables as they were.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd

from vixshield import contract, migrations, schemas

SQL_DIR = Path(__file__).resolve().parent / "sql"  # shipped in the wheel as package data
INPUT_COLUMN = "input"  # meta.quarantine.column_name of input rows that were never loaded


def sql_text(relative: str) -> str:
    """The text of a file under sql/ (transforms, checks, views), with the catalog's generated lists
    filled in where the SQL names them (`contract.sql_fragments`)."""
    return contract.render_sql((SQL_DIR / relative).read_text())


def connect(path: str | Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    path = Path(path)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    return duckdb.connect(str(path), read_only=read_only)


def init_schema(conn: duckdb.DuckDBPyConnection) -> list[str]:
    """Bring the warehouse to the contract: create what is missing, add missing columns, never drop
    (idempotent; see `migrations`). Returns what changed."""
    return migrations.migrate(conn)


def write_table(conn: duckdb.DuckDBPyConnection, name: str, frame: pd.DataFrame, replace: bool = True) -> None:
    """Write a derived table's rows as its contract declares it, in key order, inside the caller's
    transaction: `replace` recreates the table from the declaration first, else the rows are appended.
    Columns are matched by name and cast to the declared types; a frame with rows whose columns differ
    from the declaration raises (a column added in code but not in the contract, or the reverse)."""
    table = contract.TABLES[name]
    if replace:
        migrations.create_table(conn, table, replace=True)
    if frame.empty:
        return
    missing = [c for c in table.names if c not in frame.columns]
    extra = [c for c in frame.columns if c not in table.names]
    if missing or extra:
        raise ValueError(
            f"{name}: rows differ from the contract (vixshield/contract.py): missing {missing}, extra {extra}"
        )
    select = ", ".join(f"CAST({contract.quote(c.name)} AS {c.type}) AS {contract.quote(c.name)}" for c in table.columns)
    order = ", ".join(map(contract.quote, table.key))
    with registered(conn, "_rows", frame):
        conn.execute(f"INSERT INTO {name} BY NAME SELECT {select} FROM _rows ORDER BY {order}")


@contextlib.contextmanager
def transaction(conn: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    conn.execute("BEGIN TRANSACTION")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


@contextlib.contextmanager
def registered(conn: duckdb.DuckDBPyConnection, name: str, frame: pd.DataFrame) -> Iterator[str]:
    """Expose a DataFrame to SQL as `name` for the duration of the block."""
    conn.register(name, frame)
    try:
        yield name
    finally:
        with contextlib.suppress(duckdb.Error):  # an aborted transaction refuses; the error above matters
            conn.unregister(name)


def _key_match(keys: tuple[str, ...], left: str, right: str) -> str:
    return " AND ".join(f"{left}.{k} = {right}.{k}" for k in keys)


class MassRevisionError(ValueError):
    """A delivery would rewrite a large share of one series' stored history."""


MIN_MASS_REVISION = 20  # rows: below this a revision is never "mass", whatever the share


def upsert(
    conn: duckdb.DuckDBPyConnection,
    family: str,
    frame: pd.DataFrame,
    run_id: str,
    fetched_at: dt.datetime,
    max_revised_share: float = 1.0,
) -> dict[str, int]:
    """Insert new keys and overwrite changed values of raw.<family>; never deletes.

    Rows whose values equal what is stored are left untouched (their fetched_at and run_id too),
    so a rerun on the same inputs changes nothing. Returns counts of inserted/revised/unchanged.
    Runs inside the caller's transaction. Raises MassRevisionError, writing nothing, when the values
    of more than `max_revised_share` of one series' stored rows would change: publishers revise a
    few rows; a file with swapped or renamed columns, or another series' data, changes them all.
    """
    keys, values = schemas.FAMILIES[family]
    cols = schemas.columns(family)
    table = f"raw.{family}"
    staged = schemas.conform(frame, family)
    with registered(conn, "_staged", staged):
        same = " AND ".join(f"t.{c} IS NOT DISTINCT FROM s.{c}" for c in [*values, "source"])
        conn.execute(
            f"""CREATE OR REPLACE TEMP TABLE _changed AS
                SELECT s.*, EXISTS (SELECT 1 FROM {table} t WHERE {_key_match(keys, "t", "s")}) AS _exists
                FROM _staged s
                WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE {_key_match(keys, "t", "s")} AND {same})"""
        )
        inserted, revised = conn.execute(
            "SELECT count(*) FILTER (NOT _exists), count(*) FILTER (_exists) FROM _changed"
        ).fetchone()
        if revised >= MIN_MASS_REVISION:
            _refuse_mass_revisions(conn, family, max_revised_share)
        conn.execute(
            f"INSERT OR REPLACE INTO {table} ({', '.join(cols)}, fetched_at, run_id) "
            f"SELECT {', '.join(cols)}, ?, ? FROM _changed",
            [fetched_at, run_id],
        )
        conn.execute("DROP TABLE _changed")
    return {"inserted": int(inserted), "revised": int(revised), "unchanged": len(staged) - int(inserted + revised)}


def _refuse_mass_revisions(conn: duckdb.DuckDBPyConnection, family: str, max_share: float) -> None:
    keys, values = schemas.FAMILIES[family]
    series = next((k for k in keys if k not in schemas.DATE_COLUMNS), keys[-1])  # symbol, series_id, expiry...
    differs = " OR ".join(f"t.{c} IS DISTINCT FROM s.{c}" for c in values)  # a new source label alone is no revision
    table = f"raw.{family}"
    rows = conn.execute(
        f"""SELECT s.{series}, count(*) AS revised,
                   (SELECT count(*) FROM {table} a WHERE a.{series} = s.{series}) AS stored
            FROM _changed s JOIN {table} t ON {_key_match(keys, "t", "s")}
            WHERE {differs}
            GROUP BY s.{series}
            HAVING count(*) >= ? AND count(*) > ? * stored
            ORDER BY revised DESC""",
        [MIN_MASS_REVISION, max_share],
    ).fetchall()
    if rows:
        what = ", ".join(f"{s}: {n:,} of {m:,} stored rows" for s, n, m in rows)
        raise MassRevisionError(
            f"raw.{family}: this delivery would change the values of more than {max_share:.0%} of the stored "
            f"history of {what}. Publishers revise a few rows; a file with swapped or renamed columns, or "
            "another series' data, changes them all. Nothing was written. Check the file; if the publisher "
            "really revised that much, raise validation.max_revised_share in the settings file and rerun."
        )


def record_rejects(conn: duckdb.DuckDBPyConnection, family: str, rejects: list[dict], replace: bool = False) -> int:
    """Keep input rows that were not loaded (unreadable, incomplete, conflicting, future-dated) in
    meta.quarantine under column 'input': they never reached raw, so they flag no raw or core cell.
    `replace` (a whole-history fetch): the family's stored input rejects are replaced by these, so a
    corrected file heals the next run; otherwise insert-if-absent (an incremental fetch)."""
    if replace:
        conn.execute(
            "DELETE FROM meta.quarantine WHERE table_name = ? AND column_name = ?", [f"raw.{family}", INPUT_COLUMN]
        )
    if not rejects:
        return 0
    frame = pd.DataFrame(
        {
            "table_name": f"raw.{family}",
            "row_key": [r["key"] for r in rejects],
            "column_name": INPUT_COLUMN,
            "rule": [r.get("rule", "unreadable") for r in rejects],
            "value": [r.get("raw", "")[:500] for r in rejects],
            "reason": [r["reason"] for r in rejects],
        }
    ).drop_duplicates(subset=["table_name", "row_key", "column_name", "rule"])
    with registered(conn, "_rejects", frame):
        conn.execute("INSERT OR IGNORE INTO meta.quarantine SELECT * FROM _rejects")
    return len(frame)


def record_check(
    conn: duckdb.DuckDBPyConnection,
    run_id: str,
    asset: str,
    check_name: str,
    passed: bool,
    severity: str,
    failures: int | None = None,
    details: dict | None = None,
) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO meta.check_results VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            run_id,
            asset,
            check_name,
            passed,
            severity,
            failures,
            json.dumps(details or {}, default=str),
            dt.datetime.now(dt.UTC).replace(tzinfo=None),
        ],
    )


def row_counts(
    conn: duckdb.DuckDBPyConnection, schemas_: tuple[str, ...] = ("raw", "meta", "core", "features")
) -> dict[str, int]:
    tables = conn.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE schema_name IN ? AND NOT temporary ORDER BY 1, 2",
        [list(schemas_)],
    ).fetchall()
    return {f"{s}.{t}": conn.execute(f'SELECT count(*) FROM "{s}"."{t}"').fetchone()[0] for s, t in tables}
