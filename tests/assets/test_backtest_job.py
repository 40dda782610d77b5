"""The Dagster backtest job on a warehouse the daily job built: tables, checks, charts as metadata, and
one engine (the backtest's `full` is the daily book, session for session and trade for trade)."""

import dagster as dg
import duckdb
import pandas as pd
import pytest

from assets.resources import VixShieldResource, WarehouseResource
from pipelines.definitions import defs
from vixshield.backtest import engine as backtest
from vixshield.backtest import job as backtest_job
from vixshield.config import Settings

pytestmark = pytest.mark.slow  # runs the whole pipeline


@pytest.fixture(scope="module")
def built(tmp_path_factory, daily_built):
    """The backtest job on a copy of the warehouse the daily job built."""
    db = tmp_path_factory.mktemp("bt") / "home" / "warehouse.duckdb"
    db.parent.mkdir()
    db.write_bytes(daily_built[0].read_bytes())
    result = defs.resolve_job_def("backtest").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(),
        resources={"duckdb": WarehouseResource(database=str(db)), "vixshield": VixShieldResource(source="files")},
        raise_on_error=False,
    )
    return db, result


def test_the_daily_job_leaves_the_backtest_alone():
    daily = {k.to_user_string() for k in defs.resolve_job_def("daily").asset_layer.executable_asset_keys}
    assert not any(k.startswith("backtest/") for k in daily) and "signals/book_daily" in daily


def test_backtest_job_writes_every_table_and_passes_its_accounting_check(built):
    db, result = built
    assert result.success
    with duckdb.connect(str(db), read_only=True) as conn:
        strategies = {s for (s,) in conn.execute("SELECT DISTINCT strategy FROM backtest.metrics").fetchall()}
        assert strategies == set(backtest.STRATEGIES)
        assert conn.execute("SELECT count(DISTINCT variant) FROM backtest.ablation").fetchone()[0] == 6
        assert conn.execute("SELECT count(*) FROM backtest.sweep").fetchone()[0] == 50
        check = conn.execute(
            "SELECT passed, severity FROM meta.check_results WHERE check_name = 'backtest_accounting'"
        ).fetchall()
        assert check == [(True, "ERROR")]
    mats = {e.asset_key.to_user_string(): e.materialization.metadata for e in result.get_asset_materialization_events()}
    charts = mats["backtest/metrics"]["charts"].value
    assert charts.count("data:image/png;base64,") == 5 and "report" in mats["backtest/metrics"]
    assert "verdicts" in mats["backtest/ablation"]


def test_full_is_the_daily_book_session_for_session(built):
    db, _ = built
    with duckdb.connect(str(db), read_only=True) as conn:
        daily = conn.execute("SELECT date, nav FROM signals.book_daily ORDER BY date").df()
        run_id = conn.execute(
            "SELECT run_id FROM backtest.runs WHERE strategy = 'cndr' ORDER BY started_at DESC LIMIT 1"
        ).fetchone()[0]
        bt = conn.execute(
            "SELECT date, nav FROM backtest.equity WHERE run_id = ? AND strategy = 'full' ORDER BY date", [run_id]
        ).df()
        pd.testing.assert_frame_equal(daily, bt)
        # every condor the daily signals opened and closed is a backtest trade with the same exit: the
        # session its close order filled on (action close) or it settled (expire)
        acts = conn.execute(
            "SELECT position_id, date AS exit_date FROM signals.condor_actions WHERE action IN ('close', 'expire') "
            "ORDER BY position_id"
        ).df()
        trades = conn.execute(
            "SELECT position_id, exit_date FROM backtest.trades WHERE run_id = ? AND strategy = 'full' "
            "AND sleeve = 'condor' AND status = 'closed' ORDER BY position_id",
            [run_id],
        ).df()
        pd.testing.assert_frame_equal(acts, trades)


def test_a_backtest_cut_at_t_equals_the_full_run_up_to_t(built):
    """No session is marked with data from after it: the run on features cut at t is the full run's prefix."""
    db, _ = built
    with duckdb.connect(str(db), read_only=True) as conn:
        inputs = backtest_job.load_inputs(conn)
    base = Settings().book
    whole = backtest.run_strategy(inputs, "full", base)
    for t in ("2023-11-15", "2024-01-19", "2024-02-28"):
        cut = backtest.Inputs(inputs.features[inputs.features.index <= t], inputs.regimes, inputs.vx, inputs.opens)
        part = backtest.run_strategy(cut, "full", base)
        pd.testing.assert_frame_equal(part.equity, whole.equity[whole.equity.index <= t])
        entered = whole.fills[whole.fills["date"] <= pd.Timestamp(t)].reset_index(drop=True)
        pd.testing.assert_frame_equal(part.fills, entered, check_dtype=False)  # an empty ledger has no str dtype
    assert len(entered) >= 4  # the last cut holds opened and closed condors
