"""SPX option pricing (vixshield.strategy.options) against textbook values, scipy, and hand-checked calendars."""

import itertools
import math
import time
from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import brentq
from scipy.stats import norm

from vixshield.strategy import options as opt
from vixshield.strategy.options import (
    Leg,
    atm_vol,
    bs_delta,
    bs_price,
    forward,
    intrinsic,
    monthly_expiry_after,
    norm_cdf,
    price_legs,
    round_to_grid,
    settlement_value,
    smile_vol,
    spxw_expiry_near,
    strike_for_delta,
)


def scipy_bs(s, k, t, r, q, sigma, kind):
    """Independent Black-Scholes-Merton via scipy.stats.norm."""
    d1 = (math.log(s / k) + (r - q + 0.5 * sigma**2) * t) / (sigma * math.sqrt(t))
    d2 = d1 - sigma * math.sqrt(t)
    if kind == "call":
        return s * math.exp(-q * t) * norm.cdf(d1) - k * math.exp(-r * t) * norm.cdf(d2)
    return k * math.exp(-r * t) * norm.cdf(-d2) - s * math.exp(-q * t) * norm.cdf(-d1)


# --- Black-Scholes ---------------------------------------------------------------------------------


def test_norm_cdf_matches_scipy_including_tails():
    for x in (-12.0, -6.0, -1.96, -0.5, 0.0, 0.3, 1.0, 1.645, 8.0):
        assert norm_cdf(x) == pytest.approx(norm.cdf(x), rel=1e-12, abs=1e-300)
    assert norm_cdf(-12.0) > 0.0  # erfc keeps the tail instead of 1 - (1 - tiny)


def test_hull_textbook_no_dividend():
    # Hull, Options Futures and Other Derivatives: S=42, K=40, r=10%, sigma=20%, T=0.5 -> c=4.76, p=0.81
    assert round(bs_price(42, 40, 0.5, 0.10, 0.0, 0.20, "call"), 2) == 4.76
    assert round(bs_price(42, 40, 0.5, 0.10, 0.0, 0.20, "put"), 2) == 0.81


def test_hull_index_option_with_dividend_yield():
    # Hull's index example: S=930, K=900, r=8%, q=3%, sigma=20%, T=2 months -> call 51.83
    assert round(bs_price(930, 900, 2 / 12, 0.08, 0.03, 0.20, "call"), 2) == 51.83


@pytest.mark.parametrize("kind", ["call", "put"])
def test_matches_independent_scipy_bsm(kind):
    for s, k, t, r, q, sig in [
        (4500, 4200, 45 / 365, 0.05, 0.018, 0.16),
        (4500, 4800, 10 / 365, 0.01, 0.02, 0.35),
        (100, 100, 1.0, 0.03, 0.05, 0.8),
        (2000, 1500, 90 / 365, 0.0, 0.018, 0.12),
    ]:
        assert bs_price(s, k, t, r, q, sig, kind) == pytest.approx(scipy_bs(s, k, t, r, q, sig, kind), rel=1e-10)


def test_put_call_parity_with_dividends_over_a_grid():
    s = 4000.0
    for k, t, r, q, sig in itertools.product(
        (3000, 3800, 4000, 4300, 5000), (1 / 365, 30 / 365, 1.0), (0.0, 0.05), (0.0, 0.018, 0.04), (0.1, 0.3, 0.8)
    ):
        c = bs_price(s, k, t, r, q, sig, "call")
        p = bs_price(s, k, t, r, q, sig, "put")
        assert c - p == pytest.approx(s * math.exp(-q * t) - k * math.exp(-r * t), abs=1e-8)
        assert c >= 0.0 and p >= 0.0


def test_delta_matches_finite_differences():
    for kind, k, t, sig in itertools.product(("call", "put"), (3600, 4000, 4400), (7 / 365, 45 / 365), (0.12, 0.4)):
        s, r, q, h = 4000.0, 0.04, 0.018, 0.01
        fd = (bs_price(s + h, k, t, r, q, sig, kind) - bs_price(s - h, k, t, r, q, sig, kind)) / (2 * h)
        assert bs_delta(s, k, t, r, q, sig, kind) == pytest.approx(fd, abs=1e-6)
    # the e^{-qT} factor: deep ITM call delta -> e^{-qT}, deep ITM put -> -e^{-qT}
    assert bs_delta(4000, 100, 1.0, 0.05, 0.03, 0.2, "call") == pytest.approx(math.exp(-0.03))
    assert bs_delta(4000, 90000, 1.0, 0.05, 0.03, 0.2, "put") == pytest.approx(-math.exp(-0.03))


def test_expiry_and_zero_vol_limits_and_intrinsic():
    assert bs_price(4010, 4000, 0.0, 0.05, 0.02, 0.2, "call") == 10.0
    assert bs_price(4010, 4000, 0.0, 0.05, 0.02, 0.2, "put") == 0.0
    assert bs_delta(3990, 4000, 0.0, 0.05, 0.02, 0.2, "put") == -1.0
    assert bs_delta(3990, 4000, 0.0, 0.05, 0.02, 0.2, "call") == 0.0
    assert bs_price(4000, 3900, 0.5, 0.05, 0.0, 0.0, "call") == pytest.approx(4000 - 3900 * math.exp(-0.025))
    assert intrinsic(4010, 4000, "call") == 10.0 and intrinsic(4010, 4000, "put") == 0.0
    assert intrinsic(3990, 4000, "put") == 10.0
    assert forward(4000, 0.5, 0.05, 0.01) == pytest.approx(4000 * math.exp(0.02))
    with pytest.raises(ValueError):
        bs_price(4000, 4000, 0.1, 0.0, 0.0, 0.2, "straddle")


# --- vol surface -----------------------------------------------------------------------------------


def test_atm_vol_is_kappa_times_term_vol():
    row = {"vix9d": 14.0, "vix": 20.0, "vix3m": 22.0, "vix6m": None}
    assert atm_vol(30, row) == pytest.approx(0.16)
    w = 0.20**2 * 30 + (0.22**2 * 93 - 0.20**2 * 30) * (45 - 30) / (93 - 30)
    assert atm_vol(45, row, kappa=0.9) == pytest.approx(0.9 * math.sqrt(w / 45))
    assert atm_vol(400, row) == pytest.approx(0.8 * 0.22)  # flat beyond the last pillar
    assert math.isnan(atm_vol(30, {"vix": None}))


def test_smile_hand_values_both_sides_and_clips():
    f, t, a = 100.0, 0.25, 0.20  # sigma_atm*sqrt(T) = 0.1, so z = ln(K/F)/0.1
    assert smile_vol(f, f, t, a) == pytest.approx(0.20)
    assert smile_vol(f * math.exp(-0.1), f, t, a) == pytest.approx(0.20 * 1.25)  # z=-1, put slope 0.25
    assert smile_vol(f * math.exp(-0.2), f, t, a) == pytest.approx(0.20 * 1.50)  # z=-2
    assert smile_vol(f * math.exp(0.1), f, t, a) == pytest.approx(0.20 * 0.90)  # z=+1, call slope 0.10
    assert smile_vol(f * math.exp(0.3), f, t, a) == pytest.approx(0.20 * 0.70)  # z=+3
    assert smile_vol(f * math.exp(-0.8), f, t, a) == pytest.approx(0.20 * 2.5)  # z=-8 -> 3.0, clipped at 2.5
    assert smile_vol(f * math.exp(0.7), f, t, a) == pytest.approx(0.20 * 0.5)  # z=+7 -> 0.3, clipped at 0.5
    # custom slopes and clips
    assert smile_vol(f * math.exp(-0.1), f, t, a, b_put=0.5) == pytest.approx(0.30)
    assert smile_vol(f * math.exp(0.1), f, t, a, b_call=0.3) == pytest.approx(0.14)
    assert smile_vol(f * math.exp(-0.2), f, t, a, hi=1.2) == pytest.approx(0.24)
    assert smile_vol(f * math.exp(0.4), f, t, a, lo=0.8) == pytest.approx(0.16)


# --- strike for delta ------------------------------------------------------------------------------

DELTAS = (0.05, 0.10, 0.16, 0.20, 0.30)
VOLS = (0.10, 0.20, 0.40, 0.80)
DTES = (1, 7, 30, 45, 90)


@pytest.mark.parametrize("kind", ["put", "call"])
def test_strike_for_delta_round_trip(kind):
    s, r, q = 4500.0, 0.045, 0.018
    for d, a, dte in itertools.product(DELTAS, VOLS, DTES):
        t = dte / 365
        target = -d if kind == "put" else d
        k, sig = strike_for_delta(s, t, r, q, a, target, kind)
        f = forward(s, t, r, q)
        assert sig == pytest.approx(smile_vol(k, f, t, a), rel=1e-14)
        assert bs_delta(s, k, t, r, q, sig, kind) == pytest.approx(target, abs=1e-8), (kind, d, a, dte)
        assert (k < f) if kind == "put" else (k > f)


def test_strike_for_delta_matches_closed_form_on_the_unclipped_smile():
    # Unclipped, s = sigma(K)sqrt(T) solves (b/2)s^2 + (1 - b d1)s - sigma_atm sqrt(T) = 0, x = -d1 s + s^2/2
    s0, r, q, a, t = 4500.0, 0.04, 0.018, 0.18, 45 / 365
    f = s0 * math.exp((r - q) * t)
    for kind, target, b in (("put", -0.16, 0.25), ("call", 0.16, 0.10), ("put", -0.05, 0.25)):
        p = target * math.exp(q * t) + (0.0 if kind == "call" else 1.0)  # N(d1) from the delta
        d1 = norm.ppf(p)
        aa, bb, cc = b / 2, 1 - b * d1, -a * math.sqrt(t)
        sv = (-bb + math.sqrt(bb * bb - 4 * aa * cc)) / (2 * aa)
        k_expected = f * math.exp(-d1 * sv + sv * sv / 2)
        k, sig = strike_for_delta(s0, t, r, q, a, target, kind)
        assert k == pytest.approx(k_expected, rel=1e-10)
        assert sig == pytest.approx(sv / math.sqrt(t), rel=1e-10)


def test_sixteen_delta_strikes_straddle_the_forward_with_put_skew():
    s, r, q, a, t = 4500.0, 0.04, 0.018, 0.16, 45 / 365
    kp, sp = strike_for_delta(s, t, r, q, a, -0.16, "put")
    kc, sc = strike_for_delta(s, t, r, q, a, 0.16, "call")
    f = forward(s, t, r, q)
    assert kp < f < kc
    assert sp > a > sc  # put wing priced richer, call wing cheaper
    kp5, _ = strike_for_delta(s, t, r, q, a, -0.05, "put")
    assert kp5 < kp  # further OTM for a smaller |delta|


def test_brentq_fallback_gives_the_same_strike(monkeypatch):
    s, r, q, a, t = 4500.0, 0.04, 0.018, 0.30, 20 / 365
    expected = strike_for_delta(s, t, r, q, a, -0.10, "put")
    monkeypatch.setattr(opt, "_smile_log_strike", lambda *args: None)  # as if no piece of the smile held it
    got = strike_for_delta(s, t, r, q, a, -0.10, "put")
    assert got[0] == pytest.approx(expected[0], rel=1e-10)
    # and an independent brentq on the same equation
    f = forward(s, t, r, q)

    def g(k):
        return bs_delta(s, k, t, r, q, smile_vol(k, f, t, a), "put") + 0.10

    assert expected[0] == pytest.approx(brentq(g, 1000, f, xtol=1e-10), rel=1e-10)


def test_strike_for_delta_rejects_impossible_targets():
    for target, kind in ((0.16, "put"), (-0.16, "call"), (1.0, "call"), (0.0, "call")):
        with pytest.raises(ValueError):
            strike_for_delta(4500, 0.1, 0.04, 0.018, 0.2, target, kind)


# --- grid ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "strike, direction, expected",
    [
        (4512.4, "nearest", 4510.0),
        (4512.6, "nearest", 4515.0),
        (4512.5, "nearest", 4515.0),
        (4514.9, "down", 4510.0),
        (4510.0, "down", 4510.0),
        (4509.9999999999, "down", 4510.0),  # float noise stays on its grid point
        (4510.1, "up", 4515.0),
        (4515.0, "up", 4515.0),
        (4515.0000000001, "up", 4515.0),
        (4512.0, "nearest", 4510.0),
    ],
)
def test_round_to_grid(strike, direction, expected):
    assert round_to_grid(strike, 5.0, direction) == expected


def test_round_to_grid_other_steps_and_bad_direction():
    assert round_to_grid(4512.0, step=25.0) == 4500.0
    assert round_to_grid(4513.0, step=25.0, direction="up") == 4525.0
    with pytest.raises(ValueError):
        round_to_grid(4512.0, direction="sideways")


# --- expirations -----------------------------------------------------------------------------------


def test_spxw_expiry_near_known_dates():
    # 2024-03-28 + 45 = Sun 2024-05-12: Fri 05-10 is 43 DTE, Mon 05-13 is 46 -> the Monday
    assert spxw_expiry_near("2024-03-28") == pd.Timestamp("2024-05-13")
    # 2024-03-27 + 45 = Sat 05-11: Fri 05-10 (44 DTE) beats Mon 05-13 (47)
    assert spxw_expiry_near("2024-03-27") == pd.Timestamp("2024-05-10")
    # 45th day a normal session lands on it
    assert spxw_expiry_near("2024-03-29") == pd.Timestamp("2024-05-13")


def test_spxw_expiry_near_holidays():
    # 2024-02-13 + 45 = Good Friday 2024-03-29 (closed): Thu 03-28 (44) beats Mon 04-01 (47)
    assert spxw_expiry_near("2024-02-13") == pd.Timestamp("2024-03-28")
    # 2024-05-20 + 45 = Thu 2024-07-04 (closed): Wed 07-03 (44) and Fri 07-05 (46) tie -> the earlier
    assert spxw_expiry_near("2024-05-20") == pd.Timestamp("2024-07-03")


def test_spxw_expiry_near_window_and_none():
    # target outside the window is clipped to the nearest allowed session
    assert spxw_expiry_near("2024-03-28", target_dte=10, min_dte=35, max_dte=60) == pd.Timestamp("2024-05-02")
    # Friday + exactly 1 day is a Saturday: nothing qualifies
    assert spxw_expiry_near("2024-05-10", target_dte=1, min_dte=1, max_dte=1) is None


def test_monthly_expiry_after():
    assert monthly_expiry_after("2024-03-15") == pd.Timestamp("2024-04-19")
    assert monthly_expiry_after("2022-03-18") == pd.Timestamp("2022-04-14")  # 2022-04-15 was Good Friday
    assert monthly_expiry_after("2014-03-21") == pd.Timestamp("2014-04-17")  # 2014-04-18 was Good Friday
    assert monthly_expiry_after("2023-12-15") == pd.Timestamp("2024-01-19")  # year roll
    assert monthly_expiry_after("2024-01-31") == pd.Timestamp("2024-02-16")


def test_settlement_value_am_vs_pm():
    assert settlement_value("2024-04-19", True, 5005.5, 4967.2) == 5005.5  # AM: the open (SOQ proxy)
    assert settlement_value("2024-04-19", False, 5005.5, 4967.2) == 4967.2  # PM: the close
    assert settlement_value("1995-04-21", True, None, 508.5) == 508.5  # close-only history
    assert settlement_value("1995-04-21", True, float("nan"), 508.5) == 508.5


# --- combinations ----------------------------------------------------------------------------------


def test_price_legs_iron_condor():
    s, r, q, a, t = 4500.0, 0.04, 0.018, 0.16, 45 / 365
    f = forward(s, t, r, q)
    legs = [Leg("put", 4100, 1), Leg("put", 4200, -1), Leg("call", 4750, -1), Leg("call", 4800, 1)]
    price, delta = price_legs(legs, s, t, r, q, a)
    exp_p = sum(
        leg.quantity * scipy_bs(s, leg.strike, t, r, q, smile_vol(leg.strike, f, t, a), leg.kind) for leg in legs
    )
    exp_d = sum(
        leg.quantity * bs_delta(s, leg.strike, t, r, q, smile_vol(leg.strike, f, t, a), leg.kind) for leg in legs
    )
    assert price == pytest.approx(exp_p, rel=1e-10)
    assert delta == pytest.approx(exp_d, rel=1e-10)
    assert -100 * math.exp(-r * t) < price < 0.0  # a credit, less than the widest wing
    # pricing at a flat vol differs once the smile is switched off
    flat, _ = price_legs(legs, s, t, r, q, a, b_put=0.0, b_call=0.0)
    exp_flat = sum(leg.quantity * scipy_bs(s, leg.strike, t, r, q, a, leg.kind) for leg in legs)
    assert flat == pytest.approx(exp_flat, rel=1e-10) and flat != pytest.approx(price, rel=1e-3)
    with pytest.raises(AttributeError):
        legs[0].strike = 1.0  # frozen


def test_micro_benchmark_prints_timings():
    s, r, q, a, t = 4500.0, 0.04, 0.018, 0.16, 45 / 365
    n = 20000
    t0 = time.perf_counter()
    for _ in range(n):
        bs_price(s, 4200.0, t, r, q, a, "put")
    t1 = time.perf_counter()
    for _ in range(n):
        bs_delta(s, 4200.0, t, r, q, a, "put")
    t2 = time.perf_counter()
    m = n // 4
    for _ in range(m):
        k, sig = strike_for_delta(s, t, r, q, a, -0.16, "put")
    t3 = time.perf_counter()
    print(
        f"\nbs_price {1e6 * (t1 - t0) / n:.2f} us, bs_delta {1e6 * (t2 - t1) / n:.2f} us, "
        f"strike_for_delta {1e6 * (t3 - t2) / m:.2f} us"
    )
    assert bs_delta(s, k, t, r, q, sig, "put") == pytest.approx(-0.16, abs=1e-10)


def test_slice_prices_every_leg_as_the_generic_smile_and_black_scholes():
    """The hot-loop Slice must be the same model as smile_vol + bs_price / bs_delta, skew clips included."""
    from vixshield.strategy.options import Slice, bs_delta, bs_price, smile_vol

    rng = np.random.default_rng(5)
    for _ in range(300):
        s, t, r, q, a = 4000.0, rng.uniform(1, 120) / 365, rng.uniform(0, 0.06), 0.018, rng.uniform(0.06, 0.8)
        sl, fwd = Slice(s, t, r, q, a), s * math.exp((r - q) * t)
        k = s * math.exp(rng.normal(0, 3 * a * math.sqrt(t)))  # deep wings reach both clips
        for kind in ("put", "call"):
            vol = smile_vol(k, fwd, t, a)
            price, delta = sl.price_delta(k, kind)
            assert price == pytest.approx(bs_price(s, k, t, r, q, vol, kind), rel=1e-10, abs=1e-10)
            assert delta == pytest.approx(bs_delta(s, k, t, r, q, vol, kind), rel=1e-10, abs=1e-12)


def _fixed_point_log_strike(s0, t, r, q, a, target, kind, smile):
    """The reference, the engine's algorithm before: x_{n+1} = -d1 s(x_n) + s(x_n)^2/2 from the money, s on
    the clipped smile, to 1e-15; where that does not converge in 50 steps (a steep smile), brentq on the
    delta."""
    p = target * math.exp(q * t) + (0.0 if kind == "call" else 1.0)
    d1, s_atm = NormalDist().inv_cdf(p), a * math.sqrt(t)
    s, x = s_atm, 0.0
    for _ in range(50):
        x_new = -d1 * s + 0.5 * s * s
        m = 1.0 - (smile["b_put"] if x_new < 0.0 else smile["b_call"]) * x_new / s_atm
        s = min(max(m, smile["lo"]), smile["hi"]) * s_atm
        if abs(x_new - x) <= 1e-15 * (1.0 + abs(x_new)):
            return x_new
        x = x_new
    return opt._brent_log_strike(s0, forward(s0, t, r, q), t, r, q, a, target, kind, smile)


@pytest.mark.parametrize("kind", ["put", "call"])
def test_the_closed_form_strike_is_the_fixed_point_on_every_piece_of_the_smile(kind):
    """Against the fixed-point iteration (and its brentq fallback) the engine used before, on smiles where
    each piece holds the answer: unclipped, clipped at the floor (steep call skew) and at the cap (steep
    put skew, far OTM), at short and long tenors and low and high vols. The strikes agree to 1e-11 and
    round to the same grid point; the delta at the strike's own smile vol is the target."""
    s0, r, q = 5000.0, 0.045, 0.018
    smiles = [(0.25, 0.10, 0.5, 2.5), (0.0, 0.0, 0.5, 2.5), (0.6, 0.45, 0.5, 2.5), (0.9, 0.9, 0.7, 1.3)]
    for (b_put, b_call, lo, hi), delta, a, dte in itertools.product(smiles, (0.02, 0.05, 0.16, 0.3, 0.6), VOLS, DTES):
        t, target = dte / 365, (delta if kind == "call" else -delta)
        smile = {"b_put": b_put, "b_call": b_call, "lo": lo, "hi": hi}
        x = _fixed_point_log_strike(s0, t, r, q, a, target, kind, smile)
        f = forward(s0, t, r, q)
        k, sig = strike_for_delta(s0, t, r, q, a, target, kind, **smile)
        assert k == pytest.approx(f * math.exp(x), rel=1e-11), (kind, b_put, b_call, lo, hi, delta, a, dte)
        assert round_to_grid(k) == round_to_grid(f * math.exp(x))
        assert bs_delta(s0, k, t, r, q, sig, kind) == pytest.approx(target, abs=1e-10)
