"""Fetch one raw family from a source, make it point-in-time and clean of duplicates, and load it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd

from vixshield.ingest.sources.availability import with_availability
from vixshield.ingest.sources.base import Fetched, FetchWindow, Source, SourceError
from vixshield.store import schemas, warehouse
from vixshield.validate import quarantine

NEW_YORK = ZoneInfo("America/New_York")
# families of exchange prints (macro observations are dated by period: a month can begin on a Sunday)
WEEKDAY_FAMILIES = ("daily_bars", "vx_futures", "breadth_vendor")


@dataclass(frozen=True)
class LoadResult:
    family: str
    fetched: int
    inserted: int
    revised: int
    unchanged: int
    rejected: int
    withdrawn: int
    first_date: dt.date | None
    last_date: dt.date | None


def _date_column(family: str) -> str:
    return {"macro_observations": "observation_date", "vx_futures": "trade_date"}.get(family, "date")


def prepare(fetched: Fetched, window: FetchWindow) -> Fetched:
    """Point-in-time cut and duplicate handling.

    - macro rows get `available_date` and are kept only if available by the window's end;
      everything else is kept only up to the window's end (no row dated after the as-of);
    - identical duplicate rows collapse; rows that share a key but disagree are all set aside with
      the reason: which one is right cannot be known, so none replaces a stored value;
    - a row dated after today (New York) is impossible: a bad delivery or a misread date format.
      It is set aside with the reason (events excepted: calendars are known ahead by design);
    - so is an exchange print dated on a weekend (a weekday holiday stays: Cboe has some sessions NYSE
      did not hold, and core keeps NYSE sessions only).
    """
    family = fetched.family
    frame = fetched.frame
    if family == "macro_observations" and len(frame):
        frame = with_availability(frame)
    rejects = list(fetched.rejects)
    keys = list(schemas.FAMILIES[family][0])
    if family != "events":  # scheduled events are calendars: known ahead by design
        now = today()
        future = frame[_date_column(family)] > pd.Timestamp(now)
        rejects += _rejects(frame[future], keys, "future_dated", f"dated after today ({now}): not a real print")
        frame = frame[~future]
    if family in WEEKDAY_FAMILIES:  # no exchange prints on a weekend: a misdated row (time zone, typo)
        day = frame[_date_column(family)]
        for weekday, name in ((5, "Saturday"), (6, "Sunday")):
            on = day.dt.day_of_week == weekday
            rejects += _rejects(frame[on], keys, "weekend_dated", f"dated on a {name}: no exchange trades then")
        frame = frame[day.dt.day_of_week < 5]
    end = pd.Timestamp(window.end)
    if family == "macro_observations":
        frame = frame[frame["available_date"] <= end]
    elif family != "events":
        frame = frame[frame[_date_column(family)] <= end]
    frame = frame.drop_duplicates()
    clash = frame.duplicated(subset=keys, keep=False)
    _refuse_all_clashing(frame, clash, family)
    rejects += _rejects(frame[clash], keys, "conflicting_duplicate", _clash_reasons(fetched, frame[clash], keys))
    return Fetched(family, schemas.conform(frame[~clash], family), rejects)


ALL_CLASHING_MIN = 10  # rows: a series this long whose every row clashes is no set of stray duplicates


def _refuse_all_clashing(frame: pd.DataFrame, clash: pd.Series, family: str) -> None:
    """A delivered series whose every key comes twice with different values is not a few stray duplicates
    but a file of two series, or of several versions of one: setting all of it aside would drop the whole
    series and let the run succeed without it, so it fails instead, naming the series."""
    series = warehouse.series_column(family)
    rows = frame.groupby(series, sort=True)[series].size()
    clashing = frame[clash].groupby(series, sort=True)[series].size().reindex(rows.index, fill_value=0)
    whole = [str(s) for s, n in rows.items() if n >= ALL_CLASHING_MIN and clashing[s] == n]
    if whole:
        keys = ", ".join(schemas.FAMILIES[family][0])
        raise SourceError(
            f"raw.{family}: every row of {', '.join(whole)} has another with the same {keys} and a different "
            "value: the file holds two series, or several versions of one. Nothing was loaded; deliver one "
            "value per key (the publisher's own download) and run again."
        )


def _clash_reasons(fetched: Fetched, rows: pd.DataFrame, keys: list[str]) -> list[str]:
    """Each clashing row's reason, naming the files its key's rows came from (when the source has files)."""
    files = pd.Series(fetched.file_of(rows.index), index=rows.index)
    named = files.groupby([rows[k] for k in keys], sort=False).transform(lambda f: ", ".join(sorted(set(f) - {""})))
    tail = "rows with this key disagree in the source; none is loaded (a stored value, if any, stays)"
    return [f"{where}: {tail}" if where else tail for where in named]


def today() -> dt.date:
    return dt.datetime.now(NEW_YORK).date()


def _rejects(rows: pd.DataFrame, keys: list[str], rule: str, reason: str | list[str]) -> list[dict]:
    """One reject per row; `reason` is one for all of them, or one per row."""

    def text(v: object) -> str:
        return v.strftime("%Y-%m-%d") if isinstance(v, pd.Timestamp) else str(v)

    reasons = [reason] * len(rows) if isinstance(reason, str) else reason
    return [
        {"key": "|".join(text(v) for v in row[keys]), "rule": rule, "reason": why, "raw": ",".join(map(text, row))}
        for (_, row), why in zip(rows.iterrows(), reasons, strict=True)
    ]


def load(
    conn: duckdb.DuckDBPyConnection,
    source: Source,
    family: str,
    window: FetchWindow,
    run_id: str,
    max_revised_share: float = 1.0,
) -> LoadResult:
    """Fetch, prepare and upsert one family in a single transaction (all or nothing); see
    `warehouse.upsert` for `max_revised_share`."""
    fetched = prepare(source.fetch(family, window), window)
    frame = fetched.frame
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    whole = window.start is None
    with warehouse.transaction(conn):
        withdrawn = 0
        if whole and not source.live:  # files on disk are the whole truth of what they deliver
            keys = [r["key"] for r in fetched.rejects]
            withdrawn = warehouse.withdraw_absent(conn, family, frame, keys, max_revised_share)
        counts = warehouse.upsert(conn, family, frame, run_id, now, max_revised_share)
        kept = quarantine.unusable_revisions(conn, family)  # never a good stored row for an unusable one
        counts["revised"] -= len(kept)
        # a whole-history fetch says everything the input rejects today: yesterday's rejects of a
        # since-corrected file go; an incremental (live) fetch only adds to what is stored
        rejected = warehouse.record_rejects(conn, family, fetched.rejects + kept, replace=whole)
    dates = frame[_date_column(family)]
    return LoadResult(
        family=family,
        fetched=len(frame),
        rejected=rejected,
        withdrawn=withdrawn,
        first_date=dates.min().date() if len(dates) else None,
        last_date=dates.max().date() if len(dates) else None,
        **counts,
    )


def incremental_start(conn: duckdb.DuckDBPyConnection, family: str, overlap_sessions: int) -> dt.date | None:
    """Where a live incremental fetch starts: the last live-fetched date minus an overlap window,
    so that revisions are re-read. None (the whole history) when no live rows are stored yet, or while a
    row of an earlier delivery could not be loaded (history_rows_usable): only a whole-history fetch
    replaces its reject, so a publisher's corrected history heals the run instead of leaving it blocked."""
    unloaded = conn.execute(
        "SELECT count(*) FROM meta.quarantine WHERE table_name = ? AND column_name = ? AND list_contains(?, rule)",
        [f"raw.{family}", warehouse.INPUT_COLUMN, list(warehouse.UNLOADED_ROW_RULES)],
    ).fetchone()[0]
    if unloaded:
        return None
    col = _date_column(family)
    last = conn.execute(
        f"SELECT max({col}) FROM raw.{family} WHERE source NOT LIKE 'files:%' AND source NOT LIKE 'sample:%'"
    ).fetchone()[0]
    if last is None:
        return None
    return (pd.Timestamp(last) - pd.tseries.offsets.BDay(overlap_sessions)).date()
