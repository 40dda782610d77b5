"""OCC option symbols (the Options Symbology Initiative's 21-character OSI key) for every leg.

Layout: root left-justified and space-padded to 6 characters, expiration as yymmdd, C or P, and the
strike times 1000 as 8 zero-padded digits (so 22.5 is 00022500). Brokers and the Cboe quote feeds
also show the compact form without the padding (`VIX260617C00010500`).

Roots (METHODOLOGY §4): SPX options on the monthly third-Friday expiration are AM-settled and trade as
`SPX`; every PM-settled SPX series (Weeklys, dailies, and the PM-settled series on the third Friday,
which Cboe lists beside the AM-settled ones) trades as `SPXW`. The book's default condors are SPXW;
the CNDR replica trades the AM-settled monthly. VIX options trade as `VIX` (monthly, AM-settled by the
special opening quotation). The same rule in SQL is in sql/views/condor_legs.sql and hedge_legs.sql.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

ROOT_WIDTH = 6
SPX_AM = "SPX"  # monthly, AM-settled (third Friday)
SPX_PM = "SPXW"  # PM-settled: Weeklys, dailies, and PM-settled third-Friday series
VIX = "VIX"
_OSI = re.compile(r"^(?P<root>[A-Z0-9]{1,6}) *(?P<date>\d{6})(?P<right>[CP])(?P<strike>\d{8})$")


@dataclass(frozen=True)
class OptionKey:
    root: str
    expiry: dt.date
    right: str  # "C" or "P"
    strike: float


def _right(kind: str) -> str:
    k = kind.strip().upper()
    if k in ("C", "CALL"):
        return "C"
    if k in ("P", "PUT"):
        return "P"
    raise ValueError(f"option kind must be call/put (C/P), not {kind!r}")


def occ_symbol(root: str, expiry: dt.date | str, kind: str, strike: float) -> str:
    """The padded 21-character OSI symbol, e.g. ("VIX", 2026-06-17, "call", 22.5) -> 'VIX   260617C00022500'."""
    root = root.strip().upper()
    if not 1 <= len(root) <= ROOT_WIDTH or not root.isalnum():
        raise ValueError(f"an OSI root is 1-6 letters or digits, not {root!r}")
    day = dt.date.fromisoformat(str(expiry)[:10]) if not isinstance(expiry, dt.date) else expiry
    thousandths = round(float(strike) * 1000)
    if abs(thousandths - float(strike) * 1000) > 1e-6 or not 0 < thousandths < 10**8:
        raise ValueError(f"strike {strike!r} does not fit the OSI field (0 < strike < 100000, 3 decimals)")
    return f"{root:<{ROOT_WIDTH}}{day:%y%m%d}{_right(kind)}{thousandths:08d}"


def compact(symbol: str) -> str:
    """The symbol without the root's padding, as brokers and Cboe's quote feeds print it."""
    return symbol.replace(" ", "")


def parse(symbol: str) -> OptionKey:
    """Read a padded or compact OSI symbol back into its fields."""
    m = _OSI.match(symbol.strip())
    if not m:
        raise ValueError(f"not an OSI option symbol: {symbol!r}")
    d = m["date"]
    expiry = dt.date(2000 + int(d[:2]), int(d[2:4]), int(d[4:]))
    return OptionKey(m["root"], expiry, m["right"], int(m["strike"]) / 1000)


def spx_root(am_settled: bool) -> str:
    """SPX for the AM-settled monthly series, SPXW for every PM-settled one: on a third Friday both
    exist, so the settlement style, not the date, decides."""
    return SPX_AM if am_settled else SPX_PM
