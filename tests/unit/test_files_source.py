"""`--source files` refuses a broken delivery as a whole, naming the file: an empty or header-only
file, one none of whose rows can be read (dates in another format), a required file missing."""

import datetime as dt

import pytest

from vixshield.ingest.sources.base import FetchWindow, SourceError
from vixshield.ingest.sources.files import FilesSource

ALL = FetchWindow(None, dt.date(2200, 1, 1))


@pytest.mark.parametrize(
    ("family", "relative", "text", "says"),
    [
        ("daily_bars", "cboe/VIX_History.csv", "", "not a readable CSV"),
        ("daily_bars", "cboe/VIX_History.csv", "DATE,OPEN,HIGH,LOW,CLOSE\n", "no rows at all"),
        ("daily_bars", "yahoo/^GSPC.csv", "Date,Open,High,Low,Close,Adj Close,Volume\n", "no rows at all"),
        ("macro_observations", "fred/DGS10.csv", "observation_date,DGS10\n", "no rows at all"),
        (
            "vx_futures",
            "cboe_futures/VX_per_contract.csv",
            "Trade Date,Futures,Open,High,Low,Close,Settle\n",
            "no rows",
        ),
        # ISO dates where Cboe writes MM/DD/YYYY: every row unreadable, so the format changed
        (
            "daily_bars",
            "cboe/VIX_History.csv",
            "DATE,OPEN,HIGH,LOW,CLOSE\n2024-03-28,13,14,12,13.5\n",
            "none of 1 rows could be read",
        ),
    ],
)
def test_an_empty_or_unreadable_file_fails_the_family_naming_it(market_dir, family, relative, text, says):
    (market_dir / relative).write_text(text)
    with pytest.raises(SourceError, match=says) as raised:
        FilesSource(market_dir).fetch(family, ALL)
    assert relative.split("/")[-1] in str(raised.value) and "fresh download" in str(raised.value)


@pytest.mark.parametrize("relative", ["yahoo/^GSPC.csv", "cboe/VIX_History.csv"])
def test_a_missing_required_file_fails_naming_it(market_dir, relative):
    (market_dir / relative).unlink()
    with pytest.raises(SourceError, match="required file") as raised:
        FilesSource(market_dir).fetch("daily_bars", ALL)
    assert relative in str(raised.value)


def test_an_optional_file_may_be_absent(market_dir):
    (market_dir / "cboe" / "VIX9D_History.csv").unlink()
    symbols = set(FilesSource(market_dir).fetch("daily_bars", ALL).frame["symbol"])
    assert "^VIX9D" not in symbols and {"^GSPC", "^VIX"} <= symbols


def test_a_file_cut_short_mid_row_fails_rather_than_ending_the_history_early(market_dir):
    """Truncated inside the row of 2023-12-15: loading the rows before it would publish a history that
    silently ends there (an empty home would report success as of that date)."""
    spx = market_dir / "yahoo" / "^GSPC.csv"
    text = spx.read_text()
    cut = text.index("2023-12-15") + len("2023-12-15,4")
    spx.write_text(text[:cut])
    with pytest.raises(SourceError, match="cut short") as raised:
        FilesSource(market_dir).fetch("daily_bars", ALL)
    assert "^GSPC.csv" in str(raised.value) and "'2023-12-15,4'" in str(raised.value)
    spx.write_text(text[: text.index("2023-12-15")])  # cut at a row boundary: a shorter history, no sign of damage
    bars = FilesSource(market_dir).fetch("daily_bars", ALL).frame
    assert bars.loc[bars["symbol"] == "^GSPC", "date"].max() < dt.datetime(2023, 12, 15)
