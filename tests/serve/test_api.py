"""`vixshield serve`: every endpoint over the published snapshot, clear 4xx errors, no SQL and no writes,
and uninterrupted service while a run publishes a new snapshot."""

import csv
import io
import json
import shutil
import threading
import time
import urllib.request

import duckdb
import pytest

from tests.serve.helpers import get, get_json, running
from vixshield import METHODOLOGY_VERSION
from vixshield.serve import publish, tickets

pytestmark = pytest.mark.slow


@pytest.fixture
def home(tmp_path, built):
    """A copy without the working warehouse: the server must need only published/."""
    h = tmp_path / "home"
    shutil.copytree(built.home / "published", h / "published")
    return h


def test_every_endpoint_answers_from_the_snapshot(home, built):
    with duckdb.connect(str(built.home / "warehouse.duckdb"), read_only=True) as conn:
        last = conn.execute("SELECT max(date) FROM signals.condor_plan").fetchone()[0]
        first = conn.execute("SELECT min(date) FROM signals.condor_plan").fetchone()[0]
        opened = conn.execute("SELECT max(date) FROM signals.tickets WHERE kind = 'open'").fetchone()[0]
        n_regime = conn.execute("SELECT count(*) FROM features.regime").fetchone()[0]
    with running(home) as url:
        status, ctype, page = get(url + "/")
        assert status == 200 and ctype.startswith("text/html") and b'id="plan"' in page
        status, health = get_json(url + "/health")
        assert status == 200 and health["status"] == "ok" and health["as_of"] == str(last)
        assert 0 <= health["age_seconds"] < 86400 and health["run_id"]
        assert set(get_json(url + "/api")[1]["endpoints"]) >= {"/health", "/api/plan/latest"}

        status, plan = get_json(url + "/api/plan/latest")
        assert status == 200 and plan["date"] == str(last)
        assert {"regime", "condor_plan", "actions", "hedge_layers", "book"} <= set(plan)
        symbols = [leg["occ_symbol"] for leg in plan["condor_plan"]["legs"]]
        assert len(symbols) == 4 and all(s.startswith("SPXW  ") and len(s) == 21 for s in symbols)
        assert all(h["occ_symbol"].startswith("VIX   ") for h in plan["hedge_layers"])
        status, dated = get_json(url + f"/api/plan/{first}")
        assert status == 200 and dated["date"] == str(first) and dated["condor_plan"]["date"] == str(first)

        status, t = get_json(url + f"/api/tickets?date={opened}")
        assert status == 200 and t["date"] == str(opened) and "open" in {x["kind"] for x in t["tickets"]}
        legs = [leg["occ_symbol"] for x in t["tickets"] for leg in x["legs"]]
        status, ctype, body = get(url + f"/api/tickets?date={opened}&format=csv")
        assert status == 200 and ctype.startswith("text/csv")
        assert [r["occ_symbol"] for r in csv.DictReader(io.StringIO(body.decode()))] == legs
        status, _, body = get(url + f"/api/tickets?date={opened}&format=ib")
        assert body.decode().splitlines()[0] == ",".join(tickets.IB_COLUMNS) and len(
            body.decode().splitlines()
        ) == 1 + len(legs)

        status, hedge = get_json(url + "/api/hedge")
        assert status == 200 and [h["layer"] for h in hedge["layers"]] == ["L0", "L1", "L2"]
        assert all(h["occ_symbol"].startswith("VIX   ") for h in hedge["layers"])

        status, book = get_json(url + f"/api/book?from={first}&to={first}")
        assert status == 200 and book["total"] == 1 and book["rows"][0]["date"] == str(first)
        status, regime = get_json(url + "/api/regime?limit=10&offset=5")
        assert status == 200 and regime["total"] == n_regime and len(regime["rows"]) == 10
        assert regime["offset"] == 5 and regime["next_offset"] == 15
        status, tail = get_json(url + f"/api/regime?limit=10&offset={n_regime - 3}")
        assert len(tail["rows"]) == 3 and tail["next_offset"] is None

        status, listed = get_json(url + "/api/tables")
        served = {"signals.tickets", "signals.condor_legs", "backtest.metrics", "research.verdict", "features.daily"}
        assert served <= set(listed["tables"])
        status, rows = get_json(url + f"/api/tables/signals.condor_legs?from={last}&to={last}&limit=4")
        assert status == 200 and len(rows["rows"]) == 4 and {r["date"] for r in rows["rows"]} == {str(last)}
        status, metrics = get_json(url + "/api/tables/backtest.metrics")
        assert status == 200 and metrics["total"] == 0  # the daily job does not run the backtest


@pytest.mark.parametrize(
    ("path", "status", "says"),
    [
        ("/api/plan/2024-02-30", 400, "not a date"),
        ("/api/plan/1999-01-04", 404, "no plan for 1999-01-04"),
        ("/api/tickets?date=yesterday", 400, "not a date"),
        ("/api/tickets?format=xlsx", 400, "format"),
        ("/api/tickets?date=2001-01-02", 404, "no signals"),
        ("/api/book?limit=0", 400, "out of range"),
        ("/api/book?limit=ten", 400, "not an integer"),
        ("/api/book?from=2024-03-01&to=2024-01-01", 400, "after"),
        ("/api/regime?sql=select", 400, "unknown parameter"),
        ("/api/tables/meta.runs", 404, "no published table"),
        ("/api/tables/signals.condor_plan;DROP TABLE signals.condor_plan", 404, "no published table"),
        ("/api/tables/signals.instruments?from=2024-01-01", 400, "no date column"),
        ("/api/query", 404, "no such endpoint"),
    ],
)
def test_bad_parameters_get_a_clear_json_4xx(home, path, status, says):
    with running(home) as url:
        got, body = get_json(url + path.replace(" ", "%20"))
    assert got == status and says in body["error"], body


def test_the_api_is_read_only(home):
    before = publish.sha256_file(publish.snapshot_path(home))
    with running(home) as url:
        for method in ("POST", "PUT", "DELETE"):
            req = urllib.request.Request(url + "/api/plan/latest", method=method, data=b"{}")
            with pytest.raises(urllib.error.HTTPError) as err:
                urllib.request.urlopen(req, timeout=10)
            assert err.value.code == 405 and "read-only" in json.loads(err.value.read())["error"]
    assert publish.sha256_file(publish.snapshot_path(home)) == before


def test_serves_the_old_snapshot_while_a_run_publishes_a_new_one(tmp_path, built):
    home = shutil.copytree(built.home, tmp_path / "home")
    db = home / "warehouse.duckdb"
    with duckdb.connect(str(db)) as conn:
        last, prev = [r[0] for r in conn.execute(
            "SELECT date FROM signals.condor_plan ORDER BY date DESC LIMIT 2").fetchall()]  # fmt: skip
        for table in ("signals.condor_plan", "signals.condor_actions", "signals.hedge_layers", "signals.book_daily"):
            conn.execute(f"DELETE FROM {table} WHERE date = ?", [last])
    seen: list[tuple[int, str]] = []
    stop = threading.Event()
    with running(home) as url:
        assert get_json(url + "/api/plan/latest")[1]["date"] == str(last)

        def hammer() -> None:
            while not stop.is_set():
                status, body = get_json(url + "/api/plan/latest")
                seen.append((status, body.get("date")))

        clients = [threading.Thread(target=hammer) for _ in range(4)]
        for c in clients:
            c.start()
        try:
            publish.publish(db, home, "run-2", prev, METHODOLOGY_VERSION, publish.PUBLISHED_TABLES, export_all=True)
            deadline = time.monotonic() + 60
            while not any(d == str(prev) for _, d in seen):  # the server picks up the new file by itself
                assert time.monotonic() < deadline, "the server never served the new snapshot"
                time.sleep(0.01)
        finally:
            stop.set()
            for c in clients:
                c.join(30)
        _, health = get_json(url + "/health")
    assert {s for s, _ in seen} == {200}
    dates = [d for _, d in seen]
    assert set(dates) == {str(last), str(prev)}
    switch = dates.index(str(prev))
    assert str(last) in dates[:switch]  # the old snapshot was served while the new one was written
    assert health["as_of"] == str(prev) and health["run_id"] == "run-2"


def test_a_copied_or_restored_home_tells_when_its_snapshot_was_published_not_when_it_was_copied(home):
    """/health's published_at and age come from the manifest that describes the snapshot (the same run),
    not from the file's time, which a copy or a restore resets to now; a manifest of another run (a
    publish caught between its renames) leaves the file's time."""
    import os

    path = publish.manifest_path(home)
    manifest = json.loads(path.read_text())
    path.write_text(json.dumps({**manifest, "published_at": "2026-01-05T22:10:00+00:00"}))
    os.utime(publish.snapshot_path(home))  # the copy's file time: now
    with running(home) as url:
        health = get_json(url + "/health")[1]
        assert health["published_at"] == "2026-01-05T22:10:00+00:00" and health["age_seconds"] > 86400
        assert "2026-01-05" in get(url + "/")[2].decode()  # the today page says the same
    path.write_text(json.dumps({**manifest, "run_id": "another-run", "published_at": "2026-01-05T22:10:00+00:00"}))
    with running(home) as url:
        assert get_json(url + "/health")[1]["age_seconds"] < 600
