"""`vixshield run` and `vixshield query` end to end, in subprocesses."""

import json
import subprocess
import sys

import duckdb
import polars as pl
import pytest

from tests.conftest import REPO
from tests.e2e.helpers import cli_env, vixshield
from vixshield.store.schemas import FAMILIES
from vixshield.validate import checks

pytestmark = pytest.mark.slow  # runs the whole pipeline


def raw_counts(home) -> dict[str, int]:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as conn:
        return {
            t: conn.execute(f"SELECT count(*) FROM raw.{t}").fetchone()[0]
            for t in ("daily_bars", "macro_observations", "vx_futures", "events", "breadth_vendor")
        }


def test_sample_builds_from_nothing_and_a_rerun_adds_no_rows(tmp_path):
    home = tmp_path / "home"
    decoy = tmp_path / "elsewhere"
    first = vixshield(home, "run", "--source", "sample", env={"DAGSTER_HOME": str(decoy)})
    assert first.returncode == 0, first.stderr
    assert "ok    raw__daily_bars" in first.stderr and "SUCCESS: as of 2018-12-31" in first.stderr
    counts = raw_counts(home)
    assert counts["daily_bars"] > 6000 and counts["macro_observations"] > 2000
    second = vixshield(home, "run", "--source", "sample")
    assert second.returncode == 0, second.stderr
    assert raw_counts(home) == counts
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as conn:
        runs = conn.execute("SELECT status, as_of::VARCHAR, config_hash IS NOT NULL FROM meta.runs").fetchall()
        assert runs == [("success", "2018-12-31", True)] * 2
        run_ids = [r[0] for r in conn.execute("SELECT run_id FROM meta.runs").fetchall()]
    # both runs are in the one Dagster instance of the home, the one `make ui` opens (DAGSTER_HOME is not it)
    from pipelines.instance import instance_for

    with instance_for(home) as instance:
        assert sorted(r.run_id for r in instance.get_runs()) == sorted(run_ids)
    assert not list(REPO.glob(".tmp_dagster_home_*"))
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as conn:
        # the sample has no VIX before 2014, so those sessions carry SPX only
        assert (
            conn.execute("SELECT min(date)::VARCHAR FROM core.market_daily WHERE vix IS NOT NULL").fetchone()[0]
            == "2014-01-03"
        )  # the first row of arch.data.vix


def test_files_run_prints_a_summary_and_query_reads_the_result(cli_built):
    home = cli_built.home
    assert "rows per table:" in cli_built.log and "core.market_daily" in cli_built.log
    # every check of the daily job ran once and passed: its SQL checks (backtest.* ones belong to the
    # backtest job) and each raw family's two expectation suites
    declared = sum(not c.asset.startswith("backtest.") for c in checks.SQL_CHECKS) + 2 * len(FAMILIES)
    assert f"checks {declared} passed, 0 warned, 0 failed" in cli_built.log
    q = vixshield(
        home,
        "query",
        "SELECT date, spx_close, vix FROM core.market_daily ORDER BY date DESC LIMIT 3",
        "--format",
        "json",
    )
    assert q.returncode == 0, q.stderr
    rows = json.loads(q.stdout)
    assert [r["date"][:10] for r in rows] == ["2024-03-28", "2024-03-27", "2024-03-26"]
    csv = vixshield(home, "query", "SELECT count(*) AS n FROM core.sessions", "--format", "csv")
    assert csv.stdout.splitlines()[0] == "n"
    # `vixshield query ... | head -1`: the reader leaves early, the CLI ends quietly with 0
    reader = subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "query", "SELECT * FROM raw.daily_bars", "--format", "csv"],
        env=cli_env(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert reader.stdout.readline().startswith(b"symbol,date")
    reader.stdout.close()
    assert reader.wait(timeout=60) == 0
    assert reader.stderr.read() == b""


def test_a_file_edited_between_runs_reaches_the_warehouse_through_the_parse_cache(cli_home, market_dir):
    home = cli_home  # a files run on a copy of market_dir's content left its cache here
    entries = {p.parent.name for p in (home / "cache").rglob("*.pkl")}
    assert {"daily_bars", "macro_observations", "vx_futures", "events", "breadth_vendor"} <= entries
    assert (home / "cache" / "garch_fits.pkl").exists()
    vix = market_dir / "cboe" / "VIX_History.csv"
    lines = vix.read_text().splitlines()
    assert lines[-1].startswith("03/28/2024,")
    lines[-1] = "03/28/2024,13.500000,14.250000,13.250000,14.000000"
    vix.write_text("\n".join(lines) + "\n")
    out = vixshield(home, "run", "--source", "files", "--data-dir", str(market_dir))
    assert out.returncode == 0, out.stderr
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as conn:
        assert conn.execute("SELECT vix FROM core.market_daily WHERE date = '2024-03-28'").fetchone()[0] == 14.0


def test_signals_prints_the_plan_and_the_same_content_as_json(cli_built):
    home = cli_built.home
    table = vixshield(home, "signals")
    assert table.returncode == 0, table.stderr
    assert "VixShield plan for 2024-03-28" in table.stdout
    for section in ("Regime", "Iron condor", "Open condors", "Hedge layers"):
        assert section in table.stdout
    out = vixshield(home, "signals", "--date", "2024-03-28", "--format", "json")
    plan = json.loads(out.stdout)
    assert plan["date"] == "2024-03-28" and plan["condor_plan"]["date"] == "2024-03-28"
    p = plan["condor_plan"]
    assert f"sell {p['short_put']:g}P / buy {p['long_put']:g}P" in table.stdout
    assert [h["layer"] for h in plan["hedge_layers"]] == ["L0", "L1", "L2"]
    assert {"regime", "actions", "book"} <= set(plan)
    missing = vixshield(home, "signals", "--date", "2024-03-30")  # a Saturday
    assert missing.returncode == 2 and "no plan for 2024-03-30" in missing.stderr


def test_query_cannot_change_the_warehouse(cli_home):
    home = cli_home
    out = vixshield(home, "query", "DELETE FROM core.market_daily")
    assert out.returncode == 2 and "read-only" in out.stderr.lower()
    assert vixshield(home, "query", "SELECT count(*) AS n FROM core.market_daily").stdout.split()[-1] != "0"


def test_the_readme_reader_snippet_runs_as_written(cli_built, tmp_path, monkeypatch):
    """The README's "Reading the tables from an app" code, run verbatim from a folder whose
    data/ is a built home: it reads the plan with DuckDB and the Parquet files with pyarrow and polars."""
    readme = (REPO / "README.md").read_text()
    start = readme.index("```python\nimport duckdb, json, pathlib")
    code = readme[start + len("```python\n") : readme.index("```", start + 3)]
    (tmp_path / "data").symlink_to(cli_built.home)
    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    exec(compile(code, "README.md", "exec"), scope)
    assert scope["plan"][0].isoformat() == scope["manifest"]["as_of"] == "2024-03-28"
    condor_plan = scope["condor_plan"].to_pandas()
    last = condor_plan.sort_values("date").iloc[-1]
    assert len(condor_plan) > 100 and last["date"] == scope["plan"][0]  # a DATE column, read as dates
    assert scope["regimes"]["date"].dtype == pl.Date and len(scope["regimes"]) == len(condor_plan)
    scope["conn"].close()
