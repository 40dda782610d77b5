"""Apps on other DuckDB versions and in other languages read what is published (#18).

The snapshot the session's CLI run published is read by the oldest supported DuckDB (a separate
environment, tests/compat/oldest-duckdb.txt) and by the DuckDB Node API (tests/compat/node), both
installed from pinned versions by `make compat-env`; its Parquet files by pyarrow and polars. Every
reader must see exactly what the pipeline's DuckDB sees: the files are copies, so values compare
exactly (tests/floats.py), not within tolerances.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import duckdb
import polars as pl
import pyarrow.parquet as pq
import pytest

from tests.conftest import REPO
from vixshield.serve import app_contract as contract
from vixshield.serve import publish

pytestmark = pytest.mark.slow  # reads the snapshot the session's CLI run published

COMPAT = REPO / "tests" / "compat"
OLD_PYTHON = REPO / ".venv-compat" / "bin" / "python"
NODE_DIR = COMPAT / "node"
PLAN_SQL = (COMPAT / "latest_plan.sql").read_text()
# DuckDB's file header version per storage version (its "Trying to read a database file with version
# number N" error): v1.2.0 -> 65; DuckDB 1.2.x reads up to 65, 1.3.x up to 66, 1.4.x up to 67.
HEADER_VERSION = {"v1.0.0": 64, "v1.2.0": 65, "v1.3.0": 66, "v1.4.0": 67}
# The type each published DuckDB column type must come back as in pyarrow and in polars (a type not
# listed here fails the test: publishing it needs a decision on how apps read it).
ARROW_TYPES = {
    "DATE": "date32[day]",
    "DOUBLE": "double",
    "BIGINT": "int64",
    "BOOLEAN": "bool",
    "VARCHAR": "string",
    "VARCHAR[]": "list<element: string>",
}
POLARS_TYPES = {
    "DATE": pl.Date,
    "DOUBLE": pl.Float64,
    "BIGINT": pl.Int64,
    "BOOLEAN": pl.Boolean,
    "VARCHAR": pl.String,
    "VARCHAR[]": pl.List(pl.String),
}


def require(path: Path, what: str) -> None:
    """Skip when a reader is not installed (no registry to build it from); in CI, where .ci/run runs
    `make compat-env` first, its absence is a failure, not a skip."""
    if path.exists():
        return
    reason = f"{what} is not installed ({path.relative_to(REPO)}): run `make compat-env` (needs PyPI and npm)"
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def run_reader(argv: list[str], snapshot: Path, sql: str) -> dict:
    out = subprocess.run([*argv, str(snapshot), sql], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout)


def current_rows(home: Path, sql: str) -> list[dict]:
    """What the pipeline's own DuckDB reads, through the same JSON as the other readers."""
    with publish.open_snapshot(home, isolated=True) as conn:
        cursor = conn.execute(sql)
        names = [d[0] for d in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    return json.loads(json.dumps(rows, default=str))


@pytest.fixture(scope="module")
def home(cli_built) -> Path:
    """The session's published home (read only)."""
    assert publish.verify(cli_built.home) == []
    return cli_built.home


@pytest.fixture(scope="module")
def manifest(home: Path) -> dict:
    return publish.read_manifest(home)


def test_snapshot_is_in_the_documented_storage_version_and_the_manifest_says_so(home, manifest):
    assert manifest["storage_version"] == publish.STORAGE_VERSION
    assert manifest["oldest_reader"] == f"duckdb {publish.OLDEST_READER}"
    assert manifest["writer"] == f"duckdb {duckdb.__version__}"
    header = publish.storage_header_version(publish.snapshot_path(home))
    assert header == HEADER_VERSION[publish.STORAGE_VERSION]
    pinned = (COMPAT / "oldest-duckdb.txt").read_text()
    assert f"duckdb=={publish.OLDEST_READER}\n" in pinned  # the test below reads with that one
    assert manifest["contract_version"] == contract.load().version


def test_the_oldest_supported_duckdb_reads_the_latest_plan(home, manifest):
    require(OLD_PYTHON, f"DuckDB {publish.OLDEST_READER} (.venv-compat)")
    reader = [str(OLD_PYTHON), str(COMPAT / "read_snapshot.py")]
    snapshot = publish.snapshot_path(home)

    got = run_reader(reader, snapshot, PLAN_SQL)
    assert got["duckdb"] == publish.OLDEST_READER
    want = current_rows(home, PLAN_SQL)
    assert len(want) == 1 and want[0]["date"] == manifest["as_of"]
    assert got["rows"] == want

    whole = "SELECT * FROM signals.latest_plan"  # every column, lists of structs included
    assert run_reader(reader, snapshot, whole)["rows"] == current_rows(home, whole)
    counts = " UNION ALL ".join(f"SELECT '{t}' AS t, count(*) AS n FROM {t}" for t in manifest["row_counts"])
    got_counts = {r["t"]: r["n"] for r in run_reader(reader, snapshot, counts)["rows"]}
    assert got_counts == manifest["row_counts"]


def test_a_node_app_reads_the_latest_plan(home):
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    require(NODE_DIR / "node_modules" / "@duckdb" / "node-api", "the DuckDB Node API (tests/compat/node)")
    pinned = json.loads((NODE_DIR / "package.json").read_text())["dependencies"]["@duckdb/node-api"]

    got = run_reader(["node", str(NODE_DIR / "read_snapshot.mjs")], publish.snapshot_path(home), PLAN_SQL)
    assert got["duckdb"] == "v" + pinned.split("-")[0]
    assert got["rows"] == current_rows(home, PLAN_SQL)


def test_parquet_files_read_alike_in_pyarrow_polars_and_duckdb(home, manifest):
    assert manifest["tables"] == list(publish.PUBLISHED_TABLES)
    with publish.open_snapshot(home, isolated=True) as conn, duckdb.connect() as files:
        for table in manifest["tables"]:
            path = publish.parquet_path(home, table)
            columns = manifest["columns"][table]  # the sidecar schema: DuckDB names, types, comments
            by_arrow, by_polars = pq.read_table(path), pl.read_parquet(path)
            snap = conn.sql(f"SELECT * FROM {table}").to_arrow_table()
            by_duckdb = files.execute(f"DESCRIBE SELECT * FROM read_parquet('{path}')").fetchall()

            assert [(c["name"], c["type"]) for c in columns] == [row[:2] for row in by_duckdb], table
            assert [(f.name, str(f.type)) for f in by_arrow.schema] == [
                (c["name"], ARROW_TYPES[c["type"]]) for c in columns
            ], table
            assert dict(by_polars.schema) == {c["name"]: POLARS_TYPES[c["type"]] for c in columns}, table
            assert [(f.name, f.type) for f in snap.schema] == [(f.name, f.type) for f in by_arrow.schema], table

            assert by_arrow.num_rows == manifest["row_counts"][table] == snap.num_rows
            assert by_arrow.cast(snap.schema).equals(snap), table  # only NOT NULL marks differ
            assert by_polars.equals(pl.from_arrow(snap)), table


def test_published_columns_keep_the_contract(manifest):
    """Renaming or removing a published column breaks apps: it needs a contract version bump; a new
    column needs only listing (no bump), so that removing it later is caught too."""
    committed, published = contract.load(), contract.columns_of(manifest)
    assert set(committed.tables) == {*publish.PUBLISHED_TABLES, *contract.VIEWS}
    gone = contract.removed(committed, published)
    assert not gone, (
        f"published columns removed or renamed without a contract version bump: {gone}. If intended, "
        f"publish a snapshot (make demo) and run `python -m vixshield.serve.app_contract data --bump` (contract "
        f"version {committed.version} -> {committed.version + 1}), note it in the README, and commit "
        f"vixshield/sql/{contract.CONTRACT_FILE}"
    )
    new = contract.added(committed, published)
    assert not new, (
        f"published columns the contract does not list: {new}. Publish a snapshot (make demo) and run "
        f"`python -m vixshield.serve.app_contract data` (no version bump for additions), then commit "
        f"vixshield/sql/{contract.CONTRACT_FILE}"
    )
