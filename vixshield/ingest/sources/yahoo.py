"""Yahoo Finance daily bars through `yfinance`, made strict.

yfinance handles what keeps Yahoo answering (curl_cffi browser impersonation, cookie and crumb),
but it is built to never fail: it logs errors and returns empty frames, caches responses in
process, and keeps one process-wide session. This module adds what a warehouse needs on top:

* All traffic goes through `_YahooSession`, a curl_cffi session subclass handed to yfinance
  through its public `session=` argument. It puts a total timeout on every request (curl_cffi
  turns a numeric `timeout` into CURLOPT_TIMEOUT_MS, a limit on the whole transfer, so a
  trickling server cannot stretch it): `settings.timeout`, or less when that is what is left of
  the attempt's deadline (`attempt_deadline`; one yfinance call makes several requests: cookie,
  crumb, timezone, chart) or of the symbol's `request_budget` (all attempts and backoff). When
  `base_url` is set, it rewrites every URL (chart API, fc.yahoo.com cookie, getcrumb, consent pages)
  to that host, so tests drive the real yfinance code path against a local server.
* yfinance swallows every exception except `YFRateLimitError`, so the session reports 429, 5xx,
  timeouts and dropped connections of the chart API as `_Retryable` (a `YFRateLimitError`);
  this module retries those with jittered backoff and fails with `SourceError` when exhausted.
  Cookie/crumb requests keep yfinance's own handling (it continues without a crumb).
* A symbol that yields no bars with a close is an error naming it; nothing partial is returned.
* Only completed NYSE sessions are kept, so an intraday bar for today is never stored.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Sequence
from functools import lru_cache
from urllib.parse import SplitResult, urlsplit, urlunsplit

import pandas as pd
import yfinance as yf
from curl_cffi import requests as curl_requests
from yfinance.data import YfData
from yfinance.exceptions import YFException, YFRateLimitError

from vixshield.calendars import last_completed_session, sessions
from vixshield.ingest.sources.base import Fetched, SourceError
from vixshield.ingest.sources.http import RETRY_STATUS, HttpSettings, pause_before_retry, scrub
from vixshield.store import schemas

log = logging.getLogger(__name__)
CHART_PATH = "/v8/finance/chart/"
COLUMNS = {
    "Open": "open",
    "High": "high",
    "Low": "low",
    "Close": "close",
    "Adj Close": "adj_close",
    "Volume": "volume",
}
# yfinance keeps one session for the whole process (YfData is a singleton): one fetch at a time.
_LOCK = threading.Lock()


class _Retryable(YFRateLimitError):
    """A transient chart-API failure. Subclasses the one exception yfinance lets escape."""

    def __init__(self, reason: str) -> None:
        YFException.__init__(self, reason)


class _YahooSession(curl_requests.Session):
    """yfinance's default session (Chrome impersonation) plus a timeout on every request, an
    optional host rewrite, and transient chart failures raised instead of swallowed."""

    def __init__(self, settings: HttpSettings, base_url: str | None) -> None:
        super().__init__(impersonate="chrome")
        self.settings = settings
        # A Yahoo host (the config default names query2) means no rewrite: yfinance knows which
        # Yahoo host serves each endpoint, and fc.yahoo.com's cookie is not served by query2.
        self.base: SplitResult | None = None
        if base_url and not (urlsplit(base_url).hostname or "").endswith("yahoo.com"):
            self.base = urlsplit(base_url.rstrip("/"))
        self.attempt_end: float | None = None  # time.monotonic() deadline of the current attempt (`_history`)

    def _timeout(self) -> float:
        """Total seconds the next request may take: `timeout`, capped by what is left of the attempt."""
        if self.attempt_end is None:
            return self.settings.timeout
        return min(self.settings.timeout, self.attempt_end - time.monotonic())

    def request(self, method, url, *args, **kwargs):  # type: ignore[override]
        if self.base is not None:
            parts = urlsplit(url)
            url = urlunsplit((self.base.scheme, self.base.netloc, self.base.path + parts.path, parts.query, ""))
        timeout = self._timeout()
        kwargs["timeout"] = max(timeout, 0.01)  # never 0: curl reads a zero timeout as "no limit"
        if CHART_PATH not in url:
            if timeout <= 0:  # yfinance carries on without a cookie or crumb after a timeout
                raise curl_requests.exceptions.Timeout("Yahoo attempt deadline passed")
            return super().request(method, url, *args, **kwargs)
        try:
            if timeout <= 0:
                raise curl_requests.exceptions.Timeout("Yahoo attempt deadline passed")
            resp = super().request(method, url, *args, **kwargs)
        except (
            curl_requests.exceptions.Timeout,
            curl_requests.exceptions.ConnectionError,
            curl_requests.exceptions.IncompleteRead,  # a body cut short: transient, worth a retry
            curl_requests.exceptions.ChunkedEncodingError,
        ) as exc:
            raise _Retryable(f"{type(exc).__name__}: {exc}") from exc
        if resp.status_code in RETRY_STATUS:
            raise _Retryable(f"HTTP {resp.status_code}")
        return resp


@lru_cache(maxsize=4)
def _session(settings: HttpSettings, base_url: str | None) -> _YahooSession:
    """One session per configuration, reused across calls: yfinance keeps the cookie and crumb
    it fetched process-wide, and they are only valid with the cookie jar they came from."""
    return _YahooSession(settings, base_url)


def _history(symbol: str, start: dt.date, end: dt.date, session: _YahooSession) -> tuple[pd.DataFrame, str]:
    """One symbol's bars in [start, end] and, when there are none, why (if yfinance said).
    Transient failures are retried with jittered backoff, then raise SourceError; each attempt
    ends by `attempt_deadline` and all of them, with backoff, by `request_budget`."""
    settings = session.settings
    started = time.monotonic()
    budget_end = started + settings.request_budget
    last = ""
    for attempt in range(settings.max_retries + 1):  # after it, `attempt + 1` attempts were made
        session.attempt_end = min(time.monotonic() + settings.attempt_deadline, budget_end)
        try:
            ticker = yf.Ticker(symbol, session=session)
            frame = ticker.history(
                start=start.isoformat(),
                end=(end + dt.timedelta(days=1)).isoformat(),  # yfinance's end is exclusive
                interval="1d",
                auto_adjust=False,
                actions=False,
                timeout=settings.timeout,
            )
            return frame, ""
        except YFRateLimitError as exc:  # ours (_Retryable) or yfinance's own 429
            last = str(exc)
        except Exception as exc:
            # When the timezone lookup fails (unknown symbol), yfinance falls back to `.info`,
            # whose errors (JSONDecodeError, HTTPError, ...) escape `history()` unwrapped.
            return pd.DataFrame(), scrub(f"{type(exc).__name__}: {exc}")
        finally:
            session.attempt_end = None
        if (stop := pause_before_retry(attempt, settings, budget_end, f"Yahoo {symbol}", last)) is not None:
            last += stop
            break
    elapsed = time.monotonic() - started
    raise SourceError(
        scrub(
            f"Yahoo daily bars for {symbol}: gave up after {attempt + 1} attempts in {elapsed:.1f} s; "
            f"last error: {last}"
        ),
        transient=True,
    )


def _bars(symbol: str, raw: pd.DataFrame) -> pd.DataFrame:
    """yfinance frame (index: exchange-local midnight) -> canonical rows with a close."""
    if raw.empty or "Close" not in raw.columns:
        return pd.DataFrame()
    frame = raw[[c for c in COLUMNS if c in raw.columns]].rename(columns=COLUMNS)
    idx = pd.DatetimeIndex(raw.index)
    frame = frame.assign(symbol=symbol, date=(idx.tz_localize(None) if idx.tz is not None else idx).normalize())
    return frame[frame["close"].notna()]


def fetch_daily_bars(
    symbols: Sequence[str],
    start: dt.date,
    end: dt.date,
    *,
    settings: HttpSettings,
    base_url: str | None = None,
) -> Fetched:
    """Daily bars for every symbol over [start, end], completed sessions only.

    Raises SourceError when any symbol yields nothing or keeps failing: a silent gap would
    otherwise look like missing history downstream.
    """
    last_session = last_completed_session().date()
    stop = min(end, last_session)
    if not len(sessions(start, stop)):  # nothing has closed in the window: do not ask
        return Fetched.empty("daily_bars")
    frames: list[pd.DataFrame] = []
    missing: list[str] = []
    with _LOCK:
        # yfinance's in-process response cache keys on the URL without our host; start clean so a
        # long-lived process (or another base_url) never gets a previous run's answer.
        YfData.cache_get.cache_clear()
        session = _session(settings, base_url)
        for symbol in dict.fromkeys(symbols):
            raw, why = _history(symbol, start, stop, session)
            bars = _bars(symbol, raw)
            if len(bars):
                frames.append(bars)
            else:
                missing.append(f"{symbol} ({why})" if why else symbol)
    if missing:
        raise SourceError(
            f"Yahoo returned no daily bars for {', '.join(missing)} between {start} and {stop} "
            "(unknown or delisted symbol, or Yahoo served empty/null prices); nothing was stored."
        )
    frame = pd.concat(frames, ignore_index=True).assign(source="yahoo")
    frame = frame[(frame["date"] >= pd.Timestamp(start)) & (frame["date"] <= pd.Timestamp(stop))]
    return Fetched("daily_bars", schemas.conform(frame, "daily_bars"))
