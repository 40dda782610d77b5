"""Pure, vectorized, causal technical indicators (METHODOLOGY §2).

Every function takes pandas Series on an ascending DatetimeIndex of NYSE sessions and returns
Series/DataFrames on the same index. All are CAUSAL: the value at t depends only on rows <= t, so
running on ``x[:t]`` reproduces the full-run values up to t bit for bit (the point-in-time guarantee
the warehouse relies on). "Previous" always means the previous ROW (session), never the previous
non-missing value.

Missing data stays missing; nothing is forward-filled and nothing unknown becomes 0:

* Differences/returns (log returns, RSI changes, YZ overnight term) are NaN if either endpoint is NaN.
* Windowed statistics (SMA, rolling std/vol, percentile, z-score, drawdown max) need a FULL window:
  NaN if any input in the window is NaN or fewer than ``window`` rows exist.
* Recursive smoothers (EMA, Wilder) SKIP missing inputs: NaN on a NaN day, state carried over the
  gap unchanged, so the result equals the recursion run on the non-missing observations alone.
  They are seeded with the simple mean of the first ``n`` non-missing inputs (StockCharts/Appel MACD,
  Wilder 1978 RSI) and are NaN before that.
* Event flags (MACD crosses, pivots, divergences) are plain bool: True only when the event is
  confirmed from known data; an unknown neighbourhood gives False (no event), never NaN.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

ANNUALIZATION = 252

__all__ = [
    "divergences",
    "drawdown",
    "ema",
    "log_returns",
    "macd",
    "parkinson_vol",
    "pivots",
    "realized_vol",
    "rolling_percentile",
    "rolling_zscore",
    "rsi_wilder",
    "sma",
    "yang_zhang_vol",
]


def _f(x: pd.Series) -> np.ndarray:
    return x.to_numpy(dtype=float, na_value=np.nan)


def _rolling(x: pd.Series, window: int):
    if window < 1:
        raise ValueError(f"window must be >= 1, got {window}")
    return x.astype(float).rolling(window, min_periods=window)


def _window_has_nan(values: np.ndarray, window: int) -> np.ndarray:
    """Bool per row: fewer than `window` rows so far, or a NaN among the last `window` (exact integer cumsum)."""
    c = np.concatenate([[0], np.cumsum(np.isnan(values))])
    out = np.ones(len(values), dtype=bool)
    if len(values) >= window:
        out[window - 1 :] = (c[window:] - c[:-window]) > 0
    return out


def _seeded_recursion(values: np.ndarray, n: int, a: float, b: float, c: float) -> np.ndarray:
    """y = (a*y_prev + b*x) / c over the non-NaN x, seeded with the mean of the first n non-NaN x.

    NaN inputs yield NaN and leave the state untouched; output is NaN until the seed is complete.
    A plain loop: the recursion is inherently sequential and 10k rows take ~1 ms.
    """
    if n < 1:
        raise ValueError(f"period must be >= 1, got {n}")
    out = [math.nan] * len(values)
    seed: list[float] = []
    y = math.nan
    for i, x in enumerate(values.tolist()):
        if x != x:  # NaN
            continue
        if len(seed) < n:
            seed.append(x)
            if len(seed) == n:
                y = math.fsum(seed) / n
                out[i] = y
            continue
        y = (a * y + b * x) / c
        out[i] = y
    return np.array(out, dtype=float)


# --------------------------------------------------------------------------- returns & volatility


def log_returns(close: pd.Series) -> pd.Series:
    """ln(C_t / C_{t-1}) vs the previous row; NaN on the first row and on/after a missing close."""
    v = _f(close)
    out = np.full(len(v), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        out[1:] = np.log(v[1:] / v[:-1])
    return pd.Series(out, index=close.index, name="log_return")


def realized_vol(close: pd.Series, window: int) -> pd.Series:
    """Close-to-close vol: sample std (ddof=1) of the last `window` log returns × sqrt(252).

    Needs window+1 closes; NaN if any of those returns is NaN (i.e. any close in the span is missing).
    """
    if window < 2:
        raise ValueError("realized_vol needs window >= 2 (sample std)")
    out = _rolling(log_returns(close), window).std(ddof=1) * math.sqrt(ANNUALIZATION)
    return out.rename(f"rv{window}")


def parkinson_vol(high: pd.Series, low: pd.Series, window: int = 21) -> pd.Series:
    """Parkinson (1980) range vol: sqrt(mean(ln(H/L)^2) / (4 ln 2) × 252) over `window` bars.

    A bar with H == L is treated as a placeholder (close-only history), i.e. missing, not as zero
    range — otherwise a close-only series would report 0 vol. NaN if any bar in the window is
    missing or such a placeholder.
    """
    h, lo = _f(high), _f(low)
    with np.errstate(divide="ignore", invalid="ignore"):
        sq = np.log(h / lo) ** 2
    sq[h == lo] = np.nan
    mean = _rolling(pd.Series(sq, index=high.index), window).mean()
    return np.sqrt(mean / (4.0 * math.log(2.0)) * ANNUALIZATION).rename(f"parkinson{window}")


def yang_zhang_vol(open_: pd.Series, high: pd.Series, low: pd.Series, close: pd.Series, window: int = 21) -> pd.Series:
    """Yang & Zhang (2000) drift-independent OHLC vol, annualized with sqrt(252).

    sigma^2 = V_overnight + k V_open-close + (1-k) V_RS, with k = 0.34 / (1.34 + (n+1)/(n-1)):
    V_overnight, V_open-close are sample variances (ddof=1) of ln(O_t/C_{t-1}) and ln(C_t/O_t) over the
    last n = `window` bars; V_RS is the mean Rogers-Satchell term ln(H/C)ln(H/O) + ln(L/C)ln(L/O).
    NaN if any bar in the window has a missing O/H/L/C, if the close before the window is missing,
    or if any bar in the window is flat (O=H=L=C: close-only history carries no intraday data).
    """
    if window < 2:
        raise ValueError("yang_zhang_vol needs window >= 2")
    o, h, lo, c = _f(open_), _f(high), _f(low), _f(close)
    bad = np.isnan(o) | np.isnan(h) | np.isnan(lo) | np.isnan(c) | ((o == h) & (h == lo) & (lo == c))
    prev_c = np.concatenate([[np.nan], c[:-1]])
    with np.errstate(divide="ignore", invalid="ignore"):
        overnight = np.log(o / prev_c)
        open_close = np.log(c / o)
        rs = np.log(h / c) * np.log(h / o) + np.log(lo / c) * np.log(lo / o)
    for arr in (overnight, open_close, rs):
        arr[bad] = np.nan
    idx = close.index
    n = window
    k = 0.34 / (1.34 + (n + 1) / (n - 1))
    var = (
        _rolling(pd.Series(overnight, index=idx), n).var(ddof=1)
        + k * _rolling(pd.Series(open_close, index=idx), n).var(ddof=1)
        + (1.0 - k) * _rolling(pd.Series(rs, index=idx), n).mean()
    )
    return np.sqrt(var * ANNUALIZATION).rename(f"yz{window}")


# --------------------------------------------------------------------------- averages, MACD, RSI


def sma(x: pd.Series, n: int) -> pd.Series:
    """Simple moving average of the last n rows; NaN unless all n are present."""
    return _rolling(x, n).mean().rename(f"sma{n}")


def ema(x: pd.Series, span: int) -> pd.Series:
    """EMA with alpha = 2/(span+1): y = (1-alpha) y_prev + alpha x, seeded with the SMA of the first
    `span` non-missing values (StockCharts/Appel convention, so MACD matches the published
    reference from its first value; converges to pandas ``ewm(adjust=False)``). NaN days are skipped
    (NaN out, state carried)."""
    alpha = 2.0 / (span + 1.0)
    out = _seeded_recursion(_f(x), span, 1.0 - alpha, alpha, 1.0)
    return pd.Series(out, index=x.index, name=f"ema{span}")


def macd(close: pd.Series, fast: int = 12, slow: int = 26, signal: int = 9) -> pd.DataFrame:
    """Appel's MACD: line = EMA_fast - EMA_slow, signal = EMA_signal(line), hist = line - signal.

    With SMA-seeded EMAs the line starts at row slow-1 and the signal at row slow+signal-2 (no gaps).
    Cross flags compare today with the previous ROW: up when hist goes from <= 0 to > 0, down when
    from >= 0 to < 0; False if either day's hist is NaN (a cross inside a gap is not dated).
    """
    line = ema(close, fast) - ema(close, slow)
    sig = ema(line, signal)
    hist = line - sig
    h = _f(hist)
    prev = np.concatenate([[np.nan], h[:-1]])
    return pd.DataFrame(
        {
            "macd": line,
            "macd_signal": sig,
            "macd_hist": hist,
            "macd_cross_up": (prev <= 0) & (h > 0),
            "macd_cross_down": (prev >= 0) & (h < 0),
        },
        index=close.index,
    )


def rsi_wilder(close: pd.Series, period: int = 14) -> pd.Series:
    """Wilder's (1978) RSI in [0, 100].

    Changes are C_t - C_{t-1} (previous row; NaN if either is missing). Average gain/loss are seeded
    with the simple mean of the first `period` non-missing changes, then avg = (prev*(period-1) + x)/period;
    NaN changes are skipped (RSI NaN that day, averages carried). RSI = 100 - 100/(1 + gain/loss), with
    100 when avg loss is 0 and 50 when both averages are 0 (no movement at all).
    """
    v = _f(close)
    d = np.full(len(v), np.nan)
    d[1:] = v[1:] - v[:-1]
    gain = _seeded_recursion(np.where(np.isnan(d), np.nan, np.maximum(d, 0.0)), period, period - 1.0, 1.0, period)
    loss = _seeded_recursion(np.where(np.isnan(d), np.nan, np.maximum(-d, 0.0)), period, period - 1.0, 1.0, period)
    with np.errstate(divide="ignore", invalid="ignore"):
        rsi = 100.0 - 100.0 / (1.0 + gain / loss)
    rsi = np.where(loss == 0, np.where(gain == 0, 50.0, 100.0), rsi)
    return pd.Series(rsi, index=close.index, name=f"rsi{period}")


# --------------------------------------------------------------------------- trend / location


def drawdown(close: pd.Series, window: int = 252) -> pd.Series:
    """close / max(close over the last `window` rows incl. today) - 1, in [-1, 0]; full window required."""
    return (close.astype(float) / _rolling(close, window).max() - 1.0).rename("drawdown")


def rolling_percentile(x: pd.Series, window: int = 252) -> pd.Series:
    """Fraction of the last `window` values (incl. today) that are <= today's value, in (0, 1].

    Ties count as <= (so a constant series is 1.0). Computed exactly (integer counts); full window required.
    """
    v = _f(x)
    out = np.full(len(v), np.nan)
    if window < 1:
        raise ValueError(f"window must be >= 1, got {window}")
    if len(v) >= window:
        w = sliding_window_view(v, window)
        out[window - 1 :] = np.count_nonzero(w <= w[:, -1:], axis=1) / window
    out[_window_has_nan(v, window)] = np.nan
    return pd.Series(out, index=x.index, name="pctile")


def rolling_zscore(x: pd.Series, window: int = 252) -> pd.Series:
    """(x - mean) / std over the last `window` values incl. today (sample std, ddof=1).

    NaN where the window is incomplete or the std is 0 (a constant window has no scale).
    """
    r = _rolling(x, window)
    sd = r.std(ddof=1)
    z = (x.astype(float) - r.mean()) / sd.where(sd > 0)
    return z.rename("zscore")


# --------------------------------------------------------------------------- pivots & divergences


def pivots(x: pd.Series, left: int = 5, right: int = 5) -> pd.DataFrame:
    """Swing highs/lows, flagged on their CONFIRMATION row (pivot row + `right`), hence causal.

    Pivot high at p: x[p] > each of the `left` values before (strict) and x[p] >= each of the `right`
    values after. Pivot low mirrors it (strictly below the left side, <= the right side). The tie rule
    makes a flat top/bottom produce exactly one pivot, at its first bar. No pivot if any value in the
    left+1+right window is NaN.
    """
    v = _f(x)
    n, span = len(v), left + 1 + right
    hi = np.zeros(n, dtype=bool)
    lo = np.zeros(n, dtype=bool)
    if n >= span:
        w = sliding_window_view(v, span)
        c = w[:, left : left + 1]
        with np.errstate(invalid="ignore"):
            hi[span - 1 :] = (c > w[:, :left]).all(axis=1) & (c >= w[:, left + 1 :]).all(axis=1)
            lo[span - 1 :] = (c < w[:, :left]).all(axis=1) & (c <= w[:, left + 1 :]).all(axis=1)
        nan = _window_has_nan(v, span)
        hi &= ~nan
        lo &= ~nan
    return pd.DataFrame({"pivot_high": hi, "pivot_low": lo}, index=x.index)


def _divergence_flags(
    confirm: np.ndarray, price: np.ndarray, osc: np.ndarray, right: int, min_gap: int, max_gap: int, bearish: bool
) -> np.ndarray:
    out = np.zeros(len(price), dtype=bool)
    conf_rows = np.flatnonzero(confirm)
    if len(conf_rows) < 2:
        return out
    p = conf_rows - right  # pivot rows
    cur, prev = p[1:], p[:-1]
    gap = cur - prev
    if bearish:
        cond = (price[cur] > price[prev]) & (osc[cur] < osc[prev])
    else:
        cond = (price[cur] < price[prev]) & (osc[cur] > osc[prev])
    out[conf_rows[1:]] = cond & (gap >= min_gap) & (gap <= max_gap)
    return out


def _active(flag: np.ndarray, active: int) -> np.ndarray:
    """True on the `active` rows starting at each True in flag."""
    c = np.concatenate([[0], np.cumsum(flag)])
    idx = np.arange(len(flag))
    return (c[idx + 1] - c[np.maximum(idx + 1 - active, 0)]) > 0


def divergences(
    price: pd.Series,
    rsi: pd.Series,
    left: int = 5,
    right: int = 5,
    min_gap: int = 5,
    max_gap: int = 60,
    active: int = 10,
) -> pd.DataFrame:
    """Price/RSI divergences (METHODOLOGY §2), flagged on the confirmation row (pivot + `right`).

    Pivots are located on PRICE (see `pivots`); RSI is read at those same pivot rows (the RSI need not
    pivot there). Each new price pivot high is compared with the immediately previous price pivot high;
    if their row distance is within [min_gap, max_gap]: bearish when price makes a strictly higher high
    and RSI a strictly lower value. Bullish mirrors it on pivot lows (strictly lower low, strictly higher
    RSI). A NaN RSI at either pivot gives no divergence. ``*_active`` is True on the `active` rows
    starting at confirmation (confirmation day included).
    """
    piv = pivots(price, left, right)
    p, r = _f(price), _f(rsi)
    with np.errstate(invalid="ignore"):
        bear = _divergence_flags(piv["pivot_high"].to_numpy(), p, r, right, min_gap, max_gap, bearish=True)
        bull = _divergence_flags(piv["pivot_low"].to_numpy(), p, r, right, min_gap, max_gap, bearish=False)
    return pd.DataFrame(
        {
            "bearish_divergence": bear,
            "bullish_divergence": bull,
            "bearish_divergence_active": _active(bear, active),
            "bullish_divergence_active": _active(bull, active),
        },
        index=price.index,
    )
