"""`vixshield backtest` end to end in a subprocess: tables, report, republish, and clear errors."""

import duckdb
import pytest

from tests.conftest import copy_home
from tests.e2e.helpers import vixshield

pytestmark = pytest.mark.slow  # runs the whole pipeline


@pytest.fixture(scope="module")
def home(tmp_path_factory, cli_built):
    """A copy of the session's built home: the backtests here write into it."""
    return copy_home(cli_built.home, tmp_path_factory.mktemp("btcli") / "home")


def test_backtest_writes_tables_and_a_report_and_republishes(home):
    out = vixshield(
        home,
        "backtest",
        "--strategy",
        "full,spx",
        "--strategy",
        "put",
        "--from",
        "2023-10-02",
        "--sweep",
        "short_delta=0.12,0.16",
        "--workers",
        "2",
    )
    assert out.returncode == 0, out.stderr
    assert "strategy full done" in out.stderr and "accounting identity holds to $0.00" in out.stdout
    assert "replicas vs the published Cboe figures (published: 1986-2015; ours: 2023-10-02..2015" not in out.stdout
    assert "ours: no data in 1990-2015" in out.stdout and "sweep: 2 points" in out.stdout
    report = next((home / "reports").glob("*/report.html"))
    html = report.read_text()
    for chart in ("equity_log", "drawdowns", "regime_spx", "hedge_by_year", "condor_pnl"):
        assert (report.parent / f"{chart}.png").stat().st_size > 1000 and f"{chart}.png" in html
    q = vixshield(
        home,
        "query",
        "SELECT strategy, min(date)::VARCHAR AS first FROM backtest.equity GROUP BY 1 ORDER BY 1",
        "--format",
        "csv",
    )
    assert q.returncode == 0, q.stderr  # the published snapshot carries the new tables
    assert q.stdout.splitlines()[1:] == ["full,2023-10-02", "put,2023-10-02", "spx,2023-10-02"]
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as conn:
        assert conn.execute("SELECT count(*) FROM backtest.sweep").fetchone()[0] == 2
        assert conn.execute("SELECT count(DISTINCT strategy) FROM backtest.runs").fetchone()[0] == 3


def test_backtest_refuses_bad_arguments_before_doing_work(home, tmp_path):
    out = vixshield(home, "backtest", "--strategy", "straddle")
    assert out.returncode == 2 and "unknown strategy" in out.stderr and "cndr" in out.stderr
    out = vixshield(home, "backtest", "--from", "2024-13-01")
    assert out.returncode == 2 and "error:" in out.stderr
    out = vixshield(home, "backtest", "--sweep", "kappa=0.7,0.8")
    assert out.returncode == 2 and "short_delta" in out.stderr
    out = vixshield(tmp_path / "empty", "backtest")
    assert out.returncode == 2 and "vixshield run" in out.stderr
    out = vixshield(home, "backtest", "--config", str(tmp_path / "nowhere.yaml"))
    assert out.returncode == 2 and "nowhere.yaml does not exist" in out.stderr


def test_a_config_after_the_subcommand_sets_the_costs_and_a_lone_spx_run_works(home, tmp_path):
    config = tmp_path / "free.yaml"
    config.write_text("book:\n  condor: {slippage_per_leg: 0.0, commission_per_contract: 0.0}\n")
    out = vixshield(home, "backtest", "--strategy", "spx", "--no-report", "--config", str(config))
    assert out.returncode == 0, out.stderr  # SPX alone trades nothing: an empty trades table, not an error
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as conn:
        settings = conn.execute("SELECT settings FROM backtest.runs ORDER BY started_at DESC LIMIT 1").fetchone()[0]
    assert '"commission_per_contract": 0.0' in settings and '"slippage_per_leg": 0.0' in settings
