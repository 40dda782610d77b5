"""Every live publisher under every network fault, through scripted servers on 127.0.0.1.

Faults: connection refused (a closed port), a stall past the timeout, a 429 storm, 5xx, a body cut
short, a malformed body. Each must end in a bounded number of attempts and a SourceError naming
the publisher and the fault; through `ingest.load`, a failing family leaves its raw table exactly as
it was while a family from a healthy server is stored. The FRED key never shows in an error or log.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
import re
import socket
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yfinance as yf

from tests.fakehttp import FakeServer, Reply
from vixshield import calendars
from vixshield.catalog import DAILY_SYMBOLS
from vixshield.config import LiveSettings, Settings
from vixshield.ingest import load as ingest
from vixshield.ingest.sources import cboe, fred, yahoo
from vixshield.ingest.sources.base import FetchWindow, SourceError
from vixshield.ingest.sources.http import HttpSettings
from vixshield.ingest.sources.live import LiveSource
from vixshield.store import warehouse
from vixshield.validate import expectations

FIXTURES = Path(__file__).parents[1] / "fixtures"
KEY = "SENTINELKEY123"
FAST = HttpSettings(timeout=0.3, max_retries=2, backoff=0.01)
ATTEMPTS = FAST.max_retries + 1
MAX_SECONDS = 8.0  # far above 3 attempts x 0.3 s; "never hangs" is what is checked
GSPC = "/v8/finance/chart/%5EGSPC"
FRED_API = "/fred/series/observations"
GRAPH = "/graph/fredgraph.csv"
INDEX = "/api/global/us_indices/daily_prices/{}_History.csv"
VX = "/data/us/futures/market_statistics/historical_data/VX/VX_{}.csv"
VX_HEADER = "Trade Date,Futures,Open,High,Low,Close,Settle,Change,Total Volume,EFP,Open Interest"
WINDOW = FetchWindow(dt.date(2024, 3, 1), dt.date(2024, 3, 28))
MARCH = pd.bdate_range("2024-03-01", "2024-03-28")
CBOE_NAMES = [d.cboe_name for d in DAILY_SYMBOLS if d.cboe_name]


def fixture(path: str) -> str:
    return (FIXTURES / path).read_text()


def closed_port_url() -> str:
    with socket.socket() as sock:  # bound, never listening, then released: connections are refused
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture(scope="module", autouse=True)
def _yfinance_cache(tmp_path_factory):
    """Keep yfinance's timezone/cookie caches out of the user's home directory."""
    yf.set_tz_cache_location(str(tmp_path_factory.mktemp("yfinance-cache")))


@pytest.fixture(autouse=True)
def _no_key_leaks(monkeypatch, caplog) -> Iterator[None]:
    """FRED_API_KEY is set for every test; afterwards no captured log line may contain it."""
    monkeypatch.setenv("FRED_API_KEY", KEY)
    monkeypatch.setattr(yahoo, "last_completed_session", lambda: pd.Timestamp("2024-03-28"))
    caplog.set_level(logging.DEBUG)  # urllib3 logs request URLs (with the query string) at DEBUG
    yield
    assert KEY not in caplog.text


def assert_no_key(exc: BaseException) -> None:
    text = "".join(traceback.format_exception(exc))  # the message, causes and contexts
    assert KEY not in text


# --- healthy bodies, generated for whatever is asked ---


def cboe_index_body(name: str) -> str:
    if name in ("VVIX", "SKEW"):
        return f"DATE,{name}\n" + "".join(f"{d:%m/%d/%Y},{100 + i / 10:.2f}\n" for i, d in enumerate(MARCH))
    rows = [
        f"{d:%m/%d/%Y},{14 + i / 10:.2f},{15 + i / 10:.2f},{13 + i / 10:.2f},{14.5 + i / 10:.2f}\n"
        for i, d in enumerate(MARCH)
    ]
    return "DATE,OPEN,HIGH,LOW,CLOSE\n" + "".join(rows)


def vx_body(expiry: str) -> str:
    rows = [
        f"{d:%Y-%m-%d},{expiry},15.0,15.5,14.5,15.2,15.25,0.1,1000,0,50000\n"
        for d in MARCH
        if d <= pd.Timestamp(expiry)
    ]
    return VX_HEADER + "\n" + "".join(rows)


def fred_xml(series_id: str) -> str:
    dates = ["2024-01-01", "2024-02-01", "2024-03-01"]
    obs = "".join(
        f'<observation realtime_start="2024-03-28" realtime_end="2024-03-28" date="{d}" value="4.{i}"/>'
        for i, d in enumerate(dates)
    )
    return f'<?xml version="1.0" encoding="utf-8" ?><observations count="{len(dates)}">{obs}</observations>'


# --- one publisher = how to call it, where its data lives, what its errors say ---


@dataclass(frozen=True)
class Publisher:
    name: str
    path: str  # the route the fault is put on
    good: str  # a body that parses
    malformed: str  # a 200 whose body is not what the publisher serves
    names: str  # regex the error must contain: which publisher and file
    malformed_says: str
    call: Callable[[str], object]  # base URL -> fetch result
    data_hits: Callable[[FakeServer], int]  # requests that count as attempts


def _yahoo_hits(server: FakeServer) -> int:
    return sum(1 for h in server.requests if h.path == GSPC and "period1" in h.query)


def fetch_dgs10(url: str, api_key: str | None, settings: HttpSettings = FAST):
    """FRED's DGS10 through the API (with a key) or fredgraph.csv (without), both served at `url`."""
    return fred.fetch_observations(
        ["DGS10"],
        dt.date(2024, 1, 2),
        dt.date(2024, 1, 16),
        api_key=api_key,
        settings=settings,
        api_url=url + "/fred",
        fredgraph_url=url + GRAPH,
    )


PUBLISHERS = [
    Publisher(
        "yahoo",
        GSPC,
        fixture("yahoo/gspc_2024-03.json"),
        '{"chart": {"result": [{"meta": ',
        r"Yahoo.*\^GSPC",
        r"no daily bars for \^GSPC.*nothing was stored",
        lambda url: yahoo.fetch_daily_bars(["^GSPC"], WINDOW.start, WINDOW.end, settings=FAST, base_url=url),
        _yahoo_hits,
    ),
    Publisher(
        "fred-api",
        FRED_API,
        fixture("fred/DGS10_observations.xml"),
        "<html><body>maintenance",
        r"FRED API DGS10",
        "not FRED XML",
        lambda url: fetch_dgs10(url, KEY),
        lambda s: s.hits(FRED_API),
    ),
    Publisher(
        "fredgraph",
        GRAPH,
        fixture("fred/DGS10_fredgraph.csv"),
        "<!DOCTYPE html><html><body>Series not found</body></html>",
        r"FRED.*DGS10",
        "no observation_date/DATE column",
        lambda url: fetch_dgs10(url, None),
        lambda s: s.hits(GRAPH),
    ),
    Publisher(
        "cboe-index",
        INDEX.format("VIX"),
        fixture("cboe/VIX_History.csv"),
        "<!DOCTYPE html><html><body>Access Denied</body></html>",
        r"Cboe VIX_History\.csv",
        "expected columns",
        lambda url: cboe.fetch_index_history(
            ["VIX"], dt.date(2024, 1, 2), dt.date(2024, 1, 5), settings=FAST, base_url=url
        ),
        lambda s: s.hits(INDEX.format("VIX")),
    ),
    Publisher(
        "cboe-vx",
        VX.format("2024-01-17"),
        fixture("cboe/VX_2024-01-17.csv"),
        "Trade Date,Contract,Price\n2024-01-02,VX,14.3\n",
        r"Cboe VX_2024-01-17\.csv",
        "expected columns",
        lambda url: cboe.fetch_vx_futures(
            [dt.date(2024, 1, 17)], dt.date(2024, 1, 2), dt.date(2024, 1, 5), settings=FAST, base_url=url
        ),
        lambda s: s.hits(VX.format("2024-01-17")),
    ),
]

PUBLISHERS_BY_NAME = {p.name: p for p in PUBLISHERS}

# fault -> (reply, or None for a refused connection; retried?; what the error must say)
FAULTS: dict[str, tuple[Callable[[Publisher], Reply] | None, bool, str]] = {
    "refused": (None, True, r"gave up after 3 attempts.*(ConnectionError|Connection refused|Could not connect)"),
    "stall": (lambda p: Reply(200, p.good, delay=1.0), True, r"gave up after 3 attempts.*Timeout"),
    "429-storm": (lambda p: Reply(429, "Too Many Requests"), True, r"gave up after 3 attempts.*HTTP 429"),
    "5xx": (lambda p: Reply(503, "Service Unavailable"), True, r"gave up after 3 attempts.*HTTP 503"),
    "truncated": (lambda p: Reply(200, p.good, truncate=True), True, r"gave up after 3 attempts"),
    "malformed": (lambda p: Reply(200, p.malformed), False, ""),
}


def faulty_route(server: FakeServer, publisher: Publisher, reply: Reply) -> None:
    if publisher.name == "yahoo":  # yfinance's timezone lookup (range=1d) stays healthy; bars fail
        good = Reply(200, publisher.good)
        server.route(GSPC, lambda hit: reply if "period1" in hit.query else good)
    else:
        server.route(publisher.path, reply)


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("publisher", PUBLISHERS, ids=lambda p: p.name)
def test_fault_gives_a_bounded_clear_source_error(publisher: Publisher, fault: str):
    make_reply, retried, says = FAULTS[fault]
    with FakeServer() as server:
        server.route("/v1/test/getcrumb", Reply(200, "fakeCrumb123"))
        if make_reply is None:
            url = closed_port_url()
        else:
            url = server.url
            faulty_route(server, publisher, make_reply(publisher))
        started = time.monotonic()
        with pytest.raises(SourceError) as err:
            publisher.call(url)
        elapsed = time.monotonic() - started
    message = str(err.value)
    assert elapsed < MAX_SECONDS
    assert re.search(publisher.names, message), message
    assert re.search(says or publisher.malformed_says, message, re.DOTALL), message
    if make_reply is not None:
        assert publisher.data_hits(server) == (ATTEMPTS if retried else 1)
    assert_no_key(err.value)


def test_fred_api_well_formed_non_fred_xml_is_a_source_error():
    with FakeServer() as server:
        server.route(FRED_API, Reply(200, "<html><body>Down for maintenance</body></html>"))
        with pytest.raises(SourceError, match="FRED API DGS10"):
            PUBLISHERS_BY_NAME["fred-api"].call(server.url)


def test_a_fault_then_recovery_is_retried_to_success():
    """The retries are real: one 503 and one stall, then the good body, and the data comes back."""
    with FakeServer() as server:
        publisher = next(p for p in PUBLISHERS if p.name == "cboe-index")
        server.route(publisher.path, [Reply(503), Reply(200, publisher.good, delay=1.0), Reply(200, publisher.good)])
        result = publisher.call(server.url)
    assert len(result.frame) == 4 and server.hits(publisher.path) == 3


# --- through ingest.load: nothing partial is stored ---


@pytest.fixture
def servers() -> Iterator[dict[str, FakeServer]]:
    """Healthy fakes of the three publishers, serving every file a live run over WINDOW asks for."""
    with FakeServer() as y, FakeServer() as f, FakeServer() as c:
        y.route("/v1/test/getcrumb", Reply(200, "fakeCrumb123"))
        y.route(GSPC, Reply(200, fixture("yahoo/gspc_2024-03.json")))
        f.route(FRED_API, lambda hit: Reply(200, fred_xml(hit.query["series_id"][0])))
        for name in CBOE_NAMES:
            c.route(INDEX.format(name), Reply(200, cboe_index_body(name)))
        for expiry in calendars.vix_expirations(WINDOW.start, pd.Timestamp(WINDOW.end) + pd.DateOffset(months=10)):
            c.route(VX.format(f"{expiry:%Y-%m-%d}"), Reply(200, vx_body(f"{expiry:%Y-%m-%d}")))
        yield {"yahoo": y, "fred": f, "cboe": c}


def live_source(servers: dict[str, FakeServer], **urls: str) -> LiveSource:
    live = LiveSettings(
        yahoo_url=servers["yahoo"].url,
        fred_api_url=servers["fred"].url + "/fred",
        fredgraph_url=servers["fred"].url + GRAPH,
        cboe_url=servers["cboe"].url,
        timeout=FAST.timeout,
        max_retries=FAST.max_retries,
        backoff=FAST.backoff,
    )
    return LiveSource(dataclasses.replace(Settings(), universe=(), live=dataclasses.replace(live, **urls)))


def digest(conn: duckdb.DuckDBPyConnection, family: str) -> str:
    frame = conn.execute(f"SELECT * FROM raw.{family} ORDER BY ALL").df()
    return hashlib.sha256(frame.to_csv().encode()).hexdigest()


@pytest.fixture
def conn(tmp_path) -> Iterator[duckdb.DuckDBPyConnection]:
    with warehouse.connect(tmp_path / "warehouse.duckdb") as c:
        warehouse.init_schema(c)
        yield c


def test_healthy_fakes_load_every_family(servers, conn):
    """The baseline the fault tests depend on: the same fakes, unbroken, fill every table."""
    source = live_source(servers)
    for family in ("daily_bars", "macro_observations", "vx_futures"):
        result = ingest.load(conn, source, family, WINDOW, "healthy")
        assert result.inserted > 0, family
    symbols = {r[0] for r in conn.execute("SELECT DISTINCT symbol FROM raw.daily_bars").fetchall()}
    assert {"^GSPC", "^VIX", "^VIX3M", "^VVIX", "^SKEW"} <= symbols


# failing publisher -> (family it breaks, route on its server, its good body, a family from a healthy server)
BREAKS = {
    "yahoo": ("daily_bars", GSPC, fixture("yahoo/gspc_2024-03.json"), "macro_observations"),
    # after ^GSPC (Yahoo) and ^VIX, ^VIX9D (Cboe) were fetched: those must not be stored either
    "cboe-index": ("daily_bars", INDEX.format("VIX3M"), cboe_index_body("VIX3M"), "macro_observations"),
    "fred-api": ("macro_observations", FRED_API, fred_xml("DGS10"), "vx_futures"),
    "cboe-vx": ("vx_futures", VX.format("2024-05-22"), vx_body("2024-05-22"), "macro_observations"),  # 3rd contract
}
SERVER_OF = {"yahoo": "yahoo", "cboe-index": "cboe", "fred-api": "fred", "cboe-vx": "cboe"}
URL_SETTING = {"yahoo": "yahoo_url", "cboe-index": "cboe_url", "fred-api": "fred_api_url", "cboe-vx": "cboe_url"}


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("failing", list(BREAKS))
def test_failing_family_stores_nothing_healthy_family_is_stored(servers, conn, failing, fault):
    family, path, good, healthy = BREAKS[failing]
    ingest.load(conn, live_source(servers), family, WINDOW, "seed")  # the table holds a previous load
    before = digest(conn, family)
    seeded = conn.execute(f"SELECT count(*) FROM raw.{family}").fetchone()[0]
    assert seeded > 0

    make_reply, _, _ = FAULTS[fault]
    if make_reply is None:
        source = live_source(
            servers, **{URL_SETTING[failing]: closed_port_url() + ("/fred" if failing == "fred" else "")}
        )
    else:
        server = servers[SERVER_OF[failing]]
        publisher = dataclasses.replace(PUBLISHERS_BY_NAME[failing], path=path, good=good)
        faulty_route(server, publisher, make_reply(publisher))
        source = live_source(servers)

    started = time.monotonic()
    with pytest.raises(SourceError) as err:
        ingest.load(conn, source, family, WINDOW, "second")
    assert time.monotonic() - started < 3 * MAX_SECONDS
    assert_no_key(err.value)
    assert digest(conn, family) == before  # not one row added, revised or stamped
    assert conn.execute(f"SELECT count(*) FROM raw.{family} WHERE run_id = 'second'").fetchone()[0] == 0

    result = ingest.load(conn, source, healthy, WINDOW, "second")
    assert result.inserted > 0
    stored = conn.execute(f"SELECT * FROM raw.{healthy} WHERE run_id = 'second'").df()
    assert len(stored) == result.inserted
    blocking = [o.name for o in expectations.validate_table(healthy, stored) if o.blocking and not o.passed]
    assert blocking == []
