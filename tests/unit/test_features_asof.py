"""features.daily and features.regime computed on data cut at t equal the full run's rows up to t,
for every column (GARCH included), on ~3 years of realistic data in the publishers' formats."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from tests.conftest import write_market_dir
from tests.floats import assert_frame_close
from tests.unit.test_quarantine_core import load_all
from vixshield.config import Settings
from vixshield.features import daily as features
from vixshield.store import dictionary, warehouse
from vixshield.strategy import signals
from vixshield.validate import core_tables, quarantine

SETTINGS = Settings()


def build(path, market, as_of: dt.date | None):
    """The pipeline's steps on data cut at `as_of` (None: everything, as-of = the last SPX/VIX session)."""
    conn = warehouse.connect(path)
    warehouse.init_schema(conn)
    load_all(conn, market, end=as_of or dt.date(2200, 1, 1))
    quarantine.rebuild_quarantine(conn)
    core_tables.build_core(
        conn, core_tables.resolve_as_of(conn, as_of, live=False), SETTINGS.validation, SETTINGS.universe
    )
    daily = features.compute_features(conn, SETTINGS)
    regime = features.compute_regime(daily, SETTINGS)
    features.write(conn, "features.daily", daily)
    features.write(conn, "features.regime", regime)
    book = signals.compute_signals(conn, SETTINGS.book)
    conn.close()
    return daily.set_index("date"), regime.set_index("date"), book


@pytest.fixture(scope="module")
def market(tmp_path_factory):
    return write_market_dir(tmp_path_factory.mktemp("m") / "market", start="2021-01-04", end="2024-03-28")


@pytest.fixture(scope="module")
def full(tmp_path_factory, market):
    return build(tmp_path_factory.mktemp("full") / "w.duckdb", market, None)


def test_every_dictionary_column_is_built_and_garch_is_fitted(full):
    daily, regime, _ = full
    assert list(daily.columns) == [c.name for c in dictionary.FEATURES_DAILY if c.name != "date"]
    assert list(regime.columns) == [c.name for c in dictionary.FEATURES_REGIME if c.name != "date"]
    assert daily["garch_vol21"].notna().sum() > 200  # fitted from month 25 on
    assert daily["breadth_source"].iloc[1:].eq("universe").all()  # day 1 has no previous close: vendor
    # on the last session everything is present except what needs series the fixture does not have
    absent = {
        "core_cpi_yoy",
        "core_cpi_3m_ann",
        "ppi_yoy",
        "ppi_3m_ann",
        "fed_funds",
        "fed_funds_chg3m",
        "dgs3mo",
        "t10y2y",
        "curve_inverted",
        "dollar_chg3m",
        "rbusbis_chg3m",
        "eurusd_chg1m",
        "usdjpy_chg1m",
        "hy_oas",
        "hy_oas_chg1m",
        "z_hy_oas",
        "z_dollar_chg3m",
        "z_dgs10_abs_chg1m",  # DGS10 starts 2023-06: a z-score needs 252 sessions of its 1-month change
        "macro_stress",  # so no z-score exists yet
    }
    last = daily.loc["2024-03-28"]
    assert set(last[last.isna()].index) == absent
    # the fixture's FOMC file ends 2024-03-20; past it the shipped Fed calendar carries on: the 2024-05-01
    # decision is the 23rd session ahead (Good Friday 03-29 closed, April's 22 weekdays, then May 1)
    assert last["sessions_to_fomc"] == 23


@pytest.mark.parametrize(
    "cut",
    [
        "2023-06-30",  # a month end: the next GARCH refit happens after it
        "2023-07-03",  # first session of a month: June CPI is not out until 2023-07-12
        "2023-07-12",  # June CPI release day
        "2024-02-05",  # January ended, January CPI not released until 2024-02-13
        "2024-03-27",
    ],
)
def test_features_cut_at_t_equal_the_full_run(tmp_path, market, full, cut):
    daily, regime, book = build(tmp_path / "cut.duckdb", market, dt.date.fromisoformat(cut))
    full_daily, full_regime, full_book = full
    assert daily.index[-1] == pd.Timestamp(cut)
    assert_frame_close(daily, full_daily.loc[:cut])
    assert_frame_close(regime, full_regime.loc[:cut])
    for name, frame in book.items():  # the signal tables too: the book never looks ahead
        want = full_book[name][pd.to_datetime(full_book[name]["date"]) <= pd.Timestamp(cut)].reset_index(drop=True)
        assert_frame_close(frame.reset_index(drop=True), want, obj=name)


def test_cpi_changes_on_its_release_day_not_at_month_end(full):
    daily, _, _ = full
    cpi = daily["cpi_yoy"]
    # June 2023 CPI: observation month ends 2023-06-30, BLS release 2023-07-12
    assert cpi["2023-07-03"] == cpi["2023-07-11"]
    assert cpi["2023-07-12"] != cpi["2023-07-11"]


def test_missing_inputs_are_null_not_zero(full):
    daily, _, _ = full
    assert daily["garch_vol21"].iloc[:400].isna().all()  # fewer than 500 returns
    assert daily["spx_sma200"].iloc[:199].isna().all()
    assert not (daily[["rv21", "yz21", "vix_pct252"]] == 0).any().any()
    assert np.isnan(daily["rv63"].iloc[10])
