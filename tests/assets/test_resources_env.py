"""The code location's resources read the environment when a run launches, not when the definitions
are imported: VIXSHIELD_SOURCE / _DATA_DIR / _CONFIG as EnvVars, VIXSHIELD_HOME through the run's
settings (the warehouse the run writes and records itself in, and where replays go)."""

from pathlib import Path

import dagster as dg
import duckdb

from assets.replays import ReplayResource
from assets.resources import VixShieldResource, default_resources
from assets.runlog import RecordedWarehouse


def test_env_vars_are_resolved_at_launch_not_at_import(tmp_path, monkeypatch):
    first, second = tmp_path / "first", tmp_path / "second"
    monkeypatch.setenv("VIXSHIELD_HOME", str(first))
    monkeypatch.setenv("VIXSHIELD_SOURCE", "sample")
    monkeypatch.setenv("VIXSHIELD_DATA_DIR", "/first")
    monkeypatch.delenv("VIXSHIELD_CONFIG", raising=False)
    resources = default_resources()
    assert isinstance(resources["vixshield"].source, dg.EnvVar)  # shown by name in the UI
    assert resources["vixshield"].config_file is None  # unset: the default
    assert resources["duckdb"].database == "" and resources["replays"].root == ""  # nothing read yet
    seen = {}

    @dg.asset
    def probe(duckdb: RecordedWarehouse, vixshield: VixShieldResource, replays: ReplayResource) -> None:
        seen.update(
            source=vixshield.source,
            data_dir=vixshield.data_dir,
            database=duckdb.database,
            replay=replays.home("2020-03-16", vixshield.settings().home),
        )
        with duckdb.get_connection() as conn:  # the resource hands out the launch-time warehouse
            conn.execute("CREATE TABLE probe AS SELECT 1 AS x")

    # changed after the definitions were built
    monkeypatch.setenv("VIXSHIELD_HOME", str(second))
    monkeypatch.setenv("VIXSHIELD_SOURCE", "files")
    monkeypatch.setenv("VIXSHIELD_DATA_DIR", "/second")
    result = dg.materialize([probe], resources=resources)
    assert result.success
    assert seen == {
        "source": "files",
        "data_dir": "/second",
        "database": str(Path(second) / "warehouse.duckdb"),
        "replay": second.resolve() / "replays" / "2020-03-16",
    }
    assert not first.exists()
    with duckdb.connect(str(second / "warehouse.duckdb"), read_only=True) as conn:
        assert conn.execute("SELECT x FROM probe").fetchall() == [(1,)]
        # the run recorded itself in the launch-time home too (assets/runlog.py)
        assert conn.execute("SELECT run_id, status FROM meta.runs").fetchall() == [(result.run_id, "success")]
