"""The one cost model every fill uses (vixshield.strategy.costs), worked by hand."""

import pytest

from vixshield.strategy.costs import Costs

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
