"""FRED downloader against a scripted local server (never the internet)."""

from __future__ import annotations

import datetime as dt
import logging
import socket
from pathlib import Path

import pandas as pd
import pytest

from tests.fakehttp import FakeServer, Hit, Reply
from vixshield.ingest.sources import fred
from vixshield.ingest.sources.base import SourceError
from vixshield.ingest.sources.http import HttpSettings

FIXTURES = Path(__file__).parents[1] / "fixtures" / "fred"
KEY = "SENTINELKEY123"
FAST = HttpSettings(timeout=2.0, max_retries=2, backoff=0.01)
# the values in both DGS10 fixtures (API XML and fredgraph.csv); the holiday (2024-01-15) is missing
DGS10_VALUES = {"2024-01-09": 4.02, "2024-01-10": 4.04, "2024-01-11": 3.98, "2024-01-12": 3.96, "2024-01-16": 4.07}
API = "/fred/series/observations"
GRAPH = "/graph/fredgraph.csv"
START, END = dt.date(2024, 1, 2), dt.date(2024, 1, 16)


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def fetch(server: FakeServer, ids=("DGS10",), api_key: str | None = KEY, settings=FAST, start=START, end=END):
    return fred.fetch_observations(
        list(ids),
        start,
        end,
        api_key=api_key,
        settings=settings,
        api_url=server.url + "/fred",
        fredgraph_url=server.url + GRAPH,
    )


def values(result) -> dict[str, float]:
    frame = result.frame
    return dict(zip(frame["observation_date"].dt.strftime("%Y-%m-%d"), frame["value"], strict=True))


@pytest.fixture
def server():
    with FakeServer() as s:
        yield s


# --- API (with key) ---


def test_api_happy_path_parses_xml_and_drops_dot(server):
    server.route(API, Reply(200, fixture("DGS10_observations.xml")))
    result = fetch(server)
    assert result.family == "macro_observations"
    assert values(result) == DGS10_VALUES
    assert set(result.frame["series_id"]) == {"DGS10"}
    assert set(result.frame["source"]) == {"fred"}
    assert result.frame["available_date"].isna().all()
    [hit] = server.requests
    assert hit.query == {
        "series_id": ["DGS10"],
        "observation_start": ["2024-01-02"],
        "observation_end": ["2024-01-16"],
        "api_key": [KEY],
    }


def test_api_blank_value_is_dropped_and_window_enforced(server):
    xml = fixture("DGS10_observations.xml").replace('value="3.98"', 'value=""')
    server.route(API, Reply(200, xml))
    result = fetch(server, start=dt.date(2024, 1, 10), end=dt.date(2024, 1, 12))
    assert values(result) == {"2024-01-10": 4.04, "2024-01-12": 3.96}


def test_api_400_raises_at_once_with_clear_message(server):
    server.route(API, Reply(400, fixture("error_400_series.xml")))
    with pytest.raises(SourceError) as err:
        fetch(server, ids=("NOSUCHSERIES",))
    assert server.hits(API) == 1
    assert "NOSUCHSERIES" in str(err.value)
    assert "The series does not exist" in str(err.value)
    assert "not retried" in str(err.value)


def test_api_503_then_success(server):
    server.route(API, [Reply(503, "busy"), Reply(200, fixture("DGS10_observations.xml"))])
    assert len(fetch(server).frame) == 5
    assert server.hits(API) == 2


def test_api_503_forever_gives_up_after_bounded_retries(server):
    server.route(API, Reply(503, "busy"))
    with pytest.raises(SourceError, match="gave up after 3 attempts"):
        fetch(server)
    assert server.hits(API) == 3


def test_api_timeout_is_retried_then_succeeds(server):
    server.route(
        API,
        [
            Reply(200, fixture("DGS10_observations.xml"), delay=1.0),
            Reply(200, fixture("DGS10_observations.xml")),
        ],
    )
    result = fetch(server, settings=HttpSettings(timeout=0.2, max_retries=2, backoff=0.01))
    assert len(result.frame) == 5
    assert server.hits(API) == 2


def test_api_timeout_forever_raises(server):
    server.route(API, Reply(200, fixture("DGS10_observations.xml"), delay=1.0))
    with pytest.raises(SourceError, match="Timeout"):
        fetch(server, settings=HttpSettings(timeout=0.2, max_retries=1, backoff=0.01))
    assert server.hits(API) == 2


def test_api_non_xml_body_is_a_source_error(server):
    server.route(API, Reply(200, "<html><body>maintenance"))
    with pytest.raises(SourceError, match="not FRED XML"):
        fetch(server)


def test_api_truncated_body_is_a_source_error(server):
    server.route(API, Reply(200, fixture("DGS10_observations.xml"), truncate=True))
    with pytest.raises(SourceError, match=r"gave up after .*ChunkedEncodingError"):
        fetch(server)


def test_one_failing_series_fails_the_whole_call(server):
    server.route(
        API,
        lambda hit: (
            Reply(200, fixture("DGS10_observations.xml"))
            if hit.query["series_id"] == ["DGS10"]
            else Reply(400, fixture("error_400_series.xml"))
        ),
    )
    with pytest.raises(SourceError, match="BADID"):
        fetch(server, ids=("DGS10", "BADID"))
    assert server.hits(API) == 2


# --- the key never leaks ---


def _echo_key(hit: Hit) -> Reply:
    key = hit.query["api_key"][0]
    return Reply(400, f'<?xml version="1.0"?><error code="400" message="Bad Request. Key {key} unknown."/>')


@pytest.mark.parametrize(
    "reply",
    [
        Reply(400, fixture("error_400_series.xml")),
        Reply(503, "busy"),
        Reply(200, "", truncate=True),
        _echo_key,
    ],
    ids=["400", "503-forever", "truncated", "400-echoing-key"],
)
def test_key_absent_from_errors_and_logs(server, caplog, reply):
    caplog.set_level(logging.DEBUG)  # urllib3 logs request URLs at DEBUG
    server.route(API, reply)
    with pytest.raises(SourceError) as err:
        fetch(server)
    assert server.hits(API) >= 1
    assert KEY not in str(err.value)
    assert KEY not in repr(err.value.__cause__) and KEY not in repr(err.value.__context__)
    assert KEY not in caplog.text
    assert "api_key=***" in caplog.text or "***" in str(err.value)


def test_key_absent_when_host_refuses_connections(caplog):
    caplog.set_level(logging.DEBUG)
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(SourceError) as err:
        fred.fetch_observations(
            ["DGS10"],
            START,
            END,
            api_key=KEY,
            settings=FAST,
            api_url=f"http://127.0.0.1:{port}/fred",
            fredgraph_url="unused",
        )
    assert "ConnectionError" in str(err.value)
    assert KEY not in str(err.value)
    assert KEY not in caplog.text


# --- keyless fredgraph.csv ---


def test_fredgraph_observation_date_header_and_blank_missing(server):
    server.route(GRAPH, Reply(200, fixture("DGS10_fredgraph.csv")))
    result = fetch(server, api_key=None)
    assert values(result) == DGS10_VALUES
    [hit] = server.requests
    assert hit.path == GRAPH
    assert hit.query == {"id": ["DGS10"], "cosd": ["2024-01-02"], "coed": ["2024-01-16"]}
    assert "api_key" not in hit.query


def test_fredgraph_old_date_header_and_dot_missing(server):
    server.route(GRAPH, Reply(200, fixture("VIXCLS_fredgraph_DATE.csv")))
    result = fetch(server, ids=("VIXCLS",), api_key=None, start=dt.date(2019, 1, 1), end=dt.date(2019, 1, 4))
    assert values(result) == {"2019-01-02": 23.22, "2019-01-03": 25.45, "2019-01-04": 21.38}
    assert result.frame["observation_date"].dtype == "datetime64[us]"


def test_fredgraph_multiple_series_concatenate(server):
    server.route(
        GRAPH,
        lambda hit: Reply(
            200,
            fixture("DGS10_fredgraph.csv") if hit.query["id"] == ["DGS10"] else fixture("VIXCLS_fredgraph_DATE.csv"),
        ),
    )
    result = fetch(server, ids=("DGS10", "VIXCLS"), api_key=None, start=dt.date(2019, 1, 1))
    counts = result.frame.groupby("series_id").size().to_dict()
    assert counts == {"DGS10": 5, "VIXCLS": 4}


def test_fredgraph_html_page_is_a_source_error(server):
    server.route(GRAPH, Reply(200, "<!DOCTYPE html><html><body>Series not found</body></html>"))
    with pytest.raises(SourceError, match="no observation_date/DATE column"):
        fetch(server, api_key=None)


def test_fredgraph_400_not_retried(server):
    server.route(GRAPH, Reply(400, "bad request"))
    with pytest.raises(SourceError, match="HTTP 400"):
        fetch(server, api_key=None)
    assert server.hits(GRAPH) == 1


def test_fredgraph_unreadable_date_is_a_reject_not_a_row(server):
    server.route(GRAPH, Reply(200, fixture("DGS10_fredgraph.csv") + "2024-13-45,9.99\n"))
    result = fetch(server, api_key=None)
    assert len(result.frame) == 5
    assert [r["key"] for r in result.rejects] == ["DGS10|2024-13-45"]
    assert not (result.frame["value"] == 9.99).any()
    assert pd.Timestamp(END) >= result.frame["observation_date"].max()
