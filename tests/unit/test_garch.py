"""vixshield.features.garch: recursions against hand loops, estimates against arch, and point-in-time invariance."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from arch import arch_model

from tests.conftest import SHARED_MARKET
from tests.floats import assert_array_close, assert_frame_close
from vixshield.features import garch
from vixshield.features.garch import garch_forecasts

TRUE = (0.02, 0.08, 0.9)  # omega (percent^2), alpha, beta
COLS = ["garch_vol21", "garch_vol45", "garch_omega", "garch_alpha", "garch_beta", "garch_fit_date"]


def simulate_returns(n: int, seed: int, params=TRUE) -> np.ndarray:
    """Percent returns from a GARCH(1,1) with normal errors, started at the unconditional variance."""
    omega, alpha, beta = params
    z = np.random.default_rng(seed).standard_normal(n)
    out = np.empty(n)
    s2 = omega / (1 - alpha - beta)
    for t in range(n):
        out[t] = math.sqrt(s2) * z[t]
        s2 = omega + alpha * out[t] ** 2 + beta * s2
    return out


def simulate_close(n: int = 1000, seed: int = 3, start: str = "2015-01-02") -> pd.Series:
    r = simulate_returns(n - 1, seed)
    prices = 2000 * np.exp(np.concatenate([[0.0], np.cumsum(r / 100)]))
    return pd.Series(prices, index=pd.bdate_range(start, periods=n), name="close")


@pytest.fixture(scope="module")
def close() -> pd.Series:
    return simulate_close()


@pytest.fixture(scope="module")
def full(close) -> pd.DataFrame:
    return garch_forecasts(close)


def hand_returns(c: list[float]) -> list[float]:
    """100 log(C_t / C_{t-1}); NaN when either close is NaN (the module's documented rule)."""
    out = [math.nan]
    for prev, cur in itertools.pairwise(c):
        out.append(math.nan if (math.isnan(prev) or math.isnan(cur)) else 100 * math.log(cur / prev))
    return out


def hand_state_after(r: list[float], omega: float, alpha: float, beta: float) -> float:
    """In-sample filter from arch's backcast, then the one-step forecast after the last return (slow loop)."""
    tau = min(75, len(r))
    w = [0.94**i for i in range(tau)]
    bc = sum(wi * x * x for wi, x in zip(w, r[:tau], strict=True)) / sum(w)
    e2_prev, s2 = bc, bc
    for x in r:
        s2 = omega + alpha * e2_prev + beta * s2
        e2_prev = x * x
    return omega + alpha * e2_prev + beta * s2


def hand_mean_variance(s: float, omega: float, alpha: float, beta: float, h: int) -> float:
    """mean_{k=1..h} VL + (alpha+beta)^(k-1) (s - VL); IGARCH: s + (k-1) omega."""
    p = alpha + beta
    if p == 1.0:
        return sum(s + (k - 1) * omega for k in range(1, h + 1)) / h
    vl = omega / (1 - p)
    return sum(vl + p ** (k - 1) * (s - vl) for k in range(1, h + 1)) / h


def hand_forecasts(close: pd.Series, out: pd.DataFrame, horizons=(21, 45)) -> pd.DataFrame:
    """Rebuild the vol columns with slow loops from the parameters and fit dates the function reports."""
    c = close.tolist()
    r = hand_returns(c)
    dates = list(close.index)
    first = next(i for i, d in enumerate(out["garch_fit_date"]) if not pd.isna(d))
    fit_pos = dates.index(out["garch_fit_date"].iloc[first])
    omega0, alpha0, beta0 = (out[k].iloc[first] for k in ("garch_omega", "garch_alpha", "garch_beta"))
    omega0 *= 1e4
    sample = [x for x in r[: fit_pos + 1] if not math.isnan(x)]
    last_valid = max(i for i in range(fit_pos + 1) if not math.isnan(r[i]))
    s = hand_state_after(sample, omega0, alpha0, beta0)
    for _ in range(last_valid + 1, first):  # missing returns between the sample's end and the first row
        s = omega0 + (alpha0 + beta0) * s
    res = {f"garch_vol{h}": [math.nan] * len(c) for h in horizons}
    for t in range(first, len(c)):
        omega = out["garch_omega"].iloc[t] * 1e4
        alpha, beta = out["garch_alpha"].iloc[t], out["garch_beta"].iloc[t]
        e2 = s if math.isnan(r[t]) else r[t] ** 2
        s = omega + alpha * e2 + beta * s
        for h in horizons:
            res[f"garch_vol{h}"][t] = math.sqrt(252 * hand_mean_variance(s, omega, alpha, beta, h)) / 100
    return pd.DataFrame(res, index=close.index)


# (1) recursion and multi-step formula against slow hand loops


def test_forecasts_match_a_hand_loop(close, full):
    expected = hand_forecasts(close, full)
    pd.testing.assert_frame_equal(full[["garch_vol21", "garch_vol45"]], expected, rtol=1e-10, atol=0)
    assert full["garch_vol21"].notna().sum() > 400


def test_mean_variance_formula_including_igarch():
    state = np.array([0.5, 1.0, 3.0, 1.0])
    omega = np.array([0.02, 0.05, 0.01, 0.03])
    alpha = np.array([0.08, 0.1, 0.05, 0.1])
    beta = np.array([0.9, 0.85, 0.94, 0.9])  # last row: alpha + beta = 1
    got = garch._mean_variance(state, omega, alpha + beta, (1, 21, 45))
    for h in (1, 21, 45):
        want = [hand_mean_variance(*args, h) for args in zip(state, omega, alpha, beta, strict=True)]
        np.testing.assert_allclose(got[h], want, rtol=1e-12)
    assert got[45][3] == pytest.approx(1.0 + 0.03 * 22)  # IGARCH grows linearly, no division by zero


def test_likelihood_derivatives_match_finite_differences():
    like = garch._Likelihood(simulate_returns(2000, seed=11))
    x = np.array([0.03, 0.07, 0.88])
    f, grad, hess = like.hessian_terms(x)
    assert f == pytest.approx(like.value(x), rel=1e-14)
    np.testing.assert_allclose(like(x)[1], grad, rtol=1e-12)
    eps = 1e-6
    num_grad = [(like.value(x + eps * e) - like.value(x - eps * e)) / (2 * eps) for e in np.eye(3)]
    num_hess = [(like(x + eps * e)[1] - like(x - eps * e)[1]) / (2 * eps) for e in np.eye(3)]
    np.testing.assert_allclose(grad, num_grad, rtol=1e-5)
    np.testing.assert_allclose(hess, num_hess, rtol=1e-5, atol=1e-6 * np.abs(hess).max())


# (2) parameters recovered on a simulated path, and the same optimum as arch


@pytest.fixture(scope="module")
def sim5000() -> np.ndarray:
    return simulate_returns(5000, seed=2024)


def test_parameters_recovered_on_simulated_garch(sim5000):
    (omega, alpha, beta), _ = garch._fit(sim5000)
    assert omega == pytest.approx(TRUE[0], abs=0.012)
    assert alpha == pytest.approx(TRUE[1], abs=0.02)
    assert beta == pytest.approx(TRUE[2], abs=0.03)
    assert alpha + beta == pytest.approx(TRUE[1] + TRUE[2], abs=0.01)


def test_estimates_agree_with_arch(sim5000):
    ours, _ = garch._fit(sim5000)
    res = arch_model(sim5000, mean="Zero", vol="GARCH", p=1, q=1, dist="normal", rescale=False).fit(disp="off")
    theirs = res.params[["omega", "alpha[1]", "beta[1]"]].to_numpy()
    np.testing.assert_allclose(ours, theirs, rtol=2e-3, atol=2e-4)
    # our log-likelihood (same backcast) is at least as high as arch's
    ours_llf = -len(sim5000) * (garch._Likelihood(sim5000).value(ours) + 0.5 * math.log(2 * math.pi))
    assert ours_llf >= res.loglikelihood - 1e-6
    assert ours_llf == pytest.approx(res.loglikelihood, abs=1e-3)


def test_warm_start_newton_and_cold_slsqp_find_the_same_optimum(sim5000):
    cold, state_cold = garch._fit(sim5000)
    warm, state_warm = garch._fit(sim5000, start=np.array([0.05, 0.12, 0.8]))
    np.testing.assert_allclose(warm, cold, rtol=1e-5)
    assert state_warm == pytest.approx(state_cold, rel=1e-5)


# (3) agreement with arch's own forecasts


def test_single_fit_forecast_path_matches_arch(sim5000):
    r = sim5000[:3000]
    res = arch_model(r, mean="Zero", vol="GARCH", p=1, q=1, dist="normal", rescale=False).fit(disp="off")
    omega, alpha, beta = res.params[["omega", "alpha[1]", "beta[1]"]]
    arch_path = res.forecast(horizon=45, reindex=False).variance.to_numpy()[-1]  # E[sigma2_{T+k}], k=1..45
    like = garch._Likelihood(r)
    s2 = like.sigma2(np.array([omega, alpha, beta]))
    state = omega + alpha * r[-1] ** 2 + beta * s2[-1]
    assert state == pytest.approx(arch_path[0], rel=1e-10)
    means = garch._mean_variance(np.array([state]), np.array([omega]), np.array([alpha + beta]), (1, 21, 45))
    for h in (1, 21, 45):
        assert means[h][0] == pytest.approx(arch_path[:h].mean(), rel=1e-10)


def test_first_month_matches_arch_fixed_parameter_forecasts(close, full):
    first = full["garch_fit_date"].first_valid_index()
    fit_date = full.loc[first, "garch_fit_date"]
    month = full.index[(full.index.to_period("M") == first.to_period("M"))]
    params = full.loc[first, ["garch_omega", "garch_alpha", "garch_beta"]].to_numpy(dtype=float) * [1e4, 1, 1]
    r = (100 * np.log(close / close.shift(1))).loc[: month[-1]].dropna()
    fixed = arch_model(r, mean="Zero", vol="GARCH", p=1, q=1, dist="normal", rescale=False).fix(params)
    var = fixed.forecast(horizon=45, start=fit_date, reindex=False).variance
    for h in (21, 45):
        arch_vol = np.sqrt(252 * var.iloc[:, :h].mean(axis=1)) / 100
        np.testing.assert_allclose(full.loc[month, f"garch_vol{h}"], arch_vol.loc[month], rtol=1e-10)


# (4) as-of invariance


def cut_dates(index: pd.DatetimeIndex, out: pd.DataFrame) -> list[pd.Timestamp]:
    month = index.to_period("M")
    first_of_month = index[np.r_[True, month[1:] != month[:-1]]]
    last_of_month = index[np.r_[month[1:] != month[:-1], True]]
    first_fit_row = out["garch_fit_date"].first_valid_index()
    months = month.unique()
    mid = [index[(month == m) & (index.day >= 15)][0] for m in (months[-6], months[-2])]  # mid-month
    return sorted(
        {
            index[200],  # before any fit
            first_fit_row,
            first_of_month[-8],  # first session of a month: a refit day
            first_of_month[-3],
            last_of_month[-5],  # last session of a month: the next refit's fit date
            *mid,
            index[-1],
        }
    )


def assert_as_of_invariant(close: pd.Series, **kwargs) -> None:
    full = garch_forecasts(close, **kwargs)
    assert full["garch_vol21"].notna().any()
    rng = np.random.default_rng(0)
    for t in cut_dates(close.index, full):
        head = close.loc[:t]
        assert_frame_close(garch_forecasts(head, **kwargs), full.loc[:t])
        # the future cannot leak in: scramble everything after t and the rows up to t are unchanged
        future = close.loc[close.index > t]
        if len(future):
            scrambled = pd.concat([head, future * np.exp(rng.normal(0, 0.03, len(future)))])
            other = garch_forecasts(scrambled, **kwargs)
            assert_frame_close(other.loc[:t], full.loc[:t])
            if full.loc[future.index, "garch_vol21"].notna().any():
                assert not np.allclose(other.loc[future.index, "garch_vol21"], full.loc[future.index, "garch_vol21"])


def test_as_of_invariance_monthly_expanding(close):
    assert_as_of_invariant(close)


def test_as_of_invariance_quarterly_rolling_window_with_gaps():
    c = simulate_close(n=900, seed=5)
    c.iloc[[300, 640, 641, 700]] = np.nan
    assert_as_of_invariant(c, refit="quarterly", window=520, min_obs=400)


# (5) NaN before min_obs, fit dates in the previous period


def test_nan_before_min_obs_and_fit_dates_in_the_previous_month(close, full):
    assert list(full.columns) == COLS
    assert full.index.equals(close.index)
    has = full["garch_fit_date"].notna()
    first = has.idxmax()
    assert full.loc[~has, COLS[:-1]].isna().all().all()
    assert full.loc[has, COLS[:-1]].notna().all().all()
    assert has.loc[first:].all()
    # the first fit is at the first month end with min_obs returns (n returns = sessions - 1)
    month_end = close.index.to_series().groupby(close.index.to_period("M")).max()
    returns_at = pd.Series(np.arange(len(close)), index=close.index)
    eligible = month_end[returns_at.loc[month_end].to_numpy() >= 500]
    assert full.loc[first, "garch_fit_date"] == eligible.iloc[0]
    fit = full.loc[has, "garch_fit_date"]
    assert (fit < fit.index).all()
    assert (fit.dt.to_period("M") == fit.index.to_period("M") - 1).all()
    assert fit.isin(month_end.to_numpy()).all()  # the previous month's last session
    assert full.loc[has, "garch_fit_date"].nunique() == full.index[has].to_period("M").nunique()
    vols = full.loc[has, ["garch_vol21", "garch_vol45"]]
    assert ((vols > 0.05) & (vols < 1.0)).all().all()


@pytest.mark.parametrize("refit,freq", [("quarterly", "Q"), ("yearly", "Y")])
def test_coarser_refits_use_the_previous_period(close, refit, freq):
    out = garch_forecasts(close, refit=refit, min_obs=300)
    fit = out["garch_fit_date"].dropna()
    assert len(fit) > 0
    assert (fit.dt.to_period(freq) == fit.index.to_period(freq) - 1).all()
    assert fit.nunique() == fit.index.to_period(freq).nunique()


def test_too_little_data_gives_all_nan(close):
    out = garch_forecasts(close.iloc[:480])
    assert out.shape == (480, 6)
    assert out.isna().all().all()
    assert garch_forecasts(close.iloc[:0]).empty
    assert garch_forecasts(close * np.nan).isna().all().all()


def test_bad_inputs_raise(close):
    with pytest.raises(ValueError):
        garch_forecasts(close, refit="weekly")
    with pytest.raises(ValueError):
        garch_forecasts(close.iloc[::-1])
    with pytest.raises(ValueError):
        garch_forecasts(close, window=100)
    with pytest.raises(TypeError):
        garch_forecasts(close.reset_index(drop=True))


def test_rolling_window_estimates_on_the_last_window_returns(close):
    out = garch_forecasts(close, window=600)
    t = out.index[-1]
    fit_date = out.loc[t, "garch_fit_date"]
    r = (100 * np.log(close / close.shift(1))).loc[:fit_date].dropna().to_numpy()
    expected = out.loc[t, ["garch_omega", "garch_alpha", "garch_beta"]].to_numpy(dtype=float) * [1e4, 1, 1]
    cold, _ = garch._fit(r[-600:])
    np.testing.assert_allclose(expected, cold, rtol=1e-5)
    assert not np.allclose(expected, garch._fit(r)[0], rtol=1e-3)  # not the expanding estimate


# (6) gaps


def test_missing_closes_drop_returns_from_the_fit_and_are_filtered_as_expectations(close, full):
    gappy = close.copy()
    gap_dates = [gappy.index[100], gappy.index[750]]
    gappy.loc[gap_dates] = np.nan
    out = garch_forecasts(gappy)
    # filtering: the hand loop replaces a missing eps^2 by its expectation
    pd.testing.assert_frame_equal(out[["garch_vol21", "garch_vol45"]], hand_forecasts(gappy, out), rtol=1e-10, atol=0)
    assert out.loc[gap_dates[1] :, "garch_vol21"].notna().all()  # a missing session still gets a forecast
    # estimation: the first fit is on the valid returns only (two fewer: each NaN close removes two returns)
    first = out["garch_fit_date"].first_valid_index()
    r = 100 * np.log(gappy / gappy.shift(1))
    valid = r.loc[: out.loc[first, "garch_fit_date"]].dropna().to_numpy()
    assert len(valid) == len(r.loc[: out.loc[first, "garch_fit_date"]]) - 3  # first row + two around the gap
    params, _ = garch._fit(valid)
    assert_array_close(out.loc[first, ["garch_omega", "garch_alpha", "garch_beta"]], params * [1e-4, 1, 1])
    # never forward-filled: a filled close would give a zero return and different numbers
    filled = garch_forecasts(gappy.ffill())
    assert not np.allclose(filled["garch_vol21"].loc[gap_dates[1] :], out["garch_vol21"].loc[gap_dates[1] :])


def test_a_gap_only_changes_rows_from_the_gap_on(close, full):
    gappy = close.copy()
    gap = gappy.index[800]
    gappy.loc[gap] = np.nan
    out = garch_forecasts(gappy)
    before = out.index < gap
    assert_frame_close(out.loc[before], full.loc[before])
    assert not np.allclose(out.loc[gap:, "garch_vol21"], full.loc[gap:, "garch_vol21"])


# real data (skipped when the shared bundle is absent)

GSPC = SHARED_MARKET / "yahoo" / "^GSPC.csv"


@pytest.mark.market_data
@pytest.mark.skipif(not GSPC.exists(), reason="shared real-data bundle absent")
def test_real_spx_crises_versus_calm_2017():
    df = pd.read_csv(GSPC, usecols=["Date", "Close"], parse_dates=["Date"], index_col="Date")
    out = garch_forecasts(df["Close"].loc["1990-01-01":].astype(float))
    for h in (21, 45):
        col = f"garch_vol{h}"
        assert out.loc["2008-10", col].max() > 0.40
        assert out.loc["2020-03", col].max() > 0.40
        assert out.loc["2017", col].max() < 0.15
    assert out.loc["1992":, COLS[:-1]].notna().all().all()


# (7) remembered fits: a memo changes how often the chain is fitted, never a value


@pytest.fixture
def fit_calls(monkeypatch):
    """Counts the real fits (the fit itself runs unchanged)."""
    calls = []
    real = garch._fit

    def counting(r, start=None):
        calls.append(len(r))
        return real(r, start)

    monkeypatch.setattr(garch, "_fit", counting)
    return calls


def test_a_memo_gives_bit_identical_forecasts_and_holds_the_fits_used(close, full, fit_calls):
    # exact on purpose: a memo hands back the very parameters the fit returned in this process
    memo: dict = {}
    pd.testing.assert_frame_equal(garch_forecasts(close, memo=memo), full, check_exact=True)
    refits = full["garch_fit_date"].nunique()
    assert len(memo) == len(fit_calls) == refits
    fit_calls.clear()
    pd.testing.assert_frame_equal(garch_forecasts(close, memo=memo), full, check_exact=True)
    assert fit_calls == []  # every fit came from the memo
    assert len(memo) == refits


def test_a_memo_from_data_cut_at_t_refits_only_the_periods_after_t(close, full, fit_calls):
    t = close.index[700]
    memo: dict = {}
    garch_forecasts(close.loc[:t], memo=memo)
    fit_calls.clear()
    pd.testing.assert_frame_equal(garch_forecasts(close, memo=memo), full, check_exact=True)
    # one new fit per period whose fit date is after t: the fit dates are the last sessions before each month
    assert len(fit_calls) == full.loc[full["garch_fit_date"] >= t, "garch_fit_date"].nunique()


def test_a_revised_close_is_never_served_a_remembered_fit(close, fit_calls):
    memo: dict = {}
    garch_forecasts(close, memo=memo)
    revised = close.copy()
    revised.iloc[300] *= 1.01  # a revision early in history: every later fit must change
    fit_calls.clear()
    fresh = garch_forecasts(revised)
    n_fits = len(fit_calls)
    fit_calls.clear()
    pd.testing.assert_frame_equal(garch_forecasts(revised, memo=memo), fresh, check_exact=True)
    assert len(fit_calls) == n_fits
