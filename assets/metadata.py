"""Materialization metadata: row count, column schema and a short markdown preview; charts inline."""

import base64
import datetime as dt
import json
from pathlib import Path

import dagster as dg
import duckdb

PREVIEW_ROWS = 5


def analysis_specs(schema: str, descriptions: dict[str, str], deps: list[dg.AssetKey]) -> list[dg.AssetSpec]:
    """One asset per table of an analysis job's schema (backtest.*, research.*), grouped under its name."""
    return [
        dg.AssetSpec([schema, name], group_name=schema, kinds={"duckdb", "python"}, description=d, deps=deps)
        for name, d in descriptions.items()
    ]


def reports_dir(database: str) -> Path:
    """Where an analysis job's report goes: beside the warehouse, as the CLI puts it."""
    return Path(database).parent / "reports"


def table_metadata(conn: duckdb.DuckDBPyConnection, table: str, order_by: str, extra: dict | None = None) -> dict:
    """`order_by`: the key(s) whose largest values the preview shows (the newest rows)."""
    schema, name = table.split(".")
    cols = conn.execute(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = current_database() "
        "AND schema_name = ? AND table_name = ? ORDER BY column_index",
        [schema, name],
    ).fetchall()
    rows = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    newest = ", ".join(f"{key.strip()} DESC" for key in order_by.split(","))
    preview = conn.execute(f"SELECT * FROM {table} ORDER BY {newest} LIMIT {PREVIEW_ROWS}").fetchall()
    return {
        "dagster/row_count": dg.MetadataValue.int(int(rows)),
        "dagster/column_schema": dg.TableSchema(columns=[dg.TableColumn(c, t) for c, t in cols]),
        "preview": dg.MetadataValue.md(markdown([c for c, _ in cols], preview) if preview else "_empty_"),
        **(extra or {}),
    }


def chart_markdown(charts: dict[str, Path]) -> dg.MetadataValue:
    """The PNGs inlined as data URIs: the UI renders them without access to the files."""
    parts = []
    for name, path in charts.items():
        data = base64.b64encode(Path(path).read_bytes()).decode()
        parts.append(f"**{name}**\n\n![{name}](data:image/png;base64,{data})")
    return dg.MetadataValue.md("\n\n".join(parts))


def markdown(columns: list[str], rows: list[tuple]) -> str:
    """A markdown table of a few rows, built from DuckDB's values (a pandas frame and tabulate cost
    ~20 ms a table, for every asset of every run): dates as dates, floats to 6 significant digits."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, list | dict):
        value = json.dumps(value, default=str)
    return str(value).replace("|", "\\|").replace("\n", " ")
