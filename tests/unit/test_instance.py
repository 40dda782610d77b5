"""The one Dagster instance lives under the VixShield home, whatever DAGSTER_HOME says."""

import contextlib
import sqlite3
from pathlib import Path

from pipelines import instance


def test_the_instance_folder_is_derived_from_the_home_and_keeps_a_users_dagster_yaml(tmp_path, monkeypatch):
    monkeypatch.setenv("VIXSHIELD_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "elsewhere"))
    path = instance.dagster_home()
    assert path == (tmp_path / "home" / "dagster").resolve() and path.is_absolute()
    assert (path / "dagster.yaml").read_text() == instance.DAGSTER_YAML
    (path / "dagster.yaml").write_text("telemetry:\n  enabled: false\nrun_retries:\n  enabled: true\n")
    assert instance.dagster_home(tmp_path / "home") == path
    assert "run_retries" in (path / "dagster.yaml").read_text()  # never overwritten
    assert not (tmp_path / "elsewhere").exists()


def test_the_default_home_is_data_relative_to_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.delenv("VIXSHIELD_HOME", raising=False)
    monkeypatch.chdir(tmp_path)
    assert instance.dagster_home() == tmp_path.resolve() / "data" / "dagster"


def test_runs_recorded_in_the_instance_are_read_back(tmp_path: Path):
    with instance.instance_for(tmp_path) as inst:
        assert inst.get_runs() == []
        assert Path(inst.root_directory) == (tmp_path / "dagster").resolve()


def journal_mode(path: Path) -> str:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return conn.execute("PRAGMA journal_mode").fetchone()[0]


def test_a_recorded_run_writes_wal_files_that_a_fresh_instance_reads(tmp_path: Path):
    """While a run records, the instance's SQLite files are in WAL mode and stay open (commits without
    a checkpoint each); afterwards every file is checkpointed and closed, and another process's view
    (a fresh instance, as the UI opens) has the run and all its events."""
    import dagster as dg

    @dg.asset
    def one() -> int:
        return 1

    with instance.recording(tmp_path) as inst:
        result = dg.materialize([one], instance=inst)
        files = sorted((tmp_path / "dagster").rglob("*.db"))
        assert files and all(journal_mode(f) == "wal" for f in files)
        written = {f.name for f in (tmp_path / "dagster" / "history").rglob("*.db")}  # runs, index, the run's log
        held = {p.name.removesuffix("-wal") for p in (tmp_path / "dagster").rglob("*.db-wal")}
        assert len(written) == 3 and written <= held  # held open, so not checkpointed after each event
        stored = [e.dagster_event_type for e in inst.all_logs(result.run_id) if e.is_dagster_event]
    assert not list((tmp_path / "dagster").rglob("*.db-wal"))  # checkpointed into the files on the last close
    with instance.instance_for(tmp_path) as fresh:
        assert fresh.get_run_by_id(result.run_id).is_success
        assert [e.dagster_event_type for e in fresh.all_logs(result.run_id) if e.is_dagster_event] == stored
        assert dg.DagsterEventType.ASSET_MATERIALIZATION in stored
        assert fresh.get_latest_materialization_event(dg.AssetKey("one")).run_id == result.run_id


def test_a_recorded_run_reuses_one_engine_per_event_log_file(tmp_path: Path):
    """Dagster's SQLite event log builds an engine per event (two for an asset event, more for a
    check's); the recording instance keeps one per file. Once a first run has created the files, a
    second run's ~20 events go through one engine on its own log and one on the index, and read back
    in full from a fresh instance."""
    import dagster as dg
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    @dg.asset(check_specs=[dg.AssetCheckSpec("positive", asset="two")])
    def two():
        yield dg.Output(2)
        yield dg.AssetCheckResult(passed=True)

    engines: dict[str, set[int]] = {}

    def on_connect(conn) -> None:  # every Engine.connect(): which engine, which file
        path = Path(conn.engine.url.database or "")
        if path.parent.name == "runs":  # history/runs/<run_id>.db and the index
            engines.setdefault(path.name, set()).add(id(conn.engine))

    with instance.recording(tmp_path) as inst:
        dg.materialize([two], instance=inst)
        event.listen(Engine, "engine_connect", on_connect)
        try:
            result = dg.materialize([two], instance=inst)
        finally:
            event.remove(Engine, "engine_connect", on_connect)
        stored = [e.dagster_event_type for e in inst.all_logs(result.run_id) if e.is_dagster_event]
    assert len(stored) > 10 and dg.DagsterEventType.ASSET_CHECK_EVALUATION in stored
    assert {name: len(ids) for name, ids in engines.items()} == {f"{result.run_id}.db": 1, "index.db": 1}
    with instance.instance_for(tmp_path) as fresh:
        assert [e.dagster_event_type for e in fresh.all_logs(result.run_id) if e.is_dagster_event] == stored
        assert fresh.get_latest_materialization_event(dg.AssetKey("two")).run_id == result.run_id
