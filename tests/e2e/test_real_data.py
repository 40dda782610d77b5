"""The whole 1990-2026 bundle through the CLI (skipped when ../shared/data/market is absent)."""

import datetime as dt

import duckdb
import pytest

from tests.conftest import SHARED_MARKET
from tests.e2e.helpers import vixshield
from vixshield.catalog import MACRO_BY_ID

pytestmark = [
    pytest.mark.market_data,
    pytest.mark.skipif(not (SHARED_MARKET / "MANIFEST.md").exists(), reason="shared real-data bundle absent"),
]


@pytest.fixture(scope="module")
def full(tmp_path_factory):
    home = tmp_path_factory.mktemp("full")
    out = vixshield(home, "run", "--source", "files", "--data-dir", str(SHARED_MARKET))
    assert out.returncode == 0, out.stderr
    conn = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    yield conn, out.stderr
    conn.close()


@pytest.fixture(scope="module")
def replay(tmp_path_factory):
    home = tmp_path_factory.mktemp("replay")
    out = vixshield(home, "run", "--source", "files", "--data-dir", str(SHARED_MARKET), "--as-of", "2020-03-16")
    assert out.returncode == 0, out.stderr
    conn = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    yield conn
    conn.close()


def test_every_manifest_series_loads_without_a_blocking_failure(full):
    conn, log = full
    assert ", 0 failed;" in log
    symbols = {s for (s,) in conn.execute("SELECT DISTINCT symbol FROM raw.daily_bars").fetchall()}
    assert {"^GSPC", "^VIX", "^VIX9D", "^VIX3M", "^VIX6M", "^VVIX", "^SKEW", "XLK", "AAPL"} <= symbols
    fred = {p.stem for p in (SHARED_MARKET / "fred").glob("*.csv")}
    series = {s for (s,) in conn.execute("SELECT DISTINCT series_id FROM raw.macro_observations").fetchall()}
    assert fred <= series and series <= set(MACRO_BY_ID)
    assert conn.execute("SELECT count(DISTINCT series) FROM raw.breadth_vendor").fetchone()[0] == 2
    first, last = conn.execute("SELECT min(date), max(date) FROM core.market_daily").fetchone()
    assert (first, last) == (dt.date(1990, 1, 2), dt.date(2026, 7, 10))
    assert conn.execute("SELECT count(*) FROM core.market_daily WHERE spx_close IS NULL").fetchone()[0] == 0


@pytest.mark.parametrize(
    ("rule", "key"),
    [
        ("high_below_low", "^VIX6M|2019-07-05"),
        ("spurious_intraday_extreme", "^VIX3M|2009-10-28"),
        ("close_out_of_range", "^VVIX|2006-03-15"),
        ("close_only_bar", "^VIX|1990-01-02"),
        ("close_only_bar", "^VIX9D|2011-01-04"),
        ("zero_settle", "2013-01-02|2013-01-16"),
    ],
)
def test_manifest_defects_are_quarantined_with_a_reason(full, rule, key):
    conn, _ = full
    reason = conn.execute("SELECT reason FROM meta.quarantine WHERE rule = ? AND row_key = ?", [rule, key]).fetchone()
    assert reason and reason[0]


def test_defect_counts_match_the_manifest(full):
    conn, _ = full
    counts = dict(conn.execute("SELECT rule || ':' || table_name, count(*) FROM meta.quarantine GROUP BY 1").fetchall())
    assert counts["open_outside_range:raw.daily_bars"] == 47  # "47 rows in 1992-2006 have OPEN outside HIGH-LOW"
    assert 400 <= counts["high_below_low:raw.vx_futures"] <= 440  # "~420 rows have High < Low"
    mislabelled = conn.execute(
        "SELECT count(*) FROM meta.quarantine WHERE rule = 'unreadable' AND row_key LIKE '%20268-03-18'"
    ).fetchone()[0]
    assert mislabelled > 100  # the March 2026 contract's expiry is mislabelled


def test_as_of_replay_holds_nothing_later(replay):
    t = dt.date(2020, 3, 16)
    for table, col in [
        ("core.market_daily", "date"),
        ("core.vx_futures", "trade_date"),
        ("raw.daily_bars", "date"),
        ("raw.vx_futures", "trade_date"),
        ("core.macro_observations", "available_date"),
        ("raw.macro_observations", "available_date"),
    ]:
        assert replay.execute(f"SELECT max({col}) FROM {table}").fetchone()[0] <= t, table
    assert replay.execute("SELECT count(*) FROM core.events WHERE known_from > ?", [t]).fetchone()[0] == 0
    row = replay.execute("SELECT vix, vx_m1, vx_m1_expiry FROM core.market_daily WHERE date = ?", [t]).fetchone()
    assert row == (82.69, 72.625, dt.date(2020, 3, 18))  # Cboe's published VIX close; VX Mar-20 settle


def test_replayed_core_equals_the_full_run_up_to_the_cut(full, replay):
    conn, _ = full
    q = "SELECT * FROM core.market_daily WHERE date <= '2020-03-16' ORDER BY date"
    assert replay.execute(q).df().equals(conn.execute(q).df())
    q = "SELECT * FROM core.macro_observations WHERE available_date <= '2020-03-16' ORDER BY ALL"
    assert replay.execute(q).df().equals(conn.execute(q).df())
    # February 2020 CPI was released on 2020-03-11: in the replay; March's (2020-04-10) is not
    cpi = replay.execute("SELECT max(observation_date) FROM core.macro_observations WHERE series_id = 'CPIAUCSL'")
    assert cpi.fetchone()[0] == dt.date(2020, 2, 1)
