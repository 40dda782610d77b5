"""meta.quarantine: rows and cells set aside by rule, re-derived from raw on every run."""

from __future__ import annotations

import duckdb

from vixshield.store import warehouse
from vixshield.validate.checks import register_rules


def rebuild_quarantine(conn: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Re-derive the rule-based quarantine from raw, in one transaction; returns rows per rule."""
    register_rules(conn)
    with warehouse.transaction(conn):
        conn.execute(warehouse.sql_text("transforms/quarantine.sql"))
    return dict(conn.execute("SELECT rule, count(*) FROM meta.quarantine GROUP BY rule ORDER BY rule").fetchall())
