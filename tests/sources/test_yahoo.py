"""vixshield.ingest.sources.yahoo against a local fake of Yahoo's chart API (never the internet).

The real yfinance code runs end to end; `base_url` sends all of its traffic to FakeServer.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import pandas as pd
import pytest
import yfinance as yf
from curl_cffi import requests as curl_requests

from tests.fakehttp import FakeServer, Hit, Reply
from vixshield.ingest.sources import yahoo
from vixshield.ingest.sources.base import SourceError
from vixshield.ingest.sources.http import HttpSettings
from vixshield.store import schemas

FIXTURES = Path(__file__).parent.parent / "fixtures" / "yahoo"
GSPC = "/v8/finance/chart/%5EGSPC"  # curl percent-encodes the caret
NOPE = "/v8/finance/chart/%5ENOPE"
START, END = dt.date(2024, 3, 1), dt.date(2024, 3, 28)
FAST = HttpSettings(timeout=2.0, max_retries=3, backoff=0.01)


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def is_history(hit: Hit) -> bool:
    """The bars request (period1/period2), as opposed to yfinance's range=1d timezone lookup."""
    return "period1" in hit.query


def scripted(history: list[Reply], body: str = fixture("gspc_2024-03.json")):
    """Serve `history` in order (repeating the last) to bars requests; the timezone lookup always
    succeeds, so request counts do not depend on yfinance's on-disk timezone cache."""
    served = []

    def respond(hit: Hit) -> Reply:
        if not is_history(hit):
            return Reply(200, body)
        served.append(hit)
        return history[min(len(served), len(history)) - 1]

    respond.served = served  # type: ignore[attr-defined]
    return respond


@pytest.fixture(scope="module", autouse=True)
def _yfinance_cache(tmp_path_factory):
    """Keep yfinance's timezone/cookie sqlite caches out of the user's home directory."""
    yf.set_tz_cache_location(str(tmp_path_factory.mktemp("yfinance-cache")))


@pytest.fixture
def server(monkeypatch):
    monkeypatch.setattr(yahoo, "last_completed_session", lambda: pd.Timestamp("2024-03-28"))
    with FakeServer() as srv:
        srv.route("/v1/test/getcrumb", Reply(200, "fakeCrumb123"))
        yield srv


def fetch(srv: FakeServer, symbols=("^GSPC",), start=START, end=END, settings=FAST) -> pd.DataFrame:
    return yahoo.fetch_daily_bars(list(symbols), start, end, settings=settings, base_url=srv.url).frame


def test_parses_fixture_values_exactly(server):
    server.route(GSPC, Reply(200, fixture("gspc_2024-03.json")))
    frame = fetch(server)

    result = json.loads(fixture("gspc_2024-03.json"))["chart"]["result"][0]
    quote, adj = result["indicators"]["quote"][0], result["indicators"]["adjclose"][0]["adjclose"]
    sessions = pd.to_datetime(result["timestamp"], unit="s", utc=True).tz_convert("America/New_York")
    expected = pd.DataFrame(
        {
            "symbol": "^GSPC",
            "date": sessions.tz_localize(None).normalize(),
            **{k: quote[k] for k in ("open", "high", "low", "close")},
            "adj_close": adj,
            "volume": quote["volume"],
            "source": "yahoo",
        }
    )
    assert frame["date"].min() == pd.Timestamp("2024-03-01") and len(frame) == 20  # across the DST switch
    pd.testing.assert_frame_equal(frame, schemas.conform(expected, "daily_bars"))
    # yfinance's crumb came from the fake server too (fetched in this test or an earlier one).
    assert all(h.query.get("crumb") == ["fakeCrumb123"] for h in server.requests if h.path == GSPC)


def test_base_url_redirects_every_yahoo_host(server):
    session = yahoo._YahooSession(FAST, server.url + "/yahoo")
    for url in (
        "https://fc.yahoo.com",  # cookie
        "https://query1.finance.yahoo.com/v1/test/getcrumb",
        "https://guce.yahoo.com/consent",  # csrf cookie strategy
        "https://query2.finance.yahoo.com/v8/finance/chart/%5EGSPC?range=1d&interval=1d",
    ):
        session.get(url)
    assert [(h.path, h.query) for h in server.requests] == [
        ("/yahoo", {}),
        ("/yahoo/v1/test/getcrumb", {}),
        ("/yahoo/consent", {}),
        ("/yahoo" + GSPC, {"range": ["1d"], "interval": ["1d"]}),
    ]
    # The config default names a Yahoo host: that means Yahoo's own hosts, no rewrite.
    assert yahoo._YahooSession(FAST, "https://query2.finance.yahoo.com").base is None


def test_every_request_gets_the_settings_timeout(server):
    """yfinance asks for 30 s on its cookie/crumb requests; ours must win."""
    server.route("/v1/test/getcrumb", Reply(200, "late", delay=1.5))
    session = yahoo._YahooSession(HttpSettings(timeout=0.3), server.url)
    started = time.monotonic()
    with pytest.raises(curl_requests.exceptions.Timeout):
        session.get("https://query1.finance.yahoo.com/v1/test/getcrumb", timeout=30)
    assert time.monotonic() - started < 1.0


@pytest.mark.parametrize("status", [429, 503])
def test_retries_429_and_5xx_then_succeeds(server, status):
    script = scripted([Reply(status, "Too Many Requests"), Reply(status), Reply(200, fixture("gspc_2024-03.json"))])
    server.route(GSPC, script)
    frame = fetch(server)
    assert len(script.served) == 3
    assert frame["close"].iloc[-1] == pytest.approx(5254.35, abs=1e-3)


def test_gives_up_after_bounded_retries(server):
    script = scripted([Reply(429, "Too Many Requests")])
    server.route(GSPC, script)
    with pytest.raises(SourceError, match=r"\^GSPC.*gave up after 3 attempts.*HTTP 429"):
        fetch(server, settings=HttpSettings(timeout=2.0, max_retries=2, backoff=0.01))
    assert len(script.served) == 3


@pytest.mark.parametrize(
    "reply",
    [
        Reply(404, fixture("not_found.json")),  # unknown symbol
        Reply(200, fixture("gspc_2024-03_null.json")),  # timestamps, volume, but null prices
        Reply(200, fixture("gspc_empty.json")),  # meta only, empty indicators
    ],
    ids=["404", "null-closes", "empty-result"],
)
def test_symbol_returning_nothing_fails_naming_it(server, reply):
    server.route(GSPC, Reply(200, fixture("gspc_2024-03.json")))
    server.route(NOPE, reply)
    with pytest.raises(SourceError, match=r"no daily bars for \^NOPE") as err:
        fetch(server, symbols=("^GSPC", "^NOPE"))
    assert "^GSPC" not in str(err.value)


def test_intraday_partial_bar_is_dropped(server, monkeypatch):
    # 13:05 ET on 2024-03-28: that session has not closed, Yahoo still sends its live bar.
    monkeypatch.setattr(yahoo, "last_completed_session", lambda: pd.Timestamp("2024-03-27"))
    server.route(GSPC, Reply(200, fixture("gspc_2024-03_partial.json")))
    frame = fetch(server, end=dt.date(2024, 3, 28))
    assert frame["date"].max() == pd.Timestamp("2024-03-27")
    assert frame["close"].iloc[-1] == pytest.approx(5248.49, abs=1e-3)


def test_bars_after_end_are_dropped(server):
    server.route(GSPC, Reply(200, fixture("gspc_2024-03.json")))  # ignores period2, as a stale cache might
    frame = fetch(server, end=dt.date(2024, 3, 20))
    assert frame["date"].max() == pd.Timestamp("2024-03-20") and len(frame) == 14


def test_window_without_a_completed_session_asks_nothing(server):
    frame = fetch(server, start=dt.date(2024, 3, 29), end=dt.date(2024, 3, 31))  # Good Friday + weekend
    assert frame.empty and list(frame.columns) == schemas.columns("daily_bars")
    assert server.requests == []


def test_stall_past_timeout_is_retried(server):
    body = fixture("gspc_2024-03.json")
    script = scripted([Reply(200, body, delay=1.5), Reply(200, body)])
    server.route(GSPC, script)
    frame = fetch(server, settings=HttpSettings(timeout=0.3, max_retries=2, backoff=0.01))
    assert len(script.served) == 2 and len(frame) == 20


def test_stall_forever_fails_with_timeout(server):
    script = scripted([Reply(200, fixture("gspc_2024-03.json"), delay=1.5)])
    server.route(GSPC, script)
    with pytest.raises(SourceError, match=r"gave up after 2 attempts.*Timeout"):
        fetch(server, settings=HttpSettings(timeout=0.3, max_retries=1, backoff=0.01))
    assert len(script.served) == 2
