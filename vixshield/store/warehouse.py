"""DuckDB warehouse: the contract's tables (migrated in place), idempotent upserts, check results and
quarantine records.

Every write here is one transaction: it commits whole or not at all, so a crash or an error
mid-write leaves the tables as they were.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import json
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd

from vixshield import calendars
from vixshield.catalog import SYMBOLS_BY_NAME, UNIT_SLIP_ROWS, UNIT_SLIP_RULES
from vixshield.store import contract, migrations, schemas

SQL_DIR = Path(__file__).resolve().parents[1] / "sql"  # shipped in the wheel as package data
INPUT_COLUMN = "input"  # meta.quarantine.column_name of input rows that were never loaded
# the input rejects that cost a session when nothing is stored in their place (checks' history_rows_usable)
UNLOADED_ROW_RULES = ("unreadable_value", "incomplete_row", "conflicting_duplicate")


def sql_text(relative: str) -> str:
    """The text of a file under sql/ (transforms, checks, views), with the catalog's generated lists
    filled in where the SQL names them (`contract.sql_fragments`)."""
    return contract.render_sql((SQL_DIR / relative).read_text())


def as_of(conn: duckdb.DuckDBPyConnection) -> dt.date | None:
    """The session the warehouse stands on: the last of core.sessions (None before the first build)."""
    tables = conn.execute("SELECT 1 FROM duckdb_tables() WHERE schema_name = 'core' AND table_name = 'sessions'")
    if not tables.fetchall():
        return None
    return conn.execute("SELECT max(date) FROM core.sessions").fetchall()[0][0]


def connect(path: str | Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    path = Path(path)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    return duckdb.connect(str(path), read_only=read_only)


def init_schema(conn: duckdb.DuckDBPyConnection) -> list[str]:
    """Bring the warehouse to the contract: create what is missing, add missing columns, never drop
    (idempotent; see `migrations`). Returns what changed."""
    return migrations.migrate(conn)


def write_table(conn: duckdb.DuckDBPyConnection, name: str, frame: pd.DataFrame, replace: bool = True) -> None:
    """Write a derived table's rows as its contract declares it, in key order, inside the caller's
    transaction: `replace` recreates the table from the declaration first, else the rows are appended.
    Columns are matched by name and cast to the declared types; a frame with rows whose columns differ
    from the declaration raises (a column added in code but not in the contract, or the reverse)."""
    table = contract.TABLES[name]
    if replace:
        migrations.create_table(conn, table, replace=True)
    if frame.empty:
        return
    missing = [c for c in table.names if c not in frame.columns]
    extra = [c for c in frame.columns if c not in table.names]
    if missing or extra:
        raise ValueError(
            f"{name}: rows differ from the contract (vixshield/store/contract.py): missing {missing}, extra {extra}"
        )
    select = ", ".join(f"CAST({contract.quote(c.name)} AS {c.type}) AS {contract.quote(c.name)}" for c in table.columns)
    order = ", ".join(map(contract.quote, table.key))
    with registered(conn, "_rows", frame):
        conn.execute(f"INSERT INTO {name} BY NAME SELECT {select} FROM _rows ORDER BY {order}")


@contextlib.contextmanager
def transaction(conn: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    conn.execute("BEGIN TRANSACTION")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


@contextlib.contextmanager
def registered(conn: duckdb.DuckDBPyConnection, name: str, frame: pd.DataFrame) -> Iterator[str]:
    """Expose a DataFrame to SQL as `name` for the duration of the block."""
    conn.register(name, frame)
    try:
        yield name
    finally:
        with contextlib.suppress(duckdb.Error):  # an aborted transaction refuses; the error above matters
            conn.unregister(name)


def _key_match(keys: tuple[str, ...], left: str, right: str) -> str:
    return " AND ".join(f"{left}.{k} = {right}.{k}" for k in keys)


class MassRevisionError(ValueError):
    """A delivery would rewrite a large share of one series' stored history."""


MIN_MASS_REVISION = 20  # rows: below this a revision is never "mass", whatever the share


def upsert(
    conn: duckdb.DuckDBPyConnection,
    family: str,
    frame: pd.DataFrame,
    run_id: str,
    fetched_at: dt.datetime,
    max_revised_share: float = 1.0,
) -> dict[str, int]:
    """Insert new keys and overwrite changed values of raw.<family>; never deletes.

    Rows whose values equal what is stored are left untouched (their fetched_at and run_id too),
    so a rerun on the same inputs changes nothing. Returns counts of inserted/revised/unchanged; the
    stored versions of the revised rows stay in temp table _replaced (see `restore`).
    Runs inside the caller's transaction. Raises MassRevisionError, writing nothing, when the values
    of more than `max_revised_share` of one series' stored rows would change: publishers revise a
    few rows; a file with swapped or renamed columns, or another series' data, changes them all.
    Only published history is guarded so (see `_guarded`).
    """
    keys, values = schemas.FAMILIES[family]
    cols = schemas.columns(family)
    table = f"raw.{family}"
    staged = schemas.conform(frame, family)
    with registered(conn, "_staged", staged):
        same = " AND ".join(f"t.{c} IS NOT DISTINCT FROM s.{c}" for c in [*values, "source"])
        conn.execute(
            f"""CREATE OR REPLACE TEMP TABLE _changed AS
                SELECT s.*, EXISTS (SELECT 1 FROM {table} t WHERE {_key_match(keys, "t", "s")}) AS _exists
                FROM _staged s
                WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE {_key_match(keys, "t", "s")} AND {same})"""
        )
        inserted, revised = conn.execute(
            "SELECT count(*) FILTER (NOT _exists), count(*) FILTER (_exists) FROM _changed"
        ).fetchone()
        if revised >= MIN_MASS_REVISION:
            _refuse_mass_revisions(conn, family, max_revised_share)
        # the stored versions of the rows about to change, for the caller to put back one the rules reject
        conn.execute(
            f"""CREATE OR REPLACE TEMP TABLE _replaced AS
                SELECT t.* FROM {table} t JOIN _changed s ON {_key_match(keys, "t", "s")}
                WHERE s._exists AND {_guarded("t")}"""
        )
        conn.execute(
            f"INSERT OR REPLACE INTO {table} ({', '.join(cols)}, fetched_at, run_id) "
            f"SELECT {', '.join(cols)}, ?, ? FROM _changed",
            [fetched_at, run_id],
        )
        conn.execute("DROP TABLE _changed")
    return {"inserted": int(inserted), "revised": int(revised), "unchanged": len(staged) - int(inserted + revised)}


def _guarded(alias: str) -> str:
    """SQL: the stored row `alias` is history to guard against a wholesale revision, and to keep when a
    revision of it breaks a rule. A row a failed run stored that no run has published since (a bad file
    on a new warehouse, stopped by a check) is not: the corrected file replaces it, which is the heal."""
    return f"""coalesce({alias}.run_id, '') NOT IN (
        SELECT r.run_id FROM meta.runs r WHERE r.status IN ('failure', 'killed')
          AND NOT EXISTS (SELECT 1 FROM meta.runs p WHERE p.status = 'success' AND p.started_at > r.started_at))"""


def restore(conn: duckdb.DuckDBPyConnection, family: str, row_keys: list[str], versions: str) -> None:
    """Replace these rows of raw.<family> by their copies in temp table `versions` (whole rows, as raw
    stores them: `upsert` keeps the stored versions of the rows it revises in _replaced)."""
    if not row_keys:
        return
    key_of = row_key_sql(family, "t")
    with registered(conn, "_restore", pd.DataFrame({"row_key": pd.Series(row_keys, dtype="string")})):
        conn.execute(f"DELETE FROM raw.{family} t WHERE {key_of} IN (SELECT row_key FROM _restore)")
        conn.execute(
            f"INSERT INTO raw.{family} SELECT * FROM {versions} t WHERE {key_of} IN (SELECT row_key FROM _restore)"
        )


def _refuse_mass_revisions(conn: duckdb.DuckDBPyConnection, family: str, max_share: float) -> None:
    keys, values = schemas.FAMILIES[family]
    series = series_column(family)
    differs = " OR ".join(f"t.{c} IS DISTINCT FROM s.{c}" for c in values)  # a new source label alone is no revision
    rows = conn.execute(
        f"""SELECT s.{series}, count(*) FROM _changed s JOIN raw.{family} t ON {_key_match(keys, "t", "s")}
            WHERE ({differs}) AND {_guarded("t")} GROUP BY s.{series}"""
    ).fetchall()
    _refuse_if_mass(conn, family, rows, max_share, "change the values of")


def row_key_sql(family: str, alias: str) -> str:
    """SQL for a raw row's key as meta.quarantine writes it: key columns joined by '|', dates ISO."""
    keys = schemas.FAMILIES[family][0]
    return " || '|' || ".join(
        f"strftime({alias}.{k}, '%Y-%m-%d')" if k in schemas.DATE_COLUMNS else f"{alias}.{k}" for k in keys
    )


def series_column(family: str) -> str:
    """The key column that names one series of a family (symbol, series_id, expiry, kind...)."""
    keys = schemas.FAMILIES[family][0]
    return next((k for k in keys if k not in schemas.DATE_COLUMNS), keys[-1])


def _refuse_if_mass(
    conn: duckdb.DuckDBPyConnection, family: str, counts: list[tuple], max_share: float, verb: str
) -> None:
    """Raise MassRevisionError when, for some series, `counts` (series, rows touched) reaches the
    minimum and exceeds `max_share` of the rows stored for it."""
    series = series_column(family)
    mass = []
    for name, touched in counts:
        stored = conn.execute(f"SELECT count(*) FROM raw.{family} WHERE {series} = ?", [name]).fetchall()[0][0]
        if touched >= MIN_MASS_REVISION and touched > max_share * stored:
            named = name.strftime("%Y-%m-%d") if hasattr(name, "strftime") else str(name)  # a VX contract: its expiry
            mass.append((touched, named, stored))
    if mass:  # a series stored in the wrong unit takes its corrected file whole
        wrong_unit = _stored_in_wrong_unit(conn, family)
        mass = [m for m in mass if m[1] not in wrong_unit]
    if mass:
        what = ", ".join(f"{s}: {n:,} of {m:,} stored rows" for n, s, m in sorted(mass, reverse=True))
        raise MassRevisionError(
            f"raw.{family}: this delivery would {verb} more than {max_share:.0%} of the stored "
            f"history of {what}. Publishers revise a few rows; a file with swapped or renamed columns, cut "
            "short, or holding another series' data, changes them all. Nothing was written. Check the file; if "
            "the publisher really changed that much, raise validation.max_revised_share in the settings file "
            "and rerun."
        )


def _stored_in_wrong_unit(conn: duckdb.DuckDBPyConnection, family: str) -> set[str]:
    """The series of raw.<family> whose stored values the last run's quarantine found in the wrong unit
    (catalog.UNIT_SLIP_ROWS set aside by a unit rule): a corrected file revises them whole, and that is the
    heal, not a bad delivery. Named as meta.quarantine's row keys name them."""
    keys = schemas.FAMILIES[family][0]
    part = keys.index(series_column(family)) + 1
    rows = conn.execute(
        f"""SELECT split_part(row_key, '|', {part}) FROM meta.quarantine
            WHERE table_name = ? AND column_name = 'row' AND list_contains(?, rule)
            GROUP BY 1 HAVING count(*) >= ?""",
        [f"raw.{family}", list(UNIT_SLIP_RULES), UNIT_SLIP_ROWS],
    ).fetchall()
    return {name for (name,) in rows}


SESSION_FAMILIES = {"daily_bars", "vx_futures", "breadth_vendor"}  # one row per NYSE session per series


def withdraw_absent(
    conn: duckdb.DuckDBPyConnection,
    family: str,
    frame: pd.DataFrame,
    rejected_keys: list[str],
    max_share: float = 1.0,
) -> int:
    """Delete stored rows that a whole-history file delivery (`frame`, conformed as `ingest.load.prepare`
    returns it) no longer holds; returns how many.

    The files on disk are the truth for the series they deliver: a row stored from an earlier, bad
    delivery (a misdated row, say) and absent from the corrected one goes, so fixing the file heals
    the warehouse. Only rows stored under the source label the delivery uses for that series are
    candidates, and these stay: every row of a series the delivery lacks; keys it rejected (as with
    revisions, a stored value is never replaced by nothing); stored sessions that continue a file
    session by session, with no gap, past its end (a file cut at a row boundary looks like an older
    file: its newer rows are real), and SPX/VIX sessions inside its dates (`_lost_required`), these two
    only once a run has published them (`_guarded`); macro and event rows outside the delivered dates
    (FRED serves some series for a rolling window). Runs inside the caller's transaction and refuses,
    like a mass revision, to withdraw a large share of a series's published rows.
    """
    keys = schemas.FAMILIES[family][0]
    series = series_column(family)
    date = next(k for k in keys if k in schemas.DATE_COLUMNS and k != series)
    key_text = row_key_sql(family, "t")
    rejected = pd.DataFrame({"row_key": pd.Series(rejected_keys, dtype="string")})
    with registered(conn, "_delivered", frame), registered(conn, "_rejected", rejected):
        absent = conn.execute(
            f"""WITH spans AS (
                    SELECT {series}, source, min({date}) AS first_date, max({date}) AS last_date
                    FROM _delivered GROUP BY ALL
                )
                SELECT {", ".join(f"t.{k}" for k in keys)}, d.first_date, d.last_date, {_guarded("t")} AS guarded
                FROM raw.{family} t JOIN spans d ON t.{series} = d.{series} AND t.source = d.source
                WHERE NOT EXISTS (SELECT 1 FROM _delivered s WHERE {_key_match(keys, "t", "s")})
                  AND ({key_text}) NOT IN (SELECT row_key FROM _rejected)"""
        ).df()
    gone = absent[_stray(absent, family, date, series)]
    counts = list(gone[gone["guarded"]].groupby(series).size().items())
    _refuse_if_mass(conn, family, counts, max_share, "withdraw")
    with registered(conn, "_withdrawn", gone[list(keys)]):
        conn.execute(
            f"DELETE FROM raw.{family} WHERE EXISTS (SELECT 1 FROM _withdrawn w WHERE {_key_match(keys, family, 'w')})"
        )
    return len(gone)


def _stray(absent: pd.DataFrame, family: str, date: str, series: str) -> pd.Series:
    """Which absent stored rows no delivered row vouches for (see `withdraw_absent`)."""
    inside = absent[date].between(absent["first_date"], absent["last_date"])
    if family not in SESSION_FAMILIES:
        return inside
    after = absent[date] > absent["last_date"]
    continues = pd.Series(False, index=absent.index)
    for _, tail in absent[after].groupby(series):
        # judged on its NYSE sessions: a publisher's row on an exchange holiday (Cboe's VIX has some)
        # neither breaks the run nor makes one
        dates = pd.DatetimeIndex(tail[date])
        first = calendars.next_session(tail["last_date"].iloc[0])
        held = dates[dates.isin(calendars.sessions(first, dates.max()))].sort_values()
        continues[tail.index] = len(held) > 0 and list(held) == list(calendars.sessions(first, held[-1]))
    if family == "vx_futures":  # a contract never trades after its expiry: such a row continues nothing
        continues &= absent[date] <= absent[series]
    lost = continues | (inside & _lost_required(absent, date, series)) if family == "daily_bars" else continues
    # what the file may have lost (newer rows, a required session) is kept only if published (`_guarded`):
    # a bad file's rows that no run published are no history the corrected file could have lost
    return ~(lost & absent["guarded"])


def _lost_required(absent: pd.DataFrame, date: str, series: str) -> pd.Series:
    """Absent stored rows of a required series (SPX, the VIX) on an NYSE session its publisher has: such a
    series has a row on every session but its publisher's own gaps (catalog known_gaps), so a delivery
    without one inside its dates lost it (a bar of 'null's, an unreadable date) and the stored row stays.
    Were it withdrawn, the book would lose the session and its whole path after it would move. (A misdated
    row stored before or after the delivered dates is still a stray.)"""
    if absent.empty:
        return pd.Series(False, index=absent.index)
    days = pd.DatetimeIndex(absent[date])
    on_session = days.isin(calendars.sessions(days.min(), days.max()))
    lost = []
    for symbol, day, on in zip(absent[series], days, on_session, strict=True):
        spec = SYMBOLS_BY_NAME.get(symbol)
        lost.append(bool(on and spec is not None and spec.required and f"{day:%Y-%m-%d}" not in spec.known_gaps))
    return pd.Series(lost, index=absent.index, dtype=bool)


def record_rejects(conn: duckdb.DuckDBPyConnection, family: str, rejects: list[dict], replace: bool = False) -> int:
    """Keep input rows that were not loaded (unreadable, incomplete, conflicting, future-dated) in
    meta.quarantine under column 'input': they never reached raw, so they flag no raw or core cell.
    `replace` (a whole-history fetch): the family's stored input rejects are replaced by these, so a
    corrected file heals the next run; otherwise insert-if-absent (an incremental fetch)."""
    if replace:
        conn.execute(
            "DELETE FROM meta.quarantine WHERE table_name = ? AND column_name = ?", [f"raw.{family}", INPUT_COLUMN]
        )
    if not rejects:
        return 0
    frame = pd.DataFrame(
        {
            "table_name": f"raw.{family}",
            "row_key": [r["key"] for r in rejects],
            "column_name": INPUT_COLUMN,
            "rule": [r.get("rule", "unreadable") for r in rejects],
            "value": [r.get("raw", "")[:500] for r in rejects],
            "reason": [r["reason"] for r in rejects],
        }
    ).drop_duplicates(subset=["table_name", "row_key", "column_name", "rule"])
    with registered(conn, "_rejects", frame):
        conn.execute("INSERT OR IGNORE INTO meta.quarantine SELECT * FROM _rejects")
    return len(frame)


def record_check(
    conn: duckdb.DuckDBPyConnection,
    run_id: str,
    asset: str,
    check_name: str,
    passed: bool,
    severity: str,
    failures: int | None = None,
    details: dict | None = None,
) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO meta.check_results VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            run_id,
            asset,
            check_name,
            passed,
            severity,
            failures,
            json.dumps(details or {}, default=str),
            dt.datetime.now(dt.UTC).replace(tzinfo=None),
        ],
    )


def row_counts(
    conn: duckdb.DuckDBPyConnection, schemas_: tuple[str, ...] = ("raw", "meta", "core", "features")
) -> dict[str, int]:
    tables = conn.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE schema_name IN ? AND NOT temporary ORDER BY 1, 2",
        [list(schemas_)],
    ).fetchall()
    return {f"{s}.{t}": conn.execute(f'SELECT count(*) FROM "{s}"."{t}"').fetchone()[0] for s, t in tables}


STORAGE_FULL = ("No space left on device", "disk is full", "disk I/O error")  # OS, SQLite, DuckDB wordings


def storage_full(exc: BaseException) -> str | None:
    """The disk-full error in an exception's chain (as OSError, SQLite or DuckDB word it), or None.
    SQLite reports a full disk as "disk I/O error" when its journal cannot grow."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return f"{exc.strerror}: {exc.filename}" if exc.filename else str(exc.strerror)
        text = str(exc)
        if any(words in text for words in STORAGE_FULL):
            return text.splitlines()[0]
        exc = exc.__cause__ or exc.__context__
    return None
