"""The daily regime (METHODOLOGY §3): first matching rule wins; moving up is immediate, moving
down needs `downgrade_sessions` consecutive sessions that qualify for a lower regime.

Every row says why: the rule codes that fired, the rules skipped for missing inputs, and any
pending downgrade.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from vixshield.config import RegimeSettings

ORDER = ("CALM", "NORMAL", "ELEVATED", "STRESSED", "CRISIS")  # low to high
RANK = {name: i for i, name in enumerate(ORDER)}


def _ge(x: pd.Series, level: float) -> pd.Series:
    return (x >= level).fillna(False)


def raw_regime(f: pd.DataFrame, s: RegimeSettings) -> pd.DataFrame:
    """The regime each session qualifies for on its own, with the codes of the rules that fired.

    `f` needs vix, ivts, drawdown252, vix_pct252, macro_stress, spx_close, spx_sma200.
    """
    vix, ivts = f["vix"], f["ivts"]
    rules = {
        "CRISIS": [("VIX_GE_40", _ge(vix, s.crisis_vix)), ("IVTS_GE_1.10", _ge(ivts, s.crisis_ivts))],
        "STRESSED": [
            ("VIX_GE_30", _ge(vix, s.stressed_vix)),
            ("IVTS_GE_1.00", _ge(ivts, s.stressed_ivts)),
            (
                "DRAWDOWN_LE_10PCT_AND_VIX_GE_25",
                (f["drawdown252"] <= s.stressed_drawdown).fillna(False) & _ge(vix, s.stressed_drawdown_vix),
            ),
        ],
        "ELEVATED": [
            ("VIX_GE_20", _ge(vix, s.elevated_vix)),
            ("IVTS_GE_0.95", _ge(ivts, s.elevated_ivts)),
            ("VIX_PCT252_GE_0.80", _ge(f["vix_pct252"], s.elevated_vix_pct)),
            ("MACRO_STRESS_GE_1", _ge(f["macro_stress"], s.elevated_macro_stress)),
        ],
    }
    above_sma200 = (f["spx_close"] > f["spx_sma200"]).where(f["spx_sma200"].notna())
    ivts_ok = (ivts < s.calm_ivts).where(ivts.notna(), True)  # skipped where VIX3M is missing
    calm = (vix < s.calm_vix).fillna(False) & ivts_ok & above_sma200.fillna(False).astype(bool)

    regime = pd.Series("NORMAL", index=f.index, dtype=object)
    reasons: list[list[str]] = [[] for _ in range(len(f))]
    decided = np.zeros(len(f), dtype=bool)
    for name in ("CRISIS", "STRESSED", "ELEVATED"):
        codes = np.array([f"{name}:{code}" for code, _ in rules[name]], dtype=object)
        fired = np.column_stack([hit.to_numpy(dtype=bool) for _, hit in rules[name]])
        hit = fired.any(axis=1) & ~decided
        regime[hit] = name
        for i in np.flatnonzero(hit):
            reasons[i] = codes[fired[i]].tolist()
        decided |= hit
    calm_hit = calm.to_numpy() & ~decided
    regime[calm_hit] = "CALM"
    for i in np.flatnonzero(calm_hit):
        reasons[i] = ["CALM:VIX_LT_15", "CALM:IVTS_LT_0.90", "CALM:SPX_GT_SMA200"]
    for i in np.flatnonzero(~decided & ~calm_hit):
        reasons[i] = ["NORMAL:NO_RULE_FIRED"]
    # say which inputs were missing, so a trader knows which rules could not fire
    missing = {
        "IVTS_SKIPPED_NO_VIX3M": ivts.isna(),
        "SMA200_MISSING": f["spx_sma200"].isna(),
        "MACRO_STRESS_MISSING": f["macro_stress"].isna(),
        "VIX_PCT252_MISSING": f["vix_pct252"].isna(),
    }
    for code, mask in missing.items():
        for i in np.flatnonzero(mask.to_numpy()):
            reasons[i].append(f"SKIPPED:{code}")
    return pd.DataFrame({"raw_regime": regime, "raw_reasons": reasons}, index=f.index)


def with_hysteresis(raw: pd.DataFrame, s: RegimeSettings) -> pd.DataFrame:
    """Apply 'up at once, down after N qualifying sessions'. A downgrade lands on the highest
    regime the last N sessions qualified for (all of them below the current one)."""
    names = raw["raw_regime"].to_numpy()
    raw_reasons = raw["raw_reasons"].to_list()
    n = s.downgrade_sessions
    regime, held, reasons = [], [], []
    current, streak, days = None, 0, 0
    for i, name in enumerate(names):
        note = []
        if current is None or RANK[name] >= RANK[current]:
            changed = name != current
            current, streak = name, 0
        else:
            streak += 1
            if streak >= n:
                current = max(names[i - n + 1 : i + 1], key=RANK.__getitem__)
                changed, streak = True, 0
            else:
                changed = False
                note = [f"HOLD:DOWNGRADE_TO_{name}_PENDING_{streak}_OF_{n}"]
        days = 1 if changed else days + 1
        regime.append(current)
        held.append(days)
        reasons.append(list(raw_reasons[i]) + note)
    return pd.DataFrame(
        {"regime": regime, "sessions_in_regime": held, "raw_regime": names, "reasons": reasons}, index=raw.index
    )


def classify(f: pd.DataFrame, s: RegimeSettings) -> pd.DataFrame:
    """features.regime for every session with a VIX close."""
    rows = f[f["vix"].notna()]
    return with_hysteresis(raw_regime(rows, s), s)
