"""`vixshield serve`: a read-only HTTP API and the today page over the published snapshot.

It never opens the working warehouse, only `published/warehouse.duckdb`, through the locked-down
reader (publish.open_snapshot: no file, network or extension access, no SET). A publish renames a new
snapshot over the old one; the server notices the new file (inode and mtime) on the next request and
opens it, while requests already running finish on the old file, which stays readable until they
close it (POSIX). So a run publishing never interrupts the API, and the API never blocks a run.

No endpoint takes SQL: tables are named from the snapshot's own catalog (schemas features, signals,
backtest), filters are typed parameters bound as values. Bad parameters get a 4xx with a JSON body
{"error": "..."}. Every response derives from one immutable snapshot, so responses are cached per
snapshot (a small bounded cache answered on the event loop; only a miss runs DuckDB in a worker
thread), which keeps the latest plan at a few milliseconds under load.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from vixshield.serve import publish, today
from vixshield.serve import tickets as ticket_mod
from vixshield.serve.plans import with_symbols

SERVED_SCHEMAS = ("features", "signals", "backtest", "research")
DEFAULT_LIMIT = 1000
MAX_LIMIT = 10000
CACHE_ENTRIES = 256
DEFAULT_HOST = "127.0.0.1"  # only this machine, unless asked otherwise
DEFAULT_PORT = 8321


class BadRequest(Exception):
    """A parameter a client can fix: 400 with the message."""


class NotFound(Exception):
    """No such date, table or row: 404 with the message."""


@dataclass
class _Open:
    key: tuple[int, int]  # (inode, mtime_ns) of the snapshot file this connection reads
    conn: duckdb.DuckDBPyConnection
    published_at: dt.datetime
    tables: dict[str, list[str]]  # served table or view -> its columns
    database: str  # the attached snapshot's name: a cursor starts in the in-memory database
    cache: OrderedDict = field(default_factory=OrderedDict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _cursor(s: _Open) -> duckdb.DuckDBPyConnection:
    """A connection of its own for one request (DuckDB connections are not shared across threads),
    on the same locked-down database: the lockdown settings are the database's, not the cursor's."""
    cur = s.conn.cursor()
    cur.execute(f'USE "{s.database}"')
    return cur


class Snapshot:
    """The current published snapshot: one locked-down read-only connection per published file,
    replaced when a publish renames a new file in (checked with one stat per request)."""

    def __init__(self, home: str | Path):
        self.home = Path(home)
        self._open: _Open | None = None
        self._lock = threading.Lock()

    def current(self) -> _Open:
        path = publish.snapshot_path(self.home)
        try:
            st = os.stat(path)
        except FileNotFoundError as exc:
            raise NotFound(f"nothing published yet under {self.home.name}/published: run `vixshield run`") from exc
        key = (st.st_ino, st.st_mtime_ns)
        cur = self._open
        if cur is not None and cur.key == key:
            return cur
        with self._lock:
            if self._open is None or self._open.key != key:
                conn = publish.open_snapshot(self.home, isolated=True)  # attaches the file the name points to now
                published = _published_at(self.home, conn, st)
                database = conn.execute("SELECT current_database()").fetchone()[0]
                self._open = _Open(key, conn, published, _served_tables(conn), database)
                # the previous connection is dropped, not closed: requests still reading it keep it alive
            return self._open


def _published_at(home: Path, conn: duckdb.DuckDBPyConnection, st: os.stat_result) -> dt.datetime:
    """When the open snapshot was published: the time its manifest records, when that manifest is this
    snapshot's (its run id is the snapshot's own last run), else the file's modification time (a publish
    caught between its renames, or no manifest). The file's time alone says "just published" for a home
    copied or restored from a backup, however old its data."""
    try:
        manifest = publish.read_manifest(home) or {}
    except publish.PublishError:
        manifest = {}
    try:
        own = conn.execute("SELECT run_id FROM meta.runs ORDER BY started_at DESC LIMIT 1").fetchall()
    except duckdb.Error:  # a snapshot without the run log
        own = []
    recorded = manifest.get("published_at")
    if own and recorded and manifest.get("run_id") == own[0][0]:
        try:
            return dt.datetime.fromisoformat(recorded).astimezone(dt.UTC)
        except (TypeError, ValueError):
            pass
    return dt.datetime.fromtimestamp(st.st_mtime, dt.UTC)


def _served_tables(conn: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    rows = conn.execute(
        "SELECT schema_name || '.' || table_name, list(column_name ORDER BY column_index) FROM duckdb_columns() "
        "WHERE database_name = current_database() AND list_contains(?, schema_name) GROUP BY ALL ORDER BY 1",
        [list(SERVED_SCHEMAS)],
    ).fetchall()
    return dict(rows)


def _date(value: str | None, name: str) -> dt.date | None:
    if value is None or value == "":
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise BadRequest(f"{name}={value!r} is not a date; write YYYY-MM-DD") from exc


def _int(value: str | None, name: str, default: int, lo: int, hi: int) -> int:
    if value is None or value == "":
        return default
    try:
        n = int(value)
    except ValueError as exc:
        raise BadRequest(f"{name}={value!r} is not an integer") from exc
    if not lo <= n <= hi:
        raise BadRequest(f"{name}={n} is out of range [{lo}, {hi}]")
    return n


_KNOWN = {
    "/api/tables": {"from", "to", "limit", "offset"},
    "/api/tickets": {"date", "format"},
    "/api/hedge": {"date"},
    "/api/book": {"from", "to", "limit", "offset"},
    "/api/regime": {"from", "to", "limit", "offset"},
}


def _check_params(request: Request, allowed: set[str]) -> None:
    extra = sorted(set(request.query_params) - allowed)
    if extra:
        raise BadRequest(f"unknown parameter(s) {', '.join(extra)}; this endpoint takes {sorted(allowed) or 'none'}")


def _json(data: Any) -> Response:
    body = json.dumps(ticket_mod._plain(data), separators=(",", ":"), default=str, allow_nan=False)
    return Response(body, media_type="application/json")


def _rows(cur: duckdb.DuckDBPyConnection, sql: str, params: list) -> tuple[list[str], list[dict]]:
    res = cur.execute(sql, params)
    names = [d[0] for d in res.description]
    return names, [dict(zip(names, r, strict=True)) for r in res.fetchall()]


def _page(cur, table: str, columns: list[str], q, order: str | None = None) -> dict:
    """Rows of a served table (validated name), filtered on its date column, paged."""
    date_col = next((c for c in ("date", "trade_date", "observation_date") if c in columns), None)
    lo, hi = _date(q.get("from"), "from"), _date(q.get("to"), "to")
    limit = _int(q.get("limit"), "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    offset = _int(q.get("offset"), "offset", 0, 0, 10**9)
    if lo and hi and lo > hi:
        raise BadRequest(f"from={lo} is after to={hi}")
    where, params = [], []
    if lo or hi:
        if date_col is None:
            raise BadRequest(f"{table} has no date column to filter with from/to")
        if lo:
            where.append(f'"{date_col}" >= ?')
            params.append(lo)
        if hi:
            where.append(f'"{date_col}" <= ?')
            params.append(hi)
    schema, name = table.split(".")
    src = f'"{schema}"."{name}"' + (f" WHERE {' AND '.join(where)}" if where else "")
    total = cur.execute(f"SELECT count(*) FROM {src}", params).fetchone()[0]
    order = order or (f'"{date_col}"' if date_col else "ALL")
    names, rows = _rows(cur, f"SELECT * FROM {src} ORDER BY {order} LIMIT {limit} OFFSET {offset}", params)
    nxt = offset + len(rows) if offset + len(rows) < total else None
    return {"table": table, "columns": names, "total": total, "limit": limit, "offset": offset, "next_offset": nxt,
            "rows": rows}  # fmt: skip


def create_app(home: str | Path) -> Starlette:
    snap = Snapshot(home)

    def key_of(request: Request) -> tuple:
        return (request.url.path, tuple(sorted(request.query_params.multi_items())))

    def fast(endpoint):
        """An async endpoint answering from the current snapshot's cache on the event loop; only a
        miss goes to a worker thread (DuckDB calls block)."""

        async def answer(request: Request) -> Response:
            hit = snap.current().cache.get(key_of(request))
            return hit if hit is not None else await run_in_threadpool(endpoint, request)

        return answer

    def cached(request: Request, build) -> Response:
        """Serve from the current snapshot's cache, or build (with a cursor on it) and remember."""
        s = snap.current()
        key = key_of(request)
        with s.lock:
            hit = s.cache.get(key)
            if hit is not None:
                return hit
        cur = _cursor(s)
        try:
            resp = build(cur, s)
        finally:
            cur.close()
        with s.lock:
            s.cache[key] = resp
            while len(s.cache) > CACHE_ENTRIES:
                s.cache.popitem(last=False)
        return resp

    def home_page(request: Request) -> Response:
        _check_params(request, set())

        def build(cur, s):
            facts = {"published_at": s.published_at.isoformat(timespec="seconds"), "run_id": _run_id(snap.home)}
            return HTMLResponse(today.render_page(cur, facts))

        return cached(request, build)

    def health(request: Request) -> Response:
        _check_params(request, set())
        s = snap.current()
        cur = _cursor(s)
        try:
            as_of = cur.execute("SELECT max(date) FROM signals.condor_plan").fetchone()[0]
        finally:
            cur.close()
        now = dt.datetime.now(dt.UTC)
        return _json(
            {
                "status": "ok",
                "as_of": as_of,
                "published_at": s.published_at.isoformat(timespec="seconds"),
                "age_seconds": round((now - s.published_at).total_seconds(), 1),
                "run_id": _run_id(snap.home),
                "tables": len(s.tables),
            }
        )

    def plan(request: Request) -> Response:
        _check_params(request, set())
        which = request.path_params["day"]
        day = None if which == "latest" else _date(which, "date")

        def build(cur, s):
            from vixshield.strategy import signals

            try:
                return _json(with_symbols(cur, signals.plan_for(cur, None if day is None else day.isoformat())))
            except LookupError as exc:
                raise NotFound(str(exc)) from exc

        return cached(request, build)

    def tickets(request: Request) -> Response:
        _check_params(request, _KNOWN["/api/tickets"])
        fmt = request.query_params.get("format", "json")
        if fmt not in ticket_mod.FORMATS:
            raise BadRequest(f"format={fmt!r}: use one of {', '.join(ticket_mod.FORMATS)}")
        day = _date(request.query_params.get("date"), "date")

        def build(cur, s):
            if "signals.tickets" not in s.tables:
                raise NotFound("this snapshot has no signals.tickets: it was published by an older version")
            try:
                got_day, rows = ticket_mod.read_tickets(cur, None if day is None else day.isoformat())
            except LookupError as exc:
                raise NotFound(str(exc)) from exc
            if fmt == "json":
                return _json({"date": got_day, "tickets": rows})
            text = ticket_mod.render(rows, fmt)
            name = f"tickets-{got_day}{'-ib' if fmt == 'ib' else ''}.csv"
            headers = {"content-disposition": f'attachment; filename="{name}"'}
            return Response(text, media_type="text/csv", headers=headers)

        return cached(request, build)

    def hedge(request: Request) -> Response:
        _check_params(request, _KNOWN["/api/hedge"])
        day = _date(request.query_params.get("date"), "date")

        def build(cur, s):
            d = day or cur.execute("SELECT max(date) FROM signals.hedge_layers").fetchone()[0]
            symbols = "signals.hedge_legs" in s.tables
            sql = (
                "SELECT h.*, l.occ_symbol FROM signals.hedge_layers h "
                "LEFT JOIN signals.hedge_legs l USING (date, layer) "
                if symbols
                else "SELECT h.* FROM signals.hedge_layers h "
            )
            _, rows = _rows(cur, sql + "WHERE h.date = ? ORDER BY h.layer", [d])
            if not rows:
                raise NotFound(f"no hedge layers for {d}")
            return _json({"date": d, "layers": rows})

        return cached(request, build)

    def table_endpoint(table: str, order: str | None = None):
        def endpoint(request: Request) -> Response:
            _check_params(request, _KNOWN["/api/book"])
            return cached(
                request, lambda cur, s: _json(_page(cur, table, s.tables[table], request.query_params, order))
            )

        return endpoint

    def tables(request: Request) -> Response:
        _check_params(request, set())
        return cached(request, lambda cur, s: _json({"tables": s.tables}))

    def table(request: Request) -> Response:
        _check_params(request, _KNOWN["/api/tables"])
        name = request.path_params["name"]

        def build(cur, s):
            if name not in s.tables:
                raise NotFound(f"no published table {name!r}; GET /api/tables lists them")
            return _json(_page(cur, name, s.tables[name], request.query_params))

        return cached(request, build)

    async def bad_request(request: Request, exc: Exception) -> Response:
        return JSONResponse({"error": str(exc)}, status_code=400)

    async def not_found(request: Request, exc: Exception) -> Response:
        return JSONResponse({"error": str(exc)}, status_code=404)

    async def http_error(request: Request, exc: HTTPException) -> Response:
        detail = {404: "no such endpoint; see GET /api", 405: "read-only API: GET only"}.get(
            exc.status_code, exc.detail
        )
        return JSONResponse({"error": detail}, status_code=exc.status_code)

    def index(request: Request) -> Response:
        return _json({"endpoints": ENDPOINTS})

    routes = [
        Route("/", fast(home_page)),
        Route("/health", health),
        Route("/api", index),
        Route("/api/plan/{day}", fast(plan)),
        Route("/api/tickets", fast(tickets)),
        Route("/api/hedge", fast(hedge)),
        Route("/api/book", fast(table_endpoint("signals.book_daily"))),
        Route("/api/regime", fast(table_endpoint("features.regime"))),
        Route("/api/tables", fast(tables)),
        Route("/api/tables/{name}", fast(table)),
    ]
    return Starlette(
        routes=routes,
        exception_handlers={BadRequest: bad_request, NotFound: not_found, HTTPException: http_error},
    )


ENDPOINTS = {
    "/": "the today page (HTML)",
    "/health": "status, the snapshot's as-of session, when it was published and its age",
    "/api/plan/latest": "the latest session's plan: regime, condor plan, actions, hedge layers, book",
    "/api/plan/{YYYY-MM-DD}": "that session's plan",
    "/api/tickets?date=&format=json|csv|ib": "order tickets of a session (default the latest); ib = IBKR basket CSV",
    "/api/hedge?date=": "the hedge layers of a session with their VIX call's OCC symbol",
    "/api/book?from=&to=&limit=&offset=": "signals.book_daily rows",
    "/api/regime?from=&to=&limit=&offset=": "features.regime rows (regime history)",
    "/api/tables": "every published table and view with its columns",
    "/api/tables/{schema.table}?from=&to=&limit=&offset=": "rows of one published table, by date, paged",
}


def _run_id(home: Path) -> str | None:
    try:
        manifest = publish.read_manifest(home)
    except publish.PublishError:
        return None
    return (manifest or {}).get("run_id")


def serve(home: str | Path, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> None:  # pragma: no cover
    import uvicorn

    uvicorn.run(create_app(home), host=host, port=port, log_level="warning", access_log=False)


def wait_until_up(url: str, timeout: float = 20.0) -> None:
    """Poll `url` until it answers (for tests and the bench)."""
    import urllib.request

    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
