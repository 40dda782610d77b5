"""The whole 1990-2026 bundle through the CLI (skipped when ../shared/data/market is absent)."""

import datetime as dt
import json
import pathlib

import duckdb
import pytest

from tests.conftest import SHARED_MARKET, BuiltHome
from tests.e2e.conftest import real_bundle_built
from tests.e2e.helpers import vixshield
from tests.floats import assert_frame_close
from vixshield.catalog import MACRO_BY_ID
from vixshield.serve import publish

pytestmark = [
    pytest.mark.slow,
    pytest.mark.market_data,
    pytest.mark.skipif(not (SHARED_MARKET / "MANIFEST.md").exists(), reason="shared real-data bundle absent"),
]


def connect(built: BuiltHome) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(built.home / "warehouse.duckdb"), read_only=True)


@pytest.fixture(scope="module")
def full(real_built):
    conn = connect(real_built)
    yield conn, real_built.log
    conn.close()


@pytest.fixture(scope="module")
def replay(tmp_path_factory):
    conn = connect(real_bundle_built(tmp_path_factory, "replay", "--as-of", "2020-03-16"))
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
    # the catalog's plausible ranges (and VIX-term ratios) hold every value each series has published, and
    # every value in the publishers' files is a number or one of their "no value" markers
    never = (
        "value_out_of_range",
        "price_out_of_range",
        "out_of_line_with_vix",
        "out_of_line_with_curve",
        "unreadable_value",
    )
    assert (
        conn.execute("SELECT DISTINCT rule FROM meta.quarantine WHERE list_contains(?, rule)", [never]).fetchall() == []
    )
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
        ("open_is_previous_close", "^GSPC|2001-09-21"),  # 984.54, Thursday's close
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
    # "the Open equals the previous session's close on 44-98% of sessions in 1990-2005 and ~25% in 2012-13"
    stale = dict(
        conn.execute(
            """SELECT year(CAST(split_part(row_key, '|', 2) AS DATE)) AS y, count(*) FROM meta.quarantine
               WHERE rule = 'open_is_previous_close' GROUP BY y"""
        ).fetchall()
    )
    sessions = dict(conn.execute("SELECT year(date), count(*) FROM core.market_daily GROUP BY 1").fetchall())
    share = {y: stale.get(y, 0) / sessions[y] for y in sessions}
    assert all(0.4 <= share[y] <= 0.99 for y in range(1990, 2006))
    # from 2014 the open is a real print; one may still equal the previous close by chance
    assert 0.2 <= share[2012] <= 0.3 and max(share[y] for y in range(2014, 2027)) < 0.01
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


@pytest.fixture(scope="module")
def replay_before_cpi(tmp_path_factory):
    """As of 2020-03-10: February has ended, its CPI comes out on 2020-03-11."""
    conn = connect(real_bundle_built(tmp_path_factory, "replay_cpi", "--as-of", "2020-03-10"))
    yield conn
    conn.close()


@pytest.mark.parametrize("cut", ["2020-03-16", "2020-03-10"])
def test_replayed_features_equal_the_full_run_up_to_the_cut(full, replay, replay_before_cpi, cut):
    conn, _ = full
    other = replay if cut == "2020-03-16" else replay_before_cpi
    for table in publish.PUBLISHED_TABLES:  # features and every signal table
        q = f"SELECT * FROM {table} WHERE date <= '{cut}' ORDER BY ALL"
        got, want = other.execute(q).df(), conn.execute(q).df()
        assert len(got) == len(want) > 4000
        assert_frame_close(got, want)
    assert other.execute("SELECT max(date) FROM features.daily").fetchone()[0] == dt.date.fromisoformat(cut)


def test_cpi_enters_on_its_release_day(full):
    conn, _ = full
    yoy = dict(
        conn.execute(
            "SELECT date::VARCHAR, cpi_yoy FROM features.daily WHERE date BETWEEN '2020-03-02' AND '2020-03-11'"
        ).fetchall()
    )
    assert yoy["2020-03-02"] == yoy["2020-03-10"]  # still January's CPI
    assert yoy["2020-03-11"] != yoy["2020-03-10"]  # February's, released 2020-03-11


def test_regimes_through_history(full):
    conn, _ = full
    regime = dict(conn.execute("SELECT date::VARCHAR, regime FROM features.regime").fetchall())
    assert regime["2008-10-10"] == "CRISIS" and regime["2020-03-16"] == "CRISIS"
    y2017 = [r for d, r in regime.items() if d.startswith("2017")]
    assert y2017.count("CALM") / len(y2017) > 0.7
    # Volmageddon: calm January, stress on Feb 2, crisis on Feb 5 (VIX 37, IVTS > 1.1), down in steps
    assert regime["2018-01-12"] == "CALM"
    assert regime["2018-02-05"] == "CRISIS"
    assert [regime[d] for d in ("2018-02-14", "2018-02-15", "2018-02-16")] == ["CRISIS", "CRISIS", "STRESSED"]
    assert set(regime.values()) == {"CALM", "NORMAL", "ELEVATED", "STRESSED", "CRISIS"}


def test_feature_checks_pass_on_the_full_history(full):
    conn, _ = full
    failed = conn.execute("SELECT check_name FROM meta.check_results WHERE NOT passed AND severity = 'ERROR'")
    assert failed.fetchall() == []
    assert (
        conn.execute("SELECT count(*) FROM features.daily").fetchone()[0]
        == conn.execute("SELECT count(*) FROM core.market_daily").fetchone()[0]
    )


def test_signals_through_the_2020_crash(full):
    conn, _ = full
    plan = conn.execute("SELECT enter, reasons FROM signals.condor_plan WHERE date = '2020-03-16'").fetchone()
    assert plan[0] is False and "GATE_REGIME_CRISIS" in plan[1]
    # every condor open when the crash began was closed by a stop or the crisis rule
    exits = conn.execute("""SELECT DISTINCT action FROM signals.condor_actions
                            WHERE date BETWEEN '2020-02-20' AND '2020-03-31' AND action <> 'hold'""").fetchall()
    assert {a for (a,) in exits} <= {"stop", "crisis_close", "take_profit", "expire", "roll", "adjust", "close"}
    assert {a for (a,) in exits} & {"stop", "crisis_close"}
    # a close order of one session fills on the next (`close`): none fills on the close that decided it
    unordered = conn.execute("""SELECT f.date, f.position_id FROM signals.condor_actions f
                                WHERE f.action = 'close' AND f.date BETWEEN '2020-02-20' AND '2020-03-31'
                                AND NOT EXISTS (SELECT 1 FROM signals.condor_actions o
                                                WHERE o.position_id = f.position_id AND o.trade_date = f.date
                                                AND o.date < f.date)""").fetchall()
    assert unordered == []
    # L0 holds calls from the January 2020 expiration until VIX >= 50 monetizes every layer ...
    monetized = conn.execute(
        "SELECT min(date) FROM signals.hedge_layers WHERE layer = 'L0' AND date >= '2020-01-01' "
        "AND list_contains(reasons, 'MONETIZE:VIX_GE_50')"
    ).fetchone()[0]
    first_vix_50 = conn.execute("SELECT min(date) FROM features.daily WHERE vix >= 50 AND date >= '2020-01-01'")
    assert monetized == first_vix_50.fetchone()[0] == dt.date(2020, 3, 9)
    held = conn.execute(
        "SELECT count(*) FROM signals.hedge_layers WHERE layer = 'L0' "
        "AND date BETWEEN '2020-01-22' AND '2020-03-06' AND contracts_held > 0"
    ).fetchone()[0]
    sessions = conn.execute(
        "SELECT count(*) FROM core.sessions WHERE date BETWEEN '2020-01-22' AND '2020-03-06'"
    ).fetchone()[0]
    # ... except on the VIX expiration days themselves (2020-01-22, 2020-02-19): the old calls settle
    # that morning and the new ones, ordered on its close, fill on the next session
    assert held == sessions - 2
    first = conn.execute("SELECT min(date) FROM signals.condor_plan").fetchone()[0]
    assert first == dt.date(1990, 1, 2)


def test_signals_cli_for_a_past_session(full, tmp_path_factory):
    conn, _ = full
    home = pathlib.Path(
        conn.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchone()[0]
    ).parent
    table = vixshield(home, "signals", "--date", "2019-06-14")
    assert table.returncode == 0, table.stderr
    assert "VixShield plan for 2019-06-14" in table.stdout and "expiry 2019-07-29 (45 DTE" in table.stdout
    plan = json.loads(vixshield(home, "signals", "--date", "2019-06-14", "--format", "json").stdout)
    p = plan["condor_plan"]
    assert p["expiry"] == "2019-07-29" and p["long_put"] < p["short_put"] < p["short_call"] < p["long_call"]
    assert f"sell {p['short_call']:g}C / buy {p['long_call']:g}C" in table.stdout
