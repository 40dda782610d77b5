"""A backtest run as PNG charts plus a self-contained report.html and report.md.

Pure rendering (pandas frames in, files out; no DuckDB, no Dagster) so any saved run can be re-rendered
and the report tested without a warehouse. Every table is formatted once into string rows and only then
emitted as HTML or Markdown, so the two files can never disagree on a number.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, LogFormatter, MaxNLocator, PercentFormatter

from vixshield.backtest.metrics import METRIC_COLUMNS, STRESS_WINDOWS
from vixshield.backtest.replicas import REPLICA_COLS, replica_table

matplotlib.use("Agg")  # reports are rendered by jobs and tests, never on a display
import matplotlib.pyplot as plt

FIGSIZE, DPI = (10.0, 4.5), 110
# others follow in order of appearance
STRATEGY_ORDER = ("full", "full_same_close", "spx", "cndr", "put", "bxm", "bxmd", "vxth", "pput")
REGIME_COLORS = {
    "CALM": "#c7e9c0",
    "NORMAL": "#f4f4f4",
    "ELEVATED": "#fff3b0",
    "STRESSED": "#fdae6b",
    "CRISIS": "#ef6548",
}
STRESS_COLS = tuple(STRESS_WINDOWS)
METRIC_COLS = ("start", "end", "years", *METRIC_COLUMNS)
SWEEP_METRICS = ("cagr", "vol", "sharpe", "max_drawdown", "calmar")
ABLATION_COLS = ("variant", *SWEEP_METRICS, "hedge_cost_per_year", "d_cagr", "d_sharpe", "d_max_drawdown")
HEDGE_COLS = ("strategy", "year", "premium_paid", "payoff", "net")

# how each column is formatted (anything unlisted: dates as dates, floats with :g, the rest as str)
_PCT = ("cagr", "vol", "max_drawdown", "worst_month", "hit_rate", "hedge_cost_per_year", *STRESS_COLS)
KINDS: dict[str, str] = {
    **dict.fromkeys(_PCT, "pct"),
    **dict.fromkeys(("sharpe", "sortino", "calmar"), "num"),
    **dict.fromkeys(("pnl_per_trade", "premium_paid", "payoff", "net"), "usd"),
    **dict.fromkeys(("d_cagr", "d_max_drawdown"), "spct"),
    **dict.fromkeys(("published", "ours"), "pct2"),
    "difference": "spct2",
    "d_sharpe": "snum",
    "trades": "int",
    "years": "num1",
    "start": "date",
    "end": "date",
    "year": "text",
}
LABELS: dict[str, str] = {
    **{c: c.capitalize() for c in ("strategy", "start", "end", "years", "trades", "year", "payoff", "net")},
    **{c: c.capitalize() for c in ("index", "figure", "published", "ours", "difference", "variant")},
    "cagr": "CAGR",
    "vol": "Vol",
    "sharpe": "Sharpe",
    "sortino": "Sortino",
    "max_drawdown": "Max DD",
    "calmar": "Calmar",
    "worst_month": "Worst month",
    "hit_rate": "Hit rate",
    "pnl_per_trade": "P&L / trade",
    "hedge_cost_per_year": "Hedge cost / yr",
    "premium_paid": "Premium paid",
    "d_cagr": "ΔCAGR",
    "d_sharpe": "ΔSharpe",
    "d_max_drawdown": "ΔMax DD",
    **{c: c.removeprefix("stress_").replace("_", "-") for c in STRESS_COLS},
}
CSS = (
    "body{font-family:system-ui,sans-serif;max-width:1150px;margin:2em auto;color:#222}"
    "table{border-collapse:collapse;font-size:13px;margin:.4em 0 1.6em}"
    "th,td{border:1px solid #ccc;padding:3px 8px}th{background:#f0f0f0}td:not(:first-child){text-align:right}"
    "tr.best{background:#fff4c2}img{max-width:100%}.meta{color:#666}"
)


@dataclass(frozen=True)
class ReportFiles:
    html: Path
    markdown: Path
    charts: dict[str, Path]  # chart name -> PNG path


@dataclass(frozen=True)
class _Table:
    """A table already formatted to text: what both the HTML and the Markdown emitters consume."""

    header: list[str]
    rows: list[list[str]]
    best: int | None = None  # row index to emphasise


def _na(value: Any) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def fmt(value: Any, kind: str = "auto") -> str:
    """One cell as text (missing shows as "–"); the only place numbers are formatted."""
    if _na(value):
        return "–"
    match kind:
        case "pct" | "pct2" | "spct" | "spct2":
            return f"{value:{'+' if kind.startswith('s') else ''}.{2 if kind.endswith('2') else 1}%}"
        case "num" | "snum":
            return f"{value:{'+' if kind == 'snum' else ''}.2f}"
        case "num1":
            return f"{value:.1f}"
        case "int":
            return f"{value:,.0f}"
        case "usd":
            return f"{'-' if value < 0 else ''}${abs(value):,.0f}"
        case "date":
            return pd.Timestamp(value).strftime("%Y-%m-%d")
    if isinstance(value, dt.date):
        return pd.Timestamp(value).strftime("%Y-%m-%d")
    if isinstance(value, float | np.floating):
        return f"{value:g}"
    return str(value)


def text_table(df: pd.DataFrame, cols: Iterable[str], best: int | None = None) -> _Table:
    cols = list(cols)
    rows = [
        [fmt(v, KINDS.get(c, "auto")) for c, v in zip(cols, rec, strict=True)]
        for rec in df.reindex(columns=cols).itertuples(index=False, name=None)
    ]
    return _Table([LABELS.get(c, c) for c in cols], rows, best)


# A report is a list of blocks, each emitted once per format.
Block = tuple[str, Any]  # ("h1" | "h2" | "p" | "meta", str), ("img", Path), ("table", _Table), ("ul", list[str])


def _html(block: Block) -> str:
    kind, x = block
    e = html.escape
    if kind in ("h1", "h2", "p"):
        return f"<{kind}>{e(x)}</{kind}>"
    if kind == "meta":
        return f'<p class="meta">{e(x)}</p>'
    if kind == "img":
        return f'<p><img src="{e(x.name)}" alt="{e(x.stem)}"></p>'
    if kind == "ul":
        return "<ul>" + "".join(f"<li>{e(i)}</li>" for i in x) + "</ul>"
    head = "".join(f"<th>{e(h)}</th>" for h in x.header)
    body = "".join(
        ('<tr class="best">' if i == x.best else "<tr>")
        + "".join(f"<td><b>{e(c)}</b></td>" if i == x.best else f"<td>{e(c)}</td>" for c in row)
        + "</tr>"
        for i, row in enumerate(x.rows)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _md_text(s: str) -> str:
    return s.replace("<", "&lt;").replace(">", "&gt;")  # GitHub would render a raw "<...>" as HTML


def _md(block: Block) -> str:
    kind, x = block
    if kind in ("h1", "h2"):
        return f"{'#' * int(kind[1])} {_md_text(x)}"
    if kind in ("p", "meta"):
        return _md_text(x)
    if kind == "img":
        return f"![{x.stem}]({x.name})"
    if kind == "ul":
        return "\n".join(f"- {_md_text(i)}" for i in x)

    def line(cells: list[str], bold: bool = False) -> str:
        cells = [_md_text(c).replace("|", r"\|") for c in cells]
        return "| " + " | ".join(f"**{c}**" if bold and c else c for c in cells) + " |"

    sep = "|" + "|".join([" --- "] + [" ---: "] * (len(x.header) - 1)) + "|"
    return "\n".join([line(x.header), sep, *(line(r, i == x.best) for i, r in enumerate(x.rows))])


def hedge_by_year(trades: pd.DataFrame) -> pd.DataFrame:
    """Hedge premium paid (by entry year) against payoff received (by exit year), per strategy.

    Years between a strategy's first and last hedge year with no activity appear as zeros, so the
    chart shows quiet years rather than skipping them.
    """
    h = trades.loc[trades["sleeve"] == "hedge"]
    if h.empty:
        return pd.DataFrame({c: pd.Series(dtype=object if c == "strategy" else float) for c in HEDGE_COLS})
    entry_year = pd.to_datetime(h["entry_date"]).dt.year.rename("year")
    exit_year = pd.to_datetime(h["exit_date"]).dt.year.rename("year")
    paid = -h.groupby([h["strategy"], entry_year])["entry_cash"].sum()
    got = h.loc[exit_year.notna()].groupby([h["strategy"], exit_year])["exit_cash"].sum()
    out = pd.concat([paid.rename("premium_paid"), got.rename("payoff")], axis=1).fillna(0.0)
    span = out.reset_index().groupby("strategy")["year"].agg(["min", "max"])
    out = out.reindex(
        pd.MultiIndex.from_tuples(
            [(s, y) for s, lo, hi in span.itertuples(name=None) for y in range(int(lo), int(hi) + 1)],
            names=["strategy", "year"],
        ),
        fill_value=0.0,
    ).reset_index()
    return out.assign(net=out["payoff"] - out["premium_paid"])[list(HEDGE_COLS)]


def _regime_runs(dates: np.ndarray, regimes: Iterable[Any]) -> list[tuple[Any, Any, str]]:
    """Merge consecutive sessions of one regime into (start, end, regime) spans; sessions without a regime
    are left unshaded. A run ends where the next one starts, so spans tile the axis without gaps."""
    key = np.array(["" if _na(r) else str(r) for r in regimes])
    if not len(key):
        return []
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    ends = np.r_[dates[starts[1:]], dates[-1:] + np.timedelta64(1, "D")]
    return [(dates[i], end, key[i]) for i, end in zip(starts, ends, strict=True) if key[i]]


def _dollars(v: float, _pos: Any = None) -> str:
    return fmt(v, "usd").replace("$", r"\$")  # a bare "$" pair would switch matplotlib into mathtext


class _PlainLog(LogFormatter):
    """Log-axis labels as plain numbers (0.9, 2000) instead of 10^x; LogFormatter still picks which ticks."""

    def __call__(self, x: float, pos: int | None = None) -> str:
        return f"{x:g}" if super().__call__(x, pos) else ""


def _log_y(ax: Axes) -> None:
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(_PlainLog(labelOnlyBase=False))
    ax.yaxis.set_minor_formatter(_PlainLog(labelOnlyBase=False, minor_thresholds=(2, 0.5)))


def note(ax: Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", color="#666")


def _draw_lines(ax: Axes, groups: dict[str, pd.DataFrame], colors: dict[str, Any], column: str) -> bool:
    for s, g in groups.items():
        y = g[column] / g[column].iloc[0] if column == "nav" else g[column]
        ax.plot(g["date"], y, label=s, color=colors[s], lw=0.9)
    if groups:
        ax.legend(loc="best", fontsize=8, ncol=min(len(groups), 4))
    else:
        note(ax, "no equity rows")
    return bool(groups)


def draw_equity(ax: Axes, groups: dict[str, pd.DataFrame], colors: dict[str, Any]) -> None:
    if _draw_lines(ax, groups, colors, "nav"):
        _log_y(ax)
    ax.set(title="Growth of 1.0 (log scale)", ylabel="NAV rebased to 1.0")


def draw_drawdowns(ax: Axes, groups: dict[str, pd.DataFrame], colors: dict[str, Any]) -> None:
    _draw_lines(ax, groups, colors, "drawdown")
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set(title="Drawdown from running peak", ylabel="drawdown")


def _draw_regime(ax: Axes, spx: pd.Series, full: pd.DataFrame) -> None:
    s = pd.Series(pd.to_numeric(spx, errors="coerce").to_numpy(), index=pd.to_datetime(spx.index)).dropna()
    s = s.sort_index()
    handles: list[Any] = []
    if not s.empty:
        handles += ax.plot(s.index, s.to_numpy(), color="black", lw=0.8, label="SPX")
        _log_y(ax)
    else:
        note(ax, "no SPX closes")
    runs = _regime_runs(full["date"].to_numpy(), full["regime"])
    for start, end, regime in runs:
        ax.axvspan(start, end, color=REGIME_COLORS.get(regime, "#d9d9d9"), lw=0, zorder=0)
    present = {r for *_, r in runs}
    for r in [*[r for r in REGIME_COLORS if r in present], *sorted(present - REGIME_COLORS.keys())]:
        handles.append(Patch(facecolor=REGIME_COLORS.get(r, "#d9d9d9"), edgecolor="#999", label=r))
    if handles:
        ax.legend(handles=handles, loc="upper left", fontsize=8, ncol=len(handles))
    ax.set(title="SPX close (log scale), shaded by the full strategy's regime", ylabel="SPX")


def _draw_hedge(ax: Axes, hedge: pd.DataFrame, strategy: str | None) -> None:
    ax.set(title=f"VIX-call hedge by year: premium paid vs payoff ({strategy or 'no strategy'})", ylabel="dollars")
    if strategy is None:
        note(ax, "no hedge trades")
        return
    x = np.arange(len(hedge))
    ax.bar(x - 0.2, hedge["premium_paid"], 0.4, label="premium paid", color="#d6604d")
    ax.bar(x + 0.2, hedge["payoff"], 0.4, label="payoff", color="#4393c3")
    ax.set_xticks(x, [str(y) for y in hedge["year"]], rotation=90 if len(x) > 15 else 0)
    ax.yaxis.set_major_formatter(FuncFormatter(_dollars))
    ax.legend(fontsize=8)


def _draw_condor(ax: Axes, trades: pd.DataFrame, colors: dict[str, Any]) -> None:
    ax.set(title="Closed condor trade P&L", xlabel="P&L per trade (dollars)", ylabel="trades")
    c = trades.loc[(trades["sleeve"] == "condor") & (trades["status"] == "closed")].dropna(subset=["pnl"])
    if c.empty:
        note(ax, "no closed condor trades")
        return
    bins = np.histogram_bin_edges(c["pnl"].to_numpy(dtype=float), bins=40)
    for s in colors:
        p = c.loc[c["strategy"] == s, "pnl"].to_numpy(dtype=float)
        if len(p):
            ax.hist(p, bins=bins, alpha=0.45, color=colors[s], label=f"{s}: n={len(p)}, mean {_dollars(p.mean())}")
            ax.axvline(p.mean(), color=colors[s], ls="--", lw=1.2)
    ax.xaxis.set_major_formatter(FuncFormatter(_dollars))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(fontsize=8)


def save_chart(path: Path, draw: Callable[[Axes], None]) -> Path:
    fig, ax = plt.subplots(figsize=FIGSIZE)
    try:
        draw(ax)
        ax.grid(alpha=0.3)
        fig.tight_layout()
        fig.savefig(path, dpi=DPI)
    finally:
        plt.close(fig)
    return path


def _order(*columns: pd.Series) -> list[str]:
    seen = list(dict.fromkeys(str(s) for col in columns for s in col.dropna().unique()))
    return [s for s in STRATEGY_ORDER if s in seen] + [s for s in seen if s not in STRATEGY_ORDER]


def _by_strategy(df: pd.DataFrame, order: list[str]) -> pd.DataFrame:
    rank = df["strategy"].astype(str).map({s: i for i, s in enumerate(order)})
    return df.iloc[np.argsort(rank.to_numpy(), kind="stable")]


def write_report(
    out_dir: Path,
    run_id: str,
    equity: pd.DataFrame,
    trades: pd.DataFrame,
    metrics: pd.DataFrame,
    spx: pd.Series,
    ablation: pd.DataFrame | None = None,
    sweep: pd.DataFrame | None = None,
) -> ReportFiles:
    """Render the charts, report.html and report.md for one run into out_dir (created if missing).

    The frames are taken to be this run's already; their run_id columns are not filtered on.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    eq = equity.assign(date=pd.to_datetime(equity["date"])).sort_values("date", kind="stable")
    order = _order(eq["strategy"], trades["strategy"], metrics["strategy"])
    cmap = plt.get_cmap("tab10")
    colors = {s: cmap(i % 10) for i, s in enumerate(order)}
    by = dict(tuple(eq.dropna(subset=["nav"]).groupby("strategy", sort=False)))
    groups = {s: by[s] for s in order if s in by}
    hby = hedge_by_year(trades)
    hedged = _order(hby["strategy"])
    hedge_strategy = "full" if "full" in hedged else (hedged[0] if hedged else None)
    hedge = hby.loc[hby["strategy"] == hedge_strategy]

    draws: dict[str, Callable[[Axes], None]] = {
        "equity_log": partial(draw_equity, groups=groups, colors=colors),
        "drawdowns": partial(draw_drawdowns, groups=groups, colors=colors),
        "regime_spx": partial(_draw_regime, spx=spx, full=eq.loc[eq["strategy"] == "full"]),
        "hedge_by_year": partial(_draw_hedge, hedge=hedge, strategy=hedge_strategy),
        "condor_pnl": partial(_draw_condor, trades=trades, colors=colors),
    }
    charts = {name: save_chart(out_dir / f"{name}.png", draw) for name, draw in draws.items()}

    all_m = _by_strategy(metrics.loc[metrics["window"] == "all"], order)
    blocks: list[Block] = [
        ("h1", f"VixShield backtest {run_id}"),
        ("meta", f"Generated {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC."),
        ("img", charts["equity_log"]),
        ("h2", "Metrics (full history)"),
        ("table", text_table(all_m, ["strategy", *METRIC_COLS])),
        ("h2", "Stress windows"),
        ("table", text_table(all_m, ["strategy", *STRESS_COLS])),
        ("h2", "Replicas vs Cboe published figures"),
        (
            "p",
            "Published: Cboe, 1986-2015 (the CNDR drawdown is approximate, over ~35 years). "
            "Ours: the cboe_1990_2015 window, as our data starts in 1990.",
        ),
        ("table", text_table(replica_table(metrics), REPLICA_COLS)),
        ("h2", "Drawdowns"),
        ("img", charts["drawdowns"]),
        ("h2", "Regimes"),
        ("img", charts["regime_spx"]),
        ("h2", "VIX-call hedge by year"),
        ("img", charts["hedge_by_year"]),
    ]
    if hedge_strategy is None:
        blocks.append(("p", "No hedge trades in this run."))
    else:
        total = {"strategy": hedge_strategy, "year": "total", **hedge[["premium_paid", "payoff", "net"]].sum()}
        blocks += [
            ("p", f"Strategy {hedge_strategy}: premium paid by entry year, payoff received by exit year."),
            ("table", text_table(pd.concat([hedge, pd.DataFrame([total])], ignore_index=True), HEDGE_COLS)),
        ]
    blocks += [("h2", "Condor trade P&L"), ("img", charts["condor_pnl"])]
    if ablation is not None:
        verdicts = [f"{v}: {t}" for v, t in zip(ablation["variant"], ablation["verdict"], strict=True) if not _na(t)]
        blocks += [
            ("h2", "Ablation"),
            ("p", "Deltas are full minus variant: a positive ΔSharpe means the removed rule helped."),
            ("table", text_table(ablation, ABLATION_COLS)),
            ("ul", verdicts),
        ]
    if sweep is not None:
        ranked = sweep.sort_values("sharpe", ascending=False, na_position="last", kind="stable")
        params = [c for c in sweep.columns if c not in SWEEP_METRICS]
        best = 0 if len(ranked) and pd.notna(ranked["sharpe"].iloc[0]) else None
        blocks += [
            ("h2", "Parameter sweep"),
            ("p", "Sorted by Sharpe; the best row is in bold."),
            ("table", text_table(ranked, [*params, *SWEEP_METRICS], best)),
        ]

    return write_documents(out_dir, f"VixShield backtest {run_id}", blocks, charts)


def write_documents(out_dir: Path, title: str, blocks: list[Block], charts: dict[str, Path]) -> ReportFiles:
    """report.html (self-contained but for the charts beside it) and report.md from the same blocks."""
    html_path, md_path = out_dir / "report.html", out_dir / "report.md"
    html_path.write_text(
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{CSS}</style></head><body>\n" + "\n".join(map(_html, blocks)) + "\n</body></html>\n",
        encoding="utf-8",
    )
    md_path.write_text("\n\n".join(map(_md, blocks)) + "\n", encoding="utf-8")
    return ReportFiles(html=html_path, markdown=md_path, charts=charts)
