"""Market breadth features (METHODOLOGY §2 "Breadth"): pure, causal functions on NYSE sessions.

Two inputs are accepted:

* a constituent universe of closes (``universe_breadth``): advancers/decliners counted by us;
* a vendor's NYSE A-D line level (NYAD) and McClellan oscillator (NYMO) (``vendor_breadth``).

Both return the same columns, indexed by the sessions passed in (``BREADTH_COLUMNS``).
``choose_breadth`` picks, per session, the universe where its coverage is high enough and the
vendor otherwise; ``breadth_divergence`` flags SPX at a 20-session high with the A/D line not.

Conventions
-----------
* Causal: every value at session t uses data dated <= t only; running any function on inputs cut
  at t gives exactly the full computation's values up to t (each rolling statistic is computed
  from its own window, recursions run forward only).
* A member advances (declines) at t when its close at t is above (below) its close at the previous
  SESSION in ``sessions``; equal closes are unchanged. A member missing either close does not count
  that day. ``members`` = advancers + decliners + unchanged.
* Sessions with no member data (``members`` == 0) are NaN in every column, ``members`` and
  ``coverage`` included, never 0. The A/D line is NaN on such a session and resumes from its last
  value afterwards (the session adds nothing). It starts at the first session with members > 0,
  whose value is that session's ``ad_net``.
* ``ad_slope20``: OLS slope of the A/D line on the session number over the last 20 sessions
  including today, in A/D-line units per session. Sessions where the A/D line is NaN are left out of
  the fit (x keeps the true session spacing); the slope needs today's value and >= 15 of the 20.
* ``pct_above_sma50``: among universe columns with a close today and 50 closes in the last 50
  sessions (a full SMA50 that includes today), the share whose close is strictly above the SMA50.
* ``mcclellan``: 1000 × (EMA19 − EMA39) of the net advances ratio (adv − dec)/(adv + dec), the
  "ratio-adjusted" McClellan oscillator (independent of the universe size). A vendor's NYMO is on
  its own scale (the bundled one has ~2.8x the spread of a 100-member S&P universe over 2021-2025,
  correlation ~0.86), so oscillator thresholds must not assume equal levels across sources.
  The ratio is 0 on a session where every counted member is unchanged. EMA: alpha = 2/(n+1),
  seeded with the simple mean of the first n ratios; sessions without data are skipped (the EMA
  holds its value, output NaN that day). The oscillator is NaN until both EMAs are seeded
  (39 sessions with data).
* Source switches: a universe A/D line (counts of members) and NYAD (a vendor index level) have
  different levels and units. Slopes are computed within each source's own series before
  ``choose_breadth`` picks rows, and divergence should be too (compute ``breadth_divergence`` on
  each source's ``ad_line``, store it as a column of each frame, then choose): levels never mix
  inside a window. The chosen ``ad_line`` is the source's own level, so it jumps where
  ``breadth_source`` changes; compare levels only within one source.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from vixshield.features import indicators

BREADTH_COLUMNS = [
    "advancers",
    "decliners",
    "unchanged",
    "members",
    "coverage",
    "ad_net",
    "ad_line",
    "ad_slope20",
    "pct_above_sma50",
    "mcclellan",
]
SLOPE_WINDOW = 20
SLOPE_MIN_OBS = 15
SMA_WINDOW = 50
MCCLELLAN_FAST = 19
MCCLELLAN_SLOW = 39
MCCLELLAN_SCALE = 1000.0
DIVERGENCE_MIN_FRACTION = 0.75


# --- helpers ---------------------------------------------------------------------------------------


def _check_sessions(sessions: pd.DatetimeIndex) -> pd.DatetimeIndex:
    sessions = pd.DatetimeIndex(sessions)
    if not sessions.is_unique or not sessions.is_monotonic_increasing:
        raise ValueError("sessions must be unique and increasing")
    return sessions


def _align(obj: pd.Series | pd.DataFrame, sessions: pd.DatetimeIndex, what: str) -> pd.Series | pd.DataFrame:
    """Reindex on sessions without any fill; dates outside the sessions are dropped."""
    obj = obj.copy()
    obj.index = pd.DatetimeIndex(pd.to_datetime(obj.index))
    if not obj.index.is_unique:
        raise ValueError(f"{what} has duplicate dates")
    return obj.reindex(sessions)


def _rolling_slope(y: np.ndarray, window: int = SLOPE_WINDOW, min_obs: int = SLOPE_MIN_OBS) -> np.ndarray:
    """OLS slope of y on position over each trailing window, NaN points left out; needs y[t] and min_obs."""
    n = len(y)
    out = np.full(n, np.nan)
    # pad the front so that every position ends a full window; padded points are NaN, never fitted
    y = np.concatenate([np.full(window - 1, np.nan), np.asarray(y, dtype=float)])
    w = np.lib.stride_tricks.sliding_window_view(y, window)  # (n, window), row i ends at position i
    valid = ~np.isnan(w)
    cnt = valid.sum(axis=1)
    x = np.arange(window, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        xbar = (valid * x).sum(axis=1) / cnt
        ybar = np.where(valid, w, 0.0).sum(axis=1) / cnt
        dx = np.where(valid, x - xbar[:, None], 0.0)
        dy = np.where(valid, w - ybar[:, None], 0.0)
        slope = (dx * dy).sum(axis=1) / (dx * dx).sum(axis=1)
    ok = (cnt >= min_obs) & valid[:, -1]
    out[ok] = slope[ok]
    return out


def _mcclellan(adv: np.ndarray, dec: np.ndarray) -> np.ndarray:
    tot = adv + dec
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(tot > 0, (adv - dec) / tot, 0.0)
    ratio[np.isnan(tot)] = np.nan
    r = pd.Series(ratio)
    fast, slow = indicators.ema(r, MCCLELLAN_FAST), indicators.ema(r, MCCLELLAN_SLOW)
    return MCCLELLAN_SCALE * (fast - slow).to_numpy()


# --- public API ------------------------------------------------------------------------------------


def universe_breadth(closes: pd.DataFrame, sessions: pd.DatetimeIndex) -> pd.DataFrame:
    """Breadth of a constituent universe on NYSE sessions (conventions in the module docstring).

    ``closes``: index = dates, one column per member (close or adjusted close), NaN where a member
    has no print. Returns ``BREADTH_COLUMNS`` indexed by ``sessions``.
    """
    sessions = _check_sessions(sessions)
    n_cols = closes.shape[1]
    c = _align(closes, sessions, "closes").to_numpy(dtype=float, na_value=np.nan)
    n = len(sessions)
    prev = np.full_like(c, np.nan)
    if n > 1:
        prev[1:] = c[:-1]
    both = ~np.isnan(c) & ~np.isnan(prev)
    adv = (both & (c > prev)).sum(axis=1).astype(float)
    dec = (both & (c < prev)).sum(axis=1).astype(float)
    unc = (both & (c == prev)).sum(axis=1).astype(float)
    members = both.sum(axis=1).astype(float)
    empty = members == 0
    for a in (adv, dec, unc, members):
        a[empty] = np.nan
    coverage = members / n_cols if n_cols else np.full(n, np.nan)
    ad_net = adv - dec
    ad_line = np.cumsum(np.nan_to_num(ad_net, nan=0.0))
    ad_line[empty] = np.nan

    # % above SMA50: full window of 50 closes ending today (the window includes today)
    pct = np.full(n, np.nan)
    if n >= SMA_WINDOW and n_cols:
        win = np.lib.stride_tricks.sliding_window_view(c, SMA_WINDOW, axis=0)  # (n-49, cols, 50)
        sma = win.sum(axis=2) / SMA_WINDOW  # NaN anywhere in the window -> NaN
        today = c[SMA_WINDOW - 1 :]
        has = ~np.isnan(sma)  # implies today's close present
        above = has & (today > sma)
        denom = has.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            pct[SMA_WINDOW - 1 :] = np.where(denom > 0, above.sum(axis=1) / denom, np.nan)

    return pd.DataFrame(
        {
            "advancers": adv,
            "decliners": dec,
            "unchanged": unc,
            "members": members,
            "coverage": coverage,
            "ad_net": ad_net,
            "ad_line": ad_line,
            "ad_slope20": _rolling_slope(ad_line),
            "pct_above_sma50": pct,
            "mcclellan": _mcclellan(adv, dec),
        },
        index=sessions,
    )


def vendor_breadth(nyad: pd.Series, nymo: pd.Series | None, sessions: pd.DatetimeIndex) -> pd.DataFrame:
    """A vendor's NYSE A-D line level (NYAD) and McClellan oscillator (NYMO) on sessions, no fill.

    ``ad_line`` = NYAD, ``ad_slope20`` from it (same rule as the universe), ``mcclellan`` = NYMO where
    present; the count columns (advancers, ..., pct_above_sma50) are NaN.
    """
    sessions = _check_sessions(sessions)
    out = pd.DataFrame(np.nan, index=sessions, columns=BREADTH_COLUMNS)
    ad = _align(pd.Series(nyad, dtype=float), sessions, "nyad").to_numpy(dtype=float, na_value=np.nan)
    out["ad_line"] = ad
    out["ad_slope20"] = _rolling_slope(ad)
    if nymo is not None:
        out["mcclellan"] = _align(pd.Series(nymo, dtype=float), sessions, "nymo").to_numpy(dtype=float, na_value=np.nan)
    return out


def breadth_divergence(spx_close: pd.Series, ad_line: pd.Series, window: int = 20) -> pd.Series:
    """Bearish breadth divergence: SPX close at its ``window``-session high while the A/D line is not.

    "At its high" = value >= max of the last ``window`` values including today. Indexed like
    ``spx_close`` (``ad_line`` is aligned to it, no fill). Nullable boolean: <NA> where either value
    is missing today or either window holds fewer than 75% of its values.
    """
    if window < 1:
        raise ValueError("window must be >= 1")
    spx = pd.Series(spx_close, dtype=float)
    ad = pd.Series(ad_line, dtype=float)
    if not spx.index.is_unique or not ad.index.is_unique:
        raise ValueError("duplicate dates")
    ad = ad.reindex(spx.index)
    min_obs = max(1, math.ceil(DIVERGENCE_MIN_FRACTION * window))

    def at_high(s: pd.Series) -> pd.Series:
        hi = s.rolling(window, min_periods=min_obs).max()
        return (s >= hi).where(hi.notna() & s.notna())

    spx_hi, ad_hi = at_high(spx), at_high(ad)
    known = spx_hi.notna() & ad_hi.notna()
    res = (spx_hi.eq(True) & ad_hi.eq(False)).astype("boolean")
    res[~known] = pd.NA
    res.name = "breadth_divergence"
    return res


def choose_breadth(universe: pd.DataFrame, vendor: pd.DataFrame | None, min_coverage: float = 0.5) -> pd.DataFrame:
    """Per session, the universe's row where its coverage >= ``min_coverage``, else the vendor's.

    Rows are taken whole from one source, so every column (including extra ones such as a
    per-source divergence flag) comes from the same series; slopes were computed within each
    source, so levels never mix. ``members`` and ``coverage`` always report the universe (the
    coverage log), even on vendor rows. ``breadth_source`` is 'universe', 'vendor', or None where
    neither qualifies (the vendor row is used only if it has any value); such rows are NaN.
    Indexed like ``universe``; ``vendor`` is aligned to it without fill.
    """
    idx = universe.index
    use_uni = (universe["coverage"] >= min_coverage).fillna(False).to_numpy(dtype=bool)
    cols = list(universe.columns)
    if vendor is not None:
        cols += [c for c in vendor.columns if c not in cols]
        ven = vendor.reindex(index=idx, columns=cols)
        ven_any = vendor.reindex(idx).notna().any(axis=1).to_numpy(dtype=bool)
    else:
        ven = pd.DataFrame(np.nan, index=idx, columns=cols)
        ven_any = np.zeros(len(idx), dtype=bool)
    use_ven = ~use_uni & ven_any
    out = pd.DataFrame(index=idx)
    for c in cols:
        u = universe[c] if c in universe.columns else ven[c].where(np.zeros(len(idx), dtype=bool))
        out[c] = u.where(use_uni, ven[c].where(use_ven))
    for c in ("members", "coverage"):
        if c in universe.columns:
            out[c] = universe[c]
    src = np.where(use_uni, "universe", np.where(use_ven, "vendor", None))
    out["breadth_source"] = pd.Series(src, index=idx, dtype=object)
    return out
