"""Walk-forward selection: each out-of-sample year trades the grid point that scored best on the years
before it, and the traded years are stitched into one daily return series per variant.

The book is causal (a session's decisions read nothing later), so a grid point run once over the whole
history has, in every year, the returns it would have had run up to that year: the harness runs each
point once and slices its returns by year, instead of one run per (point, year). The choice for year Y
reads only returns dated before Y's first session (`fit_mask`); tests perturb year Y and compare with runs
cut at Y to show it. The stitched series of year Y is the chosen point's own returns in Y, positions
carried in from its own history (also causal): a parameter change takes effect on January 1 as if the book
had always run with it, rather than by liquidating and rebuilding the book that day.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from vixshield.research.stats import OBJECTIVES


@dataclass(frozen=True)
class Split:
    year: int  # traded out of sample
    fit_first: int  # the fit window's first and last calendar years
    fit_last: int


def splits(years: Iterable[int], kind: str, first_oos_year: int, fit_years: int) -> list[Split]:
    """One split per year with data from first_oos_year on, each fit on at least one earlier year of data:
    anchored, every year since the first; rolling, the fit_years years before (fewer at the start)."""
    if kind not in ("anchored", "rolling"):
        raise ValueError(f"split must be 'anchored' or 'rolling', not {kind!r}")
    have = sorted(set(years))
    if not have:
        raise ValueError("no sessions to split")
    out = [
        Split(y, have[0] if kind == "anchored" else max(have[0], y - fit_years), y - 1)
        for y in have
        if y >= first_oos_year and y > have[0]
    ]
    if not out:
        raise ValueError(f"no year after {have[0]} from first_oos_year {first_oos_year} on; the data end in {have[-1]}")
    return out


def fit_mask(dates: pd.DatetimeIndex, split: Split) -> np.ndarray:
    """The sessions a split may fit on: its fit years, all before the traded year."""
    return (dates.year >= split.fit_first) & (dates.year <= split.fit_last)


def choose(returns: pd.DataFrame, rf: pd.Series, split: Split, objective: str) -> tuple[str, float]:
    """(column, score): the best `objective` over the split's fit sessions; ties and all-undefined scores go
    to the first column (the grid's order), so a choice never depends on anything but the fit window."""
    fit = fit_mask(returns.index, split)
    if not fit.any():
        raise ValueError(f"no sessions to fit year {split.year} on")
    scores = OBJECTIVES[objective](returns.to_numpy(dtype=float)[fit], rf.to_numpy(dtype=float)[fit])
    scores = np.where(np.isnan(scores), -np.inf, scores)
    i = int(np.argmax(scores))
    return str(returns.columns[i]), float(scores[i])


def choices(returns: pd.DataFrame, rf: pd.Series, plan: list[Split], objective: str) -> pd.DataFrame:
    """One row per split: year, fit_first, fit_last, point (the chosen column), fit_score, candidates."""
    rf = rf.reindex(returns.index).fillna(0.0)
    rows = []
    for s in plan:
        point, score = choose(returns, rf, s, objective)
        rows.append(
            {
                "year": s.year,
                "fit_first": s.fit_first,
                "fit_last": s.fit_last,
                "point": point,
                "fit_score": score,
                "candidates": returns.shape[1],
            }
        )
    return pd.DataFrame(rows)


def stitch(returns: pd.DataFrame, chosen: Mapping[int, str]) -> pd.Series:
    """The out-of-sample series: for each year, the returns of the column chosen for it."""
    years = returns.index.year
    parts = [returns.loc[years == year, point] for year, point in sorted(chosen.items())]
    return pd.concat(parts).rename(None) if parts else pd.Series(dtype=float)
