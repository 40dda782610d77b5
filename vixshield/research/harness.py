"""The research harness without a warehouse: run each variant's grid once over all history, choose every
out-of-sample year's parameters walk-forward, stitch the years, and compare each variant with SPX (and the
full book with each rule switched off) on the same sessions, with paired bootstrap intervals and the
Deflated Sharpe Ratio. vixshield.research.job stores the findings and draws the report.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from vixshield.backtest import engine as backtest
from vixshield.backtest.metrics import TRADING_DAYS
from vixshield.config import GridSettings, ResearchSettings
from vixshield.research import stats, walkforward
from vixshield.research.variants import ABLATED, BENCHMARK, FULL, VARIANTS, Variant
from vixshield.strategy.book import BookSettings

FIXED = "fixed"  # the one point of a variant with nothing to choose
DEFLATED_COLUMNS = ["variant", "selection", "benchmark", "point", *stats.DSR_FIELDS]
CRASH_COLUMNS = [
    "window",
    "variant",
    "variant_return",
    "spx_return",
    "payoff",
    "payoff_low",
    "payoff_high",
    "cost_prior_year",
]


@dataclass
class Findings:
    returns: pd.DataFrame  # out-of-sample daily returns: a column per variant, then per ablation
    rf: pd.Series  # the T-bill return the book credited each of those sessions (Sharpe's risk-free leg)
    selections: pd.DataFrame  # variant, year, fit window, chosen point, its fit score, candidates
    comparisons: pd.DataFrame  # variant, benchmark, statistic, values, difference and its interval
    deflated: pd.DataFrame  # per variant chosen from a grid: its Sharpe deflated by every trial
    crashes: pd.DataFrame  # per crash window and variant: the payoff and what the year before cost
    verdict: pd.DataFrame  # one row per variant against SPX, in words
    contributions: pd.DataFrame  # one row per [seed] rule: full minus full without it
    block: float  # the bootstrap's mean block, sessions
    backtests: int  # books run
    trials: dict[str, int]  # grid points each variant chose among


class Progress:
    """Counts finished backtests and says so every ~5% with an estimate of the time left."""

    def __init__(self, say: Callable[[str], None], total: int = 0):
        self.say, self.total, self.done, self.t0 = say, total, 0, time.perf_counter()

    def __call__(self, _label: str) -> None:
        self.done += 1
        if self.done == self.total or self.done % max(1, self.total // 20) == 0:
            spent = time.perf_counter() - self.t0
            left = spent / self.done * (self.total - self.done)
            self.say(f"backtests {self.done}/{self.total}: {spent:.0f}s, ~{left:.0f}s left")


def grid_jobs(book: BookSettings, grid: GridSettings, variant: Variant) -> dict[str, BookSettings]:
    """The variant's settings at each combination of the grid values of its parameters, by point label."""
    values = {p: getattr(grid, p) for p in variant.params}
    return {label or FIXED: variant.build(s) for label, _, s in backtest.sweep_jobs(book, values)}


def nav_returns(run: backtest.StrategyRun) -> pd.Series:
    nav = run.equity["nav"]
    return nav / nav.shift(1).fillna(run.settings.initial_nav) - 1


def backtest_returns(
    inputs: backtest.Inputs,
    jobs: Mapping[str, BookSettings],
    end: str | None = None,
    workers: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> tuple[pd.DataFrame, pd.Series]:
    """Each job's daily returns over all history (up to `end`), one book per distinct settings; and the
    T-bill return per session (the same for every book: the rate comes from the features)."""
    label_of: dict[BookSettings, str] = {}
    for label, s in jobs.items():
        label_of.setdefault(s, label)
    found = backtest.run_many(
        [(label, "full", s) for s, label in label_of.items()], inputs, end=end, workers=workers, progress=progress
    )
    runs = {label: found[label_of[s]] for label, s in jobs.items()}
    first = next(iter(runs.values()))
    rf = first.equity["cash_rate"] / TRADING_DAYS
    return pd.DataFrame({label: nav_returns(r) for label, r in runs.items()}), rf


def evaluate(
    inputs: backtest.Inputs,
    book: BookSettings,
    rs: ResearchSettings,
    workers: int | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> Findings:
    """Everything the research tables and the report hold, for the book's inputs."""
    grids = {v.name: grid_jobs(book, rs.grid, v) for v in VARIANTS}
    jobs = {f"{v}|{p}": s for v, points in grids.items() for p, s in points.items()}
    counter = Progress(progress, len(set(jobs.values())))
    progress(f"grid: {sum(len(g) for g in grids.values())} points over {len(VARIANTS)} variants")
    history, rf = backtest_returns(inputs, jobs, workers=workers, progress=counter)
    plan = walkforward.splits(history.index.year, rs.split, rs.first_oos_year, rs.fit_years)
    stitched, selections = {}, {}
    for v in VARIANTS:
        points = history[[f"{v.name}|{p}" for p in grids[v.name]]].set_axis(list(grids[v.name]), axis=1)
        selections[v.name] = chosen = walkforward.choices(points, rf, plan, rs.objective).assign(variant=v.name)
        stitched[v.name] = walkforward.stitch(points, dict(zip(chosen["year"], chosen["point"], strict=True)))
    full_choice = dict(zip(selections[FULL]["year"], selections[FULL]["point"], strict=True))
    traded = sorted(set(full_choice.values()))
    ablation_jobs = {f"{a}|{p}": change(grids[FULL][p]) for a, change in backtest.ABLATIONS.items() for p in traded}
    counter.total += len(set(ablation_jobs.values()))
    progress(f"ablation: {len(backtest.ABLATIONS)} rules at the {len(traded)} point(s) the walk-forward traded")
    ablated, _ = backtest_returns(inputs, ablation_jobs, workers=workers, progress=counter)
    for a in backtest.ABLATIONS:
        points = ablated[[f"{a}|{p}" for p in traded]].set_axis(traded, axis=1)
        stitched[a] = walkforward.stitch(points, full_choice)
    returns = pd.DataFrame(stitched)
    oos_rf = rf.reindex(returns.index).fillna(0.0)
    x = returns.to_numpy(dtype=float)
    block = float(rs.block_length or stats.choose_block(x, rs.min_block))
    progress(f"bootstrap: {rs.bootstrap_reps} paired resamples, mean block {block:g} sessions")
    pairs = [(v.name, BENCHMARK) for v in VARIANTS if v.name != BENCHMARK] + [(FULL, a) for a in backtest.ABLATIONS]
    comparisons = stats.compare(returns, oos_rf, pairs, block, rs.bootstrap_reps, rs.confidence, rs.seed)
    return Findings(
        returns=returns,
        rf=oos_rf,
        selections=selection_table(pd.concat(selections.values(), ignore_index=True)),
        comparisons=comparisons,
        deflated=deflated_table(history.loc[returns.index], oos_rf, returns, grids),
        crashes=crash_table(returns[[v.name for v in VARIANTS]], comparisons),
        verdict=verdict_table(comparisons),
        contributions=contribution_table(comparisons),
        block=block,
        backtests=counter.total,
        trials={name: len(points) for name, points in grids.items()},
    )


def selection_table(chosen: pd.DataFrame) -> pd.DataFrame:
    """The walk-forward's choices with each swept parameter's value (NaN where the variant does not choose it)."""
    params = pd.DataFrame(
        [dict(part.split("=") for part in p.split(",")) if p != FIXED else {} for p in chosen["point"]],
        columns=list(backtest.SWEEP_PARAMETERS),
        index=chosen.index,
    ).astype(float)
    cols = ["variant", "year", "fit_first", "fit_last", "point", "fit_score", "candidates"]
    return pd.concat([chosen[cols], params], axis=1)


def deflated_table(
    history: pd.DataFrame, rf: pd.Series, returns: pd.DataFrame, grids: Mapping[str, Mapping[str, BookSettings]]
) -> pd.DataFrame:
    """For each variant chosen from a grid, over the out-of-sample sessions: the walk-forward series and the
    point that was best in hindsight, each with its Sharpe deflated by all the variant's trials; against
    T-bills (is there a positive Sharpe?) and against SPX (the Sharpe of the returns minus SPX's, an
    information ratio: is the edge over holding SPX more than the luck of the best of the trials?)."""
    rows = []
    for benchmark, base in (("tbills", rf), (BENCHMARK, returns[BENCHMARK])):
        for name, points in grids.items():
            if len(points) < 2:
                continue
            trials = history[[f"{name}|{p}" for p in points]]
            sharpes = stats.per_session_sharpes(trials, base)
            if not np.isfinite(sharpes).any():  # no trial moved off its benchmark (condors that never opened)
                continue
            best = int(np.nanargmax(sharpes))
            for selection, series, point in (
                ("walk_forward", returns[name], None),
                ("best_in_hindsight", trials.iloc[:, best], list(points)[best]),
            ):
                excess = (series - base).to_numpy(dtype=float)
                head = {"variant": name, "selection": selection, "benchmark": benchmark, "point": point}
                rows.append(head | stats.deflated_sharpe(excess, sharpes))
    return pd.DataFrame(rows, columns=DEFLATED_COLUMNS)


def crash_table(returns: pd.DataFrame, comparisons: pd.DataFrame) -> pd.DataFrame:
    """Per crash window and variant: its return, SPX's, the payoff (the difference, with its interval) and
    the cost of being positioned (SPX minus the variant over the year of sessions before the window)."""
    spx = returns[BENCHMARK].to_numpy(dtype=float)
    intervals = comparisons[comparisons["benchmark"] == BENCHMARK].set_index(["statistic", "variant"])
    rows = []
    for window, pos in stats.crash_positions(returns.index).items():
        before = np.arange(pos[0] - TRADING_DAYS, pos[0]) if pos[0] >= TRADING_DAYS else None
        for name in returns.columns:
            if name == BENCHMARK:
                continue
            r = returns[name].to_numpy(dtype=float)
            got, base = float(np.prod(1 + r[pos]) - 1), float(np.prod(1 + spx[pos]) - 1)
            cost = math.nan if before is None else float(np.prod(1 + spx[before]) - np.prod(1 + r[before]))
            ci = intervals.loc[(window, name)]
            rows.append(
                {
                    "window": window,
                    "variant": name,
                    "variant_return": got,
                    "spx_return": base,
                    "payoff": got - base,
                    "payoff_low": ci["ci_low"],
                    "payoff_high": ci["ci_high"],
                    "cost_prior_year": cost,
                }
            )
    return pd.DataFrame(rows, columns=CRASH_COLUMNS)


def side(low: float, high: float) -> int:
    """+1 when an interval lies above 0, -1 below, 0 when it covers 0 (or is undefined)."""
    return 1 if low > 0 else (-1 if high < 0 else 0)


VERDICT_STATISTICS = ("sharpe", "cagr", "max_drawdown", "cvar5_monthly", "worst_month")


def _wide(comparisons: pd.DataFrame) -> pd.DataFrame:
    """One row per pair: each statistic's value, difference and interval as columns (d_<stat>, ..._low/_high)."""
    c = comparisons[comparisons["statistic"].isin(VERDICT_STATISTICS)]
    rows = []
    for (variant, benchmark), g in c.groupby(["variant", "benchmark"], sort=False):
        g = g.set_index("statistic")
        row = {"variant": variant, "benchmark": benchmark}
        for k in VERDICT_STATISTICS:
            row |= {
                k: g.at[k, "value"],
                f"{k}_benchmark": g.at[k, "benchmark_value"],
                f"d_{k}": g.at[k, "difference"],
                f"d_{k}_low": g.at[k, "ci_low"],
                f"d_{k}_high": g.at[k, "ci_high"],
            }
        rows.append(row)
    return pd.DataFrame(rows)


def verdict(row: Mapping[str, float]) -> str:
    """A variant against SPX in words, from the intervals that exclude zero: Sharpe, then the tails."""
    words = {
        "sharpe": ("higher Sharpe than SPX", "lower Sharpe than SPX"),
        "max_drawdown": ("shallower max drawdown", "deeper max drawdown"),
        "cvar5_monthly": ("milder bad months", "harsher bad months"),
    }
    said = []
    for stat, (better, worse) in words.items():
        found = side(row[f"d_{stat}_low"], row[f"d_{stat}_high"])
        if found:
            said.append(better if found > 0 else worse)
        elif stat == "sharpe":
            said.append("Sharpe not distinguishable from SPX")
    return "; ".join(said)


def verdict_table(comparisons: pd.DataFrame) -> pd.DataFrame:
    """One row per variant against SPX: the statistics, their differences with intervals, and the verdict."""
    wide = _wide(comparisons[comparisons["benchmark"] == BENCHMARK])
    described = {v.name: v.description for v in VARIANTS}
    wide.insert(1, "description", wide["variant"].map(described))
    wide["verdict"] = [verdict(r) for r in wide.to_dict("records")]
    return wide.drop(columns="benchmark")


def contribution_table(comparisons: pd.DataFrame) -> pd.DataFrame:
    """One row per [seed] rule: full minus full without it (> 0: the rule added it), with intervals."""
    wide = _wide(comparisons[(comparisons["variant"] == FULL) & comparisons["benchmark"].isin(ABLATED)])
    if wide.empty:
        return wide
    wide.insert(0, "rule", wide["benchmark"].map(backtest.RULE_NAMES))
    wide["verdict"] = [
        {1: "helped", -1: "hurt", 0: "no detectable effect"}[side(lo, hi)]
        for lo, hi in zip(wide["d_sharpe_low"], wide["d_sharpe_high"], strict=True)
    ]
    return wide.rename(columns={"benchmark": "ablation"}).drop(columns="variant")
