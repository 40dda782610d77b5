"""signals.*: run the model book over the features and write the plan tables and the app view.

The daily run resumes the book from its stored state (meta.book_state) when nothing it has read
changed: the same engine (code, settings, methodology version) and the same inputs up to the stored
session (a digest of every row of features, regimes, VX prices and SPX opens through that date).
Then only the new sessions are run and appended; otherwise the whole history is replayed. Either way
the tables are identical to a replay from 1990 (tested).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import pickle
from dataclasses import dataclass
from functools import cache

import duckdb
import pandas as pd

from vixshield import METHODOLOGY_VERSION
from vixshield.config import settings_json
from vixshield.native import ENGINE_MODULES, PACKAGE_DIR
from vixshield.store import contract, migrations, warehouse
from vixshield.strategy.book import BookOutput, BookSettings, BookState, run_book

TABLES = tuple(t.name.split(".")[1] for t in contract.SIGNALS)  # columns, types, keys: contract.SIGNALS
KEYS = {t.name.split(".")[1]: ", ".join(t.key) for t in contract.SIGNALS}
# calendar days, not timestamps
DATE_COLUMNS = tuple(dict.fromkeys(c.name for t in contract.SIGNALS for c in t.columns if c.type == "DATE"))


def load_inputs(conn: duckdb.DuckDBPyConnection, after: dt.date | None = None):
    """The book's inputs: features, regimes, VX prices by session and expiry, SPX opens; only the
    sessions after `after` when given (a resumed book reads nothing older)."""
    since = after or dt.date(1900, 1, 1)
    features = conn.execute("SELECT * FROM features.daily WHERE date > ? ORDER BY date", [since]).df()
    features = features.set_index(pd.DatetimeIndex(features.pop("date")))
    regimes = {
        pd.Timestamp(d): r
        for d, r in conn.execute("SELECT date, regime FROM features.regime WHERE date > ?", [since]).fetchall()
    }
    vx: dict[pd.Timestamp, dict[pd.Timestamp, float]] = {}
    stamp = cache(pd.Timestamp)  # ~30,000 rows name a few thousand dates: one Timestamp each
    for trade_date, expiry, price in conn.execute(
        "SELECT trade_date, expiry, price FROM core.vx_futures WHERE price IS NOT NULL AND trade_date > ?", [since]
    ).fetchall():
        vx.setdefault(stamp(trade_date), {})[stamp(expiry)] = price
    opens = {
        pd.Timestamp(d): o
        for d, o in conn.execute(
            "SELECT date, spx_open FROM core.market_daily WHERE spx_open IS NOT NULL AND date > ?", [since]
        ).fetchall()
    }
    return features, regimes, vx, opens


def _tagged(out: BookOutput) -> dict[str, pd.DataFrame]:
    frames = out.frames()
    for frame in frames.values():
        frame["methodology_version"] = METHODOLOGY_VERSION
    return frames


def compute_signals(conn: duckdb.DuckDBPyConnection, settings: BookSettings) -> dict[str, pd.DataFrame]:
    """The whole history from its first session (what a resumed run must reproduce)."""
    return _tagged(run_book(*load_inputs(conn), settings))


def engine_digest(settings: BookSettings) -> str:
    h = hashlib.sha256(METHODOLOGY_VERSION.encode())
    h.update(settings_json(settings).encode())
    for name in ENGINE_MODULES:  # the path too: the pickled state names its classes by module
        h.update(name.encode())
        h.update((PACKAGE_DIR / f"{name}.py").read_bytes())
    return h.hexdigest()[:32]


def inputs_digest(conn: duckdb.DuckDBPyConnection, through: dt.date) -> str:
    """Every input row the book has read up to `through` (order-free row hashes, XORed per table)."""
    row = conn.execute(
        """SELECT (SELECT bit_xor(hash(f)) FROM features.daily f WHERE date <= $d),
                  (SELECT bit_xor(hash(date, regime)) FROM features.regime WHERE date <= $d),
                  (SELECT bit_xor(hash(trade_date, expiry, price)) FROM core.vx_futures WHERE trade_date <= $d),
                  (SELECT bit_xor(hash(date, spx_open)) FROM core.market_daily WHERE date <= $d)""",
        {"d": through},
    ).fetchone()
    return "-".join(str(x) for x in row)


@dataclass
class SignalUpdate:
    frames: dict[str, pd.DataFrame]  # the rows written (all history, or the new sessions only)
    resumed_after: dt.date | None  # None: the whole history was replayed
    reason: str  # why it resumed or replayed


def _stored_state(conn: duckdb.DuckDBPyConnection, settings: BookSettings) -> tuple[BookState | None, str]:
    """The stored state if the book may resume from it, else None and why not."""
    tables = {r[0] for r in conn.execute("SELECT schema_name || '.' || table_name FROM duckdb_tables()").fetchall()}
    if "meta.book_state" not in tables or any(f"signals.{t}" not in tables for t in TABLES):
        return None, "no stored book state"
    row = conn.execute("SELECT last_date, engine_digest, inputs_digest, state FROM meta.book_state").fetchone()
    if row is None:
        return None, "no stored book state"
    last, engine, inputs, blob = row
    if engine != engine_digest(settings):
        return None, "the book's code or settings changed"
    if conn.execute("SELECT max(date) FROM features.daily").fetchone()[0] < last:
        return None, f"the features end before the stored state ({last}): a replay further back"
    if inputs != inputs_digest(conn, last):
        return None, f"inputs up to {last} changed (a revision)"
    try:
        return pickle.loads(blob), f"resumed after {last}"
    except Exception as exc:  # a state the code can no longer read is a cache miss, never an error
        return None, f"the stored state could not be read ({type(exc).__name__}): a replay"


def update_signals(conn: duckdb.DuckDBPyConnection, settings: BookSettings) -> SignalUpdate:
    """Bring signals.* up to the latest features session, resuming the stored book when allowed."""
    state, reason = _stored_state(conn, settings)
    if state is not None:
        out = run_book(*load_inputs(conn, state.last_date.date()), settings, state=state)
        update = SignalUpdate(_tagged(out), state.last_date.date(), reason)
        if out.state.last_date == state.last_date:  # no new session: nothing to write, a rerun changes nothing
            return update
    else:
        out = run_book(*load_inputs(conn), settings)
        update = SignalUpdate(_tagged(out), None, f"replayed all history: {reason}")
    write_signals(conn, update.frames, out.state, settings, append_after=update.resumed_after)
    return update


def write_signals(
    conn: duckdb.DuckDBPyConnection,
    frames: dict[str, pd.DataFrame],
    state: BookState | None = None,
    settings: BookSettings | None = None,
    append_after: dt.date | None = None,
) -> None:
    """In one transaction: replace every signal table (or, with append_after, drop their rows after
    that date and append the frames), the view, and the stored book state."""
    with warehouse.transaction(conn):
        for name in TABLES:
            if append_after is not None:
                conn.execute(f"DELETE FROM signals.{name} WHERE date > ?", [append_after])
            warehouse.write_table(conn, f"signals.{name}", frames[name], replace=append_after is None)
        conn.execute(warehouse.sql_text("views/latest_plan.sql"))
        if state is not None and settings is not None and state.last_date is not None:
            # a cache, not history: recreated so a table left by an older release takes the current shape
            migrations.create_table(conn, contract.TABLES["meta.book_state"], replace=True)
            conn.execute(
                "INSERT INTO meta.book_state VALUES (?, ?, ?, ?)",
                [
                    state.last_date.date(),
                    engine_digest(settings),
                    inputs_digest(conn, state.last_date.date()),
                    pickle.dumps(state),
                ],
            )


def plan_for(conn: duckdb.DuckDBPyConnection, date: str | None = None) -> dict:
    """The day's plan as plain data (for `vixshield signals` and apps): regime, condor, actions, hedges."""
    day = date or conn.execute("SELECT max(date) FROM signals.condor_plan").fetchone()[0]
    if day is None:
        raise LookupError("no signals yet: run `vixshield run` first")
    plan = conn.execute("SELECT * FROM signals.condor_plan WHERE date = ?", [day]).df()
    if plan.empty:
        first, last = conn.execute("SELECT min(date), max(date) FROM signals.condor_plan").fetchone()
        raise LookupError(f"no plan for {day}: plans exist for NYSE sessions {first} .. {last}")
    regime = conn.execute("SELECT regime, sessions_in_regime, reasons FROM features.regime WHERE date = ?", [day]).df()
    actions = conn.execute("SELECT * FROM signals.condor_actions WHERE date = ? ORDER BY position_id", [day]).df()
    hedges = conn.execute("SELECT * FROM signals.hedge_layers WHERE date = ? ORDER BY layer", [day]).df()
    book = conn.execute("SELECT * FROM signals.book_daily WHERE date = ?", [day]).df()

    def records(frame: pd.DataFrame) -> list[dict]:
        frame = frame.copy()
        for col in frame.columns:
            if pd.api.types.is_datetime64_any_dtype(frame[col]):
                frame[col] = frame[col].dt.strftime("%Y-%m-%d")
        return json.loads(frame.to_json(orient="records"))

    return {
        "date": str(pd.Timestamp(day).date()),
        "regime": (records(regime) or [None])[0],
        "condor_plan": records(plan)[0],
        "actions": records(actions),
        "hedge_layers": records(hedges),
        "book": (records(book) or [None])[0],
    }
