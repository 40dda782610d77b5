"""A whole-history file delivery is the truth for what it delivers: rows a bad delivery stored and
the corrected one no longer holds are withdrawn, so fixing the file heals the warehouse; history the
files cannot speak for (another series, beyond a file's end, a rolling window) stays."""

import datetime as dt

import pandas as pd
import pytest

from vixshield.ingest import load as ingest
from vixshield.ingest.sources import parsers
from vixshield.ingest.sources.base import Fetched, FetchWindow, Source
from vixshield.store import schemas, warehouse

WHOLE = FetchWindow(None, dt.date(2200, 1, 1))  # an offline run without --as-of
DAYS = pd.bdate_range("2024-01-02", periods=40)


class Delivery(Source):
    """A files-like source handing over one prepared frame (and the rows it could not read)."""

    name = "files"

    def __init__(self, frame: pd.DataFrame, rejects: list[dict] | None = None):
        self.frame, self.rejects = frame, rejects or []

    def fetch(self, family: str, window: FetchWindow) -> Fetched:
        return Fetched(family, self.frame, list(self.rejects))


def bars(dates, symbol: str = "^VIX", source: str = "files:cboe") -> pd.DataFrame:
    dates = pd.DatetimeIndex(dates)
    closes = 15.0 + (dates.dayofyear % 7) / 10  # any value fixed by the date
    frame = pd.DataFrame({"symbol": symbol, "date": dates, "close": closes, "source": source})
    return schemas.conform(frame, "daily_bars")


def load(conn, frame: pd.DataFrame, rejects: list[dict] | None = None, family: str = "daily_bars"):
    return ingest.load(conn, Delivery(frame, rejects), family, WHOLE, "run", max_revised_share=0.25)


def stored(conn, table: str = "raw.daily_bars") -> list[tuple]:
    return conn.execute(f"SELECT * EXCLUDE (fetched_at, run_id) FROM {table} ORDER BY ALL").fetchall()


def clean_build(tmp_path, frame: pd.DataFrame, name: str, family: str = "daily_bars") -> list[tuple]:
    with warehouse.connect(tmp_path / f"{name}.duckdb") as conn:
        warehouse.init_schema(conn)
        load(conn, frame, family=family)
        return stored(conn, f"raw.{family}")


def test_misdated_rows_of_a_bad_delivery_go_when_the_file_is_corrected(conn, tmp_path):
    good = bars(pd.bdate_range("2024-01-02", "2024-12-31"))
    # early March typed with last year's year: 2024-03-04 becomes 2023-03-04 and so on, every one a valid
    # date before the file's first row (those on a weekend are rejected at load, the rest are stored)
    march = good["date"].between("2024-03-01", "2024-03-12")
    misdated = pd.DatetimeIndex(good.loc[march, "date"] - pd.DateOffset(years=1))
    first = load(conn, pd.concat([good[~march], bars(misdated).assign(close=99.0)], ignore_index=True))
    weekdays = (misdated.dayofweek < 5).sum()
    assert conn.execute("SELECT count(*) FROM raw.daily_bars WHERE close = 99").fetchone()[0] == weekdays > 0
    assert first.rejected == len(misdated) - weekdays > 0
    assert load(conn, good).withdrawn == weekdays
    assert stored(conn) == clean_build(tmp_path, good, "clean")


def test_history_the_delivery_cannot_speak_for_stays(conn):
    vix, vvix = bars(DAYS), bars(DAYS, symbol="^VVIX")
    live_row = bars(DAYS[:1] - pd.Timedelta(days=7), source="cboe")  # fetched live, another label
    load(conn, pd.concat([vix, vvix]))
    with warehouse.transaction(conn):
        warehouse.upsert(conn, "daily_bars", live_row, "live", dt.datetime(2024, 1, 1))
    before = stored(conn)
    # VVIX's file is gone (optional), VIX's file ends three rows early (cut at a row boundary)
    assert load(conn, vix.iloc[:-3]).withdrawn == 0
    assert stored(conn) == before


def test_a_cut_file_keeps_the_stored_sessions_past_its_end_when_a_holiday_row_is_among_them(conn):
    """Cboe's VIX file has rows on some exchange holidays (2026-07-03). An older download, ending before
    one, still looks like a cut file: the newer sessions stored stay, the holiday row with them."""
    holiday = pd.Timestamp("2024-02-19")  # Presidents' Day: a weekday, no NYSE session
    assert holiday in DAYS
    load(conn, bars(DAYS))
    before = stored(conn)
    assert load(conn, bars(DAYS[DAYS < "2024-02-14"])).withdrawn == 0
    assert stored(conn) == before
    # a stored tail with a session missing is no continuation: those rows are a bad delivery's and go
    gappy = DAYS[DAYS != "2024-02-21"]
    load(conn, bars(gappy, symbol="^VVIX"))
    assert load(conn, bars(gappy[gappy < "2024-02-14"], symbol="^VVIX")).withdrawn == (gappy >= "2024-02-14").sum()


def test_macro_rows_before_a_rolling_window_stay_but_misdated_ones_inside_it_go(conn):
    def macro(dates, value: float = 4.0) -> pd.DataFrame:
        frame = pd.DataFrame({"series_id": "BAMLH0A0HYM2", "observation_date": pd.DatetimeIndex(dates)})
        return schemas.conform(frame.assign(value=value, source="files:fred"), "macro_observations")

    load(conn, macro(DAYS), family="macro_observations")
    # three years later FRED serves only the newer rows: older history stays; a stray row inside goes
    load(conn, pd.concat([macro(DAYS[20:]), macro(["2024-02-10"])], ignore_index=True), family="macro_observations")
    assert load(conn, macro(DAYS[20:]), family="macro_observations").withdrawn == 1
    rows = conn.execute("SELECT count(*), min(observation_date)::VARCHAR FROM raw.macro_observations").fetchone()
    assert rows == (len(DAYS), "2024-01-02")


def test_a_row_the_delivery_rejected_keeps_its_stored_value(conn):
    load(conn, bars(DAYS))
    before = stored(conn)
    day = DAYS[-2].strftime("%Y-%m-%d")
    incomplete = [{"key": f"^VIX|{day}", "rule": "incomplete_row", "reason": "4 of 5 fields", "raw": day}]
    assert load(conn, bars(DAYS.delete(-2)), incomplete).withdrawn == 0
    assert stored(conn) == before


def test_a_delivery_withdrawing_most_of_a_series_is_refused_and_writes_nothing(conn):
    load(conn, bars(DAYS, symbol="^VVIX"))
    before = stored(conn)
    thinned = bars(DAYS[::4], symbol="^VVIX")  # three rows in four gone, the last one kept: not a file cut short
    thinned = pd.concat([thinned, bars(DAYS[-1:], symbol="^VVIX")]).drop_duplicates()
    with pytest.raises(warehouse.MassRevisionError, match=r"withdraw more than 25% .*\^VVIX: 29 of 40 stored rows"):
        load(conn, thinned)
    assert stored(conn) == before


def test_sessions_a_delivery_lost_from_spx_or_vix_history_stay(conn):
    """SPX and the VIX have a row on every NYSE session but their publishers' own gaps, so a stored session
    missing inside a delivery's dates is one the delivery lost (a bar of Yahoo's 'null's, an unreadable
    date), never a stray: it stays, where it was withdrawn and left a hole the book stepped over. An
    exchange holiday's row (Presidents' Day) and a series without that guarantee (VVIX) are withdrawn."""
    holiday = pd.Timestamp("2024-02-19")
    load(conn, pd.concat([bars(DAYS), bars(DAYS, symbol="^VVIX")]))
    lost = DAYS[5:8].append(pd.DatetimeIndex([holiday]))
    result = load(conn, pd.concat([bars(DAYS.difference(lost)), bars(DAYS.difference(lost), symbol="^VVIX")]))
    assert result.withdrawn == 1 + len(lost)  # VIX's holiday row; VVIX's four
    left = conn.execute("SELECT symbol, count(*) FROM raw.daily_bars GROUP BY 1 ORDER BY 1").fetchall()
    assert left == [("^VIX", len(DAYS) - 1), ("^VVIX", len(DAYS) - len(lost))]


def test_stray_rows_past_a_files_end_go_but_sessions_continuing_it_stay(conn):
    load(conn, bars(DAYS))
    # stored sessions continuing the file without a gap stay (a file cut short at a row boundary) ...
    assert load(conn, bars(DAYS[:-2])).withdrawn == 0
    # ... a stray row a few weeks past it does not: a misdated row, not a newer session
    load(conn, pd.concat([bars(DAYS), bars(["2024-04-03"])], ignore_index=True))
    assert load(conn, bars(DAYS)).withdrawn == 1
    assert conn.execute("SELECT max(date)::VARCHAR FROM raw.daily_bars").fetchone()[0] == "2024-02-26"


def test_a_garbled_value_in_the_middle_of_a_file_keeps_its_stored_row_and_heals(conn):
    """A value that is not a number ('1,191.5') once vanished with its row at parse time; the stored
    session, absent from the delivery, was then withdrawn: a hole in history and a SUCCESS exit. Now the
    row is an input reject keyed as the stored row: it stays, and the corrected file clears the reject."""
    lines = [f"{d:%m/%d/%Y},{c},{c},{c},{c}" for d, c in zip(DAYS, 15.0 + (DAYS.dayofyear % 7) / 10, strict=True)]
    text = "DATE,OPEN,HIGH,LOW,CLOSE\n" + "\n".join(lines) + "\n"

    def deliver(t: str):
        part = parsers.parse_cboe_index(t, "VIX")
        return load(conn, part.frame.assign(source="files:cboe"), part.rejects)

    deliver(text)
    before = stored(conn)
    garbled = text.replace(lines[20], lines[20].rsplit(",", 1)[0] + ",15.3O")
    assert deliver(garbled).withdrawn == 0
    assert stored(conn) == before
    day = f"{DAYS[20]:%Y-%m-%d}"
    reject = conn.execute("SELECT row_key, rule, reason FROM meta.quarantine WHERE column_name = 'input'").fetchall()
    assert [(k, r) for k, r, _ in reject] == [(f"^VIX|{day}", "unreadable_value")]
    assert "Cboe VIX_History.csv: CLOSE '15.3O'" in reject[0][2]
    deliver(text)
    assert stored(conn) == before
    assert conn.execute("SELECT count(*) FROM meta.quarantine WHERE column_name = 'input'").fetchone()[0] == 0
