"""A run killed with SIGKILL leaves the warehouse as it was; the next run completes as if nothing happened."""

import signal
import subprocess
import sys
import textwrap
import time

import pytest

from tests.assets.helpers import table_digests
from tests.e2e.helpers import cli_env, kill_at_marker, start, vixshield

pytestmark = pytest.mark.slow  # runs the whole pipeline

CHILD = textwrap.dedent(
    """
    import datetime as dt, sys, time
    from pathlib import Path
    from vixshield.ingest import load as ingest
    from vixshield.store import warehouse
    from vixshield.ingest.sources.base import FetchWindow
    from vixshield.ingest.sources.files import FilesSource

    db, data_dir, marker = sys.argv[1:4]
    real = warehouse.record_rejects

    def pause_inside_the_transaction(conn, family, rejects, **kwargs):
        real(conn, family, rejects, **kwargs)  # the upsert has written; the transaction is still open
        Path(marker).write_text("writing")
        time.sleep(60)

    warehouse.record_rejects = pause_inside_the_transaction
    conn = warehouse.connect(db)
    ingest.load(conn, FilesSource(data_dir), "daily_bars", FetchWindow(None, dt.date(2200, 1, 1)), "killed")
    """
)


def test_kill_mid_write_leaves_the_warehouse_unchanged(tmp_path, market_dir):
    home = tmp_path / "home"
    assert (
        vixshield(home, "run", "--source", "files", "--data-dir", str(market_dir), "--as-of", "2023-12-01").returncode
        == 0
    )
    db = home / "warehouse.duckdb"
    before = table_digests(db)
    marker = tmp_path / "marker"
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(db), str(market_dir), str(marker)], env=cli_env(home))
    kill_at_marker(child, marker)
    assert table_digests(db) == before  # the uncommitted rows are gone, nothing else changed


@pytest.fixture(scope="module")
def reference(cli_built, market_template) -> tuple:
    """One uninterrupted run to compare against (the session's), and its input folder."""
    return market_template, table_digests(cli_built.home / "warehouse.duckdb", stamps=False)


@pytest.mark.parametrize("kill_after", [2.0, 3.5, 5.0])  # a run takes ~6 s: ingest, checks, core/features (about)
def test_a_run_killed_at_any_point_then_rerun_equals_an_uninterrupted_run(tmp_path, reference, kill_after):
    market_dir, want = reference
    home = tmp_path / "home"
    proc = start(home, "run", "--source", "files", "--data-dir", str(market_dir))
    time.sleep(kill_after)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    if (home / "warehouse.duckdb").exists():
        table_digests(home / "warehouse.duckdb")  # opens cleanly
    rerun = vixshield(home, "run", "--source", "files", "--data-dir", str(market_dir))
    assert rerun.returncode == 0, rerun.stderr
    assert table_digests(home / "warehouse.duckdb", stamps=False) == want
