"""The shared publisher-format parsers, on snippets written exactly as the publishers write them."""

import math

import pandas as pd
import pytest

from vixshield.ingest.sources import parsers
from vixshield.ingest.sources.base import SourceError

CBOE_VIX = """DATE,OPEN,HIGH,LOW,CLOSE
01/02/1990,17.240000,17.240000,17.240000,17.240000
03/16/2020,57.830000,83.560000,57.830000,82.690000
13/45/2020,1,2,3,4
"""


def test_cboe_ohlc_parses_us_dates_and_rejects_unreadable_rows():
    out = parsers.parse_cboe_index(CBOE_VIX, "VIX")
    assert list(out.frame["symbol"].unique()) == ["^VIX"]
    row = out.frame[out.frame["date"] == "2020-03-16"].iloc[0]
    assert (row.open, row.high, row.low, row.close) == (57.83, 83.56, 57.83, 82.69)
    assert len(out.frame) == 2
    assert len(out.rejects) == 1 and "13/45/2020" in out.rejects[0]["reason"]


def test_cboe_close_only_file():
    out = parsers.parse_cboe_index("DATE,VVIX\n03/06/2006,71.730000\n03/07/2006,72.5\n", "VVIX")
    assert out.frame["close"].tolist() == [71.73, 72.5]
    assert out.frame["open"].isna().all() and out.frame["symbol"].eq("^VVIX").all()


@pytest.mark.parametrize("header", ["observation_date", "DATE", "date", "Date"])
def test_fred_csv_headers_and_missing_values(header):
    text = f"{header},DGS10\n2024-07-03,4.36\n2024-07-04,.\n2024-07-05,\n2024-07-08,4.28\n"
    out = parsers.parse_fred_csv(text, "DGS10")
    assert out.frame["observation_date"].dt.strftime("%Y-%m-%d").tolist() == ["2024-07-03", "2024-07-08"]
    assert out.frame["value"].tolist() == [4.36, 4.28]
    assert out.frame["available_date"].isna().all()  # filled later from the availability rule


def test_a_fred_file_holding_another_catalogued_series_is_refused_by_name():
    """DGS10's download saved as DGS3MO.csv: every value is a plausible yield, so only the header tells."""
    with pytest.raises(SourceError, match=r"DGS3MO\.csv: its values are FRED's DGS10, not DGS3MO"):
        parsers.parse_fred_csv("observation_date,DGS10\n2024-01-02,3.95\n", "DGS3MO")
    # a column FRED's catalogue does not name (an ALFRED vintage, say) is still read as the series
    out = parsers.parse_fred_csv("observation_date,DGS3MO_20240105\n2024-01-02,5.4\n", "DGS3MO")
    assert out.frame["value"].tolist() == [5.4]


def test_fred_csv_without_date_column_is_a_clear_error():
    with pytest.raises(SourceError, match="observation_date"):
        parsers.parse_fred_csv("when,DGS10\n2024-01-02,4\n", "DGS10")


def test_yahoo_csv():
    text = "Date,Open,High,Low,Close,Adj Close,Volume\n2024-03-28,5248.03,5264.85,5245.82,5254.35,5254.35,3998270000\n"
    out = parsers.parse_yahoo_csv(text, "^GSPC")
    r = out.frame.iloc[0]
    assert (r.symbol, r.date, r.close, r.volume) == ("^GSPC", pd.Timestamp("2024-03-28"), 5254.35, 3998270000.0)


def test_vx_per_contract_rejects_a_mislabelled_expiry_with_its_reason():
    text = (
        "Trade Date,Futures,Open,High,Low,Close,Settle,Change,Total Volume,EFP,Open Interest\n"
        "2025-07-22,2025-08-20,17.5,17.9,17.2,17.6,17.65,0.1,90000,10,300000\n"
        "2025-07-22,20268-03-18,21.0,21.0,21.0,21.0,21.05,0.0,10,0,500\n"
    )
    out = parsers.parse_vx_per_contract(text)
    assert len(out.frame) == 1 and out.frame.iloc[0]["settle"] == 17.65
    assert out.frame.iloc[0]["open_interest"] == 300000
    assert len(out.rejects) == 1 and "20268-03-18" in out.rejects[0]["reason"]


def test_wide_closes_and_vendor_breadth_become_long_rows():
    wide = parsers.parse_wide_closes("Date,XLB,XLC\n2005-02-25,11.53,\n2005-02-28,11.60,\n", "sectors", "breadth")
    assert wide.frame["symbol"].tolist() == ["XLB", "XLB"]  # blank XLC cells are not observations
    vendor = parsers.parse_breadth_vendor("Date,NYAD,NYMO\n2005-01-03,182.49,\n2008-10-01,100.0,-45.2\n")
    assert sorted(zip(vendor.frame["series"], vendor.frame["value"], strict=True)) == [
        ("NYAD", 100.0),
        ("NYAD", 182.49),
        ("NYMO", -45.2),
    ]


def test_fomc_csv_keeps_unknown_scheduled_flag_as_null():
    out = parsers.parse_fomc_csv("date,scheduled\n2020-03-03,False\n2020-03-18,\n2020-04-29,True\n")
    assert out.frame["scheduled"].tolist()[0] is False
    assert pd.isna(out.frame["scheduled"].iloc[1]) and out.frame["scheduled"].iloc[2]


@pytest.mark.parametrize(("yes", "no"), [("1", "0"), ("yes", "no"), ("TRUE", "FALSE"), ("Y", "N")])
def test_fomc_scheduled_flags_in_a_spreadsheets_spelling_read_as_true_and_false(yes, no):
    """A calendar kept in a spreadsheet writes its flags 1/0 or yes/no: they read as True/False, not as
    unknown (an unknown flag gates the plan as an unscheduled meeting might: the real bundle's plans changed
    with a SUCCESS exit). A flag in no such spelling is a reject naming the cell, never an unknown."""
    text = f"date,scheduled\n2020-03-03,{no}\n2020-03-18,\n2020-04-29,{yes}\n"
    expected = parsers.parse_fomc_csv("date,scheduled\n2020-03-03,False\n2020-03-18,\n2020-04-29,True\n")
    got = parsers.parse_fomc_csv(text)
    assert got.rejects == []
    pd.testing.assert_frame_equal(got.frame, expected.frame)
    odd = parsers.parse_fomc_csv(text.replace(f"2020-04-29,{yes}", "2020-04-29,maybe"))
    assert len(odd.frame) == 2 and [r["key"] for r in odd.rejects] == ["2020-04-29|fomc"]
    assert "'maybe'" in odd.rejects[0]["reason"] and "not a yes/no flag" in odd.rejects[0]["reason"]


def test_garbage_is_a_clear_error():
    with pytest.raises(SourceError, match="expected columns"):
        parsers.parse_vx_per_contract("<html>rate limited</html>\n")


YAHOO_HEADER = "Date,Open,High,Low,Close,Adj Close,Volume\n"
VX_HEADER = "Trade Date,Futures,Open,High,Low,Close,Settle,Change,Total Volume,EFP,Open Interest\n"


@pytest.mark.parametrize(
    ("parse", "text", "key", "cell"),
    [
        (  # a spreadsheet's thousands separator, quoted as a CSV writer quotes it
            lambda t: parsers.parse_yahoo_csv(t, "^GSPC"),
            YAHOO_HEADER + "2024-03-27,5226.3,5246.1,5215.3,5248.49,5248.49,1\n"
            '2024-03-28,5248.0,5264.8,5245.8,"5,254.35",5254.35,2\n',
            "^GSPC|2024-03-28",
            "Close='5,254.35'",
        ),
        (  # a letter O typed for a zero
            lambda t: parsers.parse_cboe_index(t, "VIX"),
            "DATE,OPEN,HIGH,LOW,CLOSE\n03/13/2020,1,2,1,2\n03/16/2020,57.83,83.56,57.83,82.69\n03/17/2020,8O.1,84.83,75.23,75.91\n",
            "^VIX|2020-03-17",
            "OPEN='8O.1'",
        ),
        (
            lambda t: parsers.parse_cboe_index(t, "VVIX"),
            "DATE,VVIX\n03/06/2006,71.73\n03/07/2006,n/a\n",
            "^VVIX|2006-03-07",
            "VVIX='n/a'",
        ),
        (  # a percent sign: FRED's units are percent already
            lambda t: parsers.parse_fred_csv(t, "DGS3MO"),
            "observation_date,DGS3MO\n2025-10-01,4.01\n2025-10-02,4.02%\n",
            "DGS3MO|2025-10-02",
            "DGS3MO='4.02%'",
        ),
        (  # a decimal comma
            parsers.parse_vx_per_contract,
            VX_HEADER + "2025-07-22,2025-08-20,17.5,17.9,17.2,17.6,17.65,0.1,90,10,3\n"
            '2025-07-22,2025-09-17,18.5,18.9,18.2,18.6,"18,65",0.1,90,10,3\n',
            "2025-07-22|2025-09-17",
            "Settle='18,65'",
        ),
        (  # one cell of a wide table: only that symbol's session is set aside
            lambda t: parsers.parse_wide_closes(t, "members", "breadth"),
            "Date,AAPL,MSFT\n2026-01-20,246.7,#N/A\n2026-01-21,247.6,451.1\n",
            "MSFT|2026-01-20",
            "MSFT='#N/A'",
        ),
    ],
)
def test_a_value_that_is_not_a_number_is_a_reject_keyed_as_its_stored_row_not_a_silent_gap(parse, text, key, cell):
    """Before, a garbled value became NaN: the row vanished without a word (and a vanished row is withdrawn
    from the warehouse by a whole-history delivery). Now it is a reject naming the file, the column and the
    text, keyed as the row it would have written (schemas' key columns, ISO dates), and it is not loaded."""
    out = parse(text)
    assert [(r["key"], r["rule"]) for r in out.rejects] == [(key, "unreadable_value")]
    name, value = cell.split("=", 1)
    assert f"{name} {value}" in out.rejects[0]["reason"] and "not a number" in out.rejects[0]["reason"]
    assert out.rejects[0]["raw"] == cell.replace("'", "")
    # every other value is loaded: two in each file but the wide table's three (AAPL's two, MSFT's one)
    assert len(out.frame) == (3 if "MSFT" in key else text.count("\n") - 2)


def test_a_header_naming_a_column_twice_is_refused_naming_it():
    """Two columns under one name (AAPL's header overwritten with ABBV's): pandas reads the second as
    `ABBV.1`, which was stored as a ticker of its own while AAPL vanished, with a SUCCESS exit."""
    text = "Date,A,ABBV,ABBV ,ABT\n2021-01-22,122.1,135.4,91.6,103.0\n"
    with pytest.raises(SourceError, match=r"sp500 members: the header names ABBV more than once"):
        parsers.parse_wide_closes(text, "sp500 members", "breadth")
    with pytest.raises(SourceError, match=r"the header names CLOSE more than once"):
        parsers.parse_cboe_index("DATE,OPEN,HIGH,LOW,CLOSE,CLOSE\n01/02/2024,13,14,12,13.2,13.3\n", "VIX")


def test_a_breadth_file_whose_oscillator_never_crosses_zero_is_refused():
    """NYAD and NYMO headers swapped: the A-D line's level (positive for years) read as the oscillator
    changed every breadth feature and the hedge's L2 trigger with a SUCCESS exit. A McClellan oscillator
    crosses zero every few weeks; a year of it on one side is a mislabelled column."""
    days = pd.bdate_range("2024-01-02", periods=parsers.OSCILLATOR_ROWS)
    level = [f"{d:%Y-%m-%d},{1000 + i},{40 * math.sin(i / 9):.2f}" for i, d in enumerate(days)]
    good = "Date,NYAD,NYMO\n" + "\n".join(level) + "\n"
    assert len(parsers.parse_breadth_vendor(good).frame) == 2 * len(days)
    swapped = good.replace("Date,NYAD,NYMO", "Date,NYMO,NYAD", 1)
    with pytest.raises(SourceError, match=r"NYMO never crosses zero in 250 rows \(1000 to 1249\).*look swapped"):
        parsers.parse_breadth_vendor(swapped)
    short = "Date,NYMO,NYAD\n" + "\n".join(level[:20]) + "\n"  # a month on one side can be real
    assert len(parsers.parse_breadth_vendor(short).frame) == 40


@pytest.mark.parametrize(
    ("parse", "header", "swapped"),
    [
        (lambda t: parsers.parse_yahoo_csv(t, "^GSPC"), "Date,Open,High,Low,Close,Adj Close,Volume", "High,Low"),
        (lambda t: parsers.parse_cboe_index(t, "VIX"), "DATE,OPEN,HIGH,LOW,CLOSE", "HIGH,LOW"),
    ],
)
def test_a_file_with_high_and_low_swapped_is_refused(parse, header, swapped):
    """High and Low headers swapped: every row's range was set aside one by one, and SPX's range features,
    then the plans and tickets, changed with a SUCCESS exit. A few such rows are the publishers' own
    (VIX6M 2019-07-05) and stay row by row."""
    days = pd.bdate_range("2024-01-02", periods=12)
    yahoo = header.startswith("Date")

    def row(d: pd.Timestamp, lo: float, hi: float) -> str:
        date = f"{d:%Y-%m-%d}" if yahoo else f"{d:%m/%d/%Y}"
        return f"{date},{lo + 1},{hi},{lo},{lo + 2}" + (f",{lo + 2},1000" if yahoo else "")

    good = "\n".join([header, *(row(d, 100.0 + i, 110.0 + i) for i, d in enumerate(days))]) + "\n"
    assert len(parse(good).frame) == len(days)
    one_bad = good.replace(row(days[3], 103.0, 113.0), row(days[3], 113.0, 103.0).replace(",114.0,", ",104.0,"))
    assert len(parse(one_bad).frame) == len(days)  # one row: the quarantine's to set aside, not the file's
    with pytest.raises(SourceError, match=r"High is below Low on 12 of 12 rows: the High and Low columns look swapped"):
        parse(good.replace(swapped, ",".join(reversed(swapped.split(","))), 1))


def test_an_spx_file_with_open_and_close_swapped_is_refused():
    """Open and Close headers swapped in ^GSPC.csv: SPX's closes became its opens and the plans and tickets
    changed with a SUCCESS exit. An index's Close is its Adj Close; and SPX's Open repeats the previous
    Close on most sessions before 2005, so swapped, the Close repeats the previous Open."""
    days = pd.bdate_range("1995-01-02", periods=300)
    closes = [400.0 + i + (i % 7) / 10 for i in range(len(days))]
    opens = [closes[0], *closes[:-1]]  # the stale first calculation: the previous close
    rows = [
        f"{d:%Y-%m-%d},{o},{max(o, c) + 1},{min(o, c) - 1},{c},{c},1000"
        for d, o, c in zip(days, opens, closes, strict=True)
    ]
    good = "Date,Open,High,Low,Close,Adj Close,Volume\n" + "\n".join(rows) + "\n"
    assert len(parsers.parse_yahoo_csv(good, "^GSPC").frame) == len(days)
    swapped = good.replace("Date,Open,High,Low,Close", "Date,Close,High,Low,Open", 1)
    with pytest.raises(SourceError, match=r"Close and Adj Close differ on \d+ of 300 rows"):
        parsers.parse_yahoo_csv(swapped, "^GSPC")
    # yfinance's history() has no Adj Close to compare with: the lag gives the swap away
    history = "\n".join(r.rsplit(",", 2)[0] + ",1000,0.0,0.0" for r in rows)
    history = "Date,Close,High,Low,Open,Volume,Dividends,Stock Splits\n" + history + "\n"
    with pytest.raises(SourceError, match=r"the Close repeats the previous row's Open on 299 of 299 rows"):
        parsers.parse_yahoo_csv(history, "^GSPC")


def test_a_vx_file_with_trade_date_and_expiry_swapped_is_refused():
    """Trade Date and Futures headers swapped: nearly every row became a contract traded after its expiry,
    set aside one by one, and the hedge priced off the VIX term structure instead, changing the plans with
    a SUCCESS exit. Cboe's own files have two such rows, which stay row rules."""
    days = pd.bdate_range("2024-01-02", periods=12)
    rows = [f"{d:%Y-%m-%d},2024-02-14,15.0,15.5,14.5,15.1,15.1,0.0,1000,0,5000" for d in days]
    good = VX_HEADER + "\n".join(rows) + "\n"
    assert len(parsers.parse_vx_per_contract(good).frame) == len(days)
    swapped = good.replace("Trade Date,Futures", "Futures,Trade Date", 1)
    with pytest.raises(SourceError, match=r"expires before its Trade Date on 12 of 12 rows: .* look swapped"):
        parsers.parse_vx_per_contract(swapped)


def test_publishers_missing_markers_are_gaps_not_rejects():
    """FRED's '.', Yahoo's 'null' and blank cells are how the publishers write "no value"."""
    assert not parsers.parse_fred_csv("observation_date,DGS10\n2024-07-04,.\n2024-07-05,\n", "DGS10").rejects
    yahoo = parsers.parse_yahoo_csv(YAHOO_HEADER + "2024-03-28,null,null,null,null,null,null\n", "^GSPC")
    assert yahoo.frame.empty and not yahoo.rejects
    assert not parsers.parse_wide_closes("Date,XLB,XLC\n2005-02-25,11.53,\n", "sectors", "breadth").rejects


def _recase(text: str, case) -> str:
    header, _, body = text.partition("\n")
    return case(header) + "\n" + body


VX_ROWS = VX_HEADER + "2025-07-22,2025-08-20,17.5,17.9,17.2,17.6,17.65,0.1,90000,10,300000\n"
FORMATS = [
    (lambda t: parsers.parse_cboe_index(t, "VIX"), CBOE_VIX),
    (lambda t: parsers.parse_cboe_index(t, "VVIX"), "DATE,VVIX\n03/06/2006,71.73\n"),
    (
        lambda t: parsers.parse_yahoo_csv(t, "^GSPC"),
        YAHOO_HEADER + "2024-03-28,5248.03,5264.85,5245.82,5254.35,5254.35,9\n",
    ),
    (lambda t: parsers.parse_fred_csv(t, "DGS10"), "observation_date,DGS10\n2024-07-03,4.36\n2024-07-05,\n"),
    (parsers.parse_vx_per_contract, VX_ROWS),
    (parsers.parse_fomc_csv, "date,scheduled\n2020-03-03,False\n2020-04-29,True\n"),
    (parsers.parse_breadth_vendor, "Date,NYAD,NYMO\n2008-10-01,100.0,-45.2\n"),
]


@pytest.mark.parametrize(("parse", "text"), FORMATS)
@pytest.mark.parametrize("case", [str.lower, str.upper, str.title], ids=["lower", "upper", "title"])
def test_a_header_in_another_case_reads_as_the_publishers_own(parse, text, case):
    """Publishers have changed the case of their headers (`date,open,...` for Cboe's `DATE,OPEN,...`):
    the same file with any casing of its header gives the same rows and rejects."""
    expected, got = parse(text), parse(_recase(text, case))
    pd.testing.assert_frame_equal(got.frame, expected.frame)
    assert [r["reason"] for r in got.rejects] == [r["reason"] for r in expected.rejects]


def test_a_vx_contract_label_is_read_whatever_the_case_of_its_header():
    text = parsers.label_vx_expiry(
        _recase(VX_HEADER, str.lower) + "2024-01-02,F (Jan 2024),13.1,13.4,13.0,13.2,13.25,0.1,5,0,9\n",
        pd.Timestamp("2024-01-17").date(),
    )
    out = parsers.parse_vx_per_contract(text)
    assert out.frame["expiry"].tolist() == [pd.Timestamp("2024-01-17")] and not out.rejects


def test_a_header_matching_a_column_only_by_case_twice_is_not_guessed():
    with pytest.raises(SourceError, match=r"missing \['DATE'\]; got \['date', 'Date', 'CLOSE'\]$"):
        parsers.parse_cboe_index("date,Date,CLOSE\n01/02/1990,01/02/1990,17.24\n", "VIX")


def test_another_catalogued_series_is_refused_whatever_the_case_of_its_header():
    with pytest.raises(SourceError, match="its values are FRED's dgs10, not DGS3MO"):
        parsers.parse_fred_csv("observation_date,dgs10\n2024-01-02,3.95\n", "DGS3MO")


def _yfinance_csv(tickers: list[str], rows: list[str], group_by_ticker: bool = False) -> str:
    """What yfinance's `download(...).to_csv()` writes (pandas' three header rows of a two-level index)."""
    fields = ["Close", "High", "Low", "Open", "Volume"]
    price = "Price," + ",".join(f for _ in tickers for f in fields)
    ticker = "Ticker," + ",".join(t for t in tickers for _ in fields)
    header = [ticker, price] if group_by_ticker else [price, ticker]
    return "\n".join([*header, "Date" + "," * (len(fields) * len(tickers)), *rows]) + "\n"


YF_ROW = "2024-01-02,4742.830078125,4754.330078125,4722.669921875,4745.2001953125,3743050000"


@pytest.mark.parametrize("group_by_ticker", [False, True])
def test_yfinance_own_csv_reads_as_yahoos_download(group_by_ticker):
    """The same bar written by yfinance's to_csv and by Yahoo's download gives the same row."""
    got = parsers.parse_yahoo_csv(_yfinance_csv(["^GSPC"], [YF_ROW], group_by_ticker), "^GSPC")
    yahoo = (  # yfinance's Close is adjusted (auto_adjust): it is the Adj Close too
        "Date,Open,High,Low,Close,Adj Close,Volume\n"
        "2024-01-02,4745.2001953125,4754.330078125,4722.669921875,4742.830078125,4742.830078125,3743050000\n"
    )
    pd.testing.assert_frame_equal(got.frame, parsers.parse_yahoo_csv(yahoo, "^GSPC").frame)
    # a file of several tickers: this symbol's columns only
    two = _yfinance_csv(
        ["SPY", "^GSPC"], ["2024-01-02,472.65,473.67,470.49,472.16,123623700," + YF_ROW.split(",", 1)[1]]
    )
    pd.testing.assert_frame_equal(parsers.parse_yahoo_csv(two, "^GSPC").frame, got.frame)


def test_yfinance_csv_of_another_ticker_is_refused_by_name():
    with pytest.raises(SourceError, match=r"\^GSPC\.csv: yfinance's columns for SPY, not \^GSPC"):
        parsers.parse_yahoo_csv(_yfinance_csv(["SPY"], ["2024-01-02,472.65,473.67,470.49,472.16,123623700"]), "^GSPC")


def test_a_cut_short_yfinance_row_is_an_incomplete_row_on_its_own_line():
    out = parsers.parse_yahoo_csv(_yfinance_csv(["^GSPC"], [YF_ROW, "2024-01-03,4704.81,4729.29"]), "^GSPC")
    assert len(out.frame) == 1
    assert [r["rule"] for r in out.rejects] == ["incomplete_row"] and "line 5:" in out.rejects[0]["reason"]


@pytest.mark.parametrize("header", [",0", "date,0", ",DGS10", "date,DGS10"])
def test_a_fredapi_series_saved_with_to_csv_reads_as_fredgraph(header):
    """fredapi's get_series(...) is a pandas Series: its to_csv() names the columns after the index and
    the Series (none, or 0), not FRED's observation_date,<ID>."""
    text = "\n".join([header, "2024-07-03,4.36", "2024-07-05,", "2024-07-08,4.28"]) + "\n"
    expected = parsers.parse_fred_csv(text.replace(header, "observation_date,DGS10", 1), "DGS10")
    pd.testing.assert_frame_equal(parsers.parse_fred_csv(text, "DGS10").frame, expected.frame)


def test_a_fred_file_of_dates_alone_is_a_clear_error():
    with pytest.raises(SourceError, match="no value column for DGS10"):
        parsers.parse_fred_csv("observation_date\n2024-07-03\n2024-07-05\n", "DGS10")


FREDGRAPH_CPI = "observation_date,CPIAUCSL\n2024-01-01,309.685\n2024-02-01,311.054\n2024-03-01,312.230\n"


def test_a_fredapi_frame_of_all_releases_reads_as_each_observations_latest_vintage():
    """fredapi's get_series_all_releases() is a frame, a row per vintage (realtime_start, date, value) and
    a row-number index that to_csv() writes unnamed: the row numbers were read as CPI, and the vintages of
    one month disagreed, so none was loaded. FRED's current values are each month's latest vintage, as
    fredgraph.csv gives them (here revised once, in a different order)."""
    text = (
        ",realtime_start,date,value\n"
        "0,2024-02-13,2024-01-01,308.417\n"
        "1,2024-03-12,2024-02-01,310.326\n"
        "2,2025-02-12,2024-01-01,309.685\n"
        "3,2025-02-12,2024-02-01,311.054\n"
        "4,2024-04-10,2024-03-01,312.332\n"
        "5,2025-02-12,2024-03-01,312.230\n"
    )
    expected = parsers.parse_fred_csv(FREDGRAPH_CPI, "CPIAUCSL").frame
    got = parsers.parse_fred_csv(text, "CPIAUCSL")
    assert got.rejects == []
    pd.testing.assert_frame_equal(got.frame.reset_index(drop=True), expected)


def test_an_alfred_download_of_vintages_reads_as_each_observations_latest_vintage():
    """ALFRED's download: a column per vintage, <ID>_YYYYMMDD, blank ('.') before an observation was
    published. Its first vintage column was read as the series, so the history stopped at that vintage."""
    text = (
        "observation_date,CPIAUCSL_20240312,CPIAUCSL_20240410,CPIAUCSL_20250212\n"
        "2024-01-01,308.417,308.417,309.685\n"
        "2024-02-01,310.326,310.326,311.054\n"
        "2024-03-01,.,312.332,312.230\n"
        "2024-04-01,.,.,\n"
    )
    got = parsers.parse_fred_csv(text, "CPIAUCSL")
    pd.testing.assert_frame_equal(got.frame, parsers.parse_fred_csv(FREDGRAPH_CPI, "CPIAUCSL").frame)
    # a row cut short is still an incomplete row, not a value
    cut = parsers.parse_fred_csv(text.replace("2024-03-01,.,312.332,312.230", "2024-03-01,.,312.3"), "CPIAUCSL")
    assert [r["rule"] for r in cut.rejects] == ["incomplete_row"] and len(cut.frame) == 2


def test_a_fred_file_with_several_unnamed_value_columns_is_a_clear_error():
    with pytest.raises(SourceError, match=r"several columns could hold DGS10's values \(\['close', 'yield'\]\)"):
        parsers.parse_fred_csv(",date,close,yield\n0,2024-07-03,4.36,4.36\n", "DGS10")


def test_a_yfinance_history_saved_with_to_csv_reads_as_yahoo():
    """yfinance's Ticker.history() stamps each daily bar at midnight New York time with its UTC offset,
    which moves with daylight saving: pandas refused the mixed offsets and the whole file failed with
    'Mixed timezones detected'. Its Close is adjusted already (no Adj Close column); Dividends and Stock
    Splits are not bars. The same rows as Yahoo's own download, a cut-short row still an incomplete one."""
    history = (
        "Date,Open,High,Low,Close,Volume,Dividends,Stock Splits\n"
        "2024-03-08 00:00:00-05:00,5132.38,5189.26,5117.5,5123.69,4335360000,0.0,0.0\n"
        "2024-03-11 00:00:00-04:00,5111.96,5124.66,5091.14,5117.94,3734390000,0.0,0.0\n"
    )
    yahoo = (
        "Date,Open,High,Low,Close,Adj Close,Volume\n"
        "2024-03-08,5132.38,5189.26,5117.5,5123.69,5123.69,4335360000\n"
        "2024-03-11,5111.96,5124.66,5091.14,5117.94,5117.94,3734390000\n"
    )
    got = parsers.parse_yahoo_csv(history, "^GSPC")
    assert got.rejects == []
    pd.testing.assert_frame_equal(got.frame, parsers.parse_yahoo_csv(yahoo, "^GSPC").frame)
    cut = parsers.parse_yahoo_csv(history + "2024-03-12 00:00:00-04:00,5117.5\n", "^GSPC")
    assert [r["rule"] for r in cut.rejects] == ["incomplete_row"] and len(cut.frame) == 2
