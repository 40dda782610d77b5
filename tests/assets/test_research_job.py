"""The Dagster research job on a warehouse the daily job built: every research table, the verdict and the
report's charts as metadata, and the daily job never runs it."""

import duckdb
import pytest

from pipelines.definitions import defs
from tests.assets.helpers import run_on_copy
from vixshield.config import GridSettings, ResearchSettings, Settings, settings_json
from vixshield.research import job as research_job

pytestmark = pytest.mark.slow  # runs the whole pipeline

# two short deltas (full and the condors choose), one value otherwise: 8 books and the 5 ablations
TINY = Settings(
    research=ResearchSettings(
        grid=GridSettings(short_delta=(0.12, 0.16), take_profit=(0.5,), hedge_budget_pct=(4.0,)), bootstrap_reps=200
    )
)


@pytest.fixture(scope="module")
def built(tmp_path_factory, daily_built):
    return run_on_copy("research", daily_built[0], tmp_path_factory.mktemp("rs"), settings_json(TINY))


def test_the_daily_job_leaves_the_research_alone():
    daily = {k.to_user_string() for k in defs.resolve_job_def("daily").asset_layer.executable_asset_keys}
    assert not any(k.startswith("research/") for k in daily)


def test_research_job_writes_every_table_with_the_charts_as_metadata(built):
    db, result = built
    assert result.success
    with duckdb.connect(str(db), read_only=True) as conn:
        counts = {
            name: conn.execute(f"SELECT count(*) FROM research.{name}").fetchone()[0] for name in research_job.TABLES
        }
        assert counts.pop("crashes") == 0  # no crash window in 2024-Q1
        assert all(counts.values()), counts
        # the small market spans 2023-09..2024-03: 2024 is the one out-of-sample year, fit on 2023
        years = conn.execute("SELECT DISTINCT year, fit_first, fit_last FROM research.selections").fetchall()
        assert years == [(2024, 2023, 2023)]
    mats = {e.asset_key.to_user_string(): e.materialization.metadata for e in result.get_asset_materialization_events()}
    assert set(mats) == {f"research/{t}" for t in research_job.TABLES}
    verdict = mats["research/verdict"]
    assert "data:image/png;base64," in verdict["charts"].value and "crash_payoffs" in verdict["charts"].value
    assert "| full " in verdict["verdict"].value and verdict["summary"].value.startswith("Out of sample, 2024-")
    assert verdict["report"].value.endswith("report.html")
