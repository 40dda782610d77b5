"""Every live download ends: a server that sends its headers and then trickles a byte every 0.1 s
forever, or sends nothing more at all, fails within the attempt deadline and request budget.

The per-read timeout is set far above the deadline here (5 s against 0.5 s), so what stops a trickle
is the deadline itself. Elapsed times are checked only against a generous bound (TERMINATES): the
behaviour under test is that the call returns at all, not how fast it does.
"""

from __future__ import annotations

import datetime as dt
import re
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
import yfinance as yf

from tests.fakehttp import FakeServer, Reply
from tests.sources.test_live_faults import fetch_dgs10
from vixshield.ingest.sources import cboe, yahoo
from vixshield.ingest.sources.base import SourceError
from vixshield.ingest.sources.http import HttpSettings

FIXTURES = Path(__file__).parents[1] / "fixtures"
KEY = "SENTINELKEY123"
DEADLINE = HttpSettings(timeout=5.0, max_retries=1, backoff=0.01, attempt_deadline=0.5, request_budget=30.0)
BUDGET = HttpSettings(timeout=5.0, max_retries=50, backoff=0.01, attempt_deadline=0.5, request_budget=1.25)
TERMINATES = 10.0  # seconds; a safety net against a hang, far above 2 attempts x 0.5 s or a 1.25 s budget
GSPC = "/v8/finance/chart/%5EGSPC"
FRED_API = "/fred/series/observations"
GRAPH = "/graph/fredgraph.csv"
INDEX_VIX = "/api/global/us_indices/daily_prices/VIX_History.csv"
VX = "/data/us/futures/market_statistics/historical_data/VX/VX_2024-01-17.csv"


@pytest.fixture(scope="module", autouse=True)
def _yfinance_cache(tmp_path_factory):
    """Keep yfinance's timezone/cookie caches out of the user's home directory."""
    yf.set_tz_cache_location(str(tmp_path_factory.mktemp("yfinance-cache")))


@pytest.fixture(autouse=True)
def _completed_session(monkeypatch):
    monkeypatch.setattr(yahoo, "last_completed_session", lambda: pd.Timestamp("2024-03-28"))


def fixture(path: str) -> str:
    return (FIXTURES / path).read_text()


@dataclass(frozen=True)
class Download:
    name: str
    path: str  # the route that misbehaves
    body: str  # what it trickles, or announces and never sends
    names: str  # regex: the source and file the error must name
    call: Callable[[str, HttpSettings], object]  # (base URL, settings) -> fetch result


DOWNLOADS = [
    Download(
        "fred-api",
        FRED_API,
        fixture("fred/DGS10_observations.xml"),
        r"FRED API DGS10",
        lambda url, s: fetch_dgs10(url, KEY, s),
    ),
    Download(
        "fredgraph",
        GRAPH,
        fixture("fred/DGS10_fredgraph.csv"),
        r"FRED fredgraph\.csv DGS10",
        lambda url, s: fetch_dgs10(url, None, s),
    ),
    Download(
        "cboe-index",
        INDEX_VIX,
        fixture("cboe/VIX_History.csv"),
        r"Cboe VIX_History\.csv",
        lambda url, s: cboe.fetch_index_history(
            ["VIX"], dt.date(2024, 1, 2), dt.date(2024, 1, 5), settings=s, base_url=url
        ),
    ),
    Download(
        "cboe-vx",
        VX,
        fixture("cboe/VX_2024-01-17.csv"),
        r"Cboe VX_2024-01-17\.csv",
        lambda url, s: cboe.fetch_vx_futures(
            [dt.date(2024, 1, 17)], dt.date(2024, 1, 2), dt.date(2024, 1, 5), settings=s, base_url=url
        ),
    ),
    Download(
        "yahoo",
        GSPC,
        fixture("yahoo/gspc_2024-03.json"),
        r"Yahoo daily bars for \^GSPC",
        lambda url, s: yahoo.fetch_daily_bars(
            ["^GSPC"], dt.date(2024, 3, 1), dt.date(2024, 3, 28), settings=s, base_url=url
        ),
    ),
]

# how the server misbehaves after its headers
BEHAVIOURS: dict[str, Callable[[str], Reply]] = {
    "trickle": lambda body: Reply(200, body, trickle=0.1),
    "stall-after-headers": lambda body: Reply(200, body, hang=True),
}


def serve(server: FakeServer, download: Download, reply: Reply) -> None:
    server.route("/v1/test/getcrumb", Reply(200, "fakeCrumb123"))
    if download.name == "yahoo":  # yfinance's timezone lookup (range=1d) stays healthy; the bars misbehave
        good = Reply(200, download.body)
        server.route(GSPC, lambda hit: reply if "period1" in hit.query else good)
    else:
        server.route(download.path, reply)


def data_hits(server: FakeServer, download: Download) -> int:
    return sum(
        1 for h in server.requests if h.path == download.path and (download.name != "yahoo" or "period1" in h.query)
    )


def run(download: Download, reply: Reply, settings: HttpSettings) -> tuple[SourceError, float, int]:
    with FakeServer() as server:
        serve(server, download, reply)
        started = time.monotonic()
        with pytest.raises(SourceError) as err:
            download.call(server.url, settings)
        elapsed = time.monotonic() - started
        hits = data_hits(server, download)
    assert KEY not in "".join(traceback.format_exception(err.value))
    return err.value, elapsed, hits


@pytest.mark.parametrize("behaviour", list(BEHAVIOURS))
@pytest.mark.parametrize("download", DOWNLOADS, ids=lambda d: d.name)
def test_a_download_that_never_completes_fails_at_its_deadline(download: Download, behaviour: str):
    error, elapsed, hits = run(download, BEHAVIOURS[behaviour](download.body), DEADLINE)
    assert elapsed < TERMINATES  # it terminates: 2 attempts of 0.5 s, where the 5 s read timeout alone never would
    message = str(error)
    assert re.search(download.names, message), message
    assert re.search(r"gave up after 2 attempts.*(deadline|[Tt]ime(d )?out)", message, re.DOTALL), message
    assert error.transient
    assert hits == DEADLINE.max_retries + 1  # a missed deadline is retried like a timeout


@pytest.mark.parametrize("download", [d for d in DOWNLOADS if d.name in ("cboe-index", "yahoo")], ids=lambda d: d.name)
def test_the_request_budget_bounds_all_attempts_and_backoff(download: Download):
    """50 retries allowed, yet a trickling source stops once the 1.25 s budget is spent."""
    error, elapsed, hits = run(download, Reply(200, download.body, trickle=0.1), BUDGET)
    assert elapsed < TERMINATES
    assert re.search(download.names, str(error)), str(error)
    assert error.transient and 2 <= hits <= 4


def test_a_404_with_a_trickling_body_is_not_retried():
    """What cannot heal is not retried, even when its body is slow: the status decides."""
    download = next(d for d in DOWNLOADS if d.name == "cboe-index")
    error, elapsed, hits = run(download, Reply(404, "Not Found", trickle=0.1), DEADLINE)
    assert elapsed < TERMINATES
    assert error.status == 404 and not error.transient and hits == 1
    assert re.search(r"Cboe VIX_History\.csv: HTTP 404", str(error)), str(error)


def test_a_body_within_the_deadline_is_read_whole():
    """The deadline streams the body; a healthy download still arrives complete."""
    download = next(d for d in DOWNLOADS if d.name == "cboe-index")
    with FakeServer() as server:
        server.route(download.path, Reply(200, download.body))
        result = download.call(server.url, DEADLINE)
    assert len(result.frame) == 4 and server.hits(download.path) == 1
