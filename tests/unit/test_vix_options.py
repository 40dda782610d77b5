"""Black-76, the VX future fallback and the VIX expiration ladder, checked against independent values."""

import math

import pandas as pd
import pytest
from scipy.stats import norm

from vixshield.features.term_structure import forward_vol, points
from vixshield.strategy.options import risk_free_rate
from vixshield.strategy.vix_options import (
    black76_delta,
    black76_price,
    is_vix_expiration,
    strike_for_delta,
    vix_expiry,
    vix_future_price,
    vix_option_vol,
)

T = pd.Timestamp


def _scipy_black76(f, k, t, r, sig):
    d1 = (math.log(f / k) + 0.5 * sig * sig * t) / (sig * math.sqrt(t))
    d2 = d1 - sig * math.sqrt(t)
    return math.exp(-r * t) * (f * norm.cdf(d1) - k * norm.cdf(d2))


def test_hull_futures_option_example():
    # Hull, Options Futures and Other Derivatives: F = K = 20, r = 9%, T = 4 months, sigma = 25% -> 1.12
    c = black76_price(20.0, 20.0, 4 / 12, 0.09, 0.25, "call")
    assert c == pytest.approx(1.1166, abs=1e-4)
    assert c == pytest.approx(_scipy_black76(20.0, 20.0, 4 / 12, 0.09, 0.25), rel=1e-10)


@pytest.mark.parametrize(("f", "k", "t", "r", "sig"), [(18.0, 25.0, 0.1, 0.05, 0.9), (40.0, 30.0, 0.2, 0.01, 1.2)])
def test_matches_scipy_and_put_call_parity(f, k, t, r, sig):
    c, p = black76_price(f, k, t, r, sig, "call"), black76_price(f, k, t, r, sig, "put")
    assert c == pytest.approx(_scipy_black76(f, k, t, r, sig), rel=1e-10)
    assert c - p == pytest.approx(math.exp(-r * t) * (f - k), abs=1e-10)


@pytest.mark.parametrize("kind", ["call", "put"])
def test_delta_matches_finite_difference(kind):
    f, k, t, r, sig, h = 19.0, 22.0, 0.12, 0.04, 0.95, 1e-4
    fd = (black76_price(f + h, k, t, r, sig, kind) - black76_price(f - h, k, t, r, sig, kind)) / (2 * h)
    assert black76_delta(f, k, t, r, sig, kind) == pytest.approx(fd, rel=1e-6)


def test_expired_option_is_intrinsic():
    assert black76_price(25.0, 20.0, 0.0, 0.05, 0.9) == 5.0
    assert black76_price(15.0, 20.0, 0.0, 0.05, 0.9) == 0.0
    assert black76_delta(25.0, 20.0, 0.0, 0.05, 0.9) == 1.0


@pytest.mark.parametrize(("f", "t", "sig", "target"), [(18.0, 35 / 365, 0.9, 0.30), (30.0, 70 / 365, 1.3, 0.25)])
def test_strike_for_delta_round_trip_within_the_grid(f, t, sig, target):
    k = strike_for_delta(f, t, 0.03, sig, target, "call", step=1.0)
    assert k == round(k) and k > f  # an OTM call on the 1-point grid
    # the exact-delta strike lies within half a grid step: the deltas half a step either side bracket the target
    assert black76_delta(f, k - 0.5, t, 0.03, sig) >= target >= black76_delta(f, k + 0.5, t, 0.03, sig)


def test_vol_and_rate_fallbacks():
    assert vix_option_vol({"vvix": 110.0}) == pytest.approx(1.10)
    assert vix_option_vol({"vvix": float("nan")}) == 0.90 and vix_option_vol({}) == 0.90
    assert risk_free_rate({"dgs3mo": 5.0, "fed_funds": 1.0}) == 0.05
    assert risk_free_rate({"dgs3mo": None, "fed_funds": 1.0}) == 0.01
    assert risk_free_rate({}) == 0.0


def test_future_uses_settle_else_the_forward_30_day_vol():
    day, expiry = T("2024-06-20"), T("2024-07-17")
    row = {"vix": 13.0, "vix3m": 15.0}
    assert vix_future_price(day, expiry, {expiry: 14.2}, row) == (14.2, "settle")
    assert vix_future_price(day, expiry, {expiry.date(): 14.2}, row) == (14.2, "settle")  # date keys work too
    px, src = vix_future_price(day, expiry, {T("2024-08-21"): 15.0}, row)
    assert src == "term_structure"
    assert px == pytest.approx(100 * forward_vol(27, 30, points(row)))
    assert 13.0 < px < 17.0  # between spot and the 3-month point on an upward-sloping curve
    assert vix_future_price(day, expiry, {}, {"vix": 20.0})[0] == pytest.approx(20.0)  # flat curve
    assert vix_future_price(day, expiry, {}, {})[1] == "none"


def test_expiration_ladder_including_juneteenth_2024():
    # June 2024: the Wednesday (06-19) was Juneteenth, so the contract expired on Tuesday 06-18
    assert is_vix_expiration(T("2024-06-18")) and not is_vix_expiration(T("2024-06-19"))
    assert vix_expiry(T("2024-06-18"), 0) == T("2024-06-18")  # front = the contract expiring today
    assert vix_expiry(T("2024-06-18"), 1) == T("2024-07-17")  # 1-month: what VXTH buys today
    assert vix_expiry(T("2024-06-18"), 2) == T("2024-08-21")
    assert vix_expiry(T("2024-06-17"), 1) == T("2024-07-17")
    assert vix_expiry(T("2024-06-20"), 0) == T("2024-07-17")
    assert vix_expiry(T("2024-06-20"), 1) == T("2024-08-21")
    assert vix_expiry(T("2024-06-20"), 2) == T("2024-09-18")
    # an ordinary month: January 2024 expired Wednesday 01-17
    assert vix_expiry(T("2024-01-17"), 1) == T("2024-02-14")
    assert vix_expiry(T("2024-01-10"), 2) == T("2024-03-20")
    assert not is_vix_expiration(T("2024-01-10"))
