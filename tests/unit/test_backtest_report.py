"""The backtest report on a constructed run: charts are real PNGs, tables carry hand-checkable numbers,
and the optional sections come and go with their inputs."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from vixshield.backtest.replicas import PUBLISHED, replica_table
from vixshield.backtest.report import ReportFiles, _regime_runs, hedge_by_year, write_report

T = pd.Timestamp
PNG = b"\x89PNG\r\n\x1a\n"
CHARTS = ("equity_log", "drawdowns", "regime_spx", "hedge_by_year", "condor_pnl")
REGIMES = ["CALM", "NORMAL", "ELEVATED", "STRESSED", "CRISIS", None]


def make_equity(strategies: tuple[str, ...] = ("full", "cndr", "spx"), n: int = 600, seed: int = 3) -> pd.DataFrame:
    """Geometric random walks from a seeded generator; regimes in 40-session blocks, with a gap of None."""
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2021-01-04", periods=n)
    regime = [REGIMES[(i // 40) % len(REGIMES)] for i in range(n)]
    frames = []
    for s in strategies:
        nav = 1e7 * np.exp(np.cumsum(rng.normal(0.0003, 0.01, n)))
        frames.append(
            pd.DataFrame(
                {
                    "run_id": "r1",
                    "strategy": s,
                    "date": dates,
                    "nav": nav,
                    "daily_return": np.r_[np.nan, nav[1:] / nav[:-1] - 1],
                    "drawdown": nav / np.maximum.accumulate(nav) - 1,
                    "equity_value": nav,
                    "cash": 0.0,
                    "condor_value": 0.0,
                    "hedge_value": 0.0,
                    "writer_value": 0.0,
                    "regime": regime if s == "full" else None,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def trade(strategy: str, sleeve: str, entry: str, exit_: str | None, entry_cash: float, exit_cash: float) -> dict:
    return {
        "run_id": "r1",
        "strategy": strategy,
        "position_id": f"{strategy}-{sleeve}-{entry}",
        "sleeve": sleeve,
        "instrument": "VIX C" if sleeve == "hedge" else "SPX IC",
        "layer": "L1" if sleeve == "hedge" else None,
        "entry_date": T(entry),
        "exit_date": T(exit_) if exit_ else pd.NaT,
        "expiry": T(entry) + pd.Timedelta(days=45),
        "contracts": 10.0,
        "entry_price": 1.0,
        "exit_price": np.nan if exit_ is None else 1.0,
        "entry_cash": entry_cash,
        "exit_cash": exit_cash,
        "costs": 50.0,
        "pnl": entry_cash + exit_cash,
        "status": "closed" if exit_ else "open",
        "exit_reason": "take_profit" if exit_ else None,
    }


HEDGES = [  # premium paid 80,000 in 2021 and 40,000 in 2022; payoff 120,000 in 2021 and 10,000 in 2022
    trade("full", "hedge", "2021-03-01", "2021-04-15", -50_000.0, 120_000.0),
    trade("full", "hedge", "2021-11-15", "2022-01-20", -30_000.0, 10_000.0),  # spans the year end
    trade("full", "hedge", "2022-06-01", None, -40_000.0, 0.0),  # still open: premium counts, no payoff
]


def make_trades(hedges: list[dict] = HEDGES) -> pd.DataFrame:
    rng = np.random.default_rng(5)
    condors = [
        trade(s, "condor", str(d.date()), str((d + pd.Timedelta(days=30)).date()), c, -c + rng.normal(300, 2_000))
        for s in ("full", "cndr")
        for d, c in zip(pd.bdate_range("2021-01-04", periods=20, freq="21B"), rng.uniform(2e3, 6e3, 20), strict=True)
    ]
    writer = trade("spx", "writer", "2021-02-01", "2021-03-01", 7_000.0, -1_000.0)  # not a hedge: never counted
    return pd.DataFrame([*condors, *hedges, writer])


def metric_row(strategy: str, window: str, cagr: float, vol: float, max_dd: float, **extra: float) -> dict:
    stress = {c: -0.05 for c in ("1998_08", "2008_10", "2011_08", "2015_08", "2018_02", "2020_03", "2022")}
    return {
        "run_id": "r1",
        "strategy": strategy,
        "window": window,
        "start": T("1990-01-02") if window == "cboe_1990_2015" else T("2021-01-04"),
        "end": T("2015-12-31") if window == "cboe_1990_2015" else T("2023-04-21"),
        "years": 26.0 if window == "cboe_1990_2015" else 2.3,
        "cagr": cagr,
        "vol": vol,
        "sharpe": cagr / vol,
        "sortino": np.nan,
        "max_drawdown": max_dd,
        "calmar": cagr / -max_dd,
        "worst_month": -0.061,
        "hit_rate": 0.55,
        "trades": 1234.0,
        "pnl_per_trade": 1520.4,
        "hedge_cost_per_year": 0.012,
        **{f"stress_{k}": v for k, v in stress.items()},
        **extra,
    }


def make_metrics() -> pd.DataFrame:
    rows = [
        metric_row("full", "all", 0.0812, 0.09, -0.14),
        metric_row("cndr", "all", 0.05, 0.09, -0.20),
        metric_row("spx", "all", 0.10, 0.17, -0.34),
        metric_row("x<y", "all", 0.01, 0.02, -0.03),  # a hostile name must come out escaped
        metric_row("cndr", "cboe_1990_2015", 0.061, 0.0800, -0.25),
        metric_row("put", "cboe_1990_2015", 0.095, 0.11, -0.33),
        metric_row("bxmd", "cboe_1990_2015", 0.101, 0.12, -0.36),
    ]
    return pd.DataFrame(rows)


def make_spx(n: int = 600) -> pd.Series:
    rng = np.random.default_rng(9)
    return pd.Series(
        3700 * np.exp(np.cumsum(rng.normal(0.0003, 0.011, n))), index=pd.bdate_range("2021-01-04", periods=n)
    )


ABLATION = pd.DataFrame(
    {
        "variant": ["full", "no_l1", "no_event_gate"],
        "cagr": [0.0812, 0.085, 0.079],
        "vol": [0.09, 0.11, 0.092],
        "sharpe": [0.90, 0.77, 0.86],
        "max_drawdown": [-0.14, -0.22, -0.15],
        "calmar": [0.58, 0.39, 0.53],
        "hedge_cost_per_year": [0.012, 0.004, 0.012],
        "d_cagr": [0.0, -0.0038, 0.0022],
        "d_sharpe": [0.0, 0.13, 0.04],
        "d_max_drawdown": [0.0, 0.08, 0.01],
        "verdict": [None, "helped: Sharpe +0.13, max drawdown 8.0 pts shallower", "helped: Sharpe +0.04"],
    }
)
SWEEP = pd.DataFrame(
    {
        "short_delta": [0.10, 0.12, 0.16],
        "take_profit": [0.5, 0.5, 0.75],
        "cagr": [0.07, 0.08, 0.09],
        "vol": [0.08, 0.085, 0.12],
        "sharpe": [0.71, 0.9375, 0.66],
        "max_drawdown": [-0.12, -0.13, -0.21],
        "calmar": [0.58, 0.62, 0.43],
    }
)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> ReportFiles:
    out = tmp_path_factory.mktemp("report") / "nested" / "run"  # missing parents are created
    return write_report(out, "r1", make_equity(), make_trades(), make_metrics(), make_spx(), ABLATION, SWEEP)


def test_every_chart_is_a_real_png_referenced_by_both_documents(report: ReportFiles) -> None:
    assert set(report.charts) == set(CHARTS)
    html_text, md_text = report.html.read_text(), report.markdown.read_text()
    for name, path in report.charts.items():
        assert path == report.html.parent / f"{name}.png"
        assert path.read_bytes().startswith(PNG)
        assert path.stat().st_size > 10_000
        assert f'src="{name}.png"' in html_text
        assert f"]({name}.png)" in md_text
    assert html_text.index("equity_log.png") < html_text.index("<table>")  # the equity chart comes first


def test_hedge_by_year_matches_a_hand_computation() -> None:
    got = hedge_by_year(make_trades())
    assert list(got.columns) == ["strategy", "year", "premium_paid", "payoff", "net"]
    assert got["strategy"].tolist() == ["full", "full"]  # only strategies with hedge trades
    assert got["year"].tolist() == [2021, 2022]
    assert got["premium_paid"].tolist() == [80_000.0, 40_000.0]
    assert got["payoff"].tolist() == [120_000.0, 10_000.0]
    assert got["net"].tolist() == [40_000.0, -30_000.0]


def test_hedge_by_year_shows_quiet_years_as_zero() -> None:
    hedges = [
        trade("vxth", "hedge", "2019-05-01", "2019-06-01", -1_000.0, 0.0),
        trade("vxth", "hedge", "2021-05-01", "2021-06-01", -2_000.0, 5_000.0),
    ]
    got = hedge_by_year(make_trades(hedges)).set_index("year")
    assert got.loc[2020, ["premium_paid", "payoff", "net"]].tolist() == [0.0, 0.0, 0.0]
    assert got.loc[2021, "net"] == 3_000.0


def test_replica_table_uses_the_cboe_window_and_the_published_figures() -> None:
    rep = replica_table(make_metrics())
    assert len(rep) == len(PUBLISHED) == 5
    assert list(rep.columns) == ["index", "strategy", "figure", "published", "ours", "difference"]
    cndr_vol = rep.loc[(rep["index"] == "CNDR") & (rep["figure"] == "vol")].iloc[0]
    assert cndr_vol["ours"] == 0.08  # the cboe_1990_2015 row, not the "all" row (0.09)
    assert cndr_vol["difference"] == pytest.approx(0.08 - 0.0723)
    put_cagr = rep.loc[(rep["index"] == "PUT") & (rep["figure"] == "cagr")].iloc[0]
    assert (put_cagr["published"], put_cagr["ours"]) == (0.1013, 0.095)
    assert rep.loc[rep["figure"] == "max_drawdown", "published"].tolist() == [-0.19]


def test_replica_table_leaves_missing_replicas_blank() -> None:
    rep = replica_table(make_metrics().query("strategy != 'put'"))
    put = rep.loc[rep["strategy"] == "put"]
    assert len(rep) == 5 and put["ours"].isna().all() and put["difference"].isna().all()


def test_html_formats_escapes_and_highlights(report: ReportFiles) -> None:
    text = report.html.read_text()
    assert "<title>VixShield backtest r1</title>" in text and "Generated " in text
    assert "<td>8.1%</td>" in text  # full cagr 0.0812
    assert "<td>0.90</td>" in text  # full Sharpe 0.0812 / 0.09 with two decimals
    assert "<td>$1,520</td>" in text and "<td>1,234</td>" in text  # dollars and counts with separators
    assert "<td>7.23%</td>" in text and "<td>+0.77%</td>" in text  # replica: published CNDR vol and difference
    assert "<td>x&lt;y</td>" in text and "x<y" not in text
    best = re.findall(r'<tr class="best">(.*?)</tr>', text)
    assert len(best) == 1 and "<td><b>0.12</b></td>" in best[0] and "<b>0.94</b>" in best[0]
    assert "helped: Sharpe +0.13, max drawdown 8.0 pts shallower" in text
    assert "<td>$80,000</td>" in text and "<td>-$30,000</td>" in text  # hedge table for full
    for scripted in ("<script", "http://", "https://"):
        assert scripted not in text  # self-contained


def test_markdown_carries_the_same_tables(report: ReportFiles) -> None:
    text = report.markdown.read_text()
    assert text.startswith("# VixShield backtest r1")
    assert "| full | 2021-01-04 | 2023-04-21 | 2.3 | 8.1% |" in text
    assert "| **0.12** | **0.5** |" in text  # best sweep row in bold
    assert "| x&lt;y |" in text
    assert "- no_l1: helped: Sharpe +0.13, max drawdown 8.0 pts shallower" in text
    assert "| Strategy | 1998-08 | 2008-10 | 2011-08 | 2015-08 | 2018-02 | 2020-03 | 2022 |" in text


def test_minimal_report_without_hedges_ablation_or_sweep(tmp_path: Path) -> None:
    equity = make_equity(("cndr", "spx"), n=120)  # no full rows: no regime shading, SPX still drawn
    equity["date"] = equity["date"].dt.date  # python dates are accepted too
    trades = make_trades(hedges=[])
    files = write_report(tmp_path, "r<2>", equity, trades, make_metrics(), make_spx(120))
    for path in files.charts.values():
        assert path.read_bytes().startswith(PNG)
    text = files.html.read_text()
    assert "VixShield backtest r&lt;2&gt;" in text and "hedge_by_year.png" in text
    assert "No hedge trades in this run." in text
    assert "Ablation" not in text and "Parameter sweep" not in text
    assert "Ablation" not in files.markdown.read_text()


def test_regime_runs_merge_consecutive_sessions_and_skip_missing() -> None:
    dates = pd.bdate_range("2024-01-01", periods=7).to_numpy()
    runs = _regime_runs(dates, ["CALM", "CALM", None, np.nan, "STRESSED", "STRESSED", "CALM"])
    assert [(r, T(a), T(b)) for a, b, r in runs] == [
        ("CALM", T("2024-01-01"), T("2024-01-03")),
        ("STRESSED", T("2024-01-05"), T("2024-01-09")),
        ("CALM", T("2024-01-09"), T("2024-01-10")),
    ]
    assert _regime_runs(dates[:0], []) == []
