"""Materialization metadata: row count, column schema and a short markdown preview; charts inline."""

import base64
from pathlib import Path

import dagster as dg
import duckdb


def table_metadata(conn: duckdb.DuckDBPyConnection, table: str, order_by: str, extra: dict | None = None) -> dict:
    schema, name = table.split(".")
    cols = conn.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
        [schema, name],
    ).fetchall()
    rows = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    preview = conn.execute(f"SELECT * FROM {table} ORDER BY {order_by} DESC LIMIT 5").df()
    for col in (c for c, t in cols if t == "DATE"):  # pandas shows DATE as a midnight timestamp; keep the date
        preview[col] = preview[col].dt.strftime("%Y-%m-%d")
    return {
        "dagster/row_count": dg.MetadataValue.int(int(rows)),
        "dagster/column_schema": dg.TableSchema(columns=[dg.TableColumn(c, t) for c, t in cols]),
        "preview": dg.MetadataValue.md(preview.to_markdown(index=False) if len(preview) else "_empty_"),
        **(extra or {}),
    }


def chart_markdown(charts: dict[str, Path]) -> dg.MetadataValue:
    """The PNGs inlined as data URIs: the UI renders them without access to the files."""
    parts = []
    for name, path in charts.items():
        data = base64.b64encode(Path(path).read_bytes()).decode()
        parts.append(f"**{name}**\n\n![{name}](data:image/png;base64,{data})")
    return dg.MetadataValue.md("\n\n".join(parts))
