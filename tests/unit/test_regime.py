"""Regime rules (METHODOLOGY §3) on constructed panels: every row of the rule table, the skipped
inputs, and the hysteresis."""

import numpy as np
import pandas as pd
import pytest

from vixshield.config import RegimeSettings
from vixshield.features.regime import classify, raw_regime, with_hysteresis

S = RegimeSettings()
BASE = {
    "vix": 17.0,
    "ivts": 0.92,
    "drawdown252": -0.02,
    "vix_pct252": 0.5,
    "macro_stress": 0.0,
    "spx_close": 4500.0,
    "spx_sma200": 4300.0,
}


def panel(*rows: dict) -> pd.DataFrame:
    return pd.DataFrame([{**BASE, **r} for r in rows], index=pd.bdate_range("2024-01-02", periods=len(rows)))


@pytest.mark.parametrize(
    ("row", "regime", "code"),
    [
        ({"vix": 40.0}, "CRISIS", "CRISIS:VIX_GE_40"),
        ({"ivts": 1.10}, "CRISIS", "CRISIS:IVTS_GE_1.10"),
        ({"vix": 30.0}, "STRESSED", "STRESSED:VIX_GE_30"),
        ({"ivts": 1.00}, "STRESSED", "STRESSED:IVTS_GE_1.00"),
        ({"drawdown252": -0.10, "vix": 25.0}, "STRESSED", "STRESSED:DRAWDOWN_LE_10PCT_AND_VIX_GE_25"),
        ({"vix": 20.0}, "ELEVATED", "ELEVATED:VIX_GE_20"),
        ({"ivts": 0.95}, "ELEVATED", "ELEVATED:IVTS_GE_0.95"),
        ({"vix_pct252": 0.80}, "ELEVATED", "ELEVATED:VIX_PCT252_GE_0.80"),
        ({"macro_stress": 1.0}, "ELEVATED", "ELEVATED:MACRO_STRESS_GE_1"),
        ({"vix": 14.9, "ivts": 0.85}, "CALM", "CALM:VIX_LT_15"),
        ({}, "NORMAL", "NORMAL:NO_RULE_FIRED"),
    ],
)
def test_each_rule_fires_at_its_threshold(row, regime, code):
    out = raw_regime(panel(row), S).iloc[0]
    assert out["raw_regime"] == regime
    assert code in out["raw_reasons"]


@pytest.mark.parametrize(
    ("row", "regime"),
    [
        ({"vix": 39.99}, "STRESSED"),
        ({"ivts": 1.0999}, "STRESSED"),
        ({"drawdown252": -0.0999, "vix": 25.0}, "ELEVATED"),  # drawdown not deep enough; VIX 25 >= 20
        ({"drawdown252": -0.2, "vix": 24.99}, "ELEVATED"),
        ({"vix": 19.99, "ivts": 0.9499, "vix_pct252": 0.7999, "macro_stress": 0.999}, "NORMAL"),
        ({"vix": 14.9, "ivts": 0.90}, "NORMAL"),  # IVTS must be below 0.90 for CALM
        ({"vix": 14.9, "ivts": 0.85, "spx_close": 4200.0}, "NORMAL"),  # below the SMA200
        ({"vix": 15.0, "ivts": 0.85}, "NORMAL"),
    ],
)
def test_just_below_each_threshold(row, regime):
    assert raw_regime(panel(row), S).iloc[0]["raw_regime"] == regime


def test_first_matching_row_wins_and_lists_every_code_of_that_row():
    out = raw_regime(panel({"vix": 45.0, "ivts": 1.2, "drawdown252": -0.3}), S).iloc[0]
    assert out["raw_regime"] == "CRISIS"
    assert [r for r in out["raw_reasons"] if not r.startswith("SKIPPED")] == ["CRISIS:VIX_GE_40", "CRISIS:IVTS_GE_1.10"]


def test_missing_vix3m_skips_the_ivts_rules_and_says_so():
    # the sample source has no VIX3M: IVTS can neither trigger nor block CALM
    out = raw_regime(panel({"vix": 14.0, "ivts": np.nan}, {"vix": 22.0, "ivts": np.nan}), S)
    assert out["raw_regime"].tolist() == ["CALM", "ELEVATED"]
    assert all("SKIPPED:IVTS_SKIPPED_NO_VIX3M" in r for r in out["raw_reasons"])


def test_up_is_immediate_and_down_needs_three_qualifying_sessions():
    vix = [17, 32, 22, 22, 22, 22, 17, 17, 17, 45, 16, 16, 33, 16, 16, 16]
    out = classify(panel(*({"vix": float(v)} for v in vix)), S)
    assert out["regime"].tolist() == [
        "NORMAL",
        "STRESSED",  # up at once
        "STRESSED",
        "STRESSED",  # 2 sessions qualifying lower: held
        "ELEVATED",  # the 3rd: down to what the last 3 qualified for
        "ELEVATED",
        "ELEVATED",
        "ELEVATED",
        "NORMAL",
        "CRISIS",
        "CRISIS",
        "CRISIS",
        "STRESSED",  # lands after 3 lower sessions: the highest of them (33 -> STRESSED)
        "STRESSED",
        "STRESSED",
        "NORMAL",
    ]
    assert out["sessions_in_regime"].tolist() == [1, 1, 2, 3, 1, 2, 3, 4, 1, 1, 2, 3, 1, 2, 3, 1]
    assert out["reasons"].iloc[2][-1] == "HOLD:DOWNGRADE_TO_ELEVATED_PENDING_1_OF_3"
    assert out["reasons"].iloc[3][-1] == "HOLD:DOWNGRADE_TO_ELEVATED_PENDING_2_OF_3"


def test_a_session_back_at_the_current_level_resets_the_downgrade_count():
    vix = [32, 22, 22, 31, 22, 22, 22]
    out = classify(panel(*({"vix": float(v)} for v in vix)), S)
    assert out["regime"].tolist() == ["STRESSED"] * 6 + ["ELEVATED"]


def test_sessions_without_vix_get_no_regime_row():
    out = classify(panel({"vix": 17.0}, {"vix": np.nan}, {"vix": 18.0}), S)
    assert len(out) == 2


def test_hysteresis_is_causal():
    rng = np.random.default_rng(3)
    vix = np.clip(18 * np.exp(np.cumsum(rng.normal(0, 0.08, 300))), 9, 90)
    f = panel(*({"vix": float(v)} for v in vix))
    full = classify(f, S)
    for t in (50, 137, 299):
        cut = classify(f.iloc[: t + 1], S)
        pd.testing.assert_frame_equal(cut, full.iloc[: t + 1])


def test_hysteresis_length_is_configurable():
    s = RegimeSettings(downgrade_sessions=1)
    out = with_hysteresis(raw_regime(panel({"vix": 32.0}, {"vix": 17.0}), s), s)
    assert out["regime"].tolist() == ["STRESSED", "NORMAL"]
