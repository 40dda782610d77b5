"""`vixshield doctor`: each check reports what is wrong and what to do, never a secret, never hangs."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import socket
import time
from pathlib import Path

import pytest

from pipelines import doctor
from tests.fakehttp import FakeServer
from vixshield import METHODOLOGY_VERSION
from vixshield.config import LiveSettings, Settings
from vixshield.ingest.sources import live  # noqa: F401  (imported here so its import time is not counted as probing)
from vixshield.serve import publish
from vixshield.store import warehouse

SENTINEL = "SENTINELKEY123"


def by_name(checks: list[doctor.DoctorCheck]) -> dict[str, doctor.DoctorCheck]:
    return {c.name: c for c in checks}


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def build_home(home: Path, status: str = "success") -> None:
    """A minimal warehouse with every expected schema, a finished run, and its published snapshot."""
    db = home / "warehouse.duckdb"
    with warehouse.connect(db) as conn:
        warehouse.init_schema(conn)
        conn.execute("CREATE SCHEMA IF NOT EXISTS features")
        conn.execute("CREATE TABLE features.regime (date DATE PRIMARY KEY, regime VARCHAR)")
        conn.execute("INSERT INTO features.regime VALUES ('2024-03-27', 'CALM'), ('2024-03-28', 'NORMAL')")
        conn.execute(
            "INSERT INTO meta.runs (run_id, started_at, finished_at, status, source, as_of) "
            "VALUES ('abcdef12-run', '2024-03-28 22:30', '2024-03-28 22:31', ?, 'files', '2024-03-28')",
            [status],
        )
    publish.publish(db, home, "abcdef12-run", "2024-03-28", METHODOLOGY_VERSION, ["features.regime"])


@pytest.fixture(autouse=True)
def _no_key(monkeypatch):
    monkeypatch.delenv("FRED_API_KEY", raising=False)


def test_empty_home_fails_on_the_warehouse_with_a_hint(tmp_path):
    checks = by_name(doctor.run_doctor(None, tmp_path / "empty", check_network=False))
    assert checks["warehouse"].level == "fail" and not checks["warehouse"].ok
    assert "vixshield run" in checks["warehouse"].detail
    assert checks["snapshot"].level == "warn" and "vixshield run" in checks["snapshot"].detail
    assert "manifest" not in checks
    assert checks["python"].ok and checks["packages"].ok and checks["config"].ok
    assert "1 fail" in doctor.format_report(list(checks.values()))


def test_built_and_published_home_is_all_ok(tmp_path):
    build_home(tmp_path)
    checks = doctor.run_doctor(None, tmp_path, check_network=False)
    assert [c.name for c in checks if c.level != "ok"] == []
    named = by_name(checks)
    assert "last run abcdef12 success" in named["warehouse"].detail
    assert "as of 2024-03-28" in named["snapshot"].detail and "published 0.0 h ago" in named["snapshot"].detail
    assert "2 files match" in named["manifest"].detail
    assert Settings(home=tmp_path).digest() in named["config"].detail
    report = doctor.format_report(checks)
    assert report.endswith(f"{len(checks)} ok, 0 warn, 0 fail")


def test_a_warehouse_without_features_fails(tmp_path):
    with warehouse.connect(tmp_path / "warehouse.duckdb") as conn:
        warehouse.init_schema(conn)  # raw, meta, core; features only come from a run
    check = by_name(doctor.run_doctor(None, tmp_path, check_network=False))["warehouse"]
    assert check.level == "fail" and "lacks schemas ['features']" in check.detail


def test_a_failed_last_run_is_a_warning(tmp_path):
    build_home(tmp_path, status="failure")
    check = by_name(doctor.run_doctor(None, tmp_path, check_network=False))["warehouse"]
    assert check.level == "warn" and "failure" in check.detail


def test_a_tampered_published_file_fails_the_manifest_check(tmp_path):
    build_home(tmp_path)
    parquet = publish.parquet_path(tmp_path, "features.regime")
    parquet.write_bytes(parquet.read_bytes() + b"\0")
    check = by_name(doctor.run_doctor(None, tmp_path, check_network=False))["manifest"]
    assert check.level == "fail"
    assert "parquet/features.regime.parquet: checksum differs" in check.detail


def test_an_old_snapshot_is_stale(tmp_path):
    build_home(tmp_path)
    path = publish.manifest_path(tmp_path)
    manifest = json.loads(path.read_text())
    manifest["published_at"] = (dt.datetime.now(dt.UTC) - dt.timedelta(days=9)).isoformat()
    path.write_text(json.dumps(manifest))
    checks = by_name(doctor.run_doctor(None, tmp_path, check_network=False))
    assert checks["snapshot"].level == "warn" and "stale" in checks["snapshot"].detail
    assert checks["manifest"].level == "ok"  # the manifest is not among the files it checksums


def test_a_broken_config_file_fails_the_config_check(tmp_path):
    config = tmp_path / "bad.yaml"
    config.write_text("no_such_setting: 1\n")
    check = by_name(doctor.run_doctor(None, tmp_path, check_network=False, config_file=config))["config"]
    assert check.level == "fail" and "no_such_setting" in check.detail


def test_fred_key_is_reported_set_and_never_shown(tmp_path, monkeypatch):
    monkeypatch.setenv("FRED_API_KEY", SENTINEL)
    build_home(tmp_path)
    checks = doctor.run_doctor(None, tmp_path, check_network=False)
    assert by_name(checks)["FRED_API_KEY"].detail == "set"
    assert SENTINEL not in doctor.format_report(checks)
    assert all(SENTINEL not in repr(c) for c in checks)


def test_fred_key_not_set(tmp_path):
    assert by_name(doctor.run_doctor(None, tmp_path, check_network=False))["FRED_API_KEY"].detail.startswith("not set")


def test_network_reachable_and_refused_hosts(tmp_path):
    closed = closed_port_url()
    with FakeServer() as server:
        live = LiveSettings(
            yahoo_url=server.url, fred_api_url=server.url + "/fred", fredgraph_url=closed + "/graph", cboe_url=closed
        )
        settings = dataclasses.replace(Settings(home=tmp_path), live=live)
        started = time.monotonic()
        checks = by_name(doctor.run_doctor(settings, tmp_path, timeout=1.0))
        elapsed = time.monotonic() - started
    assert elapsed < 1.0 + 0.5
    port = server.url.rsplit(":", 1)[1]
    assert checks["net yahoo"].level == "ok" and f"127.0.0.1:{port} reachable" in checks["net yahoo"].detail
    assert checks["net fred api"].level == "ok"
    for name in ("net fredgraph", "net cboe"):
        assert checks[name].level == "warn" and "unreachable" in checks[name].detail
        assert "ConnectionRefusedError" in checks[name].detail


def test_yahoo_default_host_is_probed_when_no_url_is_set(tmp_path, monkeypatch):
    probed: list[tuple[str, int]] = []

    def fake_connect(address, timeout):
        probed.append(address)
        raise OSError("no network in tests")

    monkeypatch.setattr(doctor.socket, "create_connection", fake_connect)
    checks = by_name(doctor.run_doctor(Settings(home=tmp_path), tmp_path, timeout=0.5))
    assert ("query2.finance.yahoo.com", 443) in probed
    assert "query2.finance.yahoo.com:443 unreachable" in checks["net yahoo"].detail


def test_a_probe_that_hangs_is_cut_off_at_the_timeout(tmp_path, monkeypatch):
    """A DNS lookup can hang past any socket timeout; the doctor must not wait for it."""

    def hang(address, timeout):
        time.sleep(5)
        raise TimeoutError("stalled")  # what a hung lookup ends in; the doctor has long returned

    monkeypatch.setattr(doctor.socket, "create_connection", hang)
    started = time.monotonic()
    checks = doctor.run_doctor(Settings(home=tmp_path), tmp_path, timeout=0.3)
    assert time.monotonic() - started < 0.3 + 0.5
    net = [c for c in checks if c.name.startswith("net ")]
    assert len(net) == 4 and all(c.level == "warn" and "no answer within 0.3s" in c.detail for c in net)
