"""Fetch one raw family from a source, make it point-in-time and clean of duplicates, and load it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import pandas as pd

from vixshield import schemas, warehouse
from vixshield.sources.availability import with_availability
from vixshield.sources.base import Fetched, FetchWindow, Source


@dataclass(frozen=True)
class LoadResult:
    family: str
    fetched: int
    inserted: int
    revised: int
    unchanged: int
    rejected: int
    first_date: dt.date | None
    last_date: dt.date | None


def _date_column(family: str) -> str:
    return {"macro_observations": "observation_date", "vx_futures": "trade_date"}.get(family, "date")


def prepare(fetched: Fetched, window: FetchWindow) -> Fetched:
    """Point-in-time cut and duplicate handling.

    - macro rows get `available_date` and are kept only if available by the window's end;
      everything else is kept only up to the window's end (no row dated after the as-of);
    - identical duplicate rows collapse; rows that share a key but disagree keep the last one
      the publisher wrote and send the others to quarantine with the reason.
    """
    family = fetched.family
    frame = fetched.frame
    if family == "macro_observations" and len(frame):
        frame = with_availability(frame)
    end = pd.Timestamp(window.end)
    if family == "macro_observations":
        frame = frame[frame["available_date"] <= end]
    elif family != "events":  # scheduled events are calendars: known ahead by design
        frame = frame[frame[_date_column(family)] <= end]
    frame = frame.drop_duplicates()
    keys, _ = schemas.FAMILIES[family]
    clash = frame.duplicated(subset=list(keys), keep="last")
    rejects = list(fetched.rejects)
    for _, row in frame[clash].iterrows():
        key = "|".join(v.strftime("%Y-%m-%d") if isinstance(v, pd.Timestamp) else str(v) for v in row[list(keys)])
        rejects.append(
            {
                "key": key,
                "reason": "conflicting duplicate key in the source; the last row was kept",
                "raw": ",".join(map(str, row.to_numpy())),
            }
        )
    return Fetched(family, schemas.conform(frame[~clash], family), rejects)


def load(
    conn: duckdb.DuckDBPyConnection,
    source: Source,
    family: str,
    window: FetchWindow,
    run_id: str,
) -> LoadResult:
    """Fetch, prepare and upsert one family in a single transaction (all or nothing)."""
    fetched = prepare(source.fetch(family, window), window)
    frame = fetched.frame
    with warehouse.transaction(conn):
        counts = warehouse.upsert(conn, family, frame, run_id, dt.datetime.now(dt.UTC).replace(tzinfo=None))
        rejected = warehouse.record_rejects(conn, family, fetched.rejects)
    dates = frame[_date_column(family)]
    return LoadResult(
        family=family,
        fetched=len(frame),
        rejected=rejected,
        first_date=dates.min().date() if len(dates) else None,
        last_date=dates.max().date() if len(dates) else None,
        **counts,
    )


def incremental_start(conn: duckdb.DuckDBPyConnection, family: str, overlap_sessions: int) -> dt.date | None:
    """Where a live incremental fetch starts: the last live-fetched date minus an overlap window,
    so that revisions are re-read. None (the whole history) when no live rows are stored yet."""
    col = _date_column(family)
    last = conn.execute(
        f"SELECT max({col}) FROM raw.{family} WHERE source NOT LIKE 'files:%' AND source NOT LIKE 'sample:%'"
    ).fetchone()[0]
    if last is None:
        return None
    return (pd.Timestamp(last) - pd.tseries.offsets.BDay(overlap_sessions)).date()
