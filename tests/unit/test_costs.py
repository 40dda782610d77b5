"""The one cost model every fill uses (vixshield.strategy.costs), worked by hand."""

from dataclasses import replace

import pytest

from tests.floats import REL
from vixshield.strategy.costs import Costs, SpreadSettings, half_spread

CONDOR = Costs(slippage=0.10, commission=0.65, legs=4)  # the full strategy's iron condor
VIX_CALL = Costs(slippage=0.05, commission=0.65)  # one VIX option


def test_a_condor_pays_slippage_and_commission_on_each_of_its_four_legs():
    assert CONDOR.spread == pytest.approx(0.40)  # mid - 0.10 per leg (METHODOLOGY §4)
    assert CONDOR.fees(3) == pytest.approx(3 * 4 * 0.65)
    assert CONDOR.of(3) == pytest.approx(3 * (0.40 * 100 + 4 * 0.65))  # 127.80 dollars for 3 condors


def test_a_single_option_buys_above_the_model_price_all_in():
    assert VIX_CALL.unit_cost(2.00) == pytest.approx(2.05 * 100 + 0.65)
    assert VIX_CALL.of(10) == pytest.approx(10 * (0.05 * 100 + 0.65))
    # the all-in price is the model price plus exactly what `of` counts as costs
    assert 10 * VIX_CALL.unit_cost(2.00) - 10 * 2.00 * 100 == pytest.approx(VIX_CALL.of(10))


def test_fractional_index_units_and_free_replicas():
    assert Costs(0.0, 0.0, legs=4).of(12.345) == 0.0  # Cboe's replicas fill at mid without fees
    assert Costs(0.10, 0.0, multiplier=50.0).of(0.5) == pytest.approx(0.5 * 0.10 * 50)


def test_modelled_half_spread_by_hand():
    s = SpreadSettings()
    # a 20-point 16-delta put, 45 DTE, VIX 15: 0.05 + 0.01 * 20 * (0.5/0.16)^0.25 * (30/45)^0.25, * (15/20)^0.5
    rel_part = 0.01 * 20 * 1.3295739742362 * 0.9036020036098448
    assert half_spread(20.0, -0.16, 45, 15.0, s) == pytest.approx((0.05 + rel_part) * 0.8660254037844386, rel=REL)
    assert half_spread(100.0, 0.5, 30, 40.0, s) == 0.5  # capped: Cboe's widest legal quote above 20 is 1.00
    assert half_spread(1.0, -0.05, 10, 60.0, s) == 0.125  # below 2.00 the widest legal quote is 0.25
    assert half_spread(0.0, -0.01, 45, 15.0, s) == 0.0 and half_spread(5.0, -0.3, 0, 15.0, s) == 0.0  # settlement
    assert half_spread(20.0, -0.16, 45, 15.0, replace(s, multiplier=0.0)) == 0.0  # the mid variant
    assert half_spread(20.0, -0.16, 45, 15.0, replace(s, multiplier=2.0)) == pytest.approx(
        2 * half_spread(20.0, -0.16, 45, 15.0, s), rel=REL
    )


def test_the_modelled_spread_is_a_larger_share_of_cheap_options_than_a_fixed_point_cost_admits():
    """Why a fixed 0.10 per leg is wrong both ways: the model's half-spread is a larger share of a
    1990s-sized 2-point option (the tick floor) and a smaller share of a today-sized 30-point one
    than it would be at one price-proportional rate, yet grows in points with the price."""
    s = SpreadSettings()
    cheap, dear = half_spread(2.0, -0.16, 45, 20.0, s), half_spread(30.0, -0.16, 45, 20.0, s)
    assert cheap / 2.0 > 2 * dear / 30.0
    assert dear > 0.10 > cheap  # today's leg costs more than 0.10 points, a 1990s leg less
    assert half_spread(30.0, -0.16, 45, 40.0, s) > dear > half_spread(30.0, -0.16, 45, 12.0, s)  # VIX widens it
