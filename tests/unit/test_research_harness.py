"""The research harness end to end on a small constructed market with known answers: VIX never moves, so
VIX calls never pay and rules keyed on absent features never fire. The verdict table and its intervals are
then reproduced from the stored research.equity rows by a second computation (pandas statistics on the
same bootstrap draws), and the report and the README paragraph are checked against the tables."""

from __future__ import annotations

import math

import duckdb
import numpy as np
import pandas as pd
import pytest
from arch.bootstrap import StationaryBootstrap

from tests.unit.test_backtest import market
from vixshield import calendars
from vixshield.config import GridSettings, ResearchSettings, Settings
from vixshield.research import harness, job, readme, report, stats
from vixshield.store import contract

FIRST, LAST = "2017-01-03", "2023-03-31"


def calm_market():
    """SPX a random walk at ~15% vol; VIX, its term structure and every VX future at 18 throughout."""
    days = calendars.sessions(FIRST, LAST)
    spx = 2250 * np.exp(np.cumsum(np.random.default_rng(8).normal(0.0004, 0.0095, len(days))))
    return market(FIRST, LAST, spx=spx, vix=18.0, rate=1.0)


SETTINGS = Settings(
    research=ResearchSettings(
        first_oos_year=2019,
        grid=GridSettings(short_delta=(0.16,), take_profit=(0.5,), hedge_budget_pct=(1.0, 4.0)),
        bootstrap_reps=400,
        seed=3,
    )
)


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    findings = harness.evaluate(calm_market(), SETTINGS.book, SETTINGS.research, workers=2)
    return job.tables("run-1", findings, SETTINGS, pd.Timestamp("2026-01-01"), 1.0)


def by_variant(frames: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, pd.Series]:
    eq = frames["equity"]
    returns = eq.pivot(index="date", columns="variant", values="daily_return")
    rf = eq.drop_duplicates("date").set_index("date")["tbill_return"]
    return returns, rf


def pandas_statistics(r: pd.DataFrame, rf: pd.Series) -> dict[str, pd.Series]:
    """The five statistics written again with pandas, from their definitions (not the module's code)."""
    ex = r.sub(rf, axis=0)
    nav = (1 + r).cumprod()
    months = (1 + r).groupby(r.index.to_period("M")).prod() - 1
    k = math.ceil(0.05 * len(months))
    return {
        "sharpe": ex.mean() / ex.std() * math.sqrt(252),
        "cagr": (1 + r).prod() ** (252 / len(r)) - 1,
        "max_drawdown": (nav / nav.cummax().clip(lower=1.0) - 1).min(),
        "cvar5_monthly": months.apply(lambda m: m.nsmallest(k).mean()),
        "worst_month": months.min(),
    }


def test_insurance_that_never_pays_trails_spx_and_the_layered_hedge_is_its_l0_core_here(frames):
    verdict = frames["verdict"].set_index("variant")
    for name in ("spx_l0", "spx_hedge"):
        row = verdict.loc[name]
        assert row["d_cagr_high"] < 0 and row["d_sharpe_high"] < 0  # known: premium paid, nothing back
        assert row["verdict"].startswith("lower Sharpe than SPX")
    # L1/L2 never trigger and VIX never reaches the monetize level: the layered hedge is the L0 core, to the bit
    returns, _ = by_variant(frames)
    pd.testing.assert_series_equal(returns["spx_hedge"], returns["spx_l0"], check_names=False)
    # the budget binds only L1/L2, which never buy: both budgets score the same and the grid's first is chosen
    chosen = frames["selections"].query("variant == 'spx_hedge'")
    assert (chosen["hedge_budget_pct"] == 1.0).all() and (chosen["candidates"] == 2).all()
    assert "In short: the layered VIX hedge does not earn its cost" in readme.paragraph(frames)
    # its edge over SPX is negative: deflated against SPX, no chance it is skill; against T-bills, a DSR as any
    d = frames["deflated"].set_index(["variant", "selection", "benchmark"])
    edge = d.loc[("spx_hedge", "walk_forward", "spx")]
    assert edge["sharpe"] < 0 and edge["dsr"] < 0.05 and edge["trials"] == 2
    assert d.loc[("spx_hedge", "walk_forward", "tbills"), "sharpe"] == pytest.approx(
        frames["verdict"].set_index("variant").loc["spx_hedge", "sharpe"], rel=1e-9
    )


def test_a_rule_that_never_fires_contributes_exactly_nothing(frames):
    c = frames["contributions"].set_index("ablation")
    for name in ("no_l1", "no_l2"):  # their triggers read MACD, breadth and macro columns this market lacks
        row = c.loc[name]
        for stat in stats.STATISTICS:
            assert row[f"d_{stat}"] == 0 and row[f"d_{stat}_low"] == 0 and row[f"d_{stat}_high"] == 0
        assert row["verdict"] == "no detectable effect"


def test_the_verdict_and_its_intervals_are_reproduced_from_the_stored_equity(frames):
    run = frames["runs"].iloc[0]
    returns, rf = by_variant(frames)
    verdict = frames["verdict"].set_index("variant")
    got = pandas_statistics(returns, rf)
    for variant, row in verdict.iterrows():
        for stat, values in got.items():
            assert row[stat] == pytest.approx(values[variant], rel=1e-9, abs=1e-12), (variant, stat)
            assert row[f"d_{stat}"] == pytest.approx(values[variant] - values["spx"], rel=1e-9, abs=1e-12)
    # the same draws: stationary bootstrap of the positions, with the run's block, seed and count
    bs = StationaryBootstrap(run["block_length"], np.arange(len(returns)), seed=np.random.default_rng(run["seed"]))
    draws = {stat: [] for stat in got}
    for (idx,), _ in bs.bootstrap(int(run["bootstrap_reps"])):
        sample = returns.iloc[idx].set_axis(returns.index)  # a resampled path keeps the calendar by position
        for stat, values in pandas_statistics(sample, rf.iloc[idx].set_axis(rf.index)).items():
            draws[stat].append(values.drop("spx") - values["spx"])
    alpha = (1 - run["confidence"]) / 2
    for stat, rows in draws.items():
        d = pd.DataFrame(rows)
        for variant in verdict.index:
            lo, hi = np.quantile(d[variant], [alpha, 1 - alpha])
            assert verdict.loc[variant, f"d_{stat}_low"] == pytest.approx(lo, rel=1e-9, abs=1e-12), (variant, stat)
            assert verdict.loc[variant, f"d_{stat}_high"] == pytest.approx(hi, rel=1e-9, abs=1e-12), (variant, stat)


def test_crash_payoffs_compound_the_window_and_the_cost_is_the_year_before(frames):
    returns, _ = by_variant(frames)
    crashes = frames["crashes"].set_index(["window", "variant"])
    assert set(crashes.index.get_level_values("window")) == {"crash_2020_03", "crash_2022"}  # 2019..2023-03
    for (window, variant), row in crashes.iterrows():
        first, last = stats.CRASH_WINDOWS[window]
        inside = (returns.index >= first) & (returns.index <= last)
        want = (1 + returns.loc[inside, variant]).prod() - (1 + returns.loc[inside, "spx"]).prod()
        assert row["payoff"] == pytest.approx(want, rel=1e-12)
        year = returns[returns.index < first].iloc[-252:]
        assert row["cost_prior_year"] == pytest.approx((1 + year["spx"]).prod() - (1 + year[variant]).prod())
    assert crashes.loc[("crash_2020_03", "spx_l0"), "cost_prior_year"] > 0  # the calls cost and never paid


def test_the_tables_match_the_contract_and_land_in_the_warehouse(frames):
    conn = duckdb.connect(":memory:")
    job.write_results(conn, frames)
    for name in job.TABLES:
        table = contract.TABLES[f"research.{name}"]
        assert list(frames[name].columns) == table.names
        assert conn.execute(f"SELECT count(*) FROM research.{name}").fetchone()[0] == len(frames[name]) > 0
    runs = frames["runs"].iloc[0]
    assert runs["grid_points"] == 2 + 2 + 1 + 3  # full: 2 budgets; the hedge alone: 2; condors: 1; 3 fixed
    assert runs["oos_first"] == pd.Timestamp("2019-01-02") and runs["oos_last"] == pd.Timestamp(LAST)
    eq = frames["equity"]
    assert eq.groupby("variant").size().nunique() == 1  # every variant on the same sessions


def test_the_report_shows_the_verdict_tables_numbers(frames, tmp_path):
    files = report.write_report(tmp_path, frames)
    md = files.markdown.read_text()
    row = frames["verdict"].set_index("variant").loc["full"]
    cell = f"{row['d_sharpe']:+.2f} [{row['d_sharpe_low']:+.2f}, {row['d_sharpe_high']:+.2f}]"
    line = next(li for li in md.splitlines() if li.startswith("| the full book"))
    assert cell in line and row["verdict"] in line
    assert readme.paragraph(frames).replace("<", "&lt;").replace(">", "&gt;") in md
    for name in report.CHART_NAMES:
        assert files.charts[name].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "ΔSharpe [95% CI]" in files.html.read_text()


def constructed_tables() -> dict[str, pd.DataFrame]:
    """research.* rows written by hand: SPX at Sharpe 0.50, the hedge clearly worse, the full book unclear."""
    stat = {"cagr": (0.09, -0.015), "sharpe": (0.45, -0.05), "max_drawdown": (-0.50, 0.05)}

    def row(variant, description, d_sharpe_ci, verdict):
        out = {"variant": variant, "description": description, "verdict": verdict}
        for k, (value, d) in stat.items():
            out |= {k: value, f"d_{k}": d, f"d_{k}_low": d - 0.02, f"d_{k}_high": d + 0.02}
        out["d_sharpe_low"], out["d_sharpe_high"] = d_sharpe_ci
        return out

    return {
        "runs": pd.DataFrame(
            [
                {
                    "run_id": "0123456789",
                    "oos_first": "1995-01-03",
                    "oos_last": "2026-07-10",
                    "split": "anchored",
                    "fit_years": 5,
                    "objective": "sharpe",
                    "grid_points": 133,
                    "confidence": 0.9,
                }
            ]
        ),
        "verdict": pd.DataFrame(
            [
                row("spx_hedge", "SPX + the hedge", (-0.08, -0.01), "lower Sharpe than SPX"),
                row("full", "the full book", (-0.12, 0.03), "Sharpe not distinguishable from SPX"),
            ]
        ),
        "deflated": pd.DataFrame(
            [
                {"variant": "full", "selection": "walk_forward", "benchmark": b, "trials": 100.0, "dsr": dsr}
                for b, dsr in (("tbills", 0.9912), ("spx", 0.0421))
            ]
        ),
        "contributions": pd.DataFrame([{"rule": "L1 momentum hedge layer", "verdict": "hurt"}]),
    }


def test_the_readme_paragraph_is_generated_from_the_tables():
    text = readme.paragraph(constructed_tables())
    assert text.startswith("Out of sample, 1995-01-03 to 2026-07-10 (each year trades the parameters with the best ")
    assert "each variant choosing among its own grid, 133 grid points in all" in text and "run 01234567" in text
    # SPX's own figures are the variant's minus its difference: 0.09 - (-0.015), 0.45 - (-0.05), -0.50 - 0.05
    assert "SPX alone compounded 10.5% a year with a Sharpe of 0.50 and a worst drawdown of -55%" in text
    assert "the full book: 9.0% a year, Sharpe 0.45 (-0.05; 90% interval -0.12 to +0.03)" in text
    assert "Deflated for its 100 trials" in text and "edge over SPX is more than the luck" in text
    assert "as many trials is 0.04." in text  # the SPX row, not the T-bills one
    assert "L1 momentum hedge layer hurt" in text
    assert text.endswith("In short: the layered VIX hedge does not earn its cost, risk-adjusted.")


def test_the_readme_is_rewritten_between_its_markers_only():
    text = f"# VixShield\n\nintro\n\n{readme.START}\nold verdict\n{readme.END}\n\n## Next\n"
    once = readme.rewrite(text, "new verdict")
    assert once == f"# VixShield\n\nintro\n\n{readme.START}\nnew verdict\n{readme.END}\n\n## Next\n"
    assert readme.rewrite(once, "new verdict") == once
    with pytest.raises(ValueError, match="markers are missing"):
        readme.rewrite("# VixShield\n", "new verdict")
