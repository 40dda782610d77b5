"""Run the daily job in process on a temp DuckDB (and the history jobs on a copy of one), and compare
warehouses table by table."""

import hashlib
from pathlib import Path

import dagster as dg
import duckdb

from assets.resources import VixShieldResource, WarehouseResource, make_resources
from pipelines.definitions import defs


def run_daily(db: Path, data_dir: Path, as_of: str | None = None, validate_all: bool = False):
    return defs.resolve_job_def("daily").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(),
        resources=make_resources(db, source="files", data_dir=data_dir, as_of=as_of, validate_all=validate_all),
        raise_on_error=False,
    )


def run_on_copy(job: str, built: Path, folder: Path, settings_json: str | None = None):
    """`job` (backtest, research) in process on a copy of the warehouse `built`, in folder/home; returns
    (the copy, the result)."""
    db = folder / "home" / "warehouse.duckdb"
    db.parent.mkdir()
    db.write_bytes(built.read_bytes())
    result = defs.resolve_job_def(job).execute_in_process(
        instance=dg.DagsterInstance.ephemeral(),
        resources={
            "duckdb": WarehouseResource(database=str(db)),
            "vixshield": VixShieldResource(source="files", settings_json=settings_json),
        },
        raise_on_error=False,
    )
    return db, result


def table_digests(db: Path, stamps: bool = True) -> dict[str, str]:
    """A content hash per table (rows in key order), without per-run bookkeeping (meta.runs,
    meta.check_results); `stamps=False` also leaves out raw's fetched_at/run_id columns."""
    with duckdb.connect(str(db), read_only=True) as conn:
        tables = conn.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE schema_name IN ('raw', 'core', 'meta') "
            "AND table_name NOT IN ('runs', 'check_results')"
        ).fetchall()
        out = {}
        for schema, table in tables:
            cols = "* EXCLUDE (fetched_at, run_id)" if schema == "raw" and not stamps else "*"
            frame = conn.execute(f"SELECT {cols} FROM {schema}.{table} ORDER BY ALL").df()
            out[f"{schema}.{table}"] = hashlib.sha256(frame.to_csv().encode()).hexdigest()
        return out
