"""`make ui`'s command on the home's instance: it shows the CLI's run, and a run launched through it
(as the UI's Launch button does, over GraphQL) records itself in meta.runs and in `vixshield doctor`."""

import os
import signal
import socket
import subprocess
import sys
import time

import duckdb
import pytest

from pipelines.instance import dagster_home
from tests.conftest import REPO
from tests.e2e.helpers import vixshield

pytestmark = pytest.mark.slow  # starts the webserver and daemon, runs the pipeline twice


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
    ui = subprocess.Popen(
        [os.path.join(os.path.dirname(sys.executable), "dg"), "dev", "-w", "workspace.yaml",
         "--host", "127.0.0.1", "--port", str(port)],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
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
        deadline = time.monotonic() + 400
        while (status := client.get_run_status(run_id).value) not in ("SUCCESS", "FAILURE", "CANCELED"):
            assert time.monotonic() < deadline, f"the UI-launched run is still {status}"
            time.sleep(3)
        assert status == "SUCCESS"
    finally:
        os.killpg(ui.pid, signal.SIGTERM)
        log, _ = ui.communicate(timeout=60)
    assert "SupersessionWarning" not in log and "dg dev" not in log.split("Launching Dagster services")[0]
    assert set(REPO.glob(".tmp_dagster_home_*")) == before
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as conn:
        rows = conn.execute("SELECT run_id, status, source, message FROM meta.runs ORDER BY started_at").fetchall()
    assert [(r[0], r[1], r[2]) for r in rows] == [(cli_run, "success", "files"), (run_id, "success", "files")]
    assert "rows unchanged" in rows[1][3] and "book resumed" in rows[1][3]
    doctor = vixshield(home, "doctor", "--offline")
    assert f"last run {run_id[:8]} success" in doctor.stdout
