"""Additive migrations: bring any existing warehouse to the declared contract in place.

The migration is computed, not written by hand: the live catalog is compared with `contract.TABLES`;
missing tables (those created on connect) are created and missing columns added (ALTER TABLE ADD
COLUMN). Nothing is ever dropped, renamed or retyped, so no data can be lost, and a second run is a
no-op. Each new contract version is recorded in meta.schema_version with what it changed.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import duckdb

from vixshield.store import contract

log = logging.getLogger(__name__)
SQL_DIR = Path(__file__).resolve().parents[1] / "sql" / "migrations"
# Data fix-ups older releases applied on every connect; run once on a warehouse without a version.
DATA_UPGRADES = ("quarantine_input_rejects.sql",)


def live_columns(conn: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[str, str]]]:
    """schema.table -> [(column, type)] in column order, for the persistent tables of this database."""
    rows = conn.execute(
        """SELECT c.schema_name || '.' || c.table_name, c.column_name, c.data_type
           FROM duckdb_columns() c
           JOIN duckdb_tables() t USING (database_name, schema_name, table_name)
           WHERE NOT t.temporary AND c.database_name = current_database()
           ORDER BY 1, c.column_index"""
    ).fetchall()
    out: dict[str, list[tuple[str, str]]] = {}
    for table, column, type_ in rows:
        out.setdefault(table, []).append((column, type_))
    return out


def plan(
    conn: duckdb.DuckDBPyConnection, live: dict[str, list[tuple[str, str]]] | None = None
) -> tuple[list[contract.Table], list[tuple[contract.Table, contract.Column]]]:
    """(tables to create, columns to add) to reach the contract (`live`: live_columns, if read already)."""
    live = live_columns(conn) if live is None else live
    create = [t for t in contract.TABLES.values() if t.on_connect and t.name not in live]
    add = [
        (t, c)
        for t in contract.TABLES.values()
        if t.name in live
        for c in t.columns
        if c.name not in {name for name, _ in live[t.name]}
    ]
    return create, add


def retyped(conn: duckdb.DuckDBPyConnection, live: dict[str, list[tuple[str, str]]] | None = None) -> list[str]:
    """Columns whose stored type differs from the declared one, as 'table.column: stored -> declared'."""
    live = live_columns(conn) if live is None else live
    return [
        f"{t.name}.{c.name}: {dict(live[t.name])[c.name]} -> {c.type}"
        for t in contract.TABLES.values()
        if t.name in live
        for c in t.columns
        if dict(live[t.name]).get(c.name, c.type) != c.type
    ]


def _current(conn: duckdb.DuckDBPyConnection, digest: str) -> bool:
    """Already at this contract version, with every schema and declared table and no column missing:
    then a migration would change nothing, and the catalog is read once instead of four times (every
    step of a run opens the warehouse this way). Type drifts are still reported."""
    schemas = conn.execute("SELECT schema_name FROM duckdb_schemas() WHERE database_name = current_database()")
    if not set(contract.SCHEMAS) <= {name for (name,) in schemas.fetchall()}:
        return False
    live = live_columns(conn)
    if "meta.schema_version" not in live or any(plan(conn, live)):
        return False
    if not conn.execute("SELECT 1 FROM meta.schema_version WHERE contract_digest = ?", [digest]).fetchall():
        return False
    _warn_drifts(retyped(conn, live))
    return True


def _warn_drifts(drifts: list[str]) -> None:
    for drift in drifts:
        log.warning("%s: left as it is (migrations never retype; rewrite the table to take the new type)", drift)


def migrate(conn: duckdb.DuckDBPyConnection) -> list[str]:
    """Upgrade in place, in one transaction; returns what changed (empty when already current)."""
    digest = contract.digest()
    if _current(conn, digest):
        return []
    conn.execute("BEGIN TRANSACTION")
    try:
        for schema in contract.SCHEMAS:
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        versioned = "meta.schema_version" in live_columns(conn)
        create, add = plan(conn)
        for table in create:
            conn.execute(contract.create_sql(table))
        for table, column in add:  # NOT NULL cannot be added to rows that exist: added columns are nullable
            conn.execute(f"ALTER TABLE {table.name} ADD COLUMN {contract.quote(column.name)} {column.type}")
        if not versioned:
            for name in DATA_UPGRADES:
                conn.execute((SQL_DIR / name).read_text())
        changes = [f"created {t.name}" for t in create] + [f"added {t.name}.{c.name}" for t, c in add]
        _warn_drifts(retyped(conn))
        known = conn.execute("SELECT 1 FROM meta.schema_version WHERE contract_digest = ?", [digest]).fetchone()
        live = live_columns(conn)
        for table in contract.TABLES.values():
            if table.name in live and (known is None or table in create or any(t is table for t, _ in add)):
                # comments follow the contract: all of them on a new contract version, else only what changed
                for sql in contract.comment_sql(table, [name for name, _ in live[table.name]]):
                    conn.execute(sql)
        if known is None:
            conn.execute(
                "INSERT INTO meta.schema_version VALUES (?, ?, ?)",
                [contract.SCHEMA_VERSION, digest, json.dumps(changes)],
            )
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return changes


def create_table(conn: duckdb.DuckDBPyConnection, table: contract.Table, replace: bool = False) -> None:
    """Create one declared table (replacing it when asked) with its comments."""
    conn.execute(f"CREATE SCHEMA IF NOT EXISTS {table.schema}")
    conn.execute(contract.create_sql(table, replace=replace))
    for sql in contract.comment_sql(table):
        conn.execute(sql)
