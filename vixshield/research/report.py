"""A research run as PNG charts plus report.html and report.md: the verdict table first, then the curves,
the crashes, the rules and the Deflated Sharpe Ratio. Pure rendering from the research.* rows of one run
(no DuckDB, no Dagster), with the backtest report's formatting and emitters, so both files agree on every
number and any stored run can be re-rendered."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.ticker import PercentFormatter

from vixshield.backtest.report import (
    Block,
    ReportFiles,
    draw_drawdowns,
    draw_equity,
    fmt,
    note,
    save_chart,
    text_table,
    write_documents,
)
from vixshield.research import readme
from vixshield.research.stats import CRASH_WINDOWS
from vixshield.research.variants import ABLATED, BENCHMARK, VARIANTS
from vixshield.strategy.listings import VIX_OPTIONS

ORDER = tuple(v.name for v in VARIANTS)
NAMES = {v.name: v.description for v in VARIANTS}
HEDGED = ("spx_l0", "spx_pput", "spx_hedge", "full")  # the variants that pay for protection
CHART_NAMES = ("equity_log", "drawdowns", "crash_payoffs", "rule_contributions")


def _ci(row: Mapping[str, Any], stat: str, kind: str) -> str:
    """'difference [low, high]' of a statistic, formatted once."""
    d, lo, hi = (row[f"d_{stat}{s}"] for s in ("", "_low", "_high"))
    return f"{fmt(d, kind)} [{fmt(lo, kind)}, {fmt(hi, kind)}]"


def verdict_rows(verdict: pd.DataFrame, confidence: float) -> pd.DataFrame:
    """The verdict table as text: one row per variant, levels and differences from SPX with intervals."""
    ci = f"{confidence:.0%} CI"
    rows = []
    for r in verdict.to_dict("records"):
        rows.append(
            {
                "Variant": r["description"],
                "Sharpe": fmt(r["sharpe"], "num"),
                f"ΔSharpe [{ci}]": _ci(r, "sharpe", "snum"),
                "CAGR": fmt(r["cagr"], "pct"),
                "ΔCAGR": _ci(r, "cagr", "spct"),
                "Max DD": fmt(r["max_drawdown"], "pct"),
                "ΔMax DD": _ci(r, "max_drawdown", "spct"),
                "ΔCVaR 5% (months)": _ci(r, "cvar5_monthly", "spct"),
                "Verdict": r["verdict"],
            }
        )
    return pd.DataFrame(rows)


def spx_line(verdict: pd.DataFrame) -> str:
    r = verdict.iloc[0]
    got = {k: r[k] - r[f"d_{k}"] for k in ("sharpe", "cagr", "max_drawdown", "cvar5_monthly", "worst_month")}
    return (
        f"SPX alone, the benchmark: Sharpe {fmt(got['sharpe'], 'num')}, CAGR {fmt(got['cagr'], 'pct')}, "
        f"max drawdown {fmt(got['max_drawdown'], 'pct')}, CVaR 5% of months {fmt(got['cvar5_monthly'], 'pct')}, "
        f"worst month {fmt(got['worst_month'], 'pct')}. Δ = variant minus SPX (> 0: higher, or shallower)."
    )


def contribution_rows(contributions: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "Rule": r["rule"],
                "ΔSharpe": _ci(r, "sharpe", "snum"),
                "ΔCAGR": _ci(r, "cagr", "spct"),
                "ΔMax DD": _ci(r, "max_drawdown", "spct"),
                "ΔCVaR 5% (months)": _ci(r, "cvar5_monthly", "spct"),
                "Verdict": r["verdict"],
            }
            for r in contributions.to_dict("records")
        ]
    )


def crash_rows(crashes: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "Window": r["window"].removeprefix("crash_").replace("_", "-"),
                "Variant": r["variant"],
                "Return": fmt(r["variant_return"], "pct"),
                "SPX": fmt(r["spx_return"], "pct"),
                "Payoff vs SPX": f"{fmt(r['payoff'], 'spct')} [{fmt(r['payoff_low'], 'spct')}, "
                f"{fmt(r['payoff_high'], 'spct')}]",
                "Cost, year before": fmt(r["cost_prior_year"], "spct"),
            }
            for r in crashes.to_dict("records")
            if r["variant"] in HEDGED
        ]
    )


def deflated_rows(deflated: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "Variant": r["variant"],
                "Series": r["selection"].replace("_", " "),
                "Against": "T-bills" if r["benchmark"] == "tbills" else "SPX",
                "Point": r["point"] if isinstance(r["point"], str) else "–",
                "Sharpe": fmt(r["sharpe"], "num"),
                "Trials": fmt(r["trials"], "int"),
                "SR0": fmt(r["sr0"], "num"),
                "PSR(0)": fmt(r["psr"], "num"),
                "DSR": fmt(r["dsr"], "num"),
            }
            for r in deflated.to_dict("records")
        ]
    )


def selection_rows(selections: pd.DataFrame) -> pd.DataFrame:
    full = selections[selections["variant"] == "full"]
    return pd.DataFrame(
        {
            "Year": full["year"].astype(str),
            "Fit years": [f"{a}-{b}" for a, b in zip(full["fit_first"], full["fit_last"], strict=True)],
            "Chosen point": full["point"],
            "Fit score": [fmt(x, "num") for x in full["fit_score"]],
        }
    )


def _table_block(rows: pd.DataFrame) -> Block:
    """Rows already formatted to text, every column shown."""
    return ("table", text_table(rows, rows.columns))


def _draw_crashes(ax: Axes, crashes: pd.DataFrame, colors: Mapping[str, Any]) -> None:
    """Per crash window and hedged variant: the payoff vs SPX (solid, with its interval) beside what the year
    before cost (hatched, drawn below 0)."""
    c = crashes[crashes["variant"].isin(HEDGED)]
    ax.set(title="Hedge cost vs payoff per crash (vs SPX)", ylabel="return difference")
    if c.empty:
        note(ax, "no crash window in the out-of-sample years")
        return
    windows = [w for w in CRASH_WINDOWS if w in set(c["window"])]
    shown = [v for v in HEDGED if v in set(c["variant"])]
    width = 0.8 / len(shown)
    x = np.arange(len(windows))
    for i, v in enumerate(shown):
        g = c[c["variant"] == v].set_index("window").reindex(windows)
        at = x - 0.4 + width * (i + 0.5)
        err = np.vstack([g["payoff"] - g["payoff_low"], g["payoff_high"] - g["payoff"]]).clip(min=0)
        ax.bar(at, g["payoff"], width, color=colors[v], label=f"{v}: payoff", yerr=err, capsize=2)
        ax.bar(at, -g["cost_prior_year"], width, color="none", edgecolor=colors[v], hatch="//", lw=0.8)
    ax.axhline(0, color="black", lw=0.6)
    ax.set_xticks(x, [w.removeprefix("crash_").replace("_", "-") for w in windows])
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.legend(fontsize=8, ncol=min(len(shown), 4), title="hatched: what the year before cost", title_fontsize=8)


def _draw_rules(ax: Axes, contributions: pd.DataFrame) -> None:
    ax.set(title="Each [seed] rule's contribution: ΔSharpe of full minus full without it", xlabel="ΔSharpe")
    if contributions.empty:
        note(ax, "no rules ablated")
        return
    y = np.arange(len(contributions))
    d = contributions["d_sharpe"].to_numpy(dtype=float)
    err = np.vstack([d - contributions["d_sharpe_low"], contributions["d_sharpe_high"] - d]).clip(min=0)
    ax.barh(y, d, xerr=err, color="#4393c3", capsize=3)
    ax.axvline(0, color="black", lw=0.6)
    ax.set_yticks(y, contributions["rule"])


def write_report(out_dir: Path, frames: Mapping[str, pd.DataFrame]) -> ReportFiles:
    """Render the charts, report.html and report.md of one run (its research.* rows) into out_dir."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    run = frames["runs"].iloc[0]
    eq = frames["equity"].assign(date=lambda f: pd.to_datetime(f["date"]))
    shown = [v for v in ORDER if v in set(eq["variant"])]
    cmap = colormaps["tab10"]
    colors = {v: cmap(i % 10) for i, v in enumerate(ORDER)}
    groups = {v: eq[eq["variant"] == v].sort_values("date") for v in shown}
    contributions = frames["contributions"]
    draws: dict[str, Callable[[Axes], None]] = {
        "equity_log": partial(draw_equity, groups=groups, colors=colors),
        "drawdowns": partial(draw_drawdowns, groups=groups, colors=colors),
        "crash_payoffs": partial(_draw_crashes, crashes=frames["crashes"], colors=colors),
        "rule_contributions": partial(_draw_rules, contributions=contributions),
    }
    charts = {name: save_chart(out_dir / f"{name}.png", draw) for name, draw in draws.items()}
    conf = float(run["confidence"])
    oos = f"{pd.Timestamp(run['oos_first']):%Y-%m-%d} to {pd.Timestamp(run['oos_last']):%Y-%m-%d}"
    verdict = frames["verdict"]
    blocks: list[Block] = [
        ("h1", "VixShield research: does the layered VIX hedge earn its cost?"),
        (
            "meta",
            f"Run {run['run_id']}, generated {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC. Out of sample {oos} "
            f"({int(run['sessions']):,} sessions); {run['split']} walk-forward on {run['objective']}, "
            f"{int(run['grid_points'])} grid points, {int(run['backtests'])} backtests; intervals: paired stationary "
            f"bootstrap, {int(run['bootstrap_reps']):,} resamples, mean block {run['block_length']:g} sessions, "
            f"{conf:.0%}.",
        ),
        ("h2", "Verdict against SPX, out of sample"),
        _table_block(verdict_rows(verdict, conf)),
        ("p", spx_line(verdict)),
        (
            "p",
            f"VIX calls trade from their listing on {VIX_OPTIONS:%Y-%m-%d}: before it the VIX-hedge variants hold "
            "SPX alone (and the full book's hedge is flat), so their differences from SPX come from the years after.",
        ),
        ("p", readme.paragraph(frames)),
        ("h2", "Out-of-sample equity"),
        ("img", charts["equity_log"]),
        ("img", charts["drawdowns"]),
        ("h2", "Crashes: what protection cost and what it paid"),
        ("img", charts["crash_payoffs"]),
        (
            "p",
            "Payoff: the variant's return through the window minus SPX's, with an interval that resamples the "
            "window's own sessions. Cost: SPX's return minus the variant's over the 252 sessions before the window.",
        ),
        _table_block(crash_rows(frames["crashes"])),
        ("h2", "Rule contributions"),
        ("img", charts["rule_contributions"]),
        _table_block(contribution_rows(contributions)),
        ("h2", "Deflated Sharpe Ratio"),
        (
            "p",
            "Bailey & Lopez de Prado (2014): the probability that the Sharpe ratio beats SR0, the best Sharpe expected "
            "from as many zero-skill trials as the grid holds. Against T-bills it asks whether there is a positive "
            "Sharpe at all (SPX alone has one); against SPX, whether the edge over holding SPX (the Sharpe of the "
            "returns minus SPX's) is more than luck. 'walk forward' is the stitched out-of-sample series; 'best in "
            "hindsight' the one grid point that scored best over the same sessions (what a sweep reports).",
        ),
        _table_block(deflated_rows(frames["deflated"])),
        ("h2", "The walk-forward's choices for the full book"),
        _table_block(selection_rows(frames["selections"])),
        (
            "ul",
            [f"{name}: {NAMES[name]}" for name in ORDER if name != BENCHMARK]
            + [f"{name}: {text}" for name, text in ABLATED.items()],
        ),
    ]
    return write_documents(out_dir, f"VixShield research {run['run_id']}", blocks, charts)
