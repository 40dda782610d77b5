"""Today's verdict in one paragraph, written from a research run's tables (never typed by hand), and the
README rewrite that puts it between two markers (`vixshield research --readme README.md`)."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from vixshield.research.harness import side
from vixshield.research.variants import BENCHMARK, FULL

START = "<!-- research-verdict:start (written by `vixshield research --readme`; do not edit) -->"
END = "<!-- research-verdict:end -->"
HEDGE = "spx_hedge"
ANSWERS = {
    1: "earns its cost, risk-adjusted",
    -1: "does not earn its cost, risk-adjusted",
    0: "cannot be told apart from holding SPX alone, risk-adjusted",
}


def _pts(x: float) -> str:
    return f"{x * 100:+.1f} pts"


def _variant(row: Mapping, confidence: float) -> str:
    ci = f"{confidence:.0%} interval {row['d_sharpe_low']:+.2f} to {row['d_sharpe_high']:+.2f}"
    return (
        f"{row['description']}: {row['cagr']:.1%} a year, Sharpe {row['sharpe']:.2f} ({row['d_sharpe']:+.2f}; {ci}), "
        f"max drawdown {row['max_drawdown']:.0%} ({_pts(row['d_max_drawdown'])}): {row['verdict']}"
    )


def paragraph(frames: Mapping[str, pd.DataFrame]) -> str:
    """The verdict of one run from its research.runs, verdict, deflated and contributions rows."""
    run = frames["runs"].iloc[0]
    verdict = frames["verdict"].set_index("variant", drop=False)
    conf = float(run["confidence"])
    any_row = verdict.iloc[0]
    spx = {k: any_row[k] - any_row[f"d_{k}"] for k in ("cagr", "sharpe", "max_drawdown")}
    fit = "every year before it" if run["split"] == "anchored" else f"the {int(run['fit_years'])} years before it"
    text = [
        f"Out of sample, {pd.Timestamp(run['oos_first']):%Y-%m-%d} to {pd.Timestamp(run['oos_last']):%Y-%m-%d} "
        f"(each year trades the parameters with the best {run['objective']} on {fit}, each variant choosing among "
        f"its own grid, {int(run['grid_points'])} grid points in all; all costs paid; run {str(run['run_id'])[:8]}), "
        "SPX alone compounded "
        f"{spx['cagr']:.1%} a year with a Sharpe of {spx['sharpe']:.2f} and a worst drawdown of "
        f"{spx['max_drawdown']:.0%}.",
        "Against it, on the same sessions: " + "; ".join(_variant(r, conf) for r in verdict.to_dict("records")) + ".",
    ]
    deflated = frames["deflated"]
    wf = deflated[(deflated["variant"] == FULL) & (deflated["selection"] == "walk_forward")].set_index("benchmark")
    if BENCHMARK in wf.index:
        d = wf.loc[BENCHMARK]
        text.append(
            f"Deflated for its {int(d['trials'])} trials (Bailey & Lopez de Prado), the probability that the full "
            f"book's edge over SPX is more than the luck of the best of as many trials is {d['dsr']:.2f}."
        )
    rules = frames["contributions"]
    if len(rules):
        said = ", ".join(f"{r} {v}" for r, v in zip(rules["rule"], rules["verdict"], strict=True))
        text.append(f"Each rule switched off at the chosen parameters: {said}.")
    if HEDGE in verdict.index:
        h = verdict.loc[HEDGE]
        text.append(f"In short: the layered VIX hedge {ANSWERS[side(h['d_sharpe_low'], h['d_sharpe_high'])]}.")
    return " ".join(text)


def rewrite(text: str, body: str) -> str:
    """`text` with everything between the markers replaced by `body`; a text without them is refused."""
    head, found, rest = text.partition(START)
    _, closed, tail = rest.partition(END)
    if not found or not closed:
        raise ValueError(f"the markers are missing: add a line {START} and, below it, {END}")
    return f"{head}{START}\n{body}\n{END}{tail}"
