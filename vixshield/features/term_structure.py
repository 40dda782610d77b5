"""The implied-vol term structure from the VIX family (METHODOLOGY §4): VIX9D (9 days), VIX (30),
VIX3M (93), VIX6M (183), interpolated linearly in total variance (sigma^2 * days), flat in vol
beyond the ends. Shared by SPX pricing (scaled by kappa) and the VIX-futures forward fallback."""

from __future__ import annotations

import itertools
import math
from typing import Any

TENORS = {"vix9d": 9.0, "vix": 30.0, "vix3m": 93.0, "vix6m": 183.0}


def points(row: dict[str, Any]) -> list[tuple[float, float]]:
    """(days, vol as a decimal) for every index present and positive in `row`, sorted by tenor."""
    out = []
    for name, days in TENORS.items():
        v = row.get(name)
        if v is not None and not (isinstance(v, float) and math.isnan(v)) and v > 0:
            out.append((days, v / 100.0))
    return out


def term_vol(days: float, pts: list[tuple[float, float]]) -> float:
    """Vol for a tenor of `days` calendar days; NaN when no index is available."""
    if not pts:
        return math.nan
    if days <= pts[0][0]:
        return pts[0][1]
    if days >= pts[-1][0]:
        return pts[-1][1]
    for (d1, v1), (d2, v2) in itertools.pairwise(pts):
        if d1 <= days <= d2:
            w1, w2 = v1 * v1 * d1, v2 * v2 * d2
            total = w1 + (w2 - w1) * (days - d1) / (d2 - d1)
            return math.sqrt(total / days)
    return math.nan  # unreachable: pts are sorted


def forward_vol(start_days: float, length_days: float, pts: list[tuple[float, float]]) -> float:
    """Forward vol between start and start + length (e.g. the 30-day vol a VIX future settles on)."""
    if start_days <= 0:
        return term_vol(length_days, pts)
    t1, t2 = start_days, start_days + length_days
    v1, v2 = term_vol(t1, pts), term_vol(t2, pts)
    fwd_var = (v2 * v2 * t2 - v1 * v1 * t1) / (t2 - t1)
    return math.sqrt(fwd_var) if fwd_var > 0 else v2
