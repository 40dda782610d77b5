"""Run one query on a published snapshot with whatever DuckDB this interpreter has; print JSON.

Runs in .venv-compat (the oldest supported DuckDB, nothing else installed): stdlib and duckdb only.
Usage: python read_snapshot.py SNAPSHOT SQL
"""

import json
import sys

import duckdb

snapshot, sql = sys.argv[1:3]
with duckdb.connect(snapshot, read_only=True) as conn:
    cursor = conn.execute(sql)
    names = [d[0] for d in cursor.description]
    rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
print(json.dumps({"duckdb": duckdb.__version__, "rows": rows}, default=str))
