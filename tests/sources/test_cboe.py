"""Cboe downloaders against a scripted local server (never the internet)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.fakehttp import FakeServer, Reply
from vixshield.ingest.sources import cboe
from vixshield.ingest.sources.base import SourceError
from vixshield.ingest.sources.http import HttpSettings

FIXTURES = Path(__file__).parents[1] / "fixtures" / "cboe"
FAST = HttpSettings(timeout=2.0, max_retries=2, backoff=0.01)
INDEX = "/api/global/us_indices/daily_prices/{}_History.csv"
VX = "/data/us/futures/market_statistics/historical_data/VX/VX_{}.csv"
JAN, FEB = dt.date(2024, 1, 17), dt.date(2024, 2, 14)
START, END = dt.date(2024, 1, 2), dt.date(2024, 1, 5)


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


@pytest.fixture
def server():
    with FakeServer() as s:
        yield s


def index(server: FakeServer, names=("VIX",), start=START, end=END):
    return cboe.fetch_index_history(list(names), start, end, settings=FAST, base_url=server.url)


def vx(server: FakeServer, expiries=(JAN, FEB), start=START, end=END):
    return cboe.fetch_vx_futures(list(expiries), start, end, settings=FAST, base_url=server.url)


# --- index history ---


def test_index_ohlc_and_close_only_files(server):
    server.route(INDEX.format("VIX"), Reply(200, fixture("VIX_History.csv")))
    server.route(INDEX.format("VVIX"), Reply(200, fixture("VVIX_History.csv")))
    result = index(server, names=("VIX", "VVIX"), end=dt.date(2024, 1, 8))
    frame = result.frame.set_index(["symbol", result.frame["date"].dt.strftime("%Y-%m-%d")])
    assert frame.loc[("^VIX", "2024-01-03"), ["open", "high", "low", "close"]].tolist() == [
        13.38,
        14.22,
        13.36,
        14.04,
    ]
    assert frame.loc[("^VIX", "2024-01-08"), "close"] == 13.08
    assert frame.loc[("^VVIX", "2024-01-05"), "close"] == 82.37
    assert frame.loc[("^VVIX", "2024-01-05"), ["open", "high", "low"]].isna().all()
    assert result.frame.groupby("symbol").size().to_dict() == {"^VIX": 5, "^VVIX": 5}
    assert set(result.frame["source"]) == {"cboe"}
    assert result.rejects == []


def test_index_rows_filtered_to_window(server):
    server.route(INDEX.format("VIX"), Reply(200, fixture("VIX_History.csv")))
    result = index(server, start=dt.date(2024, 1, 3), end=dt.date(2024, 1, 4))
    assert result.frame["date"].dt.strftime("%Y-%m-%d").tolist() == ["2024-01-03", "2024-01-04"]
    assert result.frame["close"].tolist() == [14.04, 14.13]


def test_index_unreadable_row_is_carried_as_reject(server):
    server.route(INDEX.format("VIX"), Reply(200, fixture("VIX_History.csv") + "2024-01-09,13.1,13.3,12.9,12.8\n"))
    result = index(server, end=dt.date(2024, 1, 31))
    assert len(result.frame) == 5
    assert [r["key"] for r in result.rejects] == ["^VIX|2024-01-09"]
    assert "unreadable date" in result.rejects[0]["reason"]


def test_index_429_then_success(server):
    server.route(INDEX.format("VIX"), [Reply(429, "slow down"), Reply(200, fixture("VIX_History.csv"))])
    assert len(index(server).frame) == 4
    assert server.hits(INDEX.format("VIX")) == 2


def test_index_truncated_body_is_retried(server):
    body = fixture("VIX_History.csv")
    server.route(INDEX.format("VIX"), [Reply(200, body, truncate=True), Reply(200, body)])
    assert len(index(server).frame) == 4
    assert server.hits(INDEX.format("VIX")) == 2


def test_index_truncated_forever_is_a_clear_source_error(server):
    server.route(INDEX.format("VIX"), Reply(200, fixture("VIX_History.csv"), truncate=True))
    with pytest.raises(SourceError, match=r"VIX_History\.csv: gave up after \d attempts.*ChunkedEncodingError"):
        index(server)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("<!DOCTYPE html><html><body>Access Denied</body></html>", "expected columns"),
        ('DATE,OPEN,HIGH,LOW,CLOSE\n"01/02/2024,13.21\n', "not a readable CSV"),
        (
            "DATE,OPEN,HIGH,LOW,CLOSE\n2024-01-02,1,2,3,4\n2024-01-03,1,2,3,4\n",
            "none of 2 rows could be read",
        ),
        ("DATE,OPEN,HIGH,LOW,CLOSE\n", "no rows at all"),
    ],
    ids=["html", "bad-quoting", "all-rows-unreadable", "header-only"],
)
def test_index_malformed_file_is_a_source_error(server, body, message):
    server.route(INDEX.format("VIX"), Reply(200, body))
    with pytest.raises(SourceError, match=message):
        index(server)


def test_index_404_raises(server):
    with pytest.raises(SourceError, match="HTTP 404"):
        index(server, names=("VIX",))
    assert server.hits(INDEX.format("VIX")) == 1


# --- VX futures ---


def test_vx_real_month_labels_are_mapped_to_the_file_expiry(server):
    server.route(VX.format(JAN), Reply(200, fixture("VX_2024-01-17.csv")))
    server.route(VX.format(FEB), Reply(200, fixture("VX_2024-02-14.csv")))
    result = vx(server)
    assert result.rejects == []
    frame = result.frame.set_index(
        [result.frame["trade_date"].dt.strftime("%Y-%m-%d"), result.frame["expiry"].dt.strftime("%Y-%m-%d")]
    )
    assert frame.loc[("2024-01-03", "2024-01-17"), ["open", "high", "low", "close", "settle"]].tolist() == [
        14.35,
        15.05,
        14.30,
        14.85,
        14.925,
    ]
    assert frame.loc[("2024-01-03", "2024-01-17"), ["volume", "open_interest"]].tolist() == [92117, 171330]
    assert frame.loc[("2024-01-05", "2024-02-14"), "settle"] == 15.175
    assert len(result.frame) == 8
    assert set(result.frame["source"]) == {"cboe"}


def test_vx_iso_expiry_labels_also_parse(server):
    body = fixture("VX_2024-01-17.csv").replace("F (Jan 2024)", "2024-01-17")
    server.route(VX.format(JAN), Reply(200, body))
    result = vx(server, expiries=(JAN,))
    assert len(result.frame) == 4 and result.rejects == []


def test_vx_label_for_another_month_is_rejected_not_relabelled(server):
    body = fixture("VX_2024-01-17.csv").replace("2024-01-05,F (Jan 2024)", "2024-01-05,G (Feb 2024)")
    server.route(VX.format(JAN), Reply(200, body))
    result = vx(server, expiries=(JAN,))
    assert len(result.frame) == 3
    assert [r["key"] for r in result.rejects] == ["2024-01-05|G (Feb 2024)"]


def test_vx_iso_row_for_another_expiry_is_rejected(server):
    body = fixture("VX_2024-01-17.csv").replace("2024-01-05,F (Jan 2024)", "2024-01-05,2024-02-14")
    server.route(VX.format(JAN), Reply(200, body))
    result = vx(server, expiries=(JAN,))
    assert set(result.frame["expiry"].dt.strftime("%Y-%m-%d")) == {"2024-01-17"}
    assert len(result.frame) == 3
    assert [r["key"] for r in result.rejects] == ["2024-01-05|2024-02-14"]


def test_vx_trade_dates_filtered_to_window(server):
    server.route(VX.format(JAN), Reply(200, fixture("VX_2024-01-17.csv")))
    result = vx(server, expiries=(JAN,), start=dt.date(2024, 1, 3), end=dt.date(2024, 1, 4))
    assert result.frame["settle"].tolist() == [14.925, 14.70]


def test_vx_contract_not_yet_listed_is_skipped(server):
    far = dt.date(2024, 10, 16)  # 9+ months after END
    server.route(VX.format(JAN), Reply(200, fixture("VX_2024-01-17.csv")))
    server.route(VX.format(far), Reply(403, "<Error><Code>AccessDenied</Code></Error>"))
    result = vx(server, expiries=(JAN, far))
    assert len(result.frame) == 4
    assert server.hits(VX.format(far)) == 1


def test_vx_missing_listed_contract_raises(server):
    near = dt.date(2024, 3, 20)
    server.route(VX.format(JAN), Reply(200, fixture("VX_2024-01-17.csv")))
    with pytest.raises(SourceError, match=r"VX_2024-03-20\.csv: HTTP 404"):
        vx(server, expiries=(JAN, near))


def test_vx_contract_expired_before_window_is_not_requested(server):
    server.route(VX.format(FEB), Reply(200, fixture("VX_2024-02-14.csv")))
    result = vx(server, expiries=(JAN, FEB), start=dt.date(2024, 1, 18), end=dt.date(2024, 1, 31))
    assert server.hits(VX.format(JAN)) == 0
    assert result.frame.empty  # the fixture stops at 2024-01-05


def test_vx_429_then_success(server):
    server.route(VX.format(JAN), [Reply(429), Reply(200, fixture("VX_2024-01-17.csv"))])
    assert len(vx(server, expiries=(JAN,)).frame) == 4
    assert server.hits(VX.format(JAN)) == 2


def test_vx_truncated_body_is_a_clear_source_error(server):
    server.route(VX.format(JAN), Reply(200, fixture("VX_2024-01-17.csv"), truncate=True))
    with pytest.raises(SourceError, match=r"VX_2024-01-17\.csv: gave up after"):
        vx(server, expiries=(JAN,))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("Trade Date,Contract,Price\n2024-01-02,VX,14.3\n", "expected columns"),
        (fixture("VX_2024-01-17.csv").replace("F (Jan 2024)", "VX/F4"), "none of 4 rows could be read"),
    ],
    ids=["wrong-header", "unknown-labels"],
)
def test_vx_malformed_file_is_a_source_error(server, body, message):
    server.route(VX.format(JAN), Reply(200, body))
    with pytest.raises(SourceError, match=message):
        vx(server, expiries=(JAN,))
