"""`vixshield research` end to end in a subprocess: tables, report, README verdict, republish, errors."""

import duckdb
import pytest

from tests.conftest import copy_home
from tests.e2e.helpers import vixshield
from vixshield.research import readme

pytestmark = pytest.mark.slow  # runs the whole pipeline

TINY = """research:
  grid: {short_delta: [0.12, 0.16], take_profit: [0.5], hedge_budget_pct: [4.0]}
  bootstrap_reps: 200
"""


@pytest.fixture(scope="module")
def home(tmp_path_factory, cli_built):
    return copy_home(cli_built.home, tmp_path_factory.mktemp("rscli") / "home")


def test_research_writes_tables_a_report_the_readme_verdict_and_republishes(home, tmp_path):
    config = tmp_path / "tiny.yaml"
    config.write_text(TINY)
    page = tmp_path / "README.md"
    page.write_text(f"# VixShield\n\n{readme.START}\nnot yet\n{readme.END}\n\nmore\n")
    out = vixshield(home, "research", "--config", str(config), "--workers", "2", "--readme", str(page))
    assert out.returncode == 0, out.stderr
    assert "backtests 13/13" in out.stderr  # progress: 8 books (full and condors at 2 deltas) + 5 ablations
    assert "rule contributions" in out.stdout and "full:" in out.stdout
    text = page.read_text()
    assert text.startswith(f"# VixShield\n\n{readme.START}\nOut of sample, 2024-") and text.endswith(
        f"{readme.END}\n\nmore\n"
    )
    report = next((home / "reports").glob("research-*/report.html"))
    assert "Verdict against SPX, out of sample" in report.read_text()
    q = vixshield(home, "query", "SELECT variant FROM research.verdict ORDER BY variant", "--format", "csv")
    assert q.returncode == 0, q.stderr  # the published snapshot carries the new tables
    assert q.stdout.split() == ["variant", "condors", "full", "spx_hedge", "spx_l0", "spx_pput"]
    assert (home / "published" / "parquet" / "research.verdict.parquet").exists()
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as conn:
        assert conn.execute("SELECT candidates FROM research.selections WHERE variant = 'full'").fetchall() == [(2,)]


def test_research_refuses_a_missing_warehouse_or_a_readme_without_markers(home, tmp_path):
    out = vixshield(tmp_path / "empty", "research")
    assert out.returncode == 2 and "vixshield run" in out.stderr
    page = tmp_path / "README.md"
    page.write_text("# no markers\n")
    out = vixshield(home, "research", "--readme", str(page))
    assert out.returncode == 2 and "marker" in out.stderr
