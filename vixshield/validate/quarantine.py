"""meta.quarantine: rows and cells set aside by rule, re-derived from raw on every run."""

from __future__ import annotations

import duckdb

from vixshield.config import ValidationSettings
from vixshield.store import warehouse
from vixshield.validate.checks import register_rules


def rebuild_quarantine(conn: duckdb.DuckDBPyConnection, settings: ValidationSettings | None = None) -> dict[str, int]:
    """Re-derive the rule-based quarantine from raw (and the rows the settings set aside), in one transaction;
    returns rows per rule."""
    register_rules(conn, settings)
    with warehouse.transaction(conn):
        conn.execute(warehouse.sql_text("transforms/quarantine_rules.sql"))
        conn.execute(warehouse.sql_text("transforms/quarantine.sql"))
    return dict(conn.execute("SELECT rule, count(*) FROM meta.quarantine GROUP BY rule ORDER BY rule").fetchall())


def unusable_revisions(conn: duckdb.DuckDBPyConnection, family: str) -> list[dict]:
    """Revisions the load just made (`warehouse.upsert`) that break a rule the stored version kept: a good
    close replaced by a tenfold one, a yield by basis points, a high below the low, a settle of 0. Taken,
    the row (or its range, its settle) would drop out of core and every value built on it would change;
    the stored version goes back instead, and the delivered one becomes an input reject with the rule's
    reason (a corrected file clears it). A revision that breaks no rule the stored row kept stands. Runs
    in the load's transaction; returns the rejects."""
    if not conn.execute("SELECT count(*) FROM _replaced").fetchall()[0][0]:
        return []
    register_rules(conn)
    now = _flags(conn, family)
    if not now:
        return []
    # judge the stored versions in the state they were stored in (a rule may compare a row with its
    # neighbours): every revised row back, its flags, then the delivered versions again but the worse ones
    replaced = f"SELECT {warehouse.row_key_sql(family, 'r')} FROM _replaced r"
    revised = [k for (k,) in conn.execute(replaced).fetchall()]
    key_of = warehouse.row_key_sql(family, "t")
    conn.execute(
        f"CREATE OR REPLACE TEMP TABLE _as_delivered AS SELECT * FROM raw.{family} t WHERE {key_of} IN ({replaced})"
    )
    warehouse.restore(conn, family, revised, "_replaced")
    before = _flags(conn, family)
    worse = {}  # key -> the first (rule, reason, value) the stored version did not break
    for key, flags in now.items():
        kept = {rule for rule, _, _ in before.get(key, [])}
        broken = [flag for flag in flags if flag[0] not in kept]
        if broken:
            worse[key] = broken[0]
    warehouse.restore(conn, family, [k for k in revised if k not in worse], "_as_delivered")
    conn.execute("DROP TABLE _as_delivered")
    return [
        {
            "key": key,
            "rule": "unusable_revision",
            "reason": f"a revision the rule {rule} sets aside ({reason}); the stored value stays",
            "raw": value or "",
        }
        for key, (rule, reason, value) in worse.items()
    ]


def _flags(conn: duckdb.DuckDBPyConnection, family: str) -> dict[str, list[tuple[str, str, str | None]]]:
    """key -> [(rule, reason, value)] of the rows in temp table _replaced that the rules flag in raw now
    (temp tables symbol_rules and macro_rules registered)."""
    conn.execute(warehouse.sql_text("transforms/quarantine_rules.sql"))
    rows = conn.execute(
        f"""SELECT d.row_key, d.rule, d.reason, d.value FROM quarantine_derived d
            WHERE d.table_name = 'raw.{family}'
              AND d.row_key IN (SELECT {warehouse.row_key_sql(family, "r")} FROM _replaced r)
            ORDER BY d.row_key, d.column_name <> 'row', d.rule"""
    ).fetchall()
    out: dict[str, list[tuple[str, str, str | None]]] = {}
    for key, rule, reason, value in rows:
        out.setdefault(key, []).append((rule, reason, value))
    return out
