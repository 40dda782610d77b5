"""The Cboe replicas' published figures and ours beside them: a plain table, apart from the report's
charts so the terminal can print it without loading matplotlib."""

from __future__ import annotations

import numpy as np
import pandas as pd

REPLICA_COLS = ("index", "strategy", "figure", "published", "ours", "difference")

# Cboe's published figures for 1986-2015; our data starts in 1990, hence the "cboe_1990_2015" metrics window.
PUBLISHED = pd.DataFrame(
    [
        ("CNDR", "cndr", "vol", 0.0723, "annual standard deviation"),
        ("CNDR", "cndr", "max_drawdown", -0.19, "worst drawdown, approximate, over ~35 years"),
        ("PUT", "put", "cagr", 0.1013, "compound annual return"),
        ("PUT", "put", "vol", 0.1016, "annual standard deviation"),
        ("BXMD", "bxmd", "cagr", 0.1066, "compound annual return"),
    ],
    columns=["index", "strategy", "figure", "published", "note"],
)


def replica_table(metrics: pd.DataFrame) -> pd.DataFrame:
    """Our replicas over 1990-2015 against Cboe's published 1986-2015 figures (one row per figure)."""
    m = metrics.loc[metrics["window"] == "cboe_1990_2015"].drop_duplicates("strategy", keep="last")
    m = m.set_index("strategy")
    out = PUBLISHED.drop(columns="note")
    ours = [
        float(m.at[s, f]) if s in m.index and f in m.columns else np.nan
        for s, f in zip(out["strategy"], out["figure"], strict=True)
    ]
    out = out.assign(ours=pd.Series(ours, dtype=float))
    return out.assign(difference=out["ours"] - out["published"])[list(REPLICA_COLS)]
