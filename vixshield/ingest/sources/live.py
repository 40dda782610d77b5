"""`live`: Yahoo (SPX, breadth universe), Cboe (VIX family, VX futures), FRED (macro) and the
shipped event calendars. Never falls back to offline data: a failure is an error."""

from __future__ import annotations

import datetime as dt
import os
import socket
from collections.abc import Callable
from typing import Any, ClassVar
from urllib.parse import urlparse

import pandas as pd

from vixshield import calendars
from vixshield.catalog import DAILY_SYMBOLS, LIVE_MACRO_IDS
from vixshield.config import Settings
from vixshield.ingest.sources import cboe, fred, yahoo
from vixshield.ingest.sources.base import Fetched, FetchWindow, Source, SourceError
from vixshield.ingest.sources.files import shipped_release_events
from vixshield.ingest.sources.http import HttpSettings

FIRST_DATE = dt.date(1990, 1, 1)
YAHOO_HOST = "https://query2.finance.yahoo.com"
FIRST_VX_EXPIRY = dt.date(2013, 1, 1)  # Cboe's per-contract CDN files start here
OFFLINE_HINT = (
    "Offline options: `vixshield run --source sample` (bundled data) or "
    "`vixshield run --source files --data-dir DIR` (publishers' files on disk)."
)


class LiveSource(Source):
    name = "live"
    live = True

    def __init__(self, settings: Settings):
        self.settings = settings
        s = settings.live
        self.http = HttpSettings(
            timeout=s.timeout,
            max_retries=s.max_retries,
            backoff=s.backoff,
            attempt_deadline=s.attempt_deadline,
            request_budget=s.request_budget,
        )
        self.api_key = os.environ.get("FRED_API_KEY") or None

    def preflight(self, timeout: float = 3.0) -> None:
        """Fail fast, naming the offline options, when no live host answers at all."""
        s = self.settings.live
        hosts = {
            urlparse(u).hostname: urlparse(u).port or (443 if u.startswith("https") else 80)
            for u in (s.yahoo_url or YAHOO_HOST, s.fred_api_url, s.fredgraph_url, s.cboe_url)
        }
        unreachable = []
        for host, port in hosts.items():
            try:
                socket.create_connection((host, port), timeout=timeout).close()
            except OSError as exc:
                unreachable.append(f"{host}:{port} ({type(exc).__name__})")
        if unreachable:
            raise SourceError(f"live sources unreachable: {', '.join(unreachable)}. {OFFLINE_HINT}")

    def _daily_bars(self, window: FetchWindow) -> Fetched:
        start, s = window.start or FIRST_DATE, self.settings.live
        yahoo_symbols = ["^GSPC", *self.settings.universe]
        bars = yahoo.fetch_daily_bars(yahoo_symbols, start, window.end, settings=self.http, base_url=s.yahoo_url)
        names = [d.cboe_name for d in DAILY_SYMBOLS if d.cboe_name]
        return bars.extend(cboe.fetch_index_history(names, start, window.end, settings=self.http, base_url=s.cboe_url))

    def _macro_observations(self, window: FetchWindow) -> Fetched:
        start, s = window.start or FIRST_DATE, self.settings.live
        macro_start = start if window.start is None else start - dt.timedelta(days=s.macro_overlap_days)
        return fred.fetch_observations(
            LIVE_MACRO_IDS,
            macro_start,
            window.end,
            api_key=self.api_key,
            settings=self.http,
            api_url=s.fred_api_url,
            fredgraph_url=s.fredgraph_url,
        )

    def _vx_futures(self, window: FetchWindow) -> Fetched:
        start = window.start or FIRST_DATE
        first = max(start, FIRST_VX_EXPIRY)
        expiries = calendars.vix_expirations(first, pd.Timestamp(window.end) + pd.DateOffset(months=10))
        return cboe.fetch_vx_futures(
            [d.date() for d in expiries], start, window.end, settings=self.http, base_url=self.settings.live.cboe_url
        )

    def _events(self, window: FetchWindow) -> Fetched:
        return shipped_release_events()

    # breadth_vendor: no live publisher (the universe's own closes come with daily_bars)
    FETCHERS: ClassVar[dict[str, Callable[[Any, FetchWindow], Fetched]]] = {
        "daily_bars": _daily_bars,
        "macro_observations": _macro_observations,
        "vx_futures": _vx_futures,
        "events": _events,
    }
