"""vixshield.features.breadth: hand-computed universes, slow reference loops, numpy.polyfit, causality."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.conftest import SHARED_MARKET
from tests.floats import assert_array_close, assert_frame_close, assert_series_close
from vixshield.features import breadth

T = pd.Timestamp
NAN = np.nan


def assert_arr(actual, expected):
    assert_array_close(actual, expected, equal_nan=True)


# --- a hand-computed universe ----------------------------------------------------------------------

SESS7 = pd.DatetimeIndex(
    ["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05", "2024-01-08", "2024-01-09", "2024-01-10"]
)


def small_closes() -> pd.DataFrame:
    """4 members; C lists on d2, D has no print on d2, nobody prints on d4 (2024-01-08).

    A Sunday row (2024-01-07) of junk must be ignored: were it used as "previous close", d5 would
    have members. Rows are given unsorted on purpose.
    """
    rows = {
        #               A     B     C     D
        "2024-01-02": [10.0, 20.0, NAN, 30.0],  # d0
        "2024-01-03": [11.0, 19.0, NAN, 31.0],  # d1
        "2024-01-04": [11.0, 19.0, 5.0, NAN],  # d2
        "2024-01-05": [12.0, 19.0, 6.0, 32.0],  # d3
        "2024-01-07": [99.0, 99.0, 99.0, 99.0],  # Sunday: not a session
        # d4 2024-01-08: absent (no member data)
        "2024-01-09": [13.0, 21.0, 5.0, 33.0],  # d5
        "2024-01-10": [12.0, 22.0, 5.0, 34.0],  # d6
    }
    df = pd.DataFrame.from_dict(rows, orient="index", columns=list("ABCD"))
    df.index = pd.DatetimeIndex(df.index)
    return df.iloc[[3, 0, 2, 1, 4, 6, 5]]


def test_universe_counts_by_hand():
    u = breadth.universe_breadth(small_closes(), SESS7)
    assert list(u.columns) == breadth.BREADTH_COLUMNS
    assert u.index.equals(SESS7)
    # d0: no previous session -> no member counts -> NaN
    # d1: A 10->11 up, B 20->19 down, C none, D 30->31 up       -> adv 2 dec 1 unc 0, members 3
    # d2: A 11->11 unch, B 19->19 unch, C no prev, D no close    -> adv 0 dec 0 unc 2, members 2
    # d3: A 11->12 up, B 19->19 unch, C 5->6 up, D no prev       -> adv 2 dec 0 unc 1, members 3
    # d4: nobody prints                                          -> NaN
    # d5: previous session (d4) empty for all                    -> NaN
    # d6: A 13->12 down, B 21->22 up, C 5->5 unch, D 33->34 up   -> adv 2 dec 1 unc 1, members 4
    assert_arr(u["advancers"], [NAN, 2, 0, 2, NAN, NAN, 2])
    assert_arr(u["decliners"], [NAN, 1, 0, 0, NAN, NAN, 1])
    assert_arr(u["unchanged"], [NAN, 0, 2, 1, NAN, NAN, 1])
    assert_arr(u["members"], [NAN, 3, 2, 3, NAN, NAN, 4])
    assert_arr(u["coverage"], [NAN, 0.75, 0.5, 0.75, NAN, NAN, 1.0])
    assert_arr(u["ad_net"], [NAN, 1, 0, 2, NAN, NAN, 1])
    # A/D line from d1: 1, 1, 3, (NaN, NaN: no move), 3 + 1 = 4
    assert_arr(u["ad_line"], [NAN, 1, 1, 3, NAN, NAN, 4])
    # too short for SMA50, slope20 (15 obs), McClellan (39 obs)
    assert u[["pct_above_sma50", "ad_slope20", "mcclellan"]].isna().all().all()


def test_sessions_without_data_are_nan_not_zero():
    u = breadth.universe_breadth(small_closes(), SESS7)
    for day in ("2024-01-08", "2024-01-09"):
        assert u.loc[day].isna().all(), u.loc[day]
    # all-NaN universe: every value NaN, no zeros anywhere
    empty = pd.DataFrame(NAN, index=SESS7, columns=list("ABC"))
    assert breadth.universe_breadth(empty, SESS7).isna().all().all()


def test_pct_above_sma50_by_hand():
    n = 55
    sess = pd.bdate_range("2024-01-01", periods=n)
    up = np.arange(1.0, n + 1)  # close > SMA50 (the mean of the last 50 ramp values)
    down = up[::-1].copy()  # close < SMA50
    down[52] = NAN  # no close on 52; windows of 52..54 are not full
    flat = np.full(n, 10.0)  # close == SMA50: not above
    late = np.where(np.arange(n) >= 10, up, NAN)  # lists at 10: first full SMA50 at 59, never here
    closes = pd.DataFrame({"UP": up, "DN": down, "FLAT": flat, "LATE": late}, index=sess)
    pct = breadth.universe_breadth(closes, sess)["pct_above_sma50"].to_numpy()
    # 0..48: no full window. 49..51: UP, DN, FLAT qualify, only UP above -> 1/3.
    # 52..54: DN drops out (missing close / window) -> UP, FLAT -> 1/2.
    expected = np.r_[np.full(49, NAN), [1 / 3] * 3, [1 / 2] * 3]
    np.testing.assert_allclose(pct, expected, rtol=0, atol=1e-15)


def random_universe(n=160, m=30, seed=3) -> tuple[pd.DataFrame, pd.DatetimeIndex]:
    rng = np.random.default_rng(seed)
    sess = pd.bdate_range("2020-01-01", periods=n)
    # ticks on a 0.01 grid, so unchanged closes happen too
    px = np.round(50 + np.cumsum(rng.choice([-0.02, -0.01, 0.0, 0.01, 0.02], size=(n, m)), axis=0), 2)
    closes = pd.DataFrame(px, index=sess)
    closes.iloc[:25, :8] = NAN  # late listings
    closes[rng.random((n, m)) < 0.03] = NAN  # scattered gaps
    closes.iloc[[60, 61, 100]] = NAN  # market-wide outages: sessions without any data
    return closes, sess


def slow_mcclellan(closes: pd.DataFrame, sess: pd.DatetimeIndex) -> list[float]:
    """Reference: plain loops, EMAs seeded with the mean of the first n ratios, skip empty days."""
    c = closes.reindex(sess)
    ratios: list[float | None] = []
    for i in range(len(sess)):
        adv = dec = cnt = 0
        for col in c.columns:
            if i == 0:
                continue
            a, b = c[col].iloc[i], c[col].iloc[i - 1]
            if pd.isna(a) or pd.isna(b):
                continue
            cnt += 1
            adv += a > b
            dec += a < b
        ratios.append(None if cnt == 0 else ((adv - dec) / (adv + dec) if adv + dec else 0.0))

    def ema(span):
        alpha, seen, val, out = 2 / (span + 1), [], None, []
        for r in ratios:
            if r is None:
                out.append(None)
                continue
            if val is None:
                seen.append(r)
                if len(seen) == span:
                    val = sum(seen) / span
                out.append(val)
            else:
                val = alpha * r + (1 - alpha) * val
                out.append(val)
        return out

    fast, slow = ema(19), ema(39)
    return [NAN if f is None or s is None else 1000 * (f - s) for f, s in zip(fast, slow, strict=True)]


def test_mcclellan_matches_slow_loop():
    closes, sess = random_universe()
    got = breadth.universe_breadth(closes, sess)["mcclellan"].to_numpy()
    ref = np.array(slow_mcclellan(closes, sess))
    np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))
    np.testing.assert_allclose(got[~np.isnan(ref)], ref[~np.isnan(ref)], rtol=0, atol=1e-9)
    # seeded at the 39th session with data: d0 and the outage days (60, 61, 62, 100, 101) have none
    first = np.flatnonzero(~np.isnan(got))[0]
    assert first == 39
    for i in (60, 61, 62, 100, 101):
        assert np.isnan(got[i])
    assert np.abs(got[~np.isnan(got)]).max() > 1  # on the ×1000 scale, not a raw ratio


def test_slope_matches_polyfit():
    closes, sess = random_universe()
    u = breadth.universe_breadth(closes, sess)
    line = u["ad_line"].to_numpy()
    slope = u["ad_slope20"].to_numpy()
    checked = 0
    for t in range(len(sess)):
        x = np.arange(max(0, t - 19), t + 1)
        y = line[x]
        ok = ~np.isnan(y)
        if np.isnan(line[t]) or ok.sum() < 15:
            assert np.isnan(slope[t]), t
            continue
        ref = np.polyfit(x[ok], y[ok], 1)[0]  # gaps keep their true session spacing
        assert slope[t] == pytest.approx(ref, abs=1e-9), t
        checked += 1
    assert checked > 100
    # windows straddling the outage (fewer than 20 points) are still fitted when >= 15 remain
    assert not np.isnan(slope[70])


def test_slope_of_a_straight_line_is_its_step():
    sess = pd.bdate_range("2024-01-01", periods=40)
    v = breadth.vendor_breadth(pd.Series(3.0 * np.arange(40) + 7, index=sess), None, sess)
    assert np.isnan(v["ad_slope20"].iloc[13])
    np.testing.assert_allclose(v["ad_slope20"].iloc[14:], 3.0, rtol=1e-12)


# --- vendor ----------------------------------------------------------------------------------------


def test_vendor_alignment_no_fill():
    sess = pd.bdate_range("2024-01-01", periods=30)
    nyad = pd.Series(np.arange(30.0) * 2, index=sess).drop(sess[5])
    nyad[T("2024-01-06")] = 999.0  # Saturday: ignored
    nymo = pd.Series([1.5, -2.5], index=[sess[3], sess[20]])
    v = breadth.vendor_breadth(nyad, nymo, sess)
    assert list(v.columns) == breadth.BREADTH_COLUMNS and v.index.equals(sess)
    assert np.isnan(v.loc[sess[5], "ad_line"])  # no forward fill
    assert v.loc[sess[6], "ad_line"] == 12.0
    assert v["mcclellan"].notna().sum() == 2 and v.loc[sess[20], "mcclellan"] == -2.5
    counts = ["advancers", "decliners", "unchanged", "members", "coverage", "ad_net", "pct_above_sma50"]
    assert v[counts].isna().all().all()
    np.testing.assert_allclose(v["ad_slope20"].iloc[19:], 2.0, rtol=1e-12)
    assert breadth.vendor_breadth(nyad, None, sess)["mcclellan"].isna().all()


# --- divergence ------------------------------------------------------------------------------------


def divergence_path():
    sess = pd.bdate_range("2024-01-01", periods=30)
    # i 0..19 both rise to a high at 19 (SPX 119, A/D 19); 20..24 both fall;
    # i 25: SPX 125 = new 20-session high, A/D 16 < 19 (its high at i=19, inside the window) -> fires
    # i 26..28: SPX below 125 -> no; i 29: SPX 130 new high but A/D 30 also new high -> no
    spx = [100.0 + i for i in range(20)] + [115, 114, 113, 112, 111, 125, 120, 121, 122, 130]
    ad = [float(i) for i in range(20)] + [18, 17, 16, 15, 14, 16, 17, 18, 19, 30]
    return pd.Series(spx, index=sess, dtype=float), pd.Series(ad, index=sess, dtype=float)


def test_divergence_fires_on_the_right_date_only():
    spx, ad = divergence_path()
    d = breadth.breadth_divergence(spx, ad)
    assert d.dtype == "boolean"
    # < 15 of 20 observations before i = 14: unknown
    assert d.iloc[:14].isna().all()
    assert d.iloc[14:].notna().all()
    assert list(d.index[d.fillna(False)]) == [spx.index[25]]
    # A/D at its own high on that date -> no divergence
    ad2 = ad.copy()
    ad2.iloc[25] = 25.0
    assert not breadth.breadth_divergence(spx, ad2).fillna(False).any()


def test_divergence_is_na_where_inputs_are_missing():
    spx, ad = divergence_path()
    ad = ad.copy()
    ad.iloc[25] = NAN
    d = breadth.breadth_divergence(spx, ad)
    assert d.isna().iloc[25]
    assert not d.isna().iloc[26]  # 19 of 20 remain: still defined
    # ad given on fewer dates: aligned to SPX, no fill
    d2 = breadth.breadth_divergence(spx, divergence_path()[1].drop(spx.index[25]))
    assert d2.isna().iloc[25] and d2.index.equals(spx.index)


# --- choosing the source ---------------------------------------------------------------------------


def test_choose_breadth_switches_on_coverage():
    idx = pd.bdate_range("2024-01-01", periods=5)
    uni = pd.DataFrame(NAN, index=idx, columns=breadth.BREADTH_COLUMNS)
    uni["coverage"] = [0.9, 0.4, NAN, 0.5, 0.2]
    uni["members"] = [90, 40, NAN, 50, 20]
    uni["ad_line"] = [1.0, 2.0, NAN, 4.0, 5.0]
    uni["ad_slope20"] = [0.1, 0.2, NAN, 0.4, 0.5]
    uni["div"] = pd.array([True, True, pd.NA, False, True], dtype="boolean")
    ven = pd.DataFrame(NAN, index=idx, columns=breadth.BREADTH_COLUMNS)
    ven["ad_line"] = [100.0, 101.0, 102.0, 103.0, NAN]
    ven["mcclellan"] = [-5.0, -6.0, -7.0, -8.0, NAN]
    ven["div"] = pd.array([False, False, True, True, pd.NA], dtype="boolean")

    out = breadth.choose_breadth(uni, ven, min_coverage=0.5)
    # 0.9 >= 0.5 universe; 0.4 vendor; NaN vendor; 0.5 universe (>=); 0.2 and vendor empty -> None
    assert list(out["breadth_source"]) == ["universe", "vendor", "vendor", "universe", None]
    assert_arr(out["ad_line"], [1.0, 101.0, 102.0, 4.0, NAN])
    assert_arr(out["ad_slope20"], [0.1, NAN, NAN, 0.4, NAN])  # the vendor row's own (NaN) slope
    assert_arr(out["mcclellan"], [NAN, -6.0, -7.0, NAN, NAN])
    assert list(out["div"].astype(object).where(out["div"].notna(), None)) == [True, False, True, False, None]
    # members/coverage always log the universe
    assert_arr(out["coverage"], [0.9, 0.4, NAN, 0.5, 0.2])
    assert_arr(out["members"], [90, 40, NAN, 50, 20])

    alone = breadth.choose_breadth(uni, None, min_coverage=0.5)
    assert list(alone["breadth_source"]) == ["universe", None, None, "universe", None]
    assert_arr(alone["ad_line"], [1.0, NAN, NAN, 4.0, NAN])
    stricter = breadth.choose_breadth(uni, ven, min_coverage=0.95)
    assert list(stricter["breadth_source"]) == ["vendor", "vendor", "vendor", "vendor", None]


# --- causality -------------------------------------------------------------------------------------


CUTS = [0, 1, 20, 45, 61, 62, 63, 99, 120, 159]


def test_universe_breadth_is_causal():
    closes, sess = random_universe()
    full = breadth.universe_breadth(closes, sess)
    for i in CUTS:
        t = sess[i]
        cut = breadth.universe_breadth(closes.loc[:t], sess[: i + 1])
        assert_frame_close(cut, full.loc[:t], check_freq=False)
        # future closes present but sessions cut: same
        assert_frame_close(breadth.universe_breadth(closes, sess[: i + 1]), full.loc[:t], check_freq=False)


def test_vendor_divergence_choose_are_causal():
    closes, sess = random_universe()
    uni = breadth.universe_breadth(closes, sess)
    nyad = uni["ad_line"].dropna() * 3 + 1000
    nymo = uni["mcclellan"] * 2
    spx = pd.Series(4000 + np.cumsum(np.random.default_rng(5).normal(0, 10, len(sess))), index=sess)
    ven = breadth.vendor_breadth(nyad, nymo, sess)
    div = breadth.breadth_divergence(spx, uni["ad_line"])
    both = breadth.choose_breadth(uni.assign(div=div), ven.assign(div=breadth.breadth_divergence(spx, nyad)), 0.9)
    assert set(both["breadth_source"].dropna()) == {"universe", "vendor"}  # the switch is exercised
    assert div.fillna(False).any()
    for i in CUTS:
        t = sess[i]
        s = sess[: i + 1]
        v_cut = breadth.vendor_breadth(nyad.loc[:t], nymo.loc[:t], s)
        assert_frame_close(v_cut, ven.loc[:t], check_freq=False)
        d_cut = breadth.breadth_divergence(spx.loc[:t], uni["ad_line"].loc[:t])
        assert_series_close(d_cut, div.loc[:t], check_freq=False)
        u_cut = breadth.universe_breadth(closes.loc[:t], s)
        c_cut = breadth.choose_breadth(
            u_cut.assign(div=d_cut), v_cut.assign(div=breadth.breadth_divergence(spx.loc[:t], nyad.loc[:t])), 0.9
        )
        assert_frame_close(c_cut, both.loc[:t], check_freq=False)


# --- speed -----------------------------------------------------------------------------------------


# --- real prices (skipped without the shared bundle) -----------------------------------------------

REAL = SHARED_MARKET / "breadth" / "sp500_100_members_adjclose_2021_2026.csv"


@pytest.mark.market_data
@pytest.mark.skipif(not REAL.exists(), reason="shared breadth data absent")
def test_real_sp500_members():
    from vixshield import calendars

    closes = pd.read_csv(REAL, index_col=0, parse_dates=True)
    sess = calendars.sessions(closes.index.min().date(), closes.index.max().date())
    u = breadth.universe_breadth(closes, sess)
    later = u.loc["2021-02-01":]
    assert (later["coverage"] == 1.0).all()
    assert (later["advancers"] + later["decliners"] + later["unchanged"] == later["members"]).all()
    assert later[["ad_line", "mcclellan", "pct_above_sma50"]].iloc[60:].notna().all().all()
    assert later["pct_above_sma50"].dropna().between(0, 1).all()
