"""The hedge-layer spec (vixshield.strategy.hedge_layers): a layer added through the spec alone is run by the
same loop as L0-L2, and every parameter the spec names exists in the settings."""

import dataclasses
import math

import pandas as pd
import pytest

from vixshield.backtest import engine as backtest
from vixshield.strategy.book import BookSettings
from vixshield.strategy.costs import SpreadSettings
from vixshield.strategy.hedge import HedgeBook, HedgeSettings, hedge_session, run_hedge
from vixshield.strategy.hedge_layers import LAYERS, READS, EachTrigger, LayerSpec, OffFor, WhileTriggered, fixed
from vixshield.strategy.vix_options import vix_expiry

from .test_hedge import BASE, NAV, NO_VX, frame, layer

FREE = HedgeSettings(slippage=0.0, commission_per_contract=0.0, spread=SpreadSettings(multiplier=0.0))


def toy_trigger(mkt, s) -> tuple[bool, str]:
    on = bool(mkt.row.get("toy"))
    return on, f"toy={on}"


def toy(entry=None, weight: float = 0.2) -> LayerSpec:
    """A fourth layer with literal parameters: 1-month 40-delta calls while the `toy` column is set."""
    return LayerSpec("L3", True, toy_trigger, fixed(weight), 1, 0.40, entry or WhileTriggered(), (OffFor(2),))


def test_a_layer_added_through_the_spec_alone_trades_by_its_rules():
    f = frame("2024-03-01", "2024-04-15", {0: {"toy": False}, 2: {"toy": True}, 4: {"toy": False}})
    rows, cash = run_hedge(f, NO_VX, NAV, FREE, layers=(*LAYERS, toy()))
    l3 = layer(rows, "L3")
    acts = list(l3["action"])
    assert acts[:2] == ["none", "none"] and acts[2] == "add" and acts[3] == "hold"  # held while on
    assert "L3:ALREADY_HELD" in l3["reasons"].iloc[3]
    assert acts[4] == "hold" and acts[5] == "remove" and "L3:OFF_2_SESSIONS" in l3["reasons"].iloc[5]
    add = l3.iloc[2]
    assert add["expiry"] == vix_expiry(l3.index[2], 1) and 0.35 < add["delta"] < 0.45
    assert add["weight_pct_nav"] == 0.2 and add["premium_pct_nav"] == pytest.approx(0.2, abs=0.01)
    assert add["trigger_details"] == "toy=True" and l3["cash_flow"].iloc[5] > 0
    # the other layers are untouched, but for the shared budget the toy's premium now uses
    alone, cash_alone = run_hedge(f, NO_VX, NAV, FREE)
    others = rows[rows["layer"] != "L3"].reset_index(drop=True).drop(columns="budget_used_pct_nav")
    pd.testing.assert_frame_equal(others, alone.drop(columns="budget_used_pct_nav"))
    assert (cash - cash_alone).to_numpy() == pytest.approx(l3["cash_flow"].to_numpy())


def test_each_trigger_entry_buys_every_triggered_session_and_skips_a_zero_weight():
    f = frame("2024-03-01", "2024-03-15", {0: {"toy": True}})
    each = layer(run_hedge(f, NO_VX, NAV, FREE, layers=(toy(EachTrigger("ON", "OFF", "HELD")),))[0], "L3")
    assert set(each["action"]) == {"add"} and list(each["contracts_held"]) == list(each["contracts"].cumsum())
    zero = layer(run_hedge(f, NO_VX, NAV, FREE, layers=(toy(EachTrigger("ON", "OFF", "HELD"), 0.0),))[0], "L3")
    assert set(zero["action"]) == {"none"} and zero["reasons"].iloc[0] == ["L3:ON"]
    target = layer(run_hedge(f, NO_VX, NAV, FREE, layers=(toy(weight=0.0),))[0], "L3")
    assert "ZERO_CONTRACTS" in target["reasons"].iloc[0]  # a target of 0 is tried, and says why nothing fit


def test_layers_share_the_budget_in_spec_order():
    day, expiry = pd.Timestamp("2024-01-17"), pd.Timestamp("2024-02-14")  # a VIX expiration: L0 buys 1%
    s = dataclasses.replace(FREE, l1_enabled=False, l2_enabled=False, budget_pct_nav=1.1)
    row = {**BASE, "toy": True}
    budgeted_l0 = dataclasses.replace(LAYERS[0], budgeted=True)  # L0 itself is outside the budget
    first = {
        r["layer"]: r
        for r in hedge_session(day, row, {expiry: 20.0}, NAV, HedgeBook(), s, layers=(toy(), budgeted_l0))[1]
    }
    assert first["L3"]["action"] == "add" and "BUDGET_CAPPED" in first["L0"]["reasons"]
    last = {
        r["layer"]: r
        for r in hedge_session(day, row, {expiry: 20.0}, NAV, HedgeBook(), s, layers=(budgeted_l0, toy()))[1]
    }
    assert last["L0"]["action"] == "add" and "BUDGET_CAPPED" in last["L3"]["reasons"]


def test_a_disabled_layer_describes_no_contract():
    off = dataclasses.replace(FREE, l1_enabled=False)
    r = {x["layer"]: x for x in hedge_session(pd.Timestamp("2024-03-05"), BASE, {}, NAV, HedgeBook(), off)[1]}
    assert r["L1"]["reasons"] == ["L1:DISABLED"] and r["L1"]["future_source"] == "none"
    assert r["L1"]["expiry"] is pd.NaT and math.isnan(r["L1"]["strike"])
    assert r["L2"]["expiry"] == vix_expiry(pd.Timestamp("2024-03-05"), 2)  # enabled: today's candidate


def test_every_setting_the_spec_names_exists_and_each_seed_layer_has_an_ablation():
    names = {f.name for f in dataclasses.fields(HedgeSettings)}
    for spec in LAYERS:
        params = [spec.enabled, spec.months, spec.delta]
        params += [getattr(rule, f.name) for rule in spec.exits for f in dataclasses.fields(rule)]
        assert {p for p in params if isinstance(p, str)} <= names, spec.name
        if spec.seed:
            variant = f"no_{spec.name.lower()}"
            assert backtest.RULE_NAMES[variant] == spec.seed
            assert getattr(backtest.ABLATIONS[variant](BookSettings()).hedge, spec.enabled) is False
    vxth = backtest.strategy_settings("vxth", BookSettings()).hedge
    assert [getattr(vxth, spec.enabled) for spec in LAYERS] == [True, False, False]  # VXTH: L0 alone


def _perturbed(value):
    """Another valid value of a setting of the same type."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value * 2 + 1
    if isinstance(value, str):
        return "current" if value != "current" else "mean"
    if isinstance(value, SpreadSettings):
        return dataclasses.replace(value, multiplier=3.0, base=value.base * 2)
    if isinstance(value, tuple):
        return ((10.0, 2.0),)
    raise AssertionError(f"no perturbation for {value!r}")


# sessions either side of every threshold the triggers compare with (L1: IVTS vs l1_ivts_on; L2: macro stress)
TRIGGER_ROWS = [
    {"spx_macd": m, "spx_macd_signal": 0.0, "vix_macd": 1.0, "vix_macd_signal": 0.0, "ivts": ivts, "vix": 20.0}
    | {"breadth_divergence": bd, "bearish_divergence_active": False, "macro_stress": stress}
    for m in (-1.0, 1.0)
    for ivts in (0.90, 0.96, 1.5, math.nan)
    for bd in (True, False)
    for stress in (0.4, 0.6, 1.2, math.nan)
]
DAYS = [pd.Timestamp("2024-03-18"), pd.Timestamp("2024-03-20")]  # the second: a VIX expiration


@pytest.mark.parametrize("spec", LAYERS, ids=lambda s: s.name)
def test_a_trigger_reads_only_the_settings_it_declares(spec):
    """The memo of hedge.HedgeMarket.trigger keys a session's result on the declared settings alone: any
    other setting changed must leave every result as it was, else a sweep would reuse a wrong one."""
    from vixshield.strategy.hedge import HedgeMarket

    declared = READS[spec.trigger]
    base = HedgeSettings()
    for f in dataclasses.fields(HedgeSettings):
        if f.name in declared:
            continue
        other = dataclasses.replace(base, **{f.name: _perturbed(getattr(base, f.name))})
        for day in DAYS:
            for row in TRIGGER_ROWS:
                want = spec.trigger(HedgeMarket(day, row, {}, base), base)
                assert spec.trigger(HedgeMarket(day, row, {}, other), other) == want, (spec.name, f.name, row)
    for name in declared:  # and a declared setting does move it, on some session
        other = dataclasses.replace(base, **{name: _perturbed(getattr(base, name))})
        assert any(
            spec.trigger(HedgeMarket(DAYS[0], row, {}, base), base)
            != spec.trigger(HedgeMarket(DAYS[0], row, {}, other), other)
            for row in TRIGGER_ROWS
        ), name


def test_the_trigger_memo_serves_runs_that_differ_only_in_undeclared_settings():
    from vixshield.strategy.hedge import HedgeMarket

    row = TRIGGER_ROWS[0] | {"ivts": 0.96}
    s = HedgeSettings()
    mkt = HedgeMarket(DAYS[0], row, {}, s)
    momentum = LAYERS[1].trigger
    assert mkt.trigger(momentum, s)[0] is True  # IVTS 0.96 > 0.95
    assert mkt.trigger(momentum, dataclasses.replace(s, budget_pct_nav=1.0)) == mkt.trigger(momentum, s)
    assert mkt.trigger(momentum, dataclasses.replace(s, l1_ivts_on=0.97))[0] is False  # a new key, recomputed


def test_each_seed_trigger_shows_its_parts_as_text_in_the_layer_rows():
    """The details are formatted only when read; the text is each part's value (NA when missing), written
    out here by hand from the row."""
    from vixshield.strategy.hedge import HedgeMarket

    s = HedgeSettings()
    row = TRIGGER_ROWS[0] | {"ivts": math.nan, "breadth_divergence": None, "macro_stress": 0.6}
    l0, l1, l2 = (spec.trigger(HedgeMarket(DAYS[1], row, {}, s), s) for spec in LAYERS)
    assert l0 == (True, "vix_expiration=True")
    assert str(l1[1]) == "spx_macd<signal=True; spx_macd<0=True; vix_macd>signal=True; ivts>0.95=NA"
    assert str(l2[1]) == "breadth_divergence=NA; bearish_divergence_active=False; macro_stress>=0.5=True"
    assert l1[0] is False and l2[0] is False  # a missing part is off
    rows = hedge_session(DAYS[1], row, NO_VX, NAV, HedgeBook(), s, fills=[])[1]
    assert [r["trigger_details"] for r in rows] == [str(l0[1]), str(l1[1]), str(l2[1])]
