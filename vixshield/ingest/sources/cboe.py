"""Cboe's public CDN: index histories (VIX family, VVIX, SKEW) and per-contract VX futures files.

Parsing is the shared `parsers` module (the offline `files` source reads the same formats).
One adaptation is made here, where the expiry is known from the URL: Cboe's current VX files
label the contract `F (Jan 2024)` in the `Futures` column, which `parse_vx_per_contract` rejects
(it wants an ISO expiry), so labels that match the requested expiry's month are rewritten to
that expiry before parsing. A label for any other month is left alone and becomes a reject.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence

import pandas as pd
import requests

from vixshield.ingest.sources import http, parsers
from vixshield.ingest.sources.base import Fetched, SourceError
from vixshield.ingest.sources.http import HttpSettings

log = logging.getLogger(__name__)

INDEX_PATH = "/api/global/us_indices/daily_prices/{name}_History.csv"
VX_PATH = "/data/us/futures/market_statistics/historical_data/VX/VX_{expiry:%Y-%m-%d}.csv"
# Cboe lists up to nine serial VX months and adds one around each front-month expiry, so the
# farthest listed contract sits 8-9 months out. A 403/404 beyond 8 months is "not listed yet";
# 9 would make the daily run fail around every expiry, when the 9th month is not yet listed.
NOT_LISTED_AFTER = pd.DateOffset(months=8)


def _download(url: str, settings: HttpSettings, session: requests.Session, what: str) -> str:
    resp = http.get(url, settings=settings, session=session, what=what)
    return resp.content.decode("utf-8-sig", errors="replace")  # no charset header; tolerate a BOM


def _within(part: Fetched, col: str, start: dt.date, end: dt.date) -> Fetched:
    dates = part.frame[col]
    keep = (dates >= pd.Timestamp(start)) & (dates <= pd.Timestamp(end))
    return Fetched(part.family, part.frame[keep].reset_index(drop=True), part.rejects)


def fetch_index_history(
    names: Sequence[str], start: dt.date, end: dt.date, *, settings: HttpSettings, base_url: str
) -> Fetched:
    """Daily bars for each Cboe index (VIX, VIX9D, VIX3M, VIX6M, VVIX, SKEW) in [start, end].
    Unreadable rows travel as rejects; an unreadable or empty file raises SourceError."""
    out = Fetched.empty("daily_bars")
    with requests.Session() as session:
        for name in names:
            what = f"Cboe {name}_History.csv"
            text = _download(base_url.rstrip("/") + INDEX_PATH.format(name=name), settings, session, what)
            part = parsers.parse_cboe_index(text, name)
            parsers.require_readable_rows(part, what)
            if part.frame.empty:
                raise SourceError(f"{what}: no rows at all; Cboe publishes the full history in this file")
            part = _within(part, "date", start, end)
            log.info("%s: %d rows in window, %d rejects", what, len(part.frame), len(part.rejects))
            out = out.extend(part)
    return out


def _only_expiry(part: Fetched, expiry: dt.date, what: str) -> Fetched:
    """Rows for another contract than the file's own are rejects, not data."""
    wrong = part.frame["expiry"] != pd.Timestamp(expiry)
    rejects = [
        {
            "key": f"{row.trade_date:%Y-%m-%d}|{row.expiry:%Y-%m-%d}",
            "reason": f"{what}: row for expiry {row.expiry:%Y-%m-%d} in the file for {expiry}",
            "raw": ",".join(map(str, row)),
        }
        for row in part.frame[wrong].itertuples(index=False)
    ]
    return Fetched(part.family, part.frame[~wrong].reset_index(drop=True), part.rejects + rejects)


def fetch_vx_futures(
    expiries: Sequence[dt.date], start: dt.date, end: dt.date, *, settings: HttpSettings, base_url: str
) -> Fetched:
    """VX settlements for each monthly contract, trade dates in [start, end].
    Contracts expiring before `start` cannot have traded in the window and are not requested;
    a 403/404 for one expiring more than 8 months after `end` is skipped as not listed yet."""
    out = Fetched.empty("vx_futures")
    horizon = (pd.Timestamp(end) + NOT_LISTED_AFTER).date()
    with requests.Session() as session:
        for expiry in sorted(set(expiries)):
            if expiry < start:
                continue
            what = f"Cboe VX_{expiry:%Y-%m-%d}.csv"
            url = base_url.rstrip("/") + VX_PATH.format(expiry=expiry)
            try:
                text = _download(url, settings, session, what)
            except SourceError as exc:
                if exc.status in (403, 404) and expiry > horizon:
                    log.info("%s: not listed yet (HTTP %s); skipped", what, exc.status)
                    continue
                raise
            part = parsers.parse_vx_per_contract(parsers.label_vx_expiry(text, expiry), what)
            parsers.require_readable_rows(part, what)
            part = _within(_only_expiry(part, expiry, what), "trade_date", start, end)
            log.info("%s: %d rows in window, %d rejects", what, len(part.frame), len(part.rejects))
            out = out.extend(part)
    return out
