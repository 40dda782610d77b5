"""Walk-forward leakage: the parameters traded in year Y are chosen from returns dated before Y only.
Shown three ways: the splits by hand, a perturbation of year Y that cannot move Y's choice but moves
Y + 1's, and the book run cut at the end of Y - 1 choosing exactly what the full-history run chose."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.unit.test_backtest import market
from vixshield import calendars
from vixshield.config import GridSettings
from vixshield.research import harness, walkforward
from vixshield.research.variants import VARIANTS
from vixshield.strategy.book import BookSettings

Split = walkforward.Split


def test_anchored_and_rolling_splits_by_hand():
    years = range(1990, 1997)
    assert walkforward.splits(years, "anchored", 1993, 5) == [
        Split(1993, 1990, 1992),
        Split(1994, 1990, 1993),
        Split(1995, 1990, 1994),
        Split(1996, 1990, 1995),
    ]
    assert walkforward.splits(years, "rolling", 1993, 2) == [
        Split(1993, 1991, 1992),
        Split(1994, 1992, 1993),
        Split(1995, 1993, 1994),
        Split(1996, 1994, 1995),
    ]
    # the first year of data is never traded: it has nothing before it to fit on
    assert walkforward.splits(years, "anchored", 1980, 5)[0] == Split(1991, 1990, 1990)
    assert walkforward.splits(years, "rolling", 1980, 5)[0] == Split(1991, 1990, 1990)
    with pytest.raises(ValueError, match="no year after"):
        walkforward.splits(years, "anchored", 2000, 5)
    with pytest.raises(ValueError, match="anchored"):
        walkforward.splits(years, "expanding", 1993, 5)


def grid_returns(seed: int = 0, points: int = 5) -> tuple[pd.DataFrame, pd.Series]:
    days = pd.bdate_range("2015-01-01", "2020-12-31")
    rng = np.random.default_rng(seed)
    r = pd.DataFrame(rng.normal(3e-4, 0.01, (len(days), points)), index=days, columns=[f"p{i}" for i in range(points)])
    return r, pd.Series(1e-4, index=days)


def test_the_choice_reads_only_the_fit_years():
    r, rf = grid_returns()
    r.loc[r.index.year == 2017, "p3"] += 0.01  # p3 is by far the best in 2017 only
    r.loc[r.index.year == 2018, "p1"] += 0.01  # p1 in 2018 only
    assert walkforward.choose(r, rf, Split(2018, 2015, 2017), "sharpe")[0] == "p3"
    assert walkforward.choose(r, rf, Split(2019, 2018, 2018), "cagr")[0] == "p1"  # rolling, one year
    flat = pd.DataFrame(0.0, index=r.index, columns=r.columns)  # no score defined: the grid's first point
    assert walkforward.choose(flat, rf, Split(2018, 2015, 2017), "sharpe")[0] == "p0"


@pytest.mark.parametrize("kind", ["anchored", "rolling"])
def test_perturbing_year_y_never_moves_its_own_choice_but_moves_the_next(kind):
    r, rf = grid_returns(seed=4)
    plan = walkforward.splits(r.index.year, kind, 2017, 2)
    before = walkforward.choices(r, rf, plan, "sharpe").set_index("year")
    for year in (2017, 2018, 2019):
        inside = r.index.year == year
        shocked = r.copy()
        shocked.loc[inside] *= np.random.default_rng(year).uniform(-3, 3, (int(inside.sum()), 5))  # every point's Y
        pick = next(c for c in r.columns if c != before.loc[year + 1, "point"])
        shocked.loc[inside, pick] += 0.02  # and a point Y + 1 did not choose made the best in Y by far
        after = walkforward.choices(shocked, rf, plan, "sharpe").set_index("year")
        assert after.loc[year, "point"] == before.loc[year, "point"]
        assert after.loc[year, "fit_score"] == before.loc[year, "fit_score"]  # to the bit: Y is not read
        assert after.loc[year + 1, "point"] == pick  # Y + 1 fits on Y: it follows the perturbation
        earlier = [y for y in before.index if y <= year]
        pd.testing.assert_frame_equal(after.loc[earlier], before.loc[earlier])


def test_stitching_takes_each_year_from_its_chosen_point_once():
    r, _ = grid_returns()
    chosen = {2017: "p2", 2018: "p0", 2019: "p4", 2020: "p2"}
    s = walkforward.stitch(r, chosen)
    oos = r[r.index.year >= 2017]
    assert s.index.equals(oos.index)
    for year, point in chosen.items():
        pd.testing.assert_series_equal(s[s.index.year == year], r.loc[r.index.year == year, point].rename(None))


def four_years() -> object:
    days = calendars.sessions("2019-01-02", "2022-12-30")
    rng = np.random.default_rng(21)
    spx = 2500 * np.exp(np.cumsum(rng.normal(0.0003, 0.011, len(days))))
    vix = np.clip(17 * np.exp(np.cumsum(rng.normal(0, 0.05, len(days))) * 0.4), 11, 60)
    return market("2019-01-02", "2022-12-30", spx=spx, vix=vix, rate=1.5)


def test_a_book_run_cut_before_year_y_chooses_what_the_full_history_run_chose():
    """The harness runs each grid point once over all history and slices it; that is honest only because
    the book is causal. Run the same grid on data that end on Y - 1's last session: the returns before Y
    are identical to the bit, and so is the choice for Y."""
    inputs = four_years()
    grid = GridSettings(short_delta=(0.12, 0.20), take_profit=(0.5,), hedge_budget_pct=(1.0, 6.0))
    full = next(v for v in VARIANTS if v.name == "full")
    jobs = harness.grid_jobs(BookSettings(), grid, full)
    assert len(jobs) == 4
    whole, rf = harness.backtest_returns(inputs, jobs, workers=2)
    cut, rf_cut = harness.backtest_returns(inputs, jobs, end="2021-12-31", workers=2)
    assert cut.index[-1] == pd.Timestamp("2021-12-31")
    pd.testing.assert_frame_equal(whole.loc[cut.index], cut)
    pd.testing.assert_series_equal(rf.loc[rf_cut.index], rf_cut)
    split = Split(2022, 2019, 2021)
    for objective in ("sharpe", "calmar"):
        assert walkforward.choose(whole, rf, split, objective) == walkforward.choose(cut, rf_cut, split, objective)
    assert whole.loc["2022"].std().nunique() > 1  # the points differ where it matters: the test can fail
