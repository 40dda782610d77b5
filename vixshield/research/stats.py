"""Statistics that separate skill from luck: performance of daily return series, paired block-bootstrap
intervals of differences against a benchmark, and the Deflated Sharpe Ratio.

Conventions (as vixshield.backtest.metrics): daily simple returns, 252 sessions a year, Sharpe and
Sortino on returns in excess of the T-bill rate the book credited. CAGR compounds over sessions / 252
years, since a resampled path has sessions, not dates. Monthly returns compound the sessions of each
calendar month; CVaR(5%) is the mean of the worst 5% of them (at least one).

Intervals: the stationary bootstrap of Politis & Romano (1994) (arch.bootstrap.StationaryBootstrap):
blocks of geometric length with mean `block`, wrapping around the sample; every series is resampled at the
same positions (paired), so a difference's interval keeps the series' correlation, and a resampled path
keeps the calendar's month boundaries by position. The mean block is chosen by Politis & White (2004), with
Patton, Politis & White's (2009) correction (arch.bootstrap.optimal_block_length), on squared returns:
volatility clustering, not the returns' near-zero autocorrelation, is what a block must keep; never
below a month of sessions. Intervals are percentile intervals.

A crash window is one event: its interval resamples the window's own sessions (paired, mean block a quarter
of the window, at most the global block), which says how much a difference rests on a few sessions, not
how the next crash would go.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterator, Sequence

import numpy as np
import pandas as pd
from arch.bootstrap import StationaryBootstrap, optimal_block_length
from scipy import stats as sps

from vixshield.backtest.metrics import STRESS_WINDOWS, TRADING_DAYS

# the METHODOLOGY §7 stress windows and September 2001, as crash_<yyyy>_<mm>: (first day, last day)
CRASH_WINDOWS: dict[str, tuple[str, str]] = dict(
    sorted(
        {
            f"crash_{name.removeprefix('stress_')}": window
            for name, window in {**STRESS_WINDOWS, "stress_2001_09": ("2001-09-01", "2001-09-30")}.items()
        }.items()
    )
)
STATISTICS = ("sharpe", "cagr", "max_drawdown", "cvar5_monthly", "worst_month")
DSR_FIELDS = ("sharpe", "observations", "skew", "kurtosis", "trials", "sharpe_sd_trials", "sr0", "psr", "dsr")
CVAR_LEVEL = 0.05

Matrix = np.ndarray  # sessions x series
Statistic = Callable[[Matrix, np.ndarray], np.ndarray]  # (returns, T-bill returns) -> one value per series


# --- statistics of return matrices (one column per series) -----------------------------------------


def sharpe(r: Matrix, rf: np.ndarray) -> np.ndarray:
    excess = r - rf[:, None]
    sd = excess.std(axis=0, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(sd > 0, excess.mean(axis=0) / sd * math.sqrt(TRADING_DAYS), np.nan)


def sortino(r: Matrix, rf: np.ndarray) -> np.ndarray:
    excess = r - rf[:, None]
    down = np.sqrt(np.mean(np.minimum(excess, 0.0) ** 2, axis=0))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(down > 0, excess.mean(axis=0) * math.sqrt(TRADING_DAYS) / down, np.nan)


def cagr(r: Matrix, rf: np.ndarray | None = None, log: Matrix | None = None) -> np.ndarray:
    log = np.log1p(r) if log is None else log
    return np.expm1(log.sum(axis=0) * TRADING_DAYS / len(log))


def max_drawdown(r: Matrix, rf: np.ndarray | None = None, log: Matrix | None = None) -> np.ndarray:
    """In log space (a cumulative sum, not a product): the deepest fall of NAV from its running peak,
    the starting NAV included."""
    nav = np.cumsum(np.log1p(r) if log is None else log, axis=0)
    peak = np.maximum(np.maximum.accumulate(nav, axis=0), 0.0)
    return np.expm1((nav - peak).min(axis=0))


def calmar(r: Matrix, rf: np.ndarray | None = None) -> np.ndarray:
    dd = max_drawdown(r)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(dd < 0, cagr(r) / np.abs(dd), np.nan)


# the walk-forward's objectives: higher is better
OBJECTIVES: dict[str, Statistic] = {"sharpe": sharpe, "sortino": sortino, "cagr": cagr, "calmar": calmar}


def month_starts(dates: pd.DatetimeIndex) -> np.ndarray:
    """Positions of the first session of each calendar month."""
    period = dates.year * 12 + dates.month
    return np.flatnonzero(np.r_[True, period[1:] != period[:-1]])


def monthly(r: Matrix, starts: np.ndarray, log: Matrix | None = None) -> Matrix:
    return np.expm1(np.add.reduceat(np.log1p(r) if log is None else log, starts, axis=0))


def cvar(months: Matrix, level: float = CVAR_LEVEL) -> np.ndarray:
    k = max(1, math.ceil(level * len(months)))
    return np.sort(months, axis=0)[:k].mean(axis=0)


def summary(r: Matrix, rf: np.ndarray, starts: np.ndarray) -> dict[str, np.ndarray]:
    """Every statistic in STATISTICS, one value per column."""
    log = np.log1p(r)
    months = monthly(r, starts, log)
    return {
        "sharpe": sharpe(r, rf),
        "cagr": cagr(r, log=log),
        "max_drawdown": max_drawdown(r, log=log),
        "cvar5_monthly": cvar(months),
        "worst_month": months.min(axis=0),
    }


def compound(r: Matrix) -> np.ndarray:
    return np.prod(1.0 + r, axis=0) - 1.0


def crash_positions(dates: pd.DatetimeIndex) -> dict[str, np.ndarray]:
    """Positions of each crash window's sessions, for the windows the dates cover whole (data before and after)."""
    out = {}
    for name, (first, last) in CRASH_WINDOWS.items():
        first, last = pd.Timestamp(first), pd.Timestamp(last)
        if len(dates) and dates[0] < first and dates[-1] > last:
            out[name] = np.flatnonzero((dates >= first) & (dates <= last))
    return out


# --- the paired stationary bootstrap ------------------------------------------------------------------


def choose_block(returns: Matrix, floor: int) -> int:
    """Politis-White mean block length of the squared returns, the largest over the series, at least `floor`."""
    sq = returns**2
    found = [float(optimal_block_length(sq[:, j])["stationary"].iloc[0]) for j in range(sq.shape[1]) if sq[:, j].any()]
    return max(floor, math.ceil(max(found, default=floor)))


def resamples(n: int, block: float, reps: int, seed: int) -> Iterator[np.ndarray]:
    """`reps` stationary-bootstrap index arrays over n positions (the same for every series: paired)."""
    bs = StationaryBootstrap(block, np.arange(n), seed=np.random.default_rng(seed))
    for (idx,), _ in bs.bootstrap(reps):
        yield idx


def _interval(draws: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    alpha = (1.0 - confidence) / 2.0
    with warnings.catch_warnings():  # a statistic undefined in every draw (a flat series' Sharpe) stays NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        lo, hi = np.nanquantile(draws, [alpha, 1.0 - alpha], axis=0)
    return lo, hi


def compare(
    returns: pd.DataFrame,
    rf: pd.Series,
    pairs: Sequence[tuple[str, str]],
    block: float,
    reps: int,
    confidence: float,
    seed: int,
) -> pd.DataFrame:
    """Each (variant, benchmark) pair: every statistic and crash-window return of both, the difference
    (variant minus benchmark) and its paired bootstrap interval. `returns`: date-indexed, a column per series."""
    cols = {c: i for i, c in enumerate(returns.columns)}
    vi = np.array([cols[v] for v, _ in pairs])
    bi = np.array([cols[b] for _, b in pairs])
    x, r0 = returns.to_numpy(dtype=float), rf.reindex(returns.index).fillna(0.0).to_numpy(dtype=float)
    starts = month_starts(returns.index)
    point = summary(x, r0, starts)
    draws = {k: np.empty((reps, len(pairs))) for k in point}
    for b, idx in enumerate(resamples(len(x), block, reps, seed)):
        for k, v in summary(x[idx], r0[idx], starts).items():
            draws[k][b] = v[vi] - v[bi]
    for name, pos in crash_positions(returns.index).items():
        w = x[pos]
        point[name] = compound(w)
        draws[name] = np.empty((reps, len(pairs)))
        inner = min(block, max(1.0, len(pos) / 4))
        for b, idx in enumerate(resamples(len(pos), inner, reps, seed)):
            c = compound(w[idx])
            draws[name][b] = c[vi] - c[bi]
    rows = []
    for k, values in point.items():
        lo, hi = _interval(draws[k], confidence)
        for j, (v, bm) in enumerate(pairs):
            a, z = float(values[vi[j]]), float(values[bi[j]])
            rows.append(
                {
                    "variant": v,
                    "benchmark": bm,
                    "statistic": k,
                    "value": a,
                    "benchmark_value": z,
                    "difference": a - z,
                    "ci_low": float(lo[j]),
                    "ci_high": float(hi[j]),
                }
            )
    return pd.DataFrame(rows)


# --- the Deflated Sharpe Ratio (Bailey & Lopez de Prado, 2014) --------------------------------------


def moments(excess: np.ndarray) -> tuple[float, float, float]:
    """(per-session Sharpe, skewness, kurtosis (3 for a normal)) of one excess-return series."""
    sd = float(np.std(excess, ddof=1))
    sr = float(np.mean(excess)) / sd if sd > 0 else math.nan
    return sr, float(sps.skew(excess)), float(sps.kurtosis(excess, fisher=False))


def probabilistic_sharpe(sr: float, benchmark: float, n: int, skew: float, kurtosis: float) -> float:
    """PSR: the probability that the true Sharpe exceeds `benchmark`, given a per-period estimate `sr`
    from n returns with that skewness and kurtosis (Bailey & Lopez de Prado 2012, eq. in DSR 2014)."""
    var = 1.0 - skew * sr + (kurtosis - 1.0) / 4.0 * sr**2
    if n < 2 or not var > 0:
        return math.nan
    return float(sps.norm.cdf((sr - benchmark) * math.sqrt(n - 1) / math.sqrt(var)))


def expected_max_sharpe(variance: float, trials: int) -> float:
    """SR0: the expected maximum per-period Sharpe of `trials` independent zero-skill trials whose Sharpe
    estimates have this variance (DSR 2014, the False Strategy theorem); 0 with a single trial."""
    if trials <= 1 or not variance > 0:
        return 0.0
    g = np.euler_gamma
    return math.sqrt(variance) * ((1 - g) * sps.norm.ppf(1 - 1 / trials) + g * sps.norm.ppf(1 - 1 / (trials * math.e)))


def deflated_sharpe(excess: np.ndarray, trial_sharpes: np.ndarray) -> dict[str, float]:
    """DSR of a series chosen among trials: PSR against SR0 from the trials' per-period Sharpe ratios
    (all of them, the chosen one included). Sharpe figures are returned annualized."""
    sr, skew, kurt = moments(excess)
    trials = int(np.isfinite(trial_sharpes).sum())
    variance = float(np.nanvar(trial_sharpes, ddof=1)) if trials > 1 else 0.0
    sr0 = expected_max_sharpe(variance, trials)
    ann = math.sqrt(TRADING_DAYS)
    return {
        "sharpe": sr * ann,
        "observations": float(len(excess)),
        "skew": skew,
        "kurtosis": kurt,
        "trials": float(trials),
        "sharpe_sd_trials": math.sqrt(variance) * ann,
        "sr0": sr0 * ann,
        "psr": probabilistic_sharpe(sr, 0.0, len(excess), skew, kurt),
        "dsr": probabilistic_sharpe(sr, sr0, len(excess), skew, kurt),
    }


def per_session_sharpes(returns: pd.DataFrame, rf: pd.Series) -> np.ndarray:
    """Each column's per-session Sharpe of excess returns (what the DSR's trial variance is taken over)."""
    return sharpe(returns.to_numpy(dtype=float), rf.reindex(returns.index).fillna(0.0).to_numpy()) / math.sqrt(
        TRADING_DAYS
    )


def point_statistics(returns: pd.DataFrame, rf: pd.Series) -> pd.DataFrame:
    """STATISTICS for each column (rows: statistics), without intervals."""
    x, r0 = returns.to_numpy(dtype=float), rf.reindex(returns.index).fillna(0.0).to_numpy(dtype=float)
    got = summary(x, r0, month_starts(returns.index))
    return pd.DataFrame(got, index=returns.columns).T
