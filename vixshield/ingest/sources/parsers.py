"""Parsers for the publishers' own file formats, shared by the live downloaders and `files`.

Each takes the text as published and returns a `Fetched` in the canonical schema; rows that
cannot be read become rejects with a reason instead of failing the whole file.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd

from vixshield.catalog import MACRO_BY_ID, SYMBOLS_BY_CBOE
from vixshield.ingest.sources.base import Fetched, SourceError
from vixshield.store import schemas

# hidden columns _read_csv adds and _split_dates consumes: each row's line in the file, and how
# many fields it had (a row cut short, e.g. the last line of a truncated download, has fewer)
_LINE, _FIELDS = "__line", "__fields"


def _read_csv(text: str, what: str, known: Iterable[str] = ()) -> pd.DataFrame:
    """The file as text cells. A header that spells one of the format's `known` columns in another case
    (`date,open,...` for Cboe's `DATE,OPEN,...`) is read as that column: publishers have changed the
    case of their headers, never the meaning."""
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise SourceError(f"{what}: not a readable CSV ({exc})") from exc
    header = [c.strip() for c in next(csv.reader(io.StringIO(text)), [])]
    twice = sorted({c for c in header if c and header.count(c) > 1})
    if twice:  # pandas would read the second as `<name>.1`: a ticker or series of its own
        raise SourceError(
            f"{what}: the header names {', '.join(twice)} more than once; which column is which cannot be known"
        )
    frame.columns = [c.strip() for c in frame.columns]
    frame.columns = _known_case(list(frame.columns), known)
    # pandas pads a short row with blanks; count the fields of each record to tell them apart
    records = [(n, len(r)) for n, r in enumerate(csv.reader(io.StringIO(text)), start=1) if r and any(r)][1:]
    if len(records) == len(frame):
        frame[_LINE] = [n for n, _ in records]
        frame[_FIELDS] = [k for _, k in records]
    return frame


def _known_case(columns: list[str], known: Iterable[str]) -> list[str]:
    """`columns` with each one that matches exactly one known name but for case renamed to it (none
    renamed where the exact name is there too, or two columns would become one)."""
    folded = [c.casefold() for c in columns]
    out = list(columns)
    for name in known:
        if name in columns:
            continue
        at = [i for i, c in enumerate(folded) if c == name.casefold()]
        if len(at) == 1:
            out[at[0]] = name
    return out


def _header(frame: pd.DataFrame) -> list[str]:
    """The file's own columns (without the hidden ones _read_csv adds)."""
    return [c for c in frame.columns if c not in (_LINE, _FIELDS)]


def _require(frame: pd.DataFrame, cols: list[str], what: str) -> None:
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise SourceError(f"{what}: expected columns {cols}, missing {missing}; got {_header(frame)}")


def require_readable_rows(part: Fetched, what: str, hint: str = "") -> None:
    """A file whose every row is unreadable means the format changed: fail rather than load nothing."""
    if part.frame.empty and part.rejects:
        first = part.rejects[0]["reason"]
        raise SourceError(f"{what}: none of {len(part.rejects)} rows could be read (first: {first}){hint}")


# how publishers write "no value": FRED '.', Cboe and Yahoo blanks or 'null'
_MISSING = ("", ".", "null", "nan")


def _numbers(frame: pd.DataFrame, cols: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The columns as numbers, missing markers as NaN; and which cells hold text that is not a number
    ('7,575.39', '4.02%'): a garbled value is the publisher's error to report, never a silent gap."""
    text = frame[cols].apply(lambda s: s.str.strip())
    missing = text.apply(lambda s: s.str.lower().isin(_MISSING))
    values = text.where(~missing).apply(lambda s: pd.to_numeric(s, errors="coerce"))
    return values, values.isna() & ~missing


def _garbled(
    frame: pd.DataFrame,
    bad: pd.DataFrame,
    key_of: Callable[[object, str], str],
    what: str,
    expected: str = "a number",
) -> list[dict]:
    """A reject for each cell `bad` marks, keyed as the stored row it would have written (`key_of(row
    label, column)`), so that row keeps its stored value rather than being withdrawn."""
    rows, cols = np.nonzero(bad.to_numpy())
    out = []
    for i, c in zip(bad.index[rows], bad.columns[cols], strict=True):
        key, value = key_of(i, c), frame.at[i, c]
        reason = f"{what}: {c} {value!r} for {key} is not {expected}; not loaded (a stored value, if any, stays)"
        out.append({"key": key, "reason": reason, "raw": f"{c}={value}", "rule": "unreadable_value"})
    return out


SWAPPED_MIN_ROWS = 10  # rows a column test can judge: fewer say nothing about the file
LAG_MIN_ROWS, LAG_SHARE = 250, 0.2  # a year of rows; SPX's real share is 0.1%, swapped 59% (1962-2026)


def _on_most(flagged: pd.Series, judged: pd.Series) -> bool:
    """Whether `flagged` holds on most of the (at least SWAPPED_MIN_ROWS) rows `judged`: a swapped column, where
    the publishers' own files have a handful of such rows."""
    return int(judged.sum()) >= SWAPPED_MIN_ROWS and int((flagged & judged).sum()) > judged.sum() / 2


def _refuse_swapped_range(frame: pd.DataFrame, what: str) -> pd.DataFrame:
    """`frame` (with `high` and `low`), unless its High is below its Low on most rows that have both: the
    columns are swapped or mislabelled. Read row by row, each range would be set aside and every feature
    built on the range would change with a SUCCESS exit; the publishers' own files have a handful of such
    rows (Cboe's VX 2013 rows, VIX6M 2019-07-05), never most."""
    both = frame["high"].notna() & frame["low"].notna()
    below = (frame["high"] < frame["low"]) & both
    if _on_most(below, both):
        raise SourceError(
            f"{what}: High is below Low on {below.sum()} of {both.sum()} rows: the High and Low columns look "
            "swapped or mislabelled"
        )
    return frame


def _refuse_swapped_close(frame: pd.DataFrame, what: str, adjusted: bool) -> None:
    """Refuse a Yahoo index file (`frame` in date order) whose Close is plainly another column. An index pays
    no dividends, so Yahoo's Close and Adj Close are one number (every row of ^GSPC since 1927): differing on
    most rows (`adjusted`: the file has its own Adj Close), one of them is another column. And SPX's Open
    is the previous Close on most sessions before 2005 (a stale first calculation), while a Close equal to
    the previous Open is a 0.1% coincidence: on a fifth of the rows, Open and Close are swapped."""
    both = frame["close"].notna() & frame["adj_close"].notna()
    differ = both & ((frame["close"] - frame["adj_close"]).abs() > 1e-6 * frame["close"].abs())
    if adjusted and _on_most(differ, both):
        raise SourceError(
            f"{what}: Close and Adj Close differ on {differ.sum()} of {both.sum()} rows; an index's are one "
            "number, so a column is swapped or mislabelled"
        )
    close, previous_open = frame["close"].to_numpy()[1:], frame["open"].to_numpy()[:-1]
    lagged = (close == previous_open).sum()
    if len(close) >= LAG_MIN_ROWS and lagged > LAG_SHARE * len(close):
        raise SourceError(
            f"{what}: the Close repeats the previous row's Open on {lagged} of {len(close)} rows: the Open "
            "and Close columns look swapped"
        )


def _iso(dates: pd.Series) -> pd.Series:
    return dates.dt.strftime("%Y-%m-%d")


def _split_dates(
    frame: pd.DataFrame, col: str, fmt: str | None, key_of, what: str
) -> tuple[pd.DataFrame, pd.Series, list[dict]]:
    """Parse a date column; unreadable dates and rows with fewer fields than the header become rejects
    (a row cut short must never stand in for, or overwrite, the publisher's complete row)."""
    hidden = [c for c in (_LINE, _FIELDS) if c in frame.columns]
    width = len(frame.columns) - len(hidden)
    lines = frame[_LINE] if _LINE in frame else pd.Series(range(2, len(frame) + 2), index=frame.index)
    short = frame[_FIELDS] < width if _FIELDS in frame else pd.Series(False, index=frame.index)
    frame = frame.drop(columns=hidden)
    dates = pd.to_datetime(frame[col].str.strip(), format=fmt, errors="coerce")
    bad = dates.isna() | short
    rejects = []
    for i, row in frame[bad].iterrows():
        raw = ",".join(v for v in row.astype(str) if v) if short[i] else ",".join(row.astype(str))
        if short[i]:
            reason = f"{what} line {lines[i]}: an incomplete row ({raw!r}, fewer fields than the header)"
            rejects.append({"key": key_of(row), "reason": reason, "raw": raw, "rule": "incomplete_row"})
        else:
            reason = f"{what} line {lines[i]}: unreadable date {row[col]!r}"
            rejects.append({"key": key_of(row), "reason": reason, "raw": raw})
    return frame[~bad], dates[~bad], rejects


def parse_cboe_index(text: str, name: str) -> Fetched:
    """Cboe index history: `DATE` as MM/DD/YYYY then OPEN,HIGH,LOW,CLOSE, or `DATE,<NAME>` (close only)."""
    what = f"Cboe {name}_History.csv"
    symbol = SYMBOLS_BY_CBOE[name].symbol if name in SYMBOLS_BY_CBOE else f"^{name}"
    raw = _read_csv(text, what, ("DATE", "OPEN", "HIGH", "LOW", "CLOSE", name))
    _require(raw, ["DATE"], what)
    raw, dates, rejects = _split_dates(raw, "DATE", "%m/%d/%Y", lambda r: f"{symbol}|{r['DATE']}", what)
    if {"OPEN", "HIGH", "LOW", "CLOSE"} <= set(raw.columns):
        values, bad = _numbers(raw, ["OPEN", "HIGH", "LOW", "CLOSE"])
        values.columns = ["open", "high", "low", "close"]
    else:
        close_col = name if name in raw.columns else ("CLOSE" if "CLOSE" in raw.columns else None)
        if close_col is None:
            raise SourceError(f"{what}: no CLOSE or {name} column; got {_header(raw)}")
        values, bad = _numbers(raw, [close_col])
        values = values.rename(columns={close_col: "close"})
    day = _iso(dates)
    rejects += _garbled(raw, bad, lambda i, _: f"{symbol}|{day[i]}", what)
    keep = ~bad.any(axis=1)
    frame = values[keep].assign(symbol=symbol, date=dates[keep].to_numpy(), source="cboe")
    return Fetched("daily_bars", _refuse_swapped_range(schemas.conform(frame, "daily_bars"), what), rejects)


YAHOO_COLUMNS = ("Date", "Open", "High", "Low", "Close", "Adj Close", "Volume")


def _from_yfinance_layout(text: str, symbol: str, what: str) -> str:
    """yfinance's own `download(...).to_csv()` writes its two-level columns as three header rows
    (`Price,Close,High,...`, `Ticker,^GSPC,^GSPC,...`, `Date,,,...`; the first two swapped with
    group_by="ticker"). That file in Yahoo's one-row layout with `symbol`'s columns, each row on its
    original line; one that holds only other tickers' columns (SPY's download saved as ^GSPC.csv) is
    refused by name. Any other text is returned as it is."""
    rows = list(csv.reader(io.StringIO(text)))
    labels = [r[0].strip() if r else "" for r in rows[:3]]
    if len(rows) < 3 or sorted(labels[:2]) != ["Price", "Ticker"] or labels[2] != "Date":
        return text
    fields, tickers = rows[labels.index("Price")], rows[labels.index("Ticker")]  # group_by="ticker" swaps them
    keep = [i for i in range(1, min(len(fields), len(tickers))) if tickers[i].strip() == symbol]
    if not keep:
        found = ", ".join(sorted({t.strip() for t in tickers[1:] if t.strip()})) or "no ticker"
        raise SourceError(f"{what}: yfinance's columns for {found}, not {symbol}; put {symbol}'s own download there")
    names = [fields[i].strip() for i in keep]
    # without `Adj Close` yfinance adjusted `Close` itself (auto_adjust, its default): that is the adjusted close
    adjusted = [keep[names.index("Close")]] if "Close" in names and "Adj Close" not in names else []
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\n")
    out.writerow(["Date", *names, *["Adj Close"] * len(adjusted)])
    buf.write("\n\n")  # blank lines where the two other header rows were: rejects name the file's own lines
    for row in rows[3:]:  # a row cut short stays short: it becomes an incomplete_row reject
        values = [row[i] for i in keep if i < len(row)]
        out.writerow(row[:1] + values + ([row[i] for i in adjusted] if len(values) == len(keep) else []))
    return buf.getvalue()


# a bar stamped at a time of day with its UTC offset (yfinance's Ticker.history(): `2024-07-03 00:00:00-04:00`,
# the offset moving with daylight saving): the exchange's own calendar date is its first ten characters
_STAMPED = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:[+-]\d{2}:?\d{2}|Z)?$")


def parse_yahoo_csv(text: str, symbol: str) -> Fetched:
    """Yahoo daily bars: Date,Open,High,Low,Close,Adj Close,Volume, as Yahoo's download writes them, as
    yfinance's `download(...).to_csv()` does (three header rows, see `_from_yfinance_layout`) or its
    `Ticker.history().to_csv()` (dates stamped with their UTC offset; Dividends and Stock Splits columns and
    no Adj Close, its Close being adjusted already)."""
    what = f"Yahoo {symbol}.csv"
    raw = _read_csv(_from_yfinance_layout(text, symbol, what), what, (*YAHOO_COLUMNS, "Stock Splits"))
    _require(raw, ["Date", "Close"], what)
    raw["Date"] = raw["Date"].str.strip().str.replace(_STAMPED, r"\1", regex=True)
    adjusted = "Adj Close" in raw.columns  # Yahoo's own; history() has none and its Close stands in
    if "Adj Close" not in raw.columns and "Stock Splits" in raw.columns:
        raw.insert(raw.columns.get_loc("Close") + 1, "Adj Close", raw["Close"])
        if _FIELDS in raw:  # a column the file does not have: a row cut short still counts as one
            raw[_FIELDS] = raw[_FIELDS] + 1
    raw, dates, rejects = _split_dates(raw, "Date", None, lambda r: f"{symbol}|{r['Date']}", what)
    cols = [c for c in YAHOO_COLUMNS[1:] if c in raw.columns]
    values, bad = _numbers(raw, cols)
    naive = dates.dt.tz_localize(None) if dates.dt.tz else dates
    day = _iso(naive)
    rejects += _garbled(raw, bad, lambda i, _: f"{symbol}|{day[i]}", what)
    frame = values.rename(columns=lambda c: c.lower().replace(" ", "_")).assign(symbol=symbol, date=naive.to_numpy())
    frame = frame[frame["close"].notna() & ~bad.any(axis=1)].assign(source="yahoo")
    frame = _refuse_swapped_range(schemas.conform(frame, "daily_bars"), what)
    if symbol.startswith("^"):
        _refuse_swapped_close(frame.sort_values("date"), what, adjusted)
    return Fetched("daily_bars", frame, rejects)


def parse_wide_closes(text: str, what: str, source: str) -> Fetched:
    """A `Date,<SYM1>,<SYM2>,...` table of (adjusted) closes, e.g. a breadth universe."""
    long, rejects = _wide_to_long(text, what, "symbol", "close")
    long = long.assign(adj_close=long["close"], source=source)
    return Fetched("daily_bars", schemas.conform(long, "daily_bars"), rejects)


def _wide_to_long(
    text: str, what: str, name: str, value: str, known: Iterable[str] = ()
) -> tuple[pd.DataFrame, list[dict]]:
    """A `Date,<A>,<B>,...` table as long rows (date, `name`, `value`), blanks dropped, and its rejects."""
    raw = _read_csv(text, what, ("Date", *known))
    _require(raw, ["Date"], what)
    raw, dates, rejects = _split_dates(raw, "Date", None, lambda r: f"*|{r['Date']}", what)
    columns = [c for c in raw.columns if c != "Date"]
    values, bad = _numbers(raw, columns)
    day = _iso(dates)
    rejects += _garbled(raw, bad, lambda i, c: f"{c}|{day[i]}", what)  # the cell only: it is a row of its own
    values = values.assign(date=dates.to_numpy())
    long = values.melt(id_vars="date", var_name=name, value_name=value).dropna(subset=[value])
    return long, rejects


def parse_fred_csv(text: str, series_id: str) -> Fetched:
    """FRED fredgraph.csv: `observation_date,<ID>` (older files: `DATE,<ID>`; fredapi's Series saved with
    to_csv: `,0` or `date,<ID>`); '.' or blank = missing."""
    what = f"FRED {series_id}.csv"
    raw = _read_csv(text, what, ("observation_date", "DATE", series_id))  # `date` (fredapi) reads as DATE
    date_col = next((c for c in ("observation_date", "DATE") if c in raw.columns), None)
    if date_col is None and len(raw.columns) and raw.columns[0].startswith("Unnamed: 0"):
        date_col = raw.columns[0]  # fredapi's get_series(...).to_csv(): the dates' column has no name
    if date_col is None:
        raise SourceError(f"{what}: no observation_date/DATE column; got {_header(raw)}")
    raw, value_col = _fred_values(raw, series_id, date_col, what)
    # FRED names the column after its series
    if value_col != series_id and value_col.upper() in MACRO_BY_ID:
        raise SourceError(
            f"{what}: its values are FRED's {value_col}, not {series_id} (a file saved under the wrong name?); "
            f"put {series_id}'s own download there"
        )
    raw, dates, rejects = _split_dates(raw, date_col, "%Y-%m-%d", lambda r: f"{series_id}|{r[date_col]}", what)
    values, bad = _numbers(raw, [value_col])
    day = _iso(dates)
    rejects += _garbled(raw, bad, lambda i, _: f"{series_id}|{day[i]}", what)
    values = values[value_col]  # a garbled value is NaN here, so dropped with the missing ones
    frame = pd.DataFrame({"series_id": series_id, "observation_date": dates.to_numpy(), "value": values.to_numpy()})
    frame = frame[frame["value"].notna()].assign(source="fred")
    return Fetched("macro_observations", schemas.conform(frame, "macro_observations"), rejects)


_VINTAGE = re.compile(r"_(\d{8})$")  # ALFRED's column of one vintage: <ID>_YYYYMMDD


def _fred_values(raw: pd.DataFrame, series_id: str, date_col: str, what: str) -> tuple[pd.DataFrame, str]:
    """The file with one row per observation, and the column of its values. A file of vintages (ALFRED's
    download, a column per vintage; fredapi's get_series_all_releases(), a row per vintage under
    realtime_start) gives each observation's latest: the warehouse keeps one value per observation, FRED's
    current one, as fredgraph.csv gives it. A saved frame's unnamed index (row numbers) is never the value."""
    cols = [c for c in _header(raw) if c != date_col]
    if series_id in cols:
        return raw, series_id
    vintages = sorted(
        (c for c in cols if c.upper().startswith(f"{series_id}_") and _VINTAGE.search(c)), key=lambda c: c[-8:]
    )
    if vintages:
        text = raw[vintages].apply(lambda v: v.str.strip())
        known = text.where(~text.apply(lambda v: v.str.lower().isin(_MISSING)))
        latest = known.ffill(axis=1).iloc[:, -1].fillna("")
        out = raw.drop(columns=vintages).assign(**{series_id: latest})
        if _FIELDS in out:  # one column stands for the vintages: a row cut short still counts as one
            out[_FIELDS] = out[_FIELDS] - len(vintages) + 1
        return out, series_id
    if "value" in cols:  # fredapi's frames name it so
        if "realtime_start" in cols:
            raw = raw.sort_values([date_col, "realtime_start"], kind="stable").drop_duplicates(date_col, keep="last")
        return raw, "value"
    named = [c for c in cols if not c.startswith("Unnamed: ")]
    if len(named) > 1:
        raise SourceError(
            f"{what}: several columns could hold {series_id}'s values ({named}); name its column {series_id}"
        )
    if not named:
        raise SourceError(f"{what}: no value column for {series_id}")
    return raw, named[0]


MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MONTH_CODES = "FGHJKMNQUVXZ"
_LABEL = re.compile(r"(?:VX\s*)?([FGHJKMNQUVXZ])\s*\(([A-Za-z]{3})\s+(\d{2}|\d{4})\)")


def _label_matches(label: str, expiry: dt.date) -> bool:
    found = _LABEL.fullmatch(label.strip())
    if not found:
        return False
    code, month, year = found.groups()
    year_ok = int(year) == (expiry.year if len(year) == 4 else expiry.year % 100)
    return code == MONTH_CODES[expiry.month - 1] and month.title() == MONTHS[expiry.month - 1] and year_ok


def label_vx_expiry(text: str, expiry: dt.date) -> str:
    """Cboe's per-contract files label the contract `F (Jan 2024)`; the expiry is known from the
    file's name (VX_2024-01-17.csv). Rewrite matching labels to that ISO date so the parser reads them;
    a label for another month is left alone and becomes a reject."""
    rows = list(csv.reader(io.StringIO(text)))
    header = _known_case([c.strip() for c in rows[0]], VX_COLUMNS) if rows else []
    if "Futures" not in header:
        return text  # let the parser report what is wrong
    col = header.index("Futures")
    for row in rows[1:]:
        if len(row) > col and _label_matches(row[col], expiry):
            row[col] = expiry.isoformat()
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


VX_COLUMNS = {
    "Trade Date": "trade_date",
    "Futures": "expiry",
    "Open": "open",
    "High": "high",
    "Low": "low",
    "Close": "close",
    "Settle": "settle",
    "Total Volume": "volume",
    "Open Interest": "open_interest",
}


def parse_vx_per_contract(text: str, what: str = "Cboe VX per-contract CSV") -> Fetched:
    """Cboe CFE VX futures, one row per contract per trade date (`Futures` holds the expiry;
    Cboe's own files write it as `VX F (Jan 2024)` in older downloads, so a date is looked for)."""
    raw = _read_csv(text, what, VX_COLUMNS)
    _require(raw, ["Trade Date", "Futures", "Close", "Settle"], what)
    raw, trade_dates, rejects = _split_dates(
        raw, "Trade Date", None, lambda r: f"{r['Trade Date']}|{r['Futures']}", what
    )
    expiry = pd.to_datetime(raw["Futures"].str.extract(r"(\d{4}-\d{2}-\d{2})$")[0], format="%Y-%m-%d", errors="coerce")
    exact = raw["Futures"].str.strip().str.fullmatch(r"\d{4}-\d{2}-\d{2}")
    bad = expiry.isna() | ~exact
    for _, row in raw[bad].iterrows():
        rejects.append(
            {
                "key": f"{row['Trade Date']}|{row['Futures']}",
                "reason": f"{what}: unreadable contract expiry {row['Futures']!r}",
                "raw": ",".join(row.astype(str)),
            }
        )
    cols = [c for c in VX_COLUMNS if c in raw.columns and c not in ("Trade Date", "Futures")]
    raw, trade_dates, expiry = raw[~bad], trade_dates[~bad], expiry[~bad]
    values, garbled = _numbers(raw, cols)
    day, month = _iso(trade_dates), _iso(expiry)
    rejects += _garbled(raw, garbled, lambda i, _: f"{day[i]}|{month[i]}", what)
    keep = ~garbled.any(axis=1)
    frame = values[keep].rename(columns=VX_COLUMNS)
    frame = frame.assign(trade_date=trade_dates[keep].to_numpy(), expiry=expiry[keep].to_numpy(), source="cboe")
    after = frame["trade_date"] > frame["expiry"]
    if _on_most(after, pd.Series(True, index=frame.index)):  # Cboe's own files: 2 rows in 29,522
        raise SourceError(
            f"{what}: the contract (Futures) expires before its Trade Date on {after.sum()} of {len(frame)} rows: "
            "the Trade Date and Futures columns look swapped"
        )
    return Fetched("vx_futures", _refuse_swapped_range(schemas.conform(frame, "vx_futures"), what), rejects)


# how a yes/no column is spelt (a spreadsheet's 1/0, TRUE/FALSE, yes/no); blank is unknown
_FLAGS = {
    **dict.fromkeys(("true", "t", "yes", "y", "1"), True),
    **dict.fromkeys(("false", "f", "no", "n", "0"), False),
}


def parse_fomc_csv(text: str, what: str = "FOMC decisions CSV") -> Fetched:
    """`date,scheduled` (scheduled True/False, 1/0 or yes/no; empty where unknown). A flag in no such
    spelling is a reject, never an unknown: an unscheduled meeting gates the plan differently."""
    raw = _read_csv(text, what, ("date", "scheduled"))
    _require(raw, ["date"], what)
    raw, dates, rejects = _split_dates(raw, "date", "%Y-%m-%d", lambda r: f"{r['date']}|fomc", what)
    sched = None
    if "scheduled" in raw:
        flag = raw["scheduled"].str.strip().str.lower()
        sched = flag.map(_FLAGS)
        bad = sched.isna() & (flag != "")
        day = _iso(dates)
        expected = "a yes/no flag (True/False, 1/0, yes/no; blank when unknown)"
        rejects += _garbled(raw, bad.to_frame("scheduled"), lambda i, _: f"{day[i]}|fomc", what, expected)
        dates, sched = dates[~bad], sched[~bad]
    frame = pd.DataFrame({"date": dates.to_numpy(), "kind": "fomc", "scheduled": sched, "source": "files"})
    return Fetched("events", schemas.conform(frame, "events"), rejects)


OSCILLATOR_ROWS = 250  # a year of sessions: the McClellan oscillator changes sign many times in any such span


def parse_breadth_vendor(text: str, what: str = "vendor breadth CSV") -> Fetched:
    """`Date,NYAD,NYMO`: a vendor's NYSE advance-decline line and McClellan oscillator. An oscillator that
    keeps one sign for a year of sessions is no McClellan oscillator (the bundle's crosses zero every few
    weeks): the columns are swapped or mislabelled, and the file is refused rather than read as breadth."""
    long, rejects = _wide_to_long(text, what, "series", "value", ("NYAD", "NYMO"))
    nymo = long.loc[long["series"] == "NYMO", "value"]
    if len(nymo) >= OSCILLATOR_ROWS and ((nymo > 0).all() or (nymo < 0).all()):
        raise SourceError(
            f"{what}: NYMO never crosses zero in {len(nymo)} rows ({nymo.min():g} to {nymo.max():g}); a McClellan "
            "oscillator swings around zero, so the NYAD and NYMO columns look swapped or mislabelled"
        )
    return Fetched("breadth_vendor", schemas.conform(long.assign(source="files"), "breadth_vendor"), rejects)
