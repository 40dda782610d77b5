"""`make ui`'s command on the home's instance: it shows the CLI's run, a run launched through it (as
the UI's Launch button does, over GraphQL) records itself in meta.runs and in `vixshield doctor`, and
a replay launched from it (a partition of the replay job; with the real bundle, 2020-03-16) equals
`vixshield run --as-of` that session."""

import os
import signal
import socket
import subprocess
import sys
import time

import duckdb
import pytest

from pipelines.instance import dagster_home
from tests.conftest import REPO, SHARED_MARKET
from tests.e2e.helpers import signals_digest, vixshield

pytestmark = pytest.mark.slow  # starts the webserver and daemon, runs the pipeline twice


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(client, run_id: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while (status := client.get_run_status(run_id).value) not in ("SUCCESS", "FAILURE", "CANCELED"):
        assert time.monotonic() < deadline, f"the UI-launched run {run_id} is still {status}"
        time.sleep(3)
    return status


def test_the_ui_shows_cli_runs_and_its_own_runs_record_themselves(tmp_path, market_template):
    home = tmp_path / "home"
    cli = vixshield(home, "run", "--source", "files", "--data-dir", str(market_template))
    assert cli.returncode == 0, cli.stderr
    port = free_port()
    env = {
        **os.environ,
        "DAGSTER_HOME": str(dagster_home(home)),
        "VIXSHIELD_HOME": str(home),
        "VIXSHIELD_SOURCE": "files",
        "VIXSHIELD_DATA_DIR": str(market_template),
    }
    env.pop("VIXSHIELD_CONFIG", None)
    before = set(REPO.glob(".tmp_dagster_home_*"))
    log_file = tmp_path / "dg-dev.log"  # a file, not a pipe: the runs' event logs would fill a pipe and stall it
    with log_file.open("w") as out:
        ui = subprocess.Popen(
            [os.path.join(os.path.dirname(sys.executable), "dg"), "dev", "-w", "workspace.yaml",
             "--host", "127.0.0.1", "--port", str(port)],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        from dagster_graphql import DagsterGraphQLClient, DagsterGraphQLClientError

        client = DagsterGraphQLClient("127.0.0.1", port_number=port)
        deadline = time.monotonic() + 180
        while True:  # the webserver and the code location take a while to come up
            try:
                runs = client._execute("{ runsOrError { ... on Runs { results { runId status } } } }")
                break
            except (DagsterGraphQLClientError, Exception):
                assert time.monotonic() < deadline and ui.poll() is None, "dg dev did not come up"
                time.sleep(2)
        with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as conn:
            (cli_run,) = conn.execute("SELECT run_id FROM meta.runs").fetchone()
        assert {"runId": cli_run, "status": "SUCCESS"} in runs["runsOrError"]["results"]

        run_id = client.submit_job_execution("daily", repository_location_name="vixshield")
        assert wait_for(client, run_id, 400) == "SUCCESS"
        # a replay, as the partitions view launches one; the data folder set in the launchpad's config
        session, data = (
            ("2020-03-16", SHARED_MARKET)
            if (SHARED_MARKET / "MANIFEST.md").exists()
            else ("2024-03-22", market_template)
        )
        replay_id = client.submit_job_execution(
            "replay",
            repository_location_name="vixshield",
            run_config={"resources": {"vixshield": {"config": {"source": "files", "data_dir": str(data)}}}},
            tags={"dagster/partition": session},
        )
        assert wait_for(client, replay_id, 900) == "SUCCESS"
    finally:
        os.killpg(ui.pid, signal.SIGTERM)
        ui.wait(timeout=60)
    log = log_file.read_text()
    assert "SupersessionWarning" not in log and "dg dev" not in log.split("Launching Dagster services")[0]
    assert set(REPO.glob(".tmp_dagster_home_*")) == before
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as conn:
        rows = conn.execute("SELECT run_id, status, source, message FROM meta.runs ORDER BY started_at").fetchall()
    assert [(r[0], r[1], r[2]) for r in rows] == [(cli_run, "success", "files"), (run_id, "success", "files")]
    assert "rows unchanged" in rows[1][3] and "book resumed" in rows[1][3]
    doctor = vixshield(home, "doctor", "--offline")
    assert f"last run {run_id[:8]} success" in doctor.stdout
    as_of = vixshield(tmp_path / "cli", "run", "--source", "files", "--data-dir", str(data), "--as-of", session)
    assert as_of.returncode == 0, as_of.stderr
    replayed = home / "replays" / session / "warehouse.duckdb"  # the replay's own home, beside the daily one
    assert signals_digest(replayed) == signals_digest(tmp_path / "cli" / "warehouse.duckdb")
    with duckdb.connect(str(replayed), read_only=True) as conn:
        assert conn.execute("SELECT max(date)::VARCHAR FROM signals.condor_plan").fetchone()[0] == session
