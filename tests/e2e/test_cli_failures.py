"""`vixshield run` when something is wrong: bad arguments, a broken delivery, a warehouse in use or
damaged, a run killed earlier. Each fails with a message naming what and what to do, and changes
nothing a reader sees; correcting the input heals the next run."""

import datetime as dt

import duckdb
import pandas as pd
import pytest

from tests.assets.helpers import table_digests
from tests.e2e.helpers import published_bytes, vixshield
from vixshield.serve import publish

pytestmark = pytest.mark.slow  # runs the whole pipeline


def test_live_without_network_fails_fast_and_names_the_offline_options(tmp_path):
    home = tmp_path / "home"
    config = tmp_path / "offline.yaml"
    closed = "http://127.0.0.1:9"  # discard port: nothing listens, the connection is refused at once
    config.write_text(
        f"live:\n  yahoo_url: {closed}\n  fred_api_url: {closed}\n  fredgraph_url: {closed}\n  cboe_url: {closed}\n"
    )
    out = vixshield(home, "--config", str(config), "run", "--source", "live")
    assert out.returncode == 2
    assert "--source sample" in out.stderr and "--source files" in out.stderr
    assert not (home / "warehouse.duckdb").exists()  # nothing written, nothing replaced by offline data


def test_missing_recent_spx_sessions_fail_the_run_with_the_check_named(tmp_path, market_dir):
    spx = pd.read_csv(market_dir / "yahoo" / "^GSPC.csv")
    spx.iloc[:-3].to_csv(market_dir / "yahoo" / "^GSPC.csv", index=False)
    home = tmp_path / "home"
    out = vixshield(home, "run", "--source", "files", "--data-dir", str(market_dir), "--as-of", "2024-03-28")
    assert out.returncode == 1
    assert "core_required_fresh" in out.stderr and "FAILURE" in out.stderr


def test_bad_arguments_get_clear_errors(tmp_path):
    home = tmp_path / "home"
    out = vixshield(home, "run", "--source", "files")
    assert out.returncode == 2 and "--data-dir" in out.stderr
    out = vixshield(home, "run", "--source", "files", "--data-dir", str(tmp_path / "nowhere"))
    assert out.returncode == 2 and "not a directory" in out.stderr
    out = vixshield(home, "query", "SELECT 1")
    assert out.returncode == 2 and "vixshield run" in out.stderr
    out = vixshield(home, "run", "--source", "sample", "--as-of", "2020-13-01")
    assert out.returncode == 2 and "'2020-13-01' is not a date" in out.stderr and "Traceback" not in out.stderr
    out = vixshield(home, "run", "--source", "sample", "--as-of", "2099-01-01")  # never clamped silently
    assert out.returncode == 2 and "after the last completed NYSE session" in out.stderr
    assert not (home / "warehouse.duckdb").exists()


def test_a_warehouse_that_cannot_be_opened_is_named_with_what_to_do(tmp_path, cli_home, market_template):
    in_use = duckdb.connect(str(cli_home / "warehouse.duckdb"))  # as a second `vixshield run` would find it
    try:
        out = vixshield(cli_home, "run", "--source", "files", "--data-dir", str(market_template))
    finally:
        in_use.close()
    assert out.returncode == 2 and "in use by another process" in out.stderr and "Traceback" not in out.stderr
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    (damaged / "warehouse.duckdb").write_bytes(b"\x00not a duckdb file\xff" * 512)
    out = vixshield(damaged, "run", "--source", "files", "--data-dir", str(market_template))
    assert out.returncode == 2 and str(damaged / "warehouse.duckdb") in out.stderr and "move it aside" in out.stderr


def test_a_run_left_running_by_a_killed_process_is_closed_by_the_next_run(cli_home, market_template):
    with duckdb.connect(str(cli_home / "warehouse.duckdb")) as conn:
        conn.execute(
            "INSERT INTO meta.runs (run_id, started_at, status, source) "
            "VALUES ('dead', now()::TIMESTAMP, 'running', 'files')"
        )
    out = vixshield(cli_home, "run", "--source", "files", "--data-dir", str(market_template))
    assert out.returncode == 0, out.stderr
    assert "closed 1 earlier run(s)" in out.stderr
    with duckdb.connect(str(cli_home / "warehouse.duckdb"), read_only=True) as conn:
        rows = conn.execute(
            "SELECT run_id, status, finished_at IS NOT NULL FROM meta.runs ORDER BY started_at"
        ).fetchall()
    assert ("dead", "killed", True) in rows and not [r for r in rows if r[1] == "running"]


def _swap_open_and_close(f) -> None:
    frame = pd.read_csv(f, dtype=str)
    frame[["OPEN", "CLOSE"]] = frame[["CLOSE", "OPEN"]].to_numpy()
    frame.to_csv(f, index=False)


def assert_heals(cli_built, cli_home, market_dir) -> None:
    """A run on the corrected files succeeds and leaves the warehouse equal to a clean build's."""
    out = vixshield(cli_home, "run", "--source", "files", "--data-dir", str(market_dir))
    assert out.returncode == 0, out.stderr
    assert table_digests(cli_home / "warehouse.duckdb", stamps=False) == table_digests(
        cli_built.home / "warehouse.duckdb", stamps=False
    )


# breakage -> (how, what the step's FAIL line must say: the file or series, and the cause). An empty,
# header-only or misdated file takes the same path as undecodable bytes (tests/unit/test_files_source.py).
BREAKAGES = {
    "undecodable bytes": (lambda f: f.write_bytes(b"\xff\xfe\x00garbage\n"), ("VIX_History.csv", "cannot be read")),
    "missing": (lambda f: f.unlink(), ("VIX_History.csv", "required file(s) missing")),
    # every row still passes the range rules: only the size of the revision gives it away
    "open and close swapped": (_swap_open_and_close, ("^VIX", "max_revised_share")),
}


def test_a_broken_required_file_fails_the_run_keeps_the_snapshot_and_its_fix_heals(cli_built, cli_home, market_dir):
    vix = market_dir / "cboe" / "VIX_History.csv"
    good = vix.read_bytes()
    snapshot = published_bytes(cli_home)
    for name, (break_it, says) in BREAKAGES.items():
        vix.write_bytes(good)
        break_it(vix)
        out = vixshield(cli_home, "run", "--source", "files", "--data-dir", str(market_dir))
        assert out.returncode == 1 and "FAILURE" in out.stderr, name
        fail = next(line for line in out.stderr.splitlines() if line.startswith("  FAIL  raw__daily_bars"))
        assert all(text in fail for text in says), fail  # the file and the cause, not a bare decode error
        assert published_bytes(cli_home) == snapshot, name
    vix.write_bytes(good)
    assert_heals(cli_built, cli_home, market_dir)


def test_rows_a_bad_delivery_misdated_go_when_the_file_is_corrected(cli_built, cli_home, market_dir):
    """Rows written day-first and read month-first land on valid dates, weekends among them. They pass
    every row rule, so the run publishes; the corrected file must take them out again."""
    vix = market_dir / "cboe" / "VIX_History.csv"
    good = vix.read_text()
    rows = good.splitlines()
    month_first = [r for r in rows[1:] if int(r[3:5]) <= 12 and int(r[:2]) != int(r[3:5])][-40:]
    swapped = [f"{r[3:5]}/{r[:2]}/{r[6:]}" for r in month_first]
    vix.write_text("\n".join([rows[0], *[r for r in rows[1:] if r not in month_first], *swapped]) + "\n")
    vixshield(cli_home, "run", "--source", "files", "--data-dir", str(market_dir))  # may publish or stop
    vix.write_text(good)
    assert_heals(cli_built, cli_home, market_dir)


def test_a_halved_spx_on_the_latest_session_stops_the_run_says_where_and_its_fix_heals(cli_built, cli_home, market_dir):
    """A consistent bar at half the index passes every row rule; published, it would put every strike of
    the day's condor and tickets at half the market. The run stops, naming the session, the move and the
    setting to raise if the move is real."""
    spx = market_dir / "yahoo" / "^GSPC.csv"
    good = spx.read_bytes()
    frame = pd.read_csv(spx)
    prices = ["Open", "High", "Low", "Close", "Adj Close"]
    frame.loc[frame.index[-1], prices] = frame.loc[frame.index[-1], prices] * 0.5
    frame.to_csv(spx, index=False)
    snapshot = published_bytes(cli_home)
    out = vixshield(cli_home, "run", "--source", "files", "--data-dir", str(market_dir))
    assert out.returncode == 1 and "FAILURE" in out.stderr
    lines = out.stderr.splitlines()
    i = next(
        i for i, line in enumerate(lines) if line.startswith("  FAIL  core/market_daily:core_outlier_jumps_recent")
    )
    assert f"date={frame['Date'].iloc[-1]}" in lines[i + 1] and "spx_move=-0.69" in lines[i + 1]
    assert "max_jump_spx" in lines[i + 1]
    assert published_bytes(cli_home) == snapshot
    spx.write_bytes(good)
    assert_heals(cli_built, cli_home, market_dir)


def test_an_older_download_of_a_file_keeps_the_newer_sessions_and_the_plan(cli_built, cli_home, market_dir):
    """A VIX file that ends three sessions early (an older download) cannot speak for the sessions
    after its end: they stay, and so does the day's plan (README, Rows a corrected file no longer holds),
    also when the stored rows past its end hold one on an exchange holiday, as Cboe's file does."""
    vix = market_dir / "cboe" / "VIX_History.csv"
    rows = vix.read_text().splitlines()
    holiday = "03/29/2024," + rows[-2].split(",", 1)[1]  # Good Friday, after the last session: a bar of its own
    vix.write_text("\n".join([*rows, holiday]) + "\n")
    out = vixshield(cli_home, "run", "--source", "files", "--data-dir", str(market_dir))
    assert out.returncode == 0, out.stderr
    latest = publish.read_manifest(cli_home)["as_of"]
    vix.write_text("\n".join(rows[:-3]) + "\n")  # the older download
    out = vixshield(cli_home, "run", "--source", "files", "--data-dir", str(market_dir))
    assert out.returncode == 0, out.stderr
    assert publish.read_manifest(cli_home)["as_of"] == latest
    with duckdb.connect(str(cli_home / "warehouse.duckdb"), read_only=True) as conn:
        kept = conn.execute("SELECT max(date)::VARCHAR FROM raw.daily_bars WHERE symbol = '^VIX'").fetchone()[0]
    assert kept == "2024-03-29"
    now, clean = (table_digests(h / "warehouse.duckdb", stamps=False) for h in (cli_home, cli_built.home))
    assert {k: v for k, v in now.items() if k != "raw.daily_bars"} == {
        k: v for k, v in clean.items() if k != "raw.daily_bars"
    }  # core, quarantine and the rest: as the full file built them


def test_a_tenfold_term_index_stops_the_run_on_the_latest_session_and_is_refused_as_a_revision_of_history(
    cli_built, cli_home, market_dir
):
    """VIX9D at ten times itself passes its plausible range. On the latest session the run stops, naming the
    row and the rule (made without it, today's plan would differ from a run on the corrected file); as a
    revision of a stored session it is refused and the stored value stays, so every published value equals a
    clean build's. Correcting the file heals both."""
    path = market_dir / "cboe" / "VIX9D_History.csv"
    good = path.read_bytes()
    frame = pd.read_csv(path, dtype=str)
    prices = ["OPEN", "HIGH", "LOW", "CLOSE"]
    tenfold = frame.copy()
    tenfold.loc[tenfold.index[-1], prices] = [f"{float(v) * 10:.2f}" for v in frame.loc[frame.index[-1], prices]]
    tenfold.to_csv(path, index=False)
    last = dt.datetime.strptime(frame["DATE"].iloc[-1], "%m/%d/%Y").date()
    with duckdb.connect(str(cli_home / "warehouse.duckdb")) as conn:  # the session arrives today: not stored yet
        conn.execute("DELETE FROM raw.daily_bars WHERE symbol = '^VIX9D' AND date = ?", [last])
    snapshot = published_bytes(cli_home)
    out = vixshield(cli_home, "run", "--source", "files", "--data-dir", str(market_dir))
    assert out.returncode == 1 and "FAILURE" in out.stderr
    lines = out.stderr.splitlines()
    i = next(i for i, line in enumerate(lines) if line.startswith("  FAIL  core/market_daily:as_of_rows_usable"))
    assert "^VIX9D|" in lines[i + 1] and "out_of_line_with_vix" in lines[i + 1]
    assert published_bytes(cli_home) == snapshot
    path.write_bytes(good)
    assert_heals(cli_built, cli_home, market_dir)
    # the same damage to a session already stored: refused as a revision, nothing published changes
    day = frame["DATE"].iloc[-30]
    tenfold = frame.copy()
    row = tenfold["DATE"] == day
    tenfold.loc[row, prices] = [f"{float(v) * 10:.2f}" for v in frame.loc[row, prices].iloc[0]]
    tenfold.to_csv(path, index=False)
    out = vixshield(cli_home, "run", "--source", "files", "--data-dir", str(market_dir))
    assert out.returncode == 0, out.stderr
    now, clean = (table_digests(h / "warehouse.duckdb", stamps=False) for h in (cli_home, cli_built.home))
    assert {k for k in now if now[k] != clean[k]} == {"meta.quarantine"}  # the reject, with its reason
    with duckdb.connect(str(cli_home / "warehouse.duckdb"), read_only=True) as conn:
        rules = conn.execute("SELECT row_key, rule FROM meta.quarantine WHERE column_name = 'input'").fetchall()
    iso = dt.datetime.strptime(day, "%m/%d/%Y").date().isoformat()
    assert rules == [(f"^VIX9D|{iso}", "unusable_revision")]
    path.write_bytes(good)
    assert_heals(cli_built, cli_home, market_dir)
