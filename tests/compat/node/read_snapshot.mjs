// Run one query on a published snapshot with the DuckDB Node API (pinned in package.json); print JSON.
// Usage: node read_snapshot.mjs SNAPSHOT SQL
import { DuckDBInstance } from "@duckdb/node-api";

const [snapshot, sql] = process.argv.slice(2);
const instance = await DuckDBInstance.create(snapshot, { access_mode: "READ_ONLY" });
const conn = await instance.connect();
const version = (await conn.runAndReadAll("SELECT version() AS v")).getRowObjectsJson()[0].v;
const rows = (await conn.runAndReadAll(sql)).getRowObjectsJson();
conn.closeSync();
instance.closeSync();
console.log(JSON.stringify({ duckdb: version, rows }));
