"""FRED macro observations: the FRED API when a key is set, else the keyless fredgraph.csv download.

Why fredapi is wrapped rather than used as is: it fetches with a bare `urlopen` (no timeout, no
retries) and builds URLs with the key in them. `_RetryingFred` keeps fredapi's URL building and
XML parsing but overrides its single private fetch method (`_Fred__fetch_data`, name-mangled) so
every request goes through `vixshield.ingest.sources.http.get` (timeouts, bounded jittered retries on
429/5xx/timeouts). That override is the only coupling to fredapi's internals, and it is checked
before use so an incompatible fredapi fails loudly instead of silently bypassing timeouts.

The API key only ever travels as a query parameter: every message we raise or log is scrubbed
(`api_key=***`) and the literal key is redacted too, in case a server echoes it back. urllib3
logs full request URLs at DEBUG: `http` installs a scrubbing filter on its connection-pool logger.
"""

from __future__ import annotations

import datetime as dt
import logging
import xml.etree.ElementTree as ET
from collections.abc import Sequence

import fredapi
import pandas as pd
import requests

from vixshield.ingest.sources import http, parsers
from vixshield.ingest.sources.base import Fetched, SourceError
from vixshield.ingest.sources.http import HttpSettings, scrub
from vixshield.store import schemas

log = logging.getLogger(__name__)
BAD_REQUEST_HINT = "FRED answers 400 for an unknown series id or an invalid FRED_API_KEY; not retried"


def _redact(text: str, api_key: str | None) -> str:
    text = scrub(text)
    return text.replace(api_key, "***") if api_key else text


class _RetryingFred(fredapi.Fred):
    """fredapi.Fred whose fetches go through `http.get`; see the module docstring."""

    def __init__(self, api_key: str, api_url: str, settings: HttpSettings, session: requests.Session):
        # Fred.__init__ is skipped on purpose: it falls back to $FRED_API_KEY and may install a
        # process-wide urllib proxy opener; neither applies to requests made through `http.get`.
        self.api_key = api_key
        self.proxies = None
        self.root_url = api_url.rstrip("/")
        self.settings = settings
        self.session = session
        self.what = "FRED API request"

    def _Fred__fetch_data(self, url: str) -> ET.Element:
        resp = http.get(
            url, params={"api_key": self.api_key}, settings=self.settings, session=self.session, what=self.what
        )
        try:
            root = ET.fromstring(resp.content)
        except ET.ParseError as exc:
            raise SourceError(f"{self.what}: response is not FRED XML ({exc})") from None
        if root.tag != "observations":  # e.g. a well-formed maintenance page: not data
            raise SourceError(f"{self.what}: response is not FRED XML (root <{root.tag}>, expected <observations>)")
        for obs in root:  # fredapi maps only '.' to NaN; a blank would make it raise
            if not (obs.get("value") or "").strip():
                obs.set("value", self.nan_char)
        return root

    def observations(self, series_id: str, start: dt.date, end: dt.date) -> pd.DataFrame:
        self.what = f"FRED API {series_id}"
        try:
            values = self.get_series(series_id, observation_start=start, observation_end=end)
        except (ValueError, TypeError) as exc:  # fredapi's own parsing of values and dates
            raise SourceError(f"{self.what}: unreadable observations ({exc})") from None
        values = values.dropna()
        return pd.DataFrame(
            {
                "series_id": series_id,
                "observation_date": pd.to_datetime(values.index),
                "value": values.to_numpy(dtype="float64"),
                "source": "fred",
            }
        )


def _hinted(exc: SourceError) -> str:
    return f"{exc} ({BAD_REQUEST_HINT})" if exc.status == 400 else str(exc)


def _fetch_one(
    series_id: str,
    start: dt.date,
    end: dt.date,
    client: _RetryingFred | None,
    settings: HttpSettings,
    session: requests.Session,
    fredgraph_url: str,
) -> Fetched:
    if client is not None:
        frame = client.observations(series_id, start, end)
        return Fetched("macro_observations", schemas.conform(frame, "macro_observations"))
    what = f"FRED fredgraph.csv {series_id}"
    params = {"id": series_id, "cosd": start.isoformat(), "coed": end.isoformat()}
    resp = http.get(fredgraph_url, params=params, settings=settings, session=session, what=what)
    return parsers.parse_fred_csv(resp.content.decode("utf-8-sig", errors="replace"), series_id)


def fetch_observations(
    series_ids: Sequence[str],
    start: dt.date,
    end: dt.date,
    *,
    api_key: str | None,
    settings: HttpSettings,
    api_url: str,
    fredgraph_url: str,
) -> Fetched:
    """Observations in [start, end] for every series; missing values ('.' or blank) dropped.
    `available_date` stays NULL (the caller applies the catalog's availability rules).
    All or nothing: one failing series raises SourceError and nothing is returned."""
    out = Fetched.empty("macro_observations")
    with requests.Session() as session:
        client = None
        if api_key:
            if not hasattr(fredapi.Fred, "_Fred__fetch_data"):
                raise SourceError(
                    f"fredapi {getattr(fredapi, '__version__', '?')} no longer has the fetch method "
                    "vixshield overrides; pin fredapi==0.5.2 or unset FRED_API_KEY to use fredgraph.csv"
                )
            client = _RetryingFred(api_key, api_url, settings, session)
        for series_id in series_ids:
            failure, status, transient = None, None, False
            try:
                part = _fetch_one(series_id, start, end, client, settings, session, fredgraph_url)
            except SourceError as exc:
                failure, status, transient = _redact(_hinted(exc), api_key), exc.status, exc.transient
            if failure is not None:  # raised outside `except` so no unredacted __context__ is kept
                raise SourceError(failure, status, transient=transient)
            dates = part.frame["observation_date"]
            part.frame = part.frame[(dates >= pd.Timestamp(start)) & (dates <= pd.Timestamp(end))]
            log.info("FRED %s: %d observations", series_id, len(part.frame))
            out = out.extend(part)
    return out
