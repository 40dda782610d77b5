"""HTTP for the live sources: timeouts on every request, bounded retries with jittered
exponential backoff on 429/5xx/timeouts, and API keys scrubbed from every message."""

from __future__ import annotations

import logging
import random
import re
import time
from dataclasses import dataclass

import requests

from vixshield.sources.base import SourceError

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
    timeout: float = 20.0  # seconds, connect and read
    max_retries: int = 4  # retries after the first attempt
    backoff: float = 1.0  # first delay in seconds; doubles each retry, with full jitter
    max_backoff: float = 30.0


def backoff_delay(attempt: int, settings: HttpSettings) -> float:
    """Full-jitter exponential backoff (AWS architecture blog): uniform in [0, base*2^attempt]."""
    return random.uniform(0, min(settings.max_backoff, settings.backoff * 2**attempt))


def get(
    url: str,
    params: dict | None = None,
    settings: HttpSettings | None = None,
    session: requests.Session | None = None,
    what: str = "request",
) -> requests.Response:
    """GET with retries; raises SourceError naming `what` once retries are exhausted."""
    settings = settings or HttpSettings()
    http = session or requests
    last, status = "", None
    for attempt in range(settings.max_retries + 1):
        try:
            resp = http.get(url, params=params, timeout=settings.timeout)
        except requests.RequestException as exc:  # refused, stalled, or a truncated body
            last = f"{type(exc).__name__}: {exc}"
        else:
            if resp.status_code == 200:
                return resp
            if resp.status_code not in RETRY_STATUS:
                raise SourceError(
                    scrub(f"{what}: HTTP {resp.status_code} from {resp.url}: {resp.text[:200]}"), resp.status_code
                )
            last, status = f"HTTP {resp.status_code}", resp.status_code
        if attempt < settings.max_retries:
            delay = backoff_delay(attempt, settings)
            log.warning("%s failed (%s); retry %d in %.1fs", what, scrub(last), attempt + 1, delay)
            time.sleep(delay)
    raise SourceError(
        scrub(f"{what}: gave up after {settings.max_retries + 1} attempts; last error: {last}"), status, transient=True
    )
