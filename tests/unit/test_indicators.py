"""Indicators vs independent references: published worked examples, hand math, slow loops."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pandas as pd
import pytest

from tests.floats import assert_array_close
from vixshield.features import indicators as ind

SQ252 = math.sqrt(252)


def _s(values, start: str = "2020-01-02") -> pd.Series:
    return pd.Series(np.asarray(values, dtype=float), index=pd.bdate_range(start, periods=len(values)))


@pytest.fixture(scope="module")
def ohlc() -> pd.DataFrame:
    """400 seeded random-walk bars with a missing day, a missing open and a flat (close-only) bar."""
    rng = np.random.default_rng(42)
    n = 400
    c = 4000 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    o = c * (1 + rng.normal(0, 0.003, n))
    h = np.maximum(o, c) * (1 + np.abs(rng.normal(0, 0.004, n)))
    lo = np.minimum(o, c) * (1 - np.abs(rng.normal(0, 0.004, n)))
    df = pd.DataFrame({"open": o, "high": h, "low": lo, "close": c}, index=pd.bdate_range("2000-01-03", periods=n))
    df.iloc[150] = np.nan
    df.iloc[220, 0] = np.nan
    df.iloc[300, :3] = df.iloc[300, 3]
    return df


# --------------------------------------------------------------------------- RSI

# StockCharts ChartSchool RSI worked example (cs-rsi.xls, QQQQ closes) and its published 14-day RSI column.
RSI_CLOSES = [
    44.3389, 44.0902, 44.1497, 43.6124, 44.3278, 44.8264, 45.0955, 45.4245, 45.8433, 46.0826, 45.8931,
    46.0328, 45.6140, 46.2820, 46.2820, 46.0028, 46.0328, 46.4116, 46.2222, 45.6439, 46.2122, 46.2521,
    45.7137, 46.4515, 45.7835, 45.3548, 44.0288, 44.1783, 44.2181, 44.5672, 43.4205, 42.6628, 43.1314,
]  # fmt: skip
RSI_PUBLISHED = [
    70.53, 66.32, 66.55, 69.41, 66.36, 57.97, 62.93, 63.26, 56.06, 62.38,
    54.71, 50.42, 39.99, 41.46, 41.87, 45.46, 37.30, 33.08, 37.77,
]  # fmt: skip


def test_rsi_matches_stockcharts_worked_example():
    rsi = ind.rsi_wilder(_s(RSI_CLOSES), 14).to_numpy()
    assert np.isnan(rsi[:14]).all()
    np.testing.assert_allclose(rsi[14:], RSI_PUBLISHED, atol=0.0051)


def _rsi_loop(closes: list[float], period: int) -> list[float]:
    """Textbook Wilder RSI, no missing data."""
    out = [math.nan] * len(closes)
    gains = [max(closes[i] - closes[i - 1], 0.0) for i in range(1, len(closes))]
    losses = [max(closes[i - 1] - closes[i], 0.0) for i in range(1, len(closes))]
    ag, al = sum(gains[:period]) / period, sum(losses[:period]) / period
    for j in range(period - 1, len(gains)):
        if j >= period:
            ag = (ag * (period - 1) + gains[j]) / period
            al = (al * (period - 1) + losses[j]) / period
        out[j + 1] = 100.0 if al == 0 else 100 - 100 / (1 + ag / al)
    return out


def test_rsi_matches_slow_loop_and_bounds(ohlc):
    c = ohlc["close"].iloc[:140]
    for period in (2, 14, 30):
        got = ind.rsi_wilder(c, period)
        np.testing.assert_allclose(got, _rsi_loop(c.tolist(), period), rtol=1e-12, equal_nan=True)
        assert got.dropna().between(0, 100).all()
    assert ind.rsi_wilder(_s(np.arange(40.0) + 1)).iloc[-1] == 100.0
    assert ind.rsi_wilder(_s(40.0 - np.arange(40.0))).iloc[-1] == 0.0
    assert ind.rsi_wilder(_s(np.full(40, 5.0))).iloc[-1] == 50.0


def test_rsi_skips_a_missing_close_without_bridging_it(ohlc):
    c = ohlc["close"].iloc[:60].copy()
    c.iloc[30] = np.nan
    got = ind.rsi_wilder(c, 14).to_numpy()
    assert np.isnan(got[[30, 31]]).all() and not np.isnan(got[[29, 32]]).any()
    # Reference: the Wilder loop over the valid one-day changes only (30-29 and 31-30 are unknown).
    v = c.to_numpy()
    changes = [v[i] - v[i - 1] for i in range(1, len(v)) if i not in (30, 31)]
    fake_closes = np.concatenate([[0.0], np.cumsum(changes)]).tolist()
    ref = [x for x in _rsi_loop(fake_closes, 14)[1:]]
    np.testing.assert_allclose(got[np.r_[1:30, 32:60]], ref, rtol=1e-9, equal_nan=True)


# --------------------------------------------------------------------------- EMA / MACD


def _ema_loop(values: list[float], span: int) -> list[float]:
    alpha = 2 / (span + 1)
    out = [math.nan] * len(values)
    valid = [i for i, x in enumerate(values) if not math.isnan(x)]
    if len(valid) < span:
        return out
    y = sum(values[i] for i in valid[:span]) / span
    out[valid[span - 1]] = y
    for i in valid[span:]:
        y = alpha * values[i] + (1 - alpha) * y
        out[i] = y
    return out


def _macd_loop(closes: list[float], fast=12, slow=26, signal=9):
    f, s = _ema_loop(closes, fast), _ema_loop(closes, slow)
    line = [a - b for a, b in zip(f, s, strict=True)]
    sig = _ema_loop(line, signal)
    hist = [a - b for a, b in zip(line, sig, strict=True)]
    up = [False] + [hist[i - 1] <= 0 < hist[i] for i in range(1, len(hist))]
    down = [False] + [hist[i - 1] >= 0 > hist[i] for i in range(1, len(hist))]
    return line, sig, hist, up, down


def test_ema_sma_seed_then_pandas_recursion(ohlc):
    c = ohlc["close"].iloc[:100]
    got = ind.ema(c, 10)
    assert got.iloc[:9].isna().all()
    assert got.iloc[9] == pytest.approx(c.iloc[:10].mean(), rel=1e-14)
    # After the seed the recursion is pandas' ewm(adjust=False) started from the seed.
    ref = pd.concat([pd.Series([c.iloc[:10].mean()]), c.iloc[10:].reset_index(drop=True)]).ewm(span=10, adjust=False)
    np.testing.assert_allclose(got.iloc[9:], ref.mean(), rtol=1e-12)


def test_ema_skips_missing_days(ohlc):
    c = ohlc["close"].iloc[:80].copy()
    c.iloc[[5, 40, 41]] = np.nan
    got = ind.ema(c, 12)
    assert got.iloc[[40, 41]].isna().all()
    np.testing.assert_allclose(got, _ema_loop(c.tolist(), 12), rtol=1e-12, equal_nan=True)
    np.testing.assert_allclose(got.dropna(), ind.ema(c.dropna(), 12).dropna(), rtol=0, atol=0)


def test_macd_matches_slow_loop(ohlc):
    c = ohlc["close"]
    got = ind.macd(c)
    assert list(got.columns) == ["macd", "macd_signal", "macd_hist", "macd_cross_up", "macd_cross_down"]
    line, sig, hist, up, down = _macd_loop(c.tolist())
    for col, ref in zip(["macd", "macd_signal", "macd_hist"], [line, sig, hist], strict=True):
        np.testing.assert_allclose(got[col], ref, rtol=1e-9, atol=1e-9, equal_nan=True)
    assert got["macd"].first_valid_index() == c.index[25]
    assert got["macd_signal"].first_valid_index() == c.index[33]
    assert got["macd_cross_up"].dtype == bool and got["macd_cross_up"].sum() > 3
    assert got["macd_cross_up"].tolist() == up
    assert got["macd_cross_down"].tolist() == down


def test_macd_converges_to_ta_library():
    ta = pytest.importorskip("ta")
    c = _s(4000 * np.exp(np.cumsum(np.random.default_rng(1).normal(0, 0.01, 600))))
    ref = ta.trend.MACD(c, window_slow=26, window_fast=12, window_sign=9)
    got = ind.macd(c)
    # ta seeds with the first value instead of an SMA; the seeds' difference decays like (25/27)^k.
    for col, theirs in (("macd", ref.macd()), ("macd_signal", ref.macd_signal()), ("macd_hist", ref.macd_diff())):
        np.testing.assert_allclose(got[col].iloc[400:], theirs.iloc[400:], rtol=0, atol=1e-8)


def test_macd_cross_from_exact_zero_counts_once():
    # Flat closes give hist == 0 exactly; the first rise crosses up (from <= 0 to > 0), the first fall down.
    got = ind.macd(_s([100.0] * 45 + [101.0] * 5 + [95.0] * 10))
    assert (got["macd_hist"].iloc[33:45] == 0).all()
    assert np.flatnonzero(got["macd_cross_up"]).tolist() == [45]
    assert np.flatnonzero(got["macd_cross_down"]).tolist() == [50]


def test_macd_gap_gives_no_cross_flag(ohlc):
    c = ohlc["close"].iloc[:149].copy()
    full = ind.macd(c)
    k = int(np.flatnonzero(full["macd_cross_up"] | full["macd_cross_down"])[-1])
    c.iloc[k] = np.nan
    got = ind.macd(c)
    assert np.isnan(got["macd"].iloc[k]) and not got.iloc[k][["macd_cross_up", "macd_cross_down"]].any()
    assert not got.iloc[k + 1][["macd_cross_up", "macd_cross_down"]].any()


# --------------------------------------------------------------------------- volatility


def test_log_returns_and_realized_vol_by_hand():
    closes = [100.0, 102.0, 99.0, 101.0, 104.0]
    r = [math.log(closes[i] / closes[i - 1]) for i in range(1, 5)]
    np.testing.assert_allclose(ind.log_returns(_s(closes)), [math.nan, *r], equal_nan=True)
    got = ind.realized_vol(_s(closes), 3).to_numpy()
    assert np.isnan(got[:3]).all()
    assert got[3] == pytest.approx(statistics.stdev(r[:3]) * SQ252, rel=1e-12)
    assert got[4] == pytest.approx(statistics.stdev(r[1:]) * SQ252, rel=1e-12)
    # Annualization: daily returns alternating ±1% -> stdev 0.01*sqrt(n/(n-1)) for even n.
    alt = _s(100 * np.exp(np.cumsum([0.0] + [0.01, -0.01] * 10)))
    assert ind.realized_vol(alt, 20).iloc[-1] == pytest.approx(0.01 * math.sqrt(20 / 19) * SQ252, rel=1e-12)


def test_parkinson_by_hand():
    high, low = [101.0, 102.5, 100.8, 103.0], [99.0, 100.0, 99.9, 100.5]
    got = ind.parkinson_vol(_s(high), _s(low), window=3).to_numpy()
    sq = [math.log(h / lo) ** 2 for h, lo in zip(high, low, strict=True)]
    assert np.isnan(got[:2]).all()
    assert got[2] == pytest.approx(math.sqrt(sum(sq[:3]) / 3 / (4 * math.log(2)) * 252), rel=1e-12)
    assert got[3] == pytest.approx(math.sqrt(sum(sq[1:]) / 3 / (4 * math.log(2)) * 252), rel=1e-12)
    # Close-only bars (H == L) are unknown range, not zero vol.
    assert ind.parkinson_vol(_s([5.0] * 30), _s([5.0] * 30)).isna().all()


def _yz_by_hand(o, h, lo, c, n):
    on = [math.log(o[i] / c[i - 1]) for i in range(1, n + 1)]
    oc = [math.log(c[i] / o[i]) for i in range(1, n + 1)]
    rs = [
        math.log(h[i] / c[i]) * math.log(h[i] / o[i]) + math.log(lo[i] / c[i]) * math.log(lo[i] / o[i])
        for i in range(1, n + 1)
    ]
    k = 0.34 / (1.34 + (n + 1) / (n - 1))
    return math.sqrt(252 * (statistics.variance(on) + k * statistics.variance(oc) + (1 - k) * sum(rs) / n))


def test_yang_zhang_by_hand():
    o = [100.0, 101.0, 100.2, 102.0]
    h = [101.0, 102.2, 101.5, 103.1]
    lo = [99.5, 100.1, 99.4, 101.2]
    c = [100.5, 100.6, 101.8, 102.4]
    got = ind.yang_zhang_vol(_s(o), _s(h), _s(lo), _s(c), window=3).to_numpy()
    assert np.isnan(got[:3]).all()  # window 3 needs the close before the window
    assert got[3] == pytest.approx(_yz_by_hand(o, h, lo, c, 3), rel=1e-12)


def test_yang_zhang_nan_for_flat_or_missing_bars(ohlc):
    o, h, lo, c = (ohlc[k] for k in ("open", "high", "low", "close"))
    got = ind.yang_zhang_vol(o, h, lo, c, 21)
    assert got.iloc[22:150].notna().all()
    assert got.iloc[150:172].isna().all() and got.iloc[172:220].notna().all()  # missing day (+ next overnight)
    assert got.iloc[220:241].isna().all() and got.iloc[241:300].notna().all()  # missing open
    assert got.iloc[300:321].isna().all() and got.iloc[321:].notna().all()  # flat O=H=L=C bar
    flat = _s(4000 + np.arange(40.0))
    assert ind.yang_zhang_vol(flat, flat, flat, flat).isna().all()
    assert 0.05 < got.iloc[30] < 0.5  # ~1% daily noise -> ~16% annualized


# --------------------------------------------------------------------------- windows


def test_sma_drawdown_percentile_zscore_by_hand():
    x = _s([100.0, 110.0, 99.0, 120.0, 60.0])
    np.testing.assert_allclose(ind.sma(x, 2), [math.nan, 105, 104.5, 109.5, 90], equal_nan=True)
    np.testing.assert_allclose(ind.drawdown(x, 3), [math.nan, math.nan, 99 / 110 - 1, 0.0, -0.5], equal_nan=True)
    p = _s([3.0, 1.0, 2.0, 2.0, 5.0, 4.0, 3.0])
    assert_array_close(ind.rolling_percentile(p, 3), [np.nan, np.nan, 2 / 3, 1.0, 1.0, 2 / 3, 1 / 3])
    z = ind.rolling_zscore(x, 3).to_numpy()
    for t in (2, 3, 4):
        w = x.iloc[t - 2 : t + 1].tolist()
        assert z[t] == pytest.approx((w[-1] - statistics.mean(w)) / statistics.stdev(w), rel=1e-12)
    assert ind.rolling_zscore(_s([7.0] * 10), 5).isna().all()  # no scale, no score


@pytest.mark.parametrize(
    "fn",
    [
        lambda x: ind.sma(x, 5),
        lambda x: ind.drawdown(x, 5),
        lambda x: ind.rolling_percentile(x, 5),
        lambda x: ind.rolling_zscore(x, 5),
        lambda x: ind.realized_vol(x, 4),  # 4 returns over 5 closes
    ],
)
def test_windowed_gap_propagates_for_exactly_one_window(fn):
    x = _s(100 + np.sin(np.arange(30.0)) * 5)
    x.iloc[12] = np.nan
    got = fn(x)
    assert got.iloc[4:12].notna().all()
    assert got.iloc[12:17].isna().all() and got.iloc[17:].notna().all()


# --------------------------------------------------------------------------- pivots & divergences


def test_pivots_dated_at_confirmation_with_tie_rules():
    x = _s([1, 2, 3, 4, 5, 9, 5, 4, 3, 2, 1, 1, 2, 0, 0, 0, 3, 4, 5, 6, 7, 8, 8, 8, 6, 5, 4, 3, 2, 1])
    got = ind.pivots(x, 2, 2)
    # Highs at 5, 12 (2 > 1,1 and >= 0,0) and 21 (first bar of the 8,8,8 plateau), each flagged 2 rows later.
    assert np.flatnonzero(got["pivot_high"]).tolist() == [7, 14, 23]
    # Lows at 10 (first of 1,1) and 13 (first of 0,0,0); never the second bar of a flat bottom.
    assert np.flatnonzero(got["pivot_low"]).tolist() == [12, 15]
    x.iloc[4] = np.nan
    assert not ind.pivots(x, 2, 2)["pivot_high"].iloc[7]


def _peaks(n: int, peaks: dict[int, float], base: float = 100.0) -> pd.Series:
    """Flat base with tent-shaped peaks (8 bars each side): only the tops are pivots."""
    v = np.full(n, base)
    for p, top in peaks.items():
        for i in range(max(0, p - 8), min(n, p + 9)):
            v[i] = max(v[i], top - (top - base) * abs(i - p) / 8)
    return _s(v)


def _osc(n: int, values: dict[int, float]) -> pd.Series:
    r = np.full(n, 50.0)
    for i, val in values.items():
        r[i] = val
    return _s(r)


def test_bearish_divergence_fires_on_confirmation_and_stays_active_10():
    n = 120
    price = _peaks(n, {20: 110, 50: 112})
    got = ind.divergences(price, _osc(n, {20: 70, 50: 65}))
    assert np.flatnonzero(got["bearish_divergence"]).tolist() == [55]
    assert np.flatnonzero(got["bearish_divergence_active"]).tolist() == list(range(55, 65))
    assert not got["bullish_divergence"].any() and not got["bullish_divergence_active"].any()
    # RSI confirms the new high -> no divergence; lower price high -> none either.
    assert not ind.divergences(price, _osc(n, {20: 70, 50: 75}))["bearish_divergence"].any()
    assert not ind.divergences(_peaks(n, {20: 112, 50: 110}), _osc(n, {20: 70, 50: 65}))["bearish_divergence"].any()
    # RSI is read at the PRICE pivot bar, even when the RSI's own peak sits elsewhere.
    assert ind.divergences(price, _osc(n, {20: 70, 48: 90, 50: 65}))["bearish_divergence"].iloc[55]


def test_divergence_gap_limits():
    n = 160
    osc = {20: 70, 81: 65}
    assert not ind.divergences(_peaks(n, {20: 110, 81: 112}), _osc(n, osc))["bearish_divergence"].any()  # 61 bars
    on_edge = ind.divergences(_peaks(n, {20: 110, 80: 112}), _osc(n, {20: 70, 80: 65}))
    assert np.flatnonzero(on_edge["bearish_divergence"]).tolist() == [85]  # exactly 60 bars
    assert not ind.divergences(_peaks(n, {20: 110, 50: 112}), _osc(n, {20: 70, 50: 65}), max_gap=29)[
        "bearish_divergence"
    ].any()


def test_bullish_divergence_mirror():
    n = 120
    price = 200 - _peaks(n, {30: 110, 70: 112})  # troughs 90 then 88: lower low
    got = ind.divergences(price, _osc(n, {30: 25, 70: 32}))
    assert np.flatnonzero(got["bullish_divergence"]).tolist() == [75]
    assert np.flatnonzero(got["bullish_divergence_active"]).tolist() == list(range(75, 85))
    assert not got["bearish_divergence"].any()
    assert not ind.divergences(price, _osc(n, {30: 25, 70: 20}))["bullish_divergence"].any()
    assert not ind.divergences(price, _osc(n, {30: 25, 70: np.nan}))["bullish_divergence"].any()


# --------------------------------------------------------------------------- causality


CAUSAL = {
    "log_returns": lambda d: ind.log_returns(d["close"]),
    "realized_vol": lambda d: ind.realized_vol(d["close"], 21),
    "parkinson_vol": lambda d: ind.parkinson_vol(d["high"], d["low"]),
    "yang_zhang_vol": lambda d: ind.yang_zhang_vol(d["open"], d["high"], d["low"], d["close"]),
    "sma": lambda d: ind.sma(d["close"], 50),
    "ema": lambda d: ind.ema(d["close"], 20),
    "macd": lambda d: ind.macd(d["close"]),
    "rsi_wilder": lambda d: ind.rsi_wilder(d["close"]),
    "drawdown": lambda d: ind.drawdown(d["close"], 100),
    "rolling_percentile": lambda d: ind.rolling_percentile(d["close"], 100),
    "rolling_zscore": lambda d: ind.rolling_zscore(d["close"], 100),
    "pivots": lambda d: ind.pivots(d["close"]),
    "divergences": lambda d: ind.divergences(d["close"], ind.rsi_wilder(d["close"])),
}


@pytest.mark.parametrize("name", sorted(CAUSAL))
def test_causal_prefix_gives_identical_values(ohlc, name):
    fn = CAUSAL[name]
    full = fn(ohlc)
    assert len(full) == len(ohlc) and full.index.equals(ohlc.index)
    assert np.asarray(full.notna()).any()
    for t in (20, 60, 151, 222, 301, 333, 399):
        part = fn(ohlc.iloc[:t])
        cols = part.columns if isinstance(part, pd.DataFrame) else [None]
        for col in cols:
            a, b = (part, full.iloc[:t]) if col is None else (part[col], full[col].iloc[:t])
            assert_array_close(a.to_numpy(), b.to_numpy(), err_msg=f"{name}[{col}] t={t}")


def test_divergences_found_on_random_walk_are_causal_events(ohlc):
    d = ind.divergences(ohlc["close"], ind.rsi_wilder(ohlc["close"]))
    assert d["bearish_divergence"].any() or d["bullish_divergence"].any()
    assert (d["bearish_divergence_active"] >= d["bearish_divergence"]).all()
