"""The research statistics on series whose answers are known: by hand, from a published worked example
(Bailey & Lopez de Prado 2014) or from an asymptotic formula (Lo 2002) the bootstrap must agree with."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from vixshield.research import stats

DAYS = pd.bdate_range("1997-01-02", "2023-12-29")


def frame(**cols: np.ndarray) -> pd.DataFrame:
    n = len(next(iter(cols.values())))
    return pd.DataFrame(cols, index=DAYS[:n])


def zero_rf(df: pd.DataFrame) -> pd.Series:
    return pd.Series(0.0, index=df.index)


def standardized(n: int, seed: int) -> np.ndarray:
    """Exactly mean 0 and sample standard deviation 1."""
    e = np.random.default_rng(seed).standard_normal(n)
    return (e - e.mean()) / e.std(ddof=1)


def test_identical_series_differ_by_zero_with_an_interval_that_covers_zero():
    r = np.random.default_rng(1).normal(3e-4, 0.012, len(DAYS))
    df = frame(a=r, b=r.copy())
    out = stats.compare(df, zero_rf(df), [("a", "b")], block=21, reps=300, confidence=0.95, seed=0)
    assert set(out["statistic"]) == {*stats.STATISTICS, *stats.CRASH_WINDOWS}  # every window covered in 1997-2023
    assert (out["difference"] == 0).all() and (out["ci_low"] == 0).all() and (out["ci_high"] == 0).all()


def test_a_constructed_series_has_its_known_sharpe_and_the_rf_leg_is_subtracted():
    mu, sd, n = 4e-4, 0.01, 2520
    rf = np.full(n, 1e-4)
    df = frame(a=rf + mu + sd * standardized(n, 2))
    got = stats.sharpe(df.to_numpy(), rf)[0]
    assert got == pytest.approx(mu / sd * math.sqrt(252), rel=1e-12)  # 0.635
    # Sortino by hand: downside deviation of the excess returns
    ex = mu + sd * standardized(n, 2)
    want = ex.mean() * math.sqrt(252) / math.sqrt(np.mean(np.minimum(ex, 0) ** 2))
    assert stats.sortino(df.to_numpy(), rf)[0] == pytest.approx(want, rel=1e-12)


def test_cagr_drawdown_months_and_cvar_by_hand():
    steady = np.full((252, 1), 0.0004)
    assert stats.cagr(steady)[0] == pytest.approx(1.0004**252 - 1, rel=1e-12)  # one year of sessions
    assert stats.max_drawdown(np.array([[0.1], [-0.5], [0.2]]))[0] == pytest.approx(0.55 / 1.1 - 1)
    assert stats.max_drawdown(np.array([[-0.1], [0.05]]))[0] == pytest.approx(-0.1)  # the start is a peak too
    assert stats.calmar(np.array([[0.1], [-0.5], [0.2]]))[0] == pytest.approx(
        stats.cagr(np.array([[0.1], [-0.5], [0.2]]))[0] / 0.5
    )
    days = pd.DatetimeIndex(["2020-01-30", "2020-01-31", "2020-02-03", "2020-02-04", "2020-03-02"])
    r = np.array([[0.1], [0.1], [-0.5], [0.2], [0.03]])
    months = stats.monthly(r, stats.month_starts(days))
    np.testing.assert_allclose(months[:, 0], [1.1 * 1.1 - 1, 0.5 * 1.2 - 1, 0.03])
    twenty = np.arange(20, dtype=float)[:, None] / 100 - 0.1  # -10% .. +9%: 5% of 20 months is the worst one
    assert stats.cvar(twenty)[0] == pytest.approx(-0.10)
    forty = np.arange(40, dtype=float)[:, None] / 100 - 0.2  # two worst of 40: -20% and -19%
    assert stats.cvar(forty)[0] == pytest.approx(-0.195)


def test_crash_windows_compound_their_own_sessions_and_uncovered_windows_are_left_out():
    days = pd.bdate_range("2008-01-02", "2009-12-31")
    r = np.where((days >= "2008-10-01") & (days <= "2008-10-31"), -0.01, 0.0)
    df = pd.DataFrame({"a": r, "b": np.zeros(len(days))}, index=days)
    out = stats.compare(df, zero_rf(df), [("a", "b")], block=21, reps=200, confidence=0.9, seed=0)
    crash = out.set_index("statistic").loc["crash_2008_10"]
    assert crash["value"] == pytest.approx(0.99**23 - 1)  # 23 sessions in October 2008
    assert crash["difference"] == pytest.approx(0.99**23 - 1)
    # every resample of a constant window compounds to the same number: the interval is that point
    assert crash["ci_low"] == pytest.approx(crash["difference"]) and crash["ci_high"] == pytest.approx(
        crash["difference"]
    )
    assert set(out["statistic"]) - set(stats.STATISTICS) == {"crash_2008_10"}  # 1998, 2011, 2022... not covered


def test_the_bootstrap_interval_of_a_sharpe_difference_matches_lo_2002_on_iid_returns():
    """Two independent iid normal series: Var(SR_a - SR_b) = 2 (1 + SR^2 / 2) / n per session (Lo 2002),
    which the stationary bootstrap's interval width must reproduce within sampling error."""
    n, mu, sd = len(DAYS), 3e-4, 0.01
    rng = np.random.default_rng(7)
    df = frame(a=rng.normal(mu, sd, n), b=rng.normal(mu, sd, n))
    out = stats.compare(df, zero_rf(df), [("a", "b")], block=21, reps=1500, confidence=0.95, seed=3)
    row = out.set_index("statistic").loc["sharpe"]
    sr = mu / sd
    se = math.sqrt(2 * (1 + sr**2 / 2) / n) * math.sqrt(252)
    width = row["ci_high"] - row["ci_low"]
    assert width == pytest.approx(2 * norm.ppf(0.975) * se, rel=0.12)
    assert row["ci_low"] < row["difference"] < row["ci_high"]


def test_pairing_keeps_a_constant_edge_tight_where_independent_draws_would_not():
    """b = a + c every session: the Sharpe difference is c / sd(a) in every resample, nearly a point."""
    n, sd, c = len(DAYS), 0.01, 1e-4
    a = np.random.default_rng(5).normal(2e-4, sd, n)
    df = frame(a=a + c, b=a)
    out = stats.compare(df, zero_rf(df), [("a", "b")], block=21, reps=500, confidence=0.95, seed=1)
    row = out.set_index("statistic").loc["sharpe"]
    assert row["difference"] == pytest.approx(c / a.std(ddof=1) * math.sqrt(252), rel=1e-9)
    assert row["ci_low"] > 0.9 * row["difference"] and row["ci_high"] < 1.1 * row["difference"]
    assert row["ci_high"] - row["ci_low"] < 0.02  # unpaired, Lo's width would be ~0.6


def test_the_block_length_follows_volatility_clustering_and_never_drops_below_the_floor():
    rng = np.random.default_rng(0)
    iid = rng.normal(0, 0.01, (5000, 1))
    assert stats.choose_block(iid, 21) == 21  # no clustering: the floor
    vol = np.repeat(rng.choice([0.005, 0.03], 25), 200)  # regimes of 200 sessions
    clustered = (rng.standard_normal(5000) * vol)[:, None]
    assert stats.choose_block(clustered, 21) > 21


def test_dsr_reproduces_the_papers_worked_example():
    """Bailey & Lopez de Prado (2014), section 'A numerical example': 100 trials whose annualized Sharpe
    ratios have variance 1/2, the best at an annualized 2.5 over 5 years of daily returns (T = 1250,
    250 a year), skewness -3, kurtosis 10: SR0 = 0.1132 per day and DSR = 0.9004."""
    sr0 = stats.expected_max_sharpe(0.5 / 250, 100)
    assert sr0 == pytest.approx(0.1132, abs=5e-5)
    assert stats.probabilistic_sharpe(2.5 / math.sqrt(250), sr0, 1250, -3.0, 10.0) == pytest.approx(0.9004, abs=5e-5)


def test_dsr_of_a_selected_series_is_psr_against_the_expected_maximum_by_hand():
    rng = np.random.default_rng(11)
    excess = rng.standard_t(5, 2000) * 0.01 + 5e-4
    trials = rng.normal(0.02, 0.015, 50)
    got = stats.deflated_sharpe(excess, trials)
    sr = excess.mean() / excess.std(ddof=1)
    m = excess - excess.mean()
    skew = np.mean(m**3) / np.mean(m**2) ** 1.5
    kurt = np.mean(m**4) / np.mean(m**2) ** 2
    v = trials.var(ddof=1)
    sr0 = math.sqrt(v) * (0.4227843351 * norm.ppf(1 - 1 / 50) + 0.5772156649 * norm.ppf(1 - 1 / (50 * math.e)))
    z = (sr - sr0) * math.sqrt(1999) / math.sqrt(1 - skew * sr + (kurt - 1) / 4 * sr**2)
    assert got["dsr"] == pytest.approx(norm.cdf(z), rel=1e-9)
    assert got["sr0"] == pytest.approx(sr0 * math.sqrt(252), rel=1e-9)
    assert got["trials"] == 50 and got["psr"] > got["dsr"]  # selection among 50 raises the bar
    assert stats.expected_max_sharpe(0.01, 1) == 0.0  # one trial: nothing was selected
    assert stats.probabilistic_sharpe(0.05, 0.05, 500, 0.0, 3.0) == pytest.approx(0.5)
