"""The book trades only what was listed that day (issue #14, finding 1): SPX monthlies always, SPXW by
weekday from its listing, VIX options from 2006-02-24."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.unit.test_backtest import market
from vixshield import calendars
from vixshield.backtest import engine as backtest
from vixshield.strategy import listings
from vixshield.strategy.book import BookSettings, run_book


def chosen(start: str, end: str) -> pd.Series:
    """The expiry the condor rule would pick on each session start..end (NaT when none is listed)."""
    days = calendars.sessions(start, end)
    return pd.Series([listings.spx_expiry_near(d) for d in days], index=days, dtype="datetime64[ns]")


def test_before_friday_weeklys_only_the_monthly_third_friday_is_chosen():
    picks = chosen("1995-01-03", "1995-12-29")
    listed = picks.dropna()
    assert listed.map(listings.is_monthly).all() and len(listed.unique()) == 13  # 1995-02 .. 1996-02
    assert picks.isna().any()  # sessions whose 35-60 DTE window holds no third Friday
    assert listings.spx_expiry_near("1995-01-25") == pd.Timestamp("1995-03-17")


@pytest.mark.parametrize(
    ("weekday", "first"),
    [(2, "2016-02-23"), (0, "2016-08-15"), (1, "2022-04-18"), (3, "2022-05-11")],
)
def test_no_spxw_weekday_is_chosen_before_its_listing(weekday, first):
    before = chosen(pd.Timestamp(first) - pd.Timedelta(days=400), pd.Timestamp(first) - pd.Timedelta(days=1)).dropna()
    after = chosen(first, pd.Timestamp(first) + pd.Timedelta(days=120)).dropna()
    # a Thursday before Good Friday is the Friday weekly moved by the holiday, not a Thursday weekly
    moved = before.map(lambda e: not calendars.is_session((e + pd.Timedelta(days=1)).date()))
    assert not (before[~moved].dt.weekday == weekday).any()
    assert (after.dt.weekday == weekday).any()


def test_friday_weeklys_are_listed_from_october_2005():
    assert not listings.spx_expiry_listed(pd.Timestamp("2005-10-27"), pd.Timestamp("2005-12-09"))
    assert listings.spx_expiry_listed(pd.Timestamp("2005-10-28"), pd.Timestamp("2005-12-09"))
    assert listings.spx_expiry_listed(pd.Timestamp("1990-01-02"), pd.Timestamp("1990-02-16"))  # a monthly


def test_no_hedge_fill_before_vix_options_were_listed_and_the_reason_says_so():
    inputs = market("2005-09-01", "2006-07-31", vix=20.0)  # L0 buys 1% of NAV on each VIX expiration
    fills = backtest.run_strategy(inputs, "full", backtest.strategy_settings("full", BookSettings())).fills
    hedge = fills[fills["sleeve"] == "hedge"]
    assert not hedge.empty and hedge["date"].min() >= listings.VIX_OPTIONS
    out = run_book(inputs.features, inputs.regimes, inputs.vx, inputs.opens, BookSettings())
    rows = pd.DataFrame(out.hedges)
    early = rows[pd.to_datetime(rows["date"]) < listings.VIX_OPTIONS]
    assert (early["action"] != "add").all()
    assert early["reasons"].map(lambda r: any("VIX_OPTIONS_NOT_LISTED_UNTIL_2006-02-24" in x for x in r)).all()


def test_condors_before_weeklys_use_monthlies_and_settle_at_the_open():
    assert listings.am_settled(pd.Timestamp("1995-01-25"), pd.Timestamp("1995-03-17"))
    assert not listings.am_settled(pd.Timestamp("2024-01-10"), pd.Timestamp("2024-02-16"))
    inputs = market("1995-01-03", "1995-12-29", vix=16.0)
    out = run_book(inputs.features, inputs.regimes, inputs.vx, inputs.opens, BookSettings())
    opened = [f for f in out.fills if f.sleeve == "condor" and f.event == "open"]
    assert opened and all(listings.is_monthly(pd.Timestamp(f.expiry)) for f in opened)
    plans = pd.DataFrame(out.plan)
    assert plans["reasons"].map(lambda r: "NO_LISTED_EXPIRY_35_60_DTE" in r).any()


def test_the_listing_table_is_the_rule_on_every_session():
    """spx_expiry_near reads one threshold per session (the first day it was listed); on the day
    before the threshold the rule says unlisted, on it listed, for every session of the calendar."""
    ords, first_listed, monthly, weeklys = listings._listing_table()
    stamps = [listings._stamp(o) for o in ords]
    assert [s.toordinal() for s in stamps] == ords and all(s.unit == "ns" for s in stamps)
    assert set(monthly) & set(ords) == {o for o, first in zip(ords, first_listed, strict=True) if first == 0}
    assert weeklys == pd.Timestamp("2005-10-28").toordinal()  # the first SPXW weekly: Fridays
    earliest, never = pd.Timestamp("1990-01-02"), pd.Timestamp("2100-01-01")
    for first, expiry in zip(first_listed, stamps, strict=True):
        if first == 0:  # a monthly: listed throughout
            assert listings.spx_expiry_listed(earliest, expiry), expiry
        elif first > never.toordinal():  # a weekday never listed
            assert not listings.spx_expiry_listed(never, expiry), expiry
        else:
            day = pd.Timestamp.fromordinal(first)
            assert listings.spx_expiry_listed(day, expiry), expiry
            assert not listings.spx_expiry_listed(day - pd.Timedelta(days=1), expiry), expiry


def test_the_nearest_listed_expiry_is_the_rule_scanned_session_by_session():
    """The table-driven spx_expiry_near against the rule applied to every session of the window."""

    def by_rule(d: pd.Timestamp, target: int, lo: int, hi: int) -> pd.Timestamp | None:
        first, last = d + pd.Timedelta(days=lo), d + pd.Timedelta(days=hi)
        aim = min(max(d + pd.Timedelta(days=target), first), last)
        listed = [s for s in calendars.sessions(first, last) if listings.spx_expiry_listed(d, s)]
        return min(listed, key=lambda s: (abs((s - aim).days), s), default=None)

    days = calendars.sessions("1990-01-02", "2026-12-31")
    sample = list(days[::37]) + [d for d in days if d.month == 10 and d.year in (2005, 2016, 2022)]
    for d in sample:
        for params in ((45, 35, 60), (30, 20, 40), (7, 0, 10)):
            assert listings.spx_expiry_near(d, *params) == by_rule(d, *params), (d, params)
