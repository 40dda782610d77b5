"""The Dagster code location: the asset graph, the daily job on a temp DuckDB, checks, schedule."""

import datetime as dt
import os
import subprocess
import sys
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb
import pytest

from assets.checks import expectation_checks, sql_checks
from assets.resources import VixShieldResource
from pipelines.definitions import daily_after_close, defs
from tests.assets.helpers import run_daily, table_digests
from tests.conftest import REPO

CHECK_SPECS = [spec for d in (*expectation_checks, *sql_checks) for spec in d.check_specs]
DAILY_CHECK_SPECS = [s for s in CHECK_SPECS if s.asset_key.path[0] != "backtest"]  # the backtest job runs the rest
EXPECTED_ASSETS = {
    "raw/daily_bars",
    "raw/macro_observations",
    "raw/vx_futures",
    "raw/events",
    "raw/breadth_vendor",
    "meta/quarantine",
    "core/sessions",
    "core/market_daily",
    "core/vx_futures",
    "core/macro_observations",
    "core/events",
    "core/breadth_closes",
    "core/breadth_vendor",
    "features/daily",
    "features/regime",
    "signals/condor_plan",
    "signals/condor_actions",
    "signals/hedge_layers",
    "signals/book_daily",
    "signals/tickets",
    "meta/published",
    "backtest/runs",
    "backtest/equity",
    "backtest/trades",
    "backtest/metrics",
    "backtest/ablation",
    "backtest/sweep",
    *(f"research/{t}" for t in ("runs", "selections", "equity", "comparisons", "verdict", "contributions")),
    "research/deflated",
    "research/crashes",
    "replay/session",
}


def test_asset_graph_is_the_contract():
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert keys == EXPECTED_ASSETS
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        groups = {"raw", "validation", "core", "features", "signals", "serving", "backtest", "research", "replays"}
        assert node.group_name in groups
        assert node.kinds, key
    for key in ("core/market_daily", "features/daily", "signals/condor_plan", "signals/tickets"):
        assert graph.get(dg.AssetKey.from_user_string(key)).code_version  # results depend on the logic
    core = graph.get(dg.AssetKey(["core", "market_daily"]))
    assert dg.AssetKey(["meta", "quarantine"]) in core.parent_keys
    raw = defs.resolve_assets_def(dg.AssetKey(["raw", "daily_bars"]))
    assert raw.op.retry_policy is None  # only a transient network failure asks for a retry (tested below)
    assert {s.key for s in CHECK_SPECS} == set(graph.asset_check_keys)
    blocking = {s.name for s in CHECK_SPECS if s.blocking}
    assert {"expectations_blocking", "core_required_fresh", "macro_point_in_time"} <= blocking


@pytest.mark.slow
def test_daily_job_builds_the_warehouse_and_records_every_check(daily_built):
    db, result = daily_built
    with duckdb.connect(str(db), read_only=True) as conn:
        checks = conn.execute("SELECT asset, check_name, passed, severity FROM meta.check_results").fetchall()
        assert len(checks) == len(DAILY_CHECK_SPECS)
        assert all(passed for _, _, passed, _ in checks)
        assert conn.execute("SELECT max(date) FROM core.market_daily").fetchone()[0] == dt.date(2024, 3, 28)
        assert conn.execute("SELECT count(*) FROM core.market_daily WHERE vx_m1 IS NULL").fetchone()[0] == 0
    mats = result.get_asset_materialization_events()
    md = next(e for e in mats if e.asset_key == dg.AssetKey(["core", "market_daily"])).materialization.metadata
    assert md["dagster/row_count"].value > 100 and "dagster/column_schema" in md and "preview" in md


@pytest.mark.slow
def test_checks_validate_what_the_run_wrote(resumed):
    db, _, result = resumed
    with duckdb.connect(str(db), read_only=True) as conn:
        details = dict(
            conn.execute(
                "SELECT asset, details->>'rows_validated' FROM meta.check_results "
                "WHERE run_id = ? AND check_name = 'expectations_blocking'",
                [result.run_id],
            ).fetchall()
        )
    # four new sessions, each with 7 index bars, 11 sector ETFs and 3 VX contracts; nothing new elsewhere
    assert details["raw.daily_bars"] == str(4 * 18) and details["raw.vx_futures"] == str(4 * 3)
    assert details["raw.breadth_vendor"] == str(4 * 2) and details["raw.events"] == "0"  # NYAD and NYMO


@pytest.mark.slow
def test_a_rerun_adds_no_rows_and_leaves_tables_identical(daily_db, market_template):
    before = table_digests(daily_db)
    assert run_daily(daily_db, market_template).success
    assert table_digests(daily_db) == before


@pytest.mark.slow
def test_a_blocking_check_failure_stops_everything_downstream(daily_db, market_template):
    db = daily_db
    with duckdb.connect(str(db)) as conn:  # a row no source writes: an unknown event kind
        conn.execute("INSERT INTO raw.events VALUES ('2024-01-05', 'nfp', true, 'test', now(), 'x')")
        conn.execute("DELETE FROM core.market_daily")
    result = run_daily(db, market_template, validate_all=True)  # the bad row predates this run
    assert not result.success
    with duckdb.connect(str(db), read_only=True) as conn:
        run_id = result.run_id
        failed = conn.execute(
            "SELECT asset, check_name FROM meta.check_results WHERE run_id = ? AND NOT passed", [run_id]
        ).fetchall()
        assert ("raw.events", "expectations_blocking") in failed
        # core was not rebuilt: the emptied table stays empty
        assert conn.execute("SELECT count(*) FROM core.market_daily").fetchone()[0] == 0
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert "raw/events" in materialized
    assert not {"meta/quarantine", "core/market_daily"} & materialized


def _step_retries(result: dg.ExecuteInProcessResult, step: str) -> int:
    return sum(1 for e in result.all_events if e.step_key == step and e.event_type_value == "STEP_UP_FOR_RETRY")


@pytest.mark.slow
def test_a_malformed_file_fails_its_step_at_once_naming_the_file(tmp_path, market_dir):
    (market_dir / "cboe" / "VIX_History.csv").write_bytes(b"\xff\xfe not a csv \x00\x01\n" * 3)
    result = run_daily(tmp_path / "w.duckdb", market_dir)
    assert not result.success
    failed = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert [e.step_key for e in failed] == ["raw__daily_bars"]
    chain, error = [], failed[0].event_specific_data.error
    while error is not None:
        chain.append(f"{error.cls_name}: {error.message}")
        error = error.cause or error.context
    assert any(line.startswith("SourceError") and "cboe/VIX_History.csv" in line for line in chain), chain
    assert _step_retries(result, "raw__daily_bars") == 0  # no retry, no backoff wait


@pytest.mark.slow
def test_a_transient_network_failure_retries_the_step(tmp_path, market_template, monkeypatch):
    """A live source that gave up after its own retries gets the step retried; the run then heals."""
    from assets import raw
    from vixshield.ingest.sources import SourceError

    monkeypatch.setattr(raw, "NETWORK_RETRY_WAIT", 0.0)
    real = VixShieldResource.make_source
    failures = {"events": 1}

    def flaky(self, cache_dir=None):
        source = real(self, cache_dir)
        fetch = source.fetch

        def fetch_or_drop(family, window):
            if failures.get(family, 0):
                failures[family] -= 1
                raise SourceError("Cboe: gave up after 5 attempts; last error: ConnectionError", transient=True)
            return fetch(family, window)

        source.fetch = fetch_or_drop
        return source

    monkeypatch.setattr(VixShieldResource, "make_source", flaky)
    result = run_daily(tmp_path / "w.duckdb", market_template, as_of="2023-12-15")
    assert result.success
    assert _step_retries(result, "raw__events") == 1 and _step_retries(result, "raw__daily_bars") == 0


@pytest.mark.slow
def test_as_of_replay_holds_nothing_later(tmp_path, market_template):
    db = tmp_path / "w.duckdb"
    assert run_daily(db, market_template, as_of="2023-12-15").success
    with duckdb.connect(str(db), read_only=True) as conn:
        assert conn.execute("SELECT max(date) FROM core.market_daily").fetchone()[0] == dt.date(2023, 12, 15)
        assert conn.execute("SELECT max(date) FROM raw.daily_bars").fetchone()[0] == dt.date(2023, 12, 15)
        assert conn.execute("SELECT max(available_date) FROM raw.macro_observations").fetchone()[0] <= dt.date(
            2023, 12, 15
        )


NY = ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    ("when", "runs"),
    [
        (dt.datetime(2024, 7, 3, 18, 30, tzinfo=NY), True),  # early close (13:00): runs as usual
        (dt.datetime(2024, 7, 4, 18, 30, tzinfo=NY), False),  # Independence Day
        (dt.datetime(2024, 3, 29, 18, 30, tzinfo=NY), False),  # Good Friday
        (dt.datetime(2025, 1, 9, 18, 30, tzinfo=NY), False),  # national day of mourning
        (dt.datetime(2024, 3, 28, 18, 30, tzinfo=NY), True),
    ],
)
def test_schedule_runs_on_nyse_sessions_only(when, runs):
    assert daily_after_close.cron_schedule == "30 18 * * 1-5"
    assert daily_after_close.execution_timezone == "America/New_York"
    result = daily_after_close(dg.build_schedule_context(scheduled_execution_time=when))
    assert isinstance(result, dg.RunRequest) is runs


@pytest.mark.slow
def test_dagster_cli_validates_the_code_location(tmp_path):
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path)}
    (tmp_path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    out = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-w", "workspace.yaml"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "All code locations passed validation" in out.stderr + out.stdout


@pytest.mark.slow
def test_feature_columns_carry_the_dictionary_as_comments(daily_built):
    db, _ = daily_built
    with duckdb.connect(str(db), read_only=True) as conn:
        comments = dict(
            conn.execute(
                "SELECT column_name, comment FROM duckdb_columns() "
                "WHERE schema_name = 'features' AND table_name = 'daily'"
            ).fetchall()
        )
    assert comments["yz21"].startswith("[ann. decimal] Yang-Zhang")
    assert all(comments.values())


@pytest.mark.slow
def test_latest_plan_view_is_the_last_session_in_one_row(daily_built):
    db, _ = daily_built
    with duckdb.connect(str(db), read_only=True) as conn:
        rows = conn.execute(
            "SELECT date, enter, regime_after_hysteresis, hedge_layers, actions FROM signals.latest_plan"
        ).fetchall()
        assert len(rows) == 1
        date, _, regime, hedges, actions = rows[0]
        assert date == dt.date(2024, 3, 28)
        assert regime == conn.execute("SELECT regime FROM features.regime WHERE date = ?", [date]).fetchone()[0]
        assert [h["layer"] for h in hedges] == ["L0", "L1", "L2"]
        n_actions = conn.execute("SELECT count(*) FROM signals.condor_actions WHERE date = ?", [date]).fetchone()[0]
        assert len(actions or []) == n_actions
