"""Total-variance interpolation of the VIX family, checked by hand."""

import math

import pytest

from vixshield.features.term_structure import forward_vol, points, term_vol

ROW = {"vix9d": 12.0, "vix": 15.0, "vix3m": 18.0, "vix6m": 20.0}


def test_points_skip_missing_indices():
    assert points({"vix": 15.0, "vix3m": float("nan"), "vix9d": None}) == [(30.0, 0.15)]


def test_interpolates_total_variance_between_pillars():
    pts = points(ROW)
    # 60 days between VIX (30d, 15%) and VIX3M (93d, 18%): total variance is linear in days
    w = 0.15**2 * 30 + (0.18**2 * 93 - 0.15**2 * 30) * (60 - 30) / (93 - 30)
    assert term_vol(60, pts) == pytest.approx(math.sqrt(w / 60))
    assert term_vol(30, pts) == pytest.approx(0.15)


def test_flat_beyond_the_ends():
    pts = points(ROW)
    assert term_vol(2, pts) == 0.12 and term_vol(400, pts) == 0.20
    assert math.isnan(term_vol(30, []))


def test_forward_vol_recovers_a_flat_curve_and_a_hand_case():
    flat = points({"vix": 20.0, "vix3m": 20.0})
    assert forward_vol(40, 30, flat) == pytest.approx(0.20)
    pts = points({"vix": 15.0, "vix3m": 18.0})
    # 30d from day 30 to 60: (v(60)^2*60 - 0.15^2*30) / 30
    v60 = term_vol(60, pts)
    assert forward_vol(30, 30, pts) == pytest.approx(math.sqrt((v60**2 * 60 - 0.15**2 * 30) / 30))
