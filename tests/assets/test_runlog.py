"""Every run records itself in meta.runs and sends its alerts, whoever launched it (here: in process,
the way the schedule's and the UI's runs execute too)."""

import json
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from assets.resources import make_resources
from pipelines.definitions import defs
from tests.alert_receiver import Receiver, dead_url
from vixshield.config import load_settings

pytestmark = pytest.mark.slow  # whole-pipeline runs


def run_with_alerts(db: Path, data_dir: Path, urls: list[str], as_of: str | None = None, validate_all=False):
    settings = load_settings(None)
    settings = type(settings)(**{**settings.__dict__, "alerts": type(settings.alerts)(urls=tuple(urls))})
    resources = make_resources(
        db, source="files", data_dir=data_dir, as_of=as_of, settings=settings, validate_all=validate_all
    )
    return defs.resolve_job_def("daily").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), resources=resources, raise_on_error=False
    )


def runs(db: Path) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as conn:
        return conn.execute(
            "SELECT run_id, status, as_of::VARCHAR, config_hash, changes, message, finished_at IS NOT NULL "
            "FROM meta.runs ORDER BY started_at"
        ).fetchall()


def test_each_run_writes_its_row_with_changes_book_and_checks(resumed):
    db, first, second = resumed
    (r1, s1, a1, h1, _, m1, f1), (r2, s2, a2, h2, c2, m2, f2) = runs(db)
    assert (r1, s1, a1, f1) == (first.run_id, "success", "2024-03-22", True)
    assert (r2, s2, a2, f2) == (second.run_id, "success", "2024-03-28", True)
    assert h1 == h2 and len(h1) == 16  # the settings digest
    assert "book replayed all history" in m1 and "book resumed" in m2
    changes = json.loads(c2)
    assert changes["core.market_daily"]["rows_added"] == 4  # 2024-03-25 .. 2024-03-28
    assert changes["signals.condor_plan"]["rows_added"] == 4
    assert changes["raw.daily_bars"]["inserted"] > 0
    assert "core.market_daily +4" in m2 and "checks " in m2 and "0 failed" in m2
    assert "alerts" not in m2  # no targets configured


def test_a_failed_run_records_the_step_and_alerts_with_the_reason(tmp_path, market_dir):
    (market_dir / "cboe" / "VIX_History.csv").write_bytes(b"\xff\xfe not a csv \x00\x01\n" * 3)
    with Receiver() as rx:
        result = run_with_alerts(tmp_path / "w.duckdb", market_dir, [rx.url])
    assert not result.success
    ((run_id, status, _, _, _, message, finished),) = runs(tmp_path / "w.duckdb")
    assert (run_id, status, finished) == (result.run_id, "failure", True)
    assert "step raw__daily_bars failed" in message and message.endswith("alerts 1 sent")
    (msg,) = rx.messages
    assert msg["title"] == "VixShield run FAILED"
    body = msg["message"].splitlines()
    assert body[0].startswith("Step raw__daily_bars: ") and "cboe/VIX_History.csv" in msg["message"]
    assert body[-1] == f"Nothing published; readers keep the last snapshot. Run {run_id[:8]}, as of None."


def test_a_blocked_publish_alerts_with_the_check_and_a_dead_target_does_not_fail_the_run(daily_db, market_template):
    with duckdb.connect(str(daily_db)) as conn:  # a row no source writes: an unknown event kind
        conn.execute("INSERT INTO raw.events VALUES ('2024-01-05', 'nfp', true, 'test', now(), 'x')")
    dead = dead_url()
    with Receiver() as rx:
        result = run_with_alerts(daily_db, market_template, [dead, rx.url], validate_all=True)
    assert not result.success
    *_, (run_id, status, _, _, _, message, _) = runs(daily_db)
    assert (run_id, status) == (result.run_id, "failure")
    assert "blocked by raw.events.expectations_blocking" in message
    assert f"alerts 1 sent, not delivered to {dead[:-1]}" in message  # recorded, and the run still ended
    (msg,) = rx.messages
    assert msg["title"] == "VixShield: blocking check stopped publishing"
    assert msg["message"].startswith("raw.events expectations_blocking: ")
    assert "nfp" in msg["message"] or "kind" in msg["message"]


def test_a_successful_run_announces_the_fired_signals_of_its_last_session(tmp_path, daily_built, market_template):
    db = tmp_path / "w.duckdb"
    db.write_bytes(daily_built[0].read_bytes())
    from vixshield.serve import alerts
    from vixshield.strategy import signals

    with duckdb.connect(str(db), read_only=True) as conn:
        expected = alerts.signal_fired(signals.plan_for(conn))
    with Receiver() as rx:
        result = run_with_alerts(db, market_template, [rx.url])
    assert result.success
    if expected is None:  # the fixture's last session is quiet: nothing is sent, nothing recorded
        assert rx.messages == [] and "alerts" not in runs(db)[-1][5]
    else:
        assert [(m["title"], m["message"]) for m in rx.messages] == [(expected.title, expected.body)]
