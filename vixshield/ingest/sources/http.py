"""HTTP for the live sources: a total deadline on every attempt, a total budget for every request,
bounded retries with jittered exponential backoff on 429/5xx/timeouts, and API keys scrubbed from
every message.

Why a deadline and not just `requests`' timeout: that timeout bounds each socket read, so a server
that trickles one byte every few seconds never trips it. `get` streams the body and a watchdog
shuts the socket down when the attempt's deadline passes (urllib3 blocks until a whole chunk has
arrived, so checking the clock between chunks alone would not stop a trickle).
"""

from __future__ import annotations

import contextlib
import logging
import random
import re
import socket
import threading
import time
from dataclasses import dataclass

import requests

from vixshield.ingest.sources.base import SourceError

log = logging.getLogger(__name__)
RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
_SECRET = re.compile(r"(api_key|apikey|token|crumb)=([^&\s'\"]+)", re.IGNORECASE)


def scrub(text: str) -> str:
    """Hide credentials that publishers expect in query strings."""
    return _SECRET.sub(r"\1=***", text)


class _ScrubFilter(logging.Filter):
    """Rewrites a record's message with `scrub` (urllib3 logs `GET /...?api_key=...` at DEBUG)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is not ours to fix; leave it alone
            return True
        record.msg, record.args = scrub(message), None
        return True


_urllib3_log = logging.getLogger("urllib3.connectionpool")
if not any(isinstance(f, _ScrubFilter) for f in _urllib3_log.filters):
    _urllib3_log.addFilter(_ScrubFilter())


@dataclass(frozen=True)
class HttpSettings:
    """How long the live sources may wait. Why these defaults: the largest download (a FRED daily
    series' whole history as XML, ~2 MB) takes seconds on an ordinary link, so 60 s per attempt is
    ample, and 150 s per request fits two full attempts plus their backoff (60 + <=1 + 60 + <=2 s).
    Without the budget a trickling source would fail only after 5 x 60 s + up to 15 s of backoff;
    with it a source that stalls or trickles fails within 150 s of its first request (plus at most
    `timeout` if it trickles its headers, which only the per-read timeout bounds). A server that
    never answers fails on `timeout`: 5 attempts x 20 s + backoff, ~115 s at most."""

    timeout: float = 20.0  # seconds to connect, and per socket read: a silent server fails after this
    max_retries: int = 4  # retries after the first attempt
    backoff: float = 1.0  # first delay in seconds; doubles each retry, with full jitter
    max_backoff: float = 30.0
    attempt_deadline: float = 60.0  # seconds for one attempt in total: connect, headers and the whole body
    request_budget: float = 150.0  # seconds for one request in total: every attempt and every backoff


def backoff_delay(attempt: int, settings: HttpSettings) -> float:
    """Full-jitter exponential backoff (AWS architecture blog): uniform in [0, base*2^attempt]."""
    return random.uniform(0, min(settings.max_backoff, settings.backoff * 2**attempt))


CHUNK = 64 * 1024


class DeadlineExceeded(Exception):
    """An attempt's total deadline passed before its body was complete (transient: retried)."""


def _interrupt(resp: requests.Response) -> None:
    """Wake a read blocked on `resp`'s socket (the watchdog's job). urllib3 >= 2.3 offers this as
    `shutdown()`; older versions expose the socket. A response already released has nothing to wake."""
    with contextlib.suppress(Exception):
        resp.raw.shutdown()
        return
    with contextlib.suppress(Exception):
        resp.raw.connection.sock.shutdown(socket.SHUT_RD)


def _read_body(resp: requests.Response, deadline: float) -> None:
    """Read the whole body into `resp` by `deadline` (time.monotonic) or raise DeadlineExceeded."""
    expired = threading.Event()

    def expire() -> None:
        expired.set()
        _interrupt(resp)

    watchdog = threading.Timer(max(0.0, deadline - time.monotonic()), expire)
    watchdog.daemon = True
    watchdog.start()
    chunks: list[bytes] = []
    try:
        for chunk in resp.iter_content(CHUNK):
            chunks.append(chunk)
            if time.monotonic() >= deadline:
                expired.set()
                break
    except requests.RequestException:
        if not expired.is_set():
            raise
    finally:
        watchdog.cancel()
        watchdog.join()
    if expired.is_set():  # also when a body without Content-Length simply ended at the shutdown
        raise DeadlineExceeded
    resp._content = b"".join(chunks)  # what `resp.content` returns, as requests itself does it


def _excerpt(resp: requests.Response, deadline: float) -> str:
    """The start of an error response's body for the message; a status that is not retried stays
    so even when its body is slow or broken, so a failed read only loses the excerpt."""
    try:
        _read_body(resp, deadline)
    except (DeadlineExceeded, requests.RequestException) as exc:
        return f"(body unreadable: {type(exc).__name__})"
    return resp.text[:200]


def pause_before_retry(attempt: int, settings: HttpSettings, budget_end: float, what: str, last: str) -> str | None:
    """Sleep the jittered backoff before attempt `attempt + 1` and return None; or, when no attempt
    is left or the wait would pass the request budget (`budget_end`, time.monotonic()), return what
    to add to the last error and do not wait."""
    if attempt >= settings.max_retries:
        return ""
    delay = backoff_delay(attempt, settings)
    if time.monotonic() + delay >= budget_end:
        return f" (request budget of {settings.request_budget:g} s spent)"
    log.warning("%s failed (%s); retry %d in %.2fs", what, scrub(last), attempt + 1, delay)
    time.sleep(delay)
    return None


def get(
    url: str,
    params: dict | None = None,
    settings: HttpSettings | None = None,
    session: requests.Session | None = None,
    what: str = "request",
) -> requests.Response:
    """GET with retries, each attempt within `attempt_deadline` and all of them (with backoff) within
    `request_budget`; raises SourceError naming `what` once retries or the budget are exhausted.
    429, 5xx, timeouts, dropped connections and a missed deadline are retried; another status is not."""
    settings = settings or HttpSettings()
    http = session or requests
    started = time.monotonic()
    budget_end = started + settings.request_budget
    last, status = "", None
    for attempt in range(settings.max_retries + 1):  # after it, `attempt + 1` attempts were made
        attempt_start = time.monotonic()
        deadline = min(attempt_start + settings.attempt_deadline, budget_end)
        read_timeout = max(0.001, min(settings.timeout, deadline - attempt_start))
        resp = None
        try:
            resp = http.get(url, params=params, timeout=read_timeout, stream=True)
            if resp.status_code in RETRY_STATUS:
                last, status = f"HTTP {resp.status_code}", resp.status_code
            elif resp.status_code == 200:
                _read_body(resp, deadline)
                return resp
            else:
                raise SourceError(
                    scrub(f"{what}: HTTP {resp.status_code} from {resp.url}: {_excerpt(resp, deadline)}"),
                    resp.status_code,
                )
        except requests.RequestException as exc:  # refused, stalled, or a truncated body
            last = f"{type(exc).__name__}: {exc}"
        except DeadlineExceeded:
            limit = "the attempt deadline" if deadline < budget_end else "what was left of the request budget"
            last = f"deadline: {url} not complete within {deadline - attempt_start:.1f} s ({limit})"
        finally:
            if resp is not None:
                resp.close()  # after a full read this only returns the connection to the pool
        if (stop := pause_before_retry(attempt, settings, budget_end, what, last)) is not None:
            last += stop
            break
    elapsed = time.monotonic() - started
    raise SourceError(
        scrub(f"{what}: gave up after {attempt + 1} attempts in {elapsed:.1f} s; last error: {last}"),
        status,
        transient=True,
    )
