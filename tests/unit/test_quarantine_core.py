"""Quarantine rules, the core build and each SQL check, on purpose-built good and bad data."""

import datetime as dt
import itertools
import math
import shutil
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from vixshield import calendars
from vixshield.config import DEFAULT_UNIVERSE, SeriesSession, ValidationSettings
from vixshield.ingest import load as ingest
from vixshield.ingest.sources.base import FetchWindow
from vixshield.ingest.sources.files import FilesSource
from vixshield.store import warehouse
from vixshield.store.schemas import FAMILIES
from vixshield.validate import checks, core_tables, quarantine

AS_OF = dt.date(2024, 3, 28)
SETTINGS = ValidationSettings()


def load_all(conn, root: Path, end: dt.date = dt.date(2200, 1, 1), share: float = 1.0) -> None:
    source = FilesSource(root)
    for family in FAMILIES:
        ingest.load(conn, source, family, FetchWindow(None, end), "test", share)


def edit_cboe(root: Path, name: str, date_us: str, **values: str) -> None:
    path = root / "cboe" / f"{name}_History.csv"
    frame = pd.read_csv(path, dtype=str)
    for col, value in values.items():
        frame.loc[frame["DATE"] == date_us, col] = value
    frame.to_csv(path, index=False)


def build(conn, settings: ValidationSettings = SETTINGS) -> dict[str, checks.CheckOutcome]:
    quarantine.rebuild_quarantine(conn, settings)
    as_of = core_tables.resolve_as_of(conn, None, live=False)
    core_tables.build_core(conn, as_of, settings, DEFAULT_UNIVERSE)  # the sector ETFs, as a run builds it
    return {c.name: checks.run_check(conn, c) for c in checks.SQL_CHECKS if c.asset.startswith("core.")}


def test_clean_data_passes_every_check(conn, market_dir):
    load_all(conn, market_dir)
    outcomes = build(conn)
    assert {n: o.failures for n, o in outcomes.items() if not o.passed} == {}
    assert conn.execute("SELECT count(*) FROM meta.quarantine").fetchone()[0] == 0
    n_sessions = conn.execute("SELECT count(*) FROM core.sessions").fetchone()[0]
    assert conn.execute("SELECT count(*) FROM core.market_daily").fetchone()[0] == n_sessions


def test_known_defects_are_quarantined_with_reasons_and_nulled_in_core(conn, market_dir):
    edit_cboe(market_dir, "VIX", "10/02/2023", OPEN="19.0", HIGH="19.0", LOW="19.0", CLOSE="19.0")  # close-only
    edit_cboe(market_dir, "VIX6M", "10/03/2023", HIGH="15.87", LOW="16.50")  # high below low (cf. 2019-07-05)
    edit_cboe(market_dir, "VIX", "10/04/2023", OPEN="99.0")  # open outside the range
    edit_cboe(market_dir, "VVIX", "10/05/2023", VVIX="15.71")  # implausible (cf. 2006-03-15)
    load_all(conn, market_dir)
    outcomes = build(conn)
    rules = dict(conn.execute("SELECT rule, row_key FROM meta.quarantine").fetchall())
    assert rules == {
        "close_only_bar": "^VIX|2023-10-02",
        "high_below_low": "^VIX6M|2023-10-03",
        "open_outside_range": "^VIX|2023-10-04",
        "close_out_of_range": "^VVIX|2023-10-05",
    }
    assert all(r for (r,) in conn.execute("SELECT reason FROM meta.quarantine").fetchall())
    row = conn.execute(
        "SELECT vix_open, vix_high, vix, vix6m_high, vix6m, vvix FROM core.market_daily WHERE date = '2023-10-02'"
    ).fetchone()
    assert row[:3] == (None, None, 19.0)
    assert conn.execute("SELECT vix_open, vix FROM core.market_daily WHERE date = '2023-10-04'").fetchone()[0] is None
    assert (
        conn.execute("SELECT vix6m_high, vix6m FROM core.market_daily WHERE date = '2023-10-03'").fetchone()[0] is None
    )
    assert conn.execute("SELECT vvix FROM core.market_daily WHERE date = '2023-10-05'").fetchone()[0] is None
    # the defects are handled, so the blocking checks on core pass
    assert all(o.passed for o in outcomes.values() if o.check.blocking)


def duplicate_row(path: Path, line: int, column: int, value: str) -> None:
    """Append to a CSV a copy of its `line`-th data row with one field changed (a key given twice)."""
    lines = path.read_text().splitlines()
    fields = lines[line].split(",")
    fields[column] = value
    path.write_text("\n".join([*lines, ",".join(fields)]) + "\n")


def garble_row(path: Path, line: int, column: int, value: str) -> None:
    """Replace one field of a CSV's `line`-th data row (a value that is not a number)."""
    lines = path.read_text().splitlines()
    fields = lines[line].split(",")
    fields[column] = value
    lines[line] = ",".join(fields)
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize(
    ("edit", "file", "line", "column", "value", "key", "rule"),
    [
        (duplicate_row, "cboe/VIX_History.csv", 20, 4, "99.5", "^VIX|2023-09-29", "conflicting_duplicate"),
        (
            duplicate_row,
            "cboe_futures/VX_per_contract.csv",
            30,
            6,
            "99.5",
            "2023-09-15|2023-11-15",
            "conflicting_duplicate",
        ),
        (duplicate_row, "fred/CPIAUCSL.csv", 5, 1, "99.5", "CPIAUCSL|2022-05-01", "conflicting_duplicate"),
        (garble_row, "cboe/VIX_History.csv", 20, 4, "12.7b", "^VIX|2023-09-29", "unreadable_value"),
        (garble_row, "fred/CPIAUCSL.csv", 5, 1, "283.2p", "CPIAUCSL|2022-05-01", "unreadable_value"),
        (garble_row, "events/fomc_decisions.csv", 1, 1, "maybe", "2023-09-20|fomc", "unreadable_value"),
    ],
)
def test_a_delivered_row_that_cannot_be_loaded_blocks_a_new_warehouse_until_corrected(
    conn, market_dir, edit, file, line, column, value, key, rule
):
    """A key given twice with different values (which is right cannot be known), a value that is not a
    number, an FOMC flag in no known spelling: the row is not loaded. On a new warehouse the series then
    lacks that session and every path-dependent number after it moves (the book's history, today's plan):
    before, the run succeeded and published them. Now the run stops naming the row and its file; a
    warehouse that already holds the row keeps its value and passes, and the corrected file heals."""
    path = market_dir / file
    clean = path.read_text()
    edit(path, line, column, value)
    load_all(conn, market_dir)
    outcomes = build(conn)
    blocked = {n: o for n, o in outcomes.items() if not o.passed and o.check.blocking}
    # a lost SPX or VIX session is also a hole in a required history (core_required_history_complete)
    assert "history_rows_usable" in blocked and set(blocked) <= {
        "history_rows_usable",
        "core_required_history_complete",
    }
    sample = blocked["history_rows_usable"].sample
    assert [(s["row_key"], s["rule"]) for s in sample] == [(key, rule)]
    assert Path(file).name in sample[0]["reason"]
    path.write_text(clean)  # the corrected delivery heals
    load_all(conn, market_dir)
    assert all(o.passed for o in build(conn).values() if o.check.blocking)
    edit(path, line, column, value)  # a warehouse holding the row keeps its value: nothing moves
    load_all(conn, market_dir)
    assert all(o.passed for o in build(conn).values() if o.check.blocking)


def test_a_row_that_cannot_be_loaded_on_a_day_without_a_session_blocks_nothing(conn, market_dir):
    """A Cboe print on an exchange holiday (its VIX file has some) never reaches core: garbled, it costs
    no session. Nor does a row whose key cannot be read name one."""
    with open(market_dir / "cboe" / "VIX_History.csv", "a") as f:
        f.write("11/23/2023,13.1,13.5,12.9,13.2x\n")  # Thanksgiving
    load_all(conn, market_dir)
    conn.execute(
        "INSERT INTO meta.quarantine VALUES ('raw.vx_futures', '2023-10-02|20268-03-18', 'input', "
        "'unreadable_value', '', 'unreadable contract expiry')"
    )
    outcomes = build(conn)
    assert outcomes["history_rows_usable"].passed
    assert conn.execute("SELECT count(*) FROM meta.quarantine WHERE row_key = '^VIX|2023-11-23'").fetchone()[0] == 1


@pytest.mark.parametrize(
    ("file", "old", "new", "session"),
    [
        (
            "yahoo/^GSPC.csv",
            "2023-09-29,",
            "2023-09-29,null,null,null,null,null,null\n#",
            "2023-09-29",
        ),  # Yahoo's nulls
        ("cboe/VIX_History.csv", "09/29/2023,", "02/30/2023,", "2023-09-29"),  # a date no calendar has
    ],
)
def test_a_session_lost_from_spx_or_vix_history_blocks_a_new_warehouse_until_corrected(
    conn, market_dir, file, old, new, session
):
    """A bar of Yahoo's 'null's, or a row whose date cannot be read, leaves no value on that session: before,
    the run succeeded and the book carried or skipped the session, moving its whole path after it and so
    today's plan. Now a new warehouse stops naming the session, and the corrected file heals; a warehouse
    that holds the session keeps it. A gap the publisher's own history has (catalog known_gaps) blocks nothing."""
    path = market_dir / file
    clean = path.read_text()
    lines = clean.splitlines()
    i = next(k for k, line in enumerate(lines) if line.startswith(old))
    lines[i] = new.split("\n#")[0] if "\n#" in new else lines[i].replace(old, new, 1)
    path.write_text("\n".join(lines) + "\n")
    load_all(conn, market_dir)
    outcomes = build(conn)
    blocked = {n: o for n, o in outcomes.items() if not o.passed and o.check.blocking}
    assert set(blocked) == {"core_required_history_complete"}
    assert [s["date"] for s in blocked["core_required_history_complete"].sample] == [session]
    conn.execute(
        "INSERT INTO known_gaps VALUES (?, ?)", [blocked["core_required_history_complete"].sample[0]["series"], session]
    )
    check = next(c for c in checks.SQL_CHECKS if c.name == "core_required_history_complete")
    assert checks.run_check(conn, check).passed  # a publisher's own gap
    path.write_text(clean)
    load_all(conn, market_dir)
    assert all(o.passed for o in build(conn).values() if o.check.blocking)
    # delivered again to a warehouse that holds the session: SPX and the VIX have every session, so the stored
    # row is one the delivery lost, not a stray, and stays (it was withdrawn, leaving the hole: a SUCCESS exit)
    stored = conn.execute("SELECT count(*) FROM raw.daily_bars").fetchall()
    path.write_text("\n".join(lines) + "\n")
    load_all(conn, market_dir)
    assert conn.execute("SELECT count(*) FROM raw.daily_bars").fetchall() == stored
    assert all(o.passed for o in build(conn).values() if o.check.blocking)


def null_bar(market_dir: Path, day: str) -> None:
    """Yahoo's bar of 'null's for one ^GSPC session."""
    path = market_dir / "yahoo" / "^GSPC.csv"
    lines = path.read_text().splitlines()
    i = next(k for k, line in enumerate(lines) if line.startswith(f"{day},"))
    lines[i] = f"{day},null,null,null,null,null,null"
    path.write_text("\n".join(lines) + "\n")


def listed(*sessions: tuple[str, str]) -> tuple[SeriesSession, ...]:
    return tuple(SeriesSession(series, dt.date.fromisoformat(day), "never corrected") for series, day in sessions)


def accepting(*holes: tuple[str, str]) -> ValidationSettings:
    return ValidationSettings(accepted_holes=listed(*holes))


def blocking(outcomes: dict[str, checks.CheckOutcome]) -> set[str]:
    return {n for n, o in outcomes.items() if o.check.blocking and not o.passed}


def test_a_hole_the_publisher_never_fills_can_be_accepted_and_every_run_lists_it(conn, market_dir):
    """A publisher that never corrects a lost session (Yahoo's bar of nulls, a garbled CPI month) would keep a
    new warehouse blocked for good. The user lists the session in validation.accepted_holes: the history
    checks stop blocking on it, and the WARN check accepted_holes names it with its reason in every run. A
    misspelt series accepts nothing (and says so); a delivery that fills the session is used, and the check
    says the entry can go."""
    files = [market_dir / "yahoo" / "^GSPC.csv", market_dir / "fred" / "CPIAUCSL.csv"]
    clean = [f.read_text() for f in files]
    null_bar(market_dir, "2023-09-29")
    garble_row(files[1], 5, 1, "283.2p")  # CPIAUCSL|2022-05-01
    load_all(conn, market_dir)
    assert blocking(build(conn)) == {"core_required_history_complete", "history_rows_usable"}
    misspelt = build(conn, accepting(("GSPC", "2023-09-29"), ("CPIAUCSL", "2022-05-01")))
    assert blocking(misspelt) == {"core_required_history_complete"}
    assert "no stored series is named so" in misspelt["accepted_holes"].sample[1]["state"]
    outcomes = build(conn, accepting(("^GSPC", "2023-09-29"), ("CPIAUCSL", "2022-05-01")))
    assert blocking(outcomes) == set()
    listed = outcomes["accepted_holes"]
    assert not listed.check.blocking and not listed.passed  # a WARN: recorded, never silent
    assert [(r["date"], r["series"], r["reason"], r["state"].split(":")[0]) for r in listed.sample] == [
        ("2022-05-01", "CPIAUCSL", "never corrected", "accepted"),
        ("2023-09-29", "^GSPC", "never corrected", "accepted"),
    ]
    assert conn.execute("SELECT spx_close FROM core.market_daily WHERE date = '2023-09-29'").fetchall() == [(None,)]
    for f, text in zip(files, clean, strict=True):  # the publisher corrects them after all: the values are used
        f.write_text(text)
    load_all(conn, market_dir)
    outcomes = build(conn, accepting(("^GSPC", "2023-09-29"), ("CPIAUCSL", "2022-05-01")))
    assert blocking(outcomes) == set()
    assert {r["state"].split(":")[0] for r in outcomes["accepted_holes"].sample} == {"no longer a hole"}
    assert conn.execute("SELECT spx_close FROM core.market_daily WHERE date = '2023-09-29'").fetchall()[0][0] > 0


def test_an_accepted_hole_among_the_last_sessions_is_accepted_but_never_the_as_of(conn, market_dir):
    """A hole a few sessions back also fails core_recent_sessions_complete: accepted, neither blocks. The as-of
    session itself is today's plan: an accepted hole there still blocks (core_required_fresh)."""
    sessions = pd.read_csv(market_dir / "yahoo" / "^GSPC.csv")["Date"].tolist()
    recent, last = sessions[-5], sessions[-1]
    vix = market_dir / "cboe" / "VIX_History.csv"
    clean_vix = vix.read_text()
    garble_row(vix, len(sessions), 4, "13.2x")  # the as-of's VIX close
    null_bar(market_dir, recent)
    load_all(conn, market_dir)
    outcomes = build(conn, accepting(("^GSPC", recent), ("^VIX", last)))
    assert {"core_required_fresh", "as_of_rows_usable"} <= blocking(outcomes)
    assert outcomes["as_of_rows_usable"].sample[0]["date"] == last
    assert [r["date"] for r in outcomes["core_recent_sessions_complete"].sample] == [last]
    vix.write_text(clean_vix)  # the as-of delivered again: only the hole a few sessions back is left
    load_all(conn, market_dir)
    assert {"core_recent_sessions_complete", "core_required_history_complete"} <= blocking(build(conn))
    assert blocking(build(conn, accepting(("^GSPC", recent)))) == set()


def test_a_wrong_value_the_publisher_keeps_serving_can_be_set_aside_on_the_record(conn, market_dir):
    """A bad print no corrected file will replace (an SPX close half again too high, which the jump limits
    rightly block; a CPI month a little off, which nothing can tell) is set aside by validation.set_aside: the
    row goes to meta.quarantine with the user's reason, core lacks that session, the history checks accept
    the hole and the WARN check lists it. Taking the entry out brings the delivered value back."""
    spx = market_dir / "yahoo" / "^GSPC.csv"
    bars = pd.read_csv(spx, dtype=str)
    row = bars.index[bars["Date"] == "2023-09-29"][0]
    for col in ("Open", "High", "Low", "Close", "Adj Close"):
        bars.loc[row, col] = str(float(bars.loc[row, col]) * 1.5)
    bars.to_csv(spx, index=False)
    load_all(conn, market_dir)
    assert "core_outlier_jumps" in blocking(build(conn))
    settings = ValidationSettings(set_aside=listed(("^GSPC", "2023-09-29"), ("CPIAUCSL", "2022-05-01")))
    outcomes = build(conn, settings)
    assert blocking(outcomes) == set()
    set_aside = conn.execute(
        "SELECT table_name, row_key, column_name, reason FROM meta.quarantine WHERE rule = 'set_aside' ORDER BY 1"
    ).fetchall()
    assert set_aside == [
        ("raw.daily_bars", "^GSPC|2023-09-29", "row", "validation.set_aside: never corrected"),
        ("raw.macro_observations", "CPIAUCSL|2022-05-01", "row", "validation.set_aside: never corrected"),
    ]
    assert conn.execute("SELECT spx_close FROM core.market_daily WHERE date = '2023-09-29'").fetchall() == [(None,)]
    cpi = (
        "SELECT count(*) FROM core.macro_observations WHERE series_id = 'CPIAUCSL' AND observation_date = '2022-05-01'"
    )
    assert conn.execute(cpi).fetchall() == [(0,)]
    assert [(r["series"], r["state"].split(":")[0]) for r in outcomes["accepted_holes"].sample] == [
        ("CPIAUCSL", "set aside"),
        ("^GSPC", "set aside"),
    ]
    assert "core_outlier_jumps" in blocking(build(conn))  # the entry taken out: the delivered values are back
    assert conn.execute(cpi).fetchall() == [(1,)]


def blocks_after(conn, market_dir: Path, name: str, damage: Callable[[], object]) -> checks.CheckOutcome:
    """Check `name` passes on the files as they are, and blocks once `damage()` has changed them: its outcome."""
    load_all(conn, market_dir)
    assert build(conn)[name].passed
    damage()
    load_all(conn, market_dir)
    out = build(conn)[name]
    assert out.check.blocking and not out.passed
    return out


def test_a_vix_close_fred_republished_otherwise_blocks_the_run(conn, market_dir):
    """FRED's VIXCLS is Cboe's VIX close republished (they agree on every common session since 1990). A VIX
    close changed inside every rule (12.76 saved as 21.30, a day in 2023) passed, and the book priced that
    session's hedge and condor off it; now the run stops naming the session and both values. Without a
    VIXCLS file nothing is compared."""
    vix = pd.read_csv(market_dir / "cboe" / "VIX_History.csv", dtype=str)
    dates = pd.to_datetime(vix["DATE"], format="%m/%d/%Y").dt.strftime("%Y-%m-%d")
    fred = pd.DataFrame({"observation_date": dates, "VIXCLS": vix["CLOSE"].astype(float).round(2)})
    fred.to_csv(market_dir / "fred" / "VIXCLS.csv", index=False)
    close = vix.loc[vix["DATE"] == "09/29/2023", "CLOSE"].item()
    out = blocks_after(
        conn,
        market_dir,
        "vix_agrees_with_fred",
        lambda: edit_cboe(market_dir, "VIX", "09/29/2023", CLOSE="21.30", HIGH="21.30"),
    )
    assert [(r["date"], r["cboe_vix"], r["fred_vixcls"]) for r in out.sample] == [
        ("2023-09-29", "21.3", str(round(float(close), 2)))
    ]
    (market_dir / "fred" / "VIXCLS.csv").unlink()
    conn.execute("DELETE FROM raw.macro_observations WHERE series_id = 'VIXCLS'")
    assert build(conn)["vix_agrees_with_fred"].passed


def test_a_vx_settle_typed_wrong_in_a_later_month_blocks_the_run(conn, market_dir):
    """A settle of the third month typed 56.03 for 16.03: inside every row rule, and outside the front two
    months the jump check watched, it priced the hedge's options on that expiry. Every contract's one-session
    move is held to the volatility limits now: the jump up and the fall back are named."""
    path = market_dir / "cboe_futures" / "VX_per_contract.csv"
    vx = pd.read_csv(path)
    before = vx[(vx["Futures"] == "2023-11-15") & (vx["Trade Date"] < "2023-09-15")]["Settle"].iloc[-1]
    garble_row(path, 30, 6, "56.03")
    load_all(conn, market_dir)
    out = build(conn)["vx_contract_jumps"]
    assert out.check.blocking and not out.passed
    assert [(r["date"], r["expiry"]) for r in out.sample] == [
        ("2023-09-15", "2023-11-15"),
        ("2023-09-18", "2023-11-15"),
    ]
    assert float(out.sample[0]["move"]) == pytest.approx(math.log(56.03 / before), abs=1e-4)


@pytest.mark.parametrize("months", [1, -1])
def test_a_vx_file_naming_another_months_contract_blocks_the_run_until_corrected(conn, market_dir, months):
    """Each contract's rows labelled with the next (or previous) month's expiry: every row passes the row
    rules, and the hedge would price each option off the wrong month's future. A contract trades until its
    final settlement and not after: labelled a month later, each stops a month of sessions short of its
    label; a month earlier, each trades a month past it. The run stops naming the contracts; the corrected
    file heals it."""
    path = market_dir / "cboe_futures" / "VX_per_contract.csv"
    vx = pd.read_csv(path, dtype=str)
    expiries = sorted(vx["Futures"].unique())
    label = dict(itertools.pairwise(expiries) if months == 1 else itertools.pairwise(expiries[::-1]))
    good = path.read_bytes()
    # on a new warehouse (on one holding the real months, the mass-revision guard refuses the file)
    vx[vx["Futures"].isin(label)].assign(Futures=lambda f: f["Futures"].map(label)).to_csv(path, index=False)
    load_all(conn, market_dir)
    out = build(conn)["vx_contracts_end_at_expiry"]
    assert out.check.blocking and not out.passed
    last_day = vx["Trade Date"].max()
    month = {new: old for old, new in label.items()}  # a label -> the contract whose rows it now names
    # a month of sessions between a label and the contract's own expiry (cut at the file's last day)
    gap = {new: len(calendars.sessions(min(new, old), min(max(new, old), last_day))) - 1 for new, old in month.items()}
    if months == 1:  # each label inside the history, short by the month; no row after it
        expected = [(e, month[e], gap[e], 0) for e in month if e <= last_day]
    else:  # each label is its contract's last row before the label's expiry, the month's rows after it
        expected = [(e, e, 0, gap[e]) for e in month if gap[e] > 5]
    expected.sort()
    got = [(r["expiry"], r["last_trade"], int(r["sessions_short"]), int(r["rows_after_expiry"])) for r in out.sample]
    assert got == expected[: len(got)] and out.failures == len(expected)
    path.write_bytes(good)
    load_all(conn, market_dir)
    assert build(conn)["vx_contracts_end_at_expiry"].passed


def test_a_rate_file_holding_another_rate_breaks_its_spread_and_blocks_the_run(conn, market_dir):
    """FRED computes T10Y2Y as DGS10 - DGS2 (never more than 0.02 off since 1980). DGS2's history saved
    as DGS10.csv passes every range and curve rule (two rates alone name nothing) and priced every option
    of the plan off the wrong rate with a SUCCESS exit; the spread gives it away."""
    fred = market_dir / "fred"
    ten = pd.read_csv(fred / "DGS10.csv")
    two = ten.assign(DGS10=(ten["DGS10"] - 0.55).round(2)).rename(columns={"DGS10": "DGS2"})
    two.to_csv(fred / "DGS2.csv", index=False)
    spread = ten.assign(DGS10=(ten["DGS10"] - two["DGS2"]).round(2)).rename(columns={"DGS10": "T10Y2Y"})
    spread.to_csv(fred / "T10Y2Y.csv", index=False)
    damage = partial(two.rename(columns={"DGS2": "DGS10"}).to_csv, fred / "DGS10.csv", index=False)
    out = blocks_after(conn, market_dir, "macro_spreads_consistent", damage)
    row = out.sample[0]
    known = conn.execute("SELECT count(*) FROM core.macro_observations WHERE series_id = 'T10Y2Y'").fetchall()
    assert (row["series_id"], int(row["days"])) == ("T10Y2Y", known[0][0])  # every day the spread is known
    assert (float(row["latest_spread"]), float(row["latest_difference"])) == pytest.approx((0.55, 0.0))


def test_a_daily_rate_file_holding_other_values_misses_its_monthly_average_and_blocks_the_run(conn, market_dir):
    """FEDFUNDS is the month's average of DFF over every calendar day (FRED: never more than 0.005 off).
    A DFF file holding other values a few tenths away passes the curve rule, where rates sit close together;
    its months miss FEDFUNDS. Only complete months are judged: the current one has no FEDFUNDS yet."""
    fred = market_dir / "fred"
    days = pd.date_range("2023-09-01", "2024-01-31")
    dff = pd.DataFrame({"observation_date": days.strftime("%Y-%m-%d"), "DFF": 5.33 - 0.01 * (days.day % 3)})
    dff.to_csv(fred / "DFF.csv", index=False)
    month = dff.assign(m=days.to_period("M").start_time.strftime("%Y-%m-%d")).groupby("m")["DFF"].mean().round(2)
    pd.DataFrame({"observation_date": month.index, "FEDFUNDS": month.to_numpy()}).to_csv(
        fred / "FEDFUNDS.csv", index=False
    )
    damage = partial(dff.assign(DFF=dff["DFF"] + 0.3).to_csv, fred / "DFF.csv", index=False)
    out = blocks_after(conn, market_dir, "macro_averages_consistent", damage)  # another rate's history as DFF
    row = out.sample[0]
    assert (row["series_id"], int(row["months"]), row["first"], row["last"]) == (
        "FEDFUNDS",
        5,
        "2023-09-01",
        "2024-01-01",
    )
    assert float(row["latest_average"]) - float(row["latest_value"]) == pytest.approx(0.3, abs=0.006)


def test_a_file_holding_another_index_blocks_the_run(conn, market_dir):
    """The VIX's history saved as VIX3M_History.csv passes every range and ratio rule (the ratio is 1), and
    IVTS = VIX / VIX3M = 1 gates every entry. Real indices coincide by chance only; the run stops naming
    the pair."""
    cboe = market_dir / "cboe"
    out = blocks_after(
        conn, market_dir, "indices_distinct", lambda: shutil.copy(cboe / "VIX_History.csv", cboe / "VIX3M_History.csv")
    )
    row = out.sample[0]
    assert (row["series"], row["other"]) == ("vix", "vix3m") and row["equal_sessions"] == row["common_sessions"]


def shift_dates(path: Path, sessions: int, by: str | None = None) -> None:
    """Move every value of the file `sessions` rows later (> 0: each date holds an earlier session's values)
    or earlier (< 0: a later session's, a look-ahead), as an export's date slip does; `by` shifts within
    each value of that column (a VX contract). Rows left without values are dropped."""
    frame = pd.read_csv(path, dtype=str)
    keys = [frame.columns[0], *([by] if by else [])]
    values = [c for c in frame.columns if c not in keys]
    moved = frame.groupby(by)[values] if by else frame[values]
    frame[values] = moved.shift(sessions)
    frame.dropna(subset=values, how="all").to_csv(path, index=False)


@pytest.mark.parametrize(
    ("name", "sessions", "by", "series", "finding"),
    [
        ("yahoo/^GSPC.csv", 1, None, {"spx_close"}, "dates one session late"),
        ("cboe/VIX3M_History.csv", -1, None, {"vix3m"}, "dates one session early"),
        ("cboe/VVIX_History.csv", 1, None, {"vvix"}, "dates one session late"),
        ("cboe_futures/VX_per_contract.csv", -1, "Futures", {"VX futures"}, "dates one session early"),
        ("breadth/sector_etfs_close.csv", 1, None, {"breadth universe"}, "dates one session late"),
        ("breadth/nyse_NYAD_NYMO_vendor.csv", 1, None, {"NYAD", "NYMO"}, "dates one session late"),
    ],
)
def test_a_file_whose_dates_are_a_session_off_blocks_the_run_until_corrected(
    conn, market_dir, name, sessions, by, series, finding
):
    """A file whose values sit one session from their dates passes every range and jump rule, while every
    feature, gate and plan made from it moves (and a session early is a look-ahead). Its changes then move
    with the VIX's of the session before or after, not the same one: the run stops naming the series and
    which way its dates are off. The corrected file heals the warehouse that loaded the bad one."""
    path = market_dir / name
    good = path.read_bytes()
    out = blocks_after(conn, market_dir, "series_aligned", partial(shift_dates, path, sessions, by))
    assert {r["series"] for r in out.sample} == series
    assert {r["finding"] for r in out.sample} == {finding}
    assert "2023" in {r["year"] for r in out.sample}  # every year with 60 pairs or more (2023: 82)
    path.write_bytes(good)
    load_all(conn, market_dir)
    assert build(conn)["series_aligned"].passed


def test_two_term_index_files_saved_under_each_others_names_block_the_run(conn, market_dir):
    """VIX3M's and VIX6M's files swapped: each is a real index, distinct and inside every range and ratio
    rule, but the curve is upside down on every session (the test market's VIX3M is 1.12 x the VIX, its
    VIX6M 1.2 x), where the real one slopes up on 93% of them."""
    cboe = market_dir / "cboe"
    three, six = cboe / "VIX3M_History.csv", cboe / "VIX6M_History.csv"

    def swap() -> None:
        texts = three.read_text(), six.read_text()
        three.write_text(texts[1])
        six.write_text(texts[0])

    out = blocks_after(conn, market_dir, "term_structure_ordered", swap)
    assert [(r["shorter"], r["longer"], r["shorter_below"]) for r in out.sample] == [("vix3m", "vix6m", "0")]


def test_a_file_holding_a_series_that_does_not_move_with_the_vix_blocks_the_run(conn, market_dir):
    """VVIX's and SKEW's files saved under each other's names: both in range, distinct, dated right. VVIX moves
    with the VIX (the test market's is 80 + 3 x VIX; the real one's same-session correlation is never below
    0.29 in a year), SKEW does not (the test market's is noise around 135): the run names the series."""
    cboe = market_dir / "cboe"
    vvix, skew = pd.read_csv(cboe / "VVIX_History.csv", dtype=str), pd.read_csv(cboe / "SKEW_History.csv", dtype=str)

    def swap() -> None:
        vvix.rename(columns={"VVIX": "SKEW"}).to_csv(cboe / "SKEW_History.csv", index=False)
        skew.rename(columns={"SKEW": "VVIX"}).to_csv(cboe / "VVIX_History.csv", index=False)

    out = blocks_after(conn, market_dir, "series_aligned", swap)
    assert {(r["series"], r["finding"]) for r in out.sample} == {
        ("vvix", "does not move with the VIX: another series' values?")
    }
    assert all(abs(float(r["same_session"])) < checks.MIN_CO_MOVEMENT for r in out.sample)


def test_a_macro_file_holding_another_series_blocks_the_run(conn, market_dir):
    """CPIAUCSL's history saved as CPILFESL.csv passes every range rule and changes core inflation and the
    macro stress score; distinct series coincide by chance only."""
    cpi = pd.read_csv(market_dir / "fred" / "CPIAUCSL.csv")
    core_cpi = cpi.assign(CPIAUCSL=(cpi["CPIAUCSL"] * 1.04).round(3)).rename(columns={"CPIAUCSL": "CPILFESL"})
    core_cpi.to_csv(market_dir / "fred" / "CPILFESL.csv", index=False)
    damage = partial(
        cpi.rename(columns={"CPIAUCSL": "CPILFESL"}).to_csv, market_dir / "fred" / "CPILFESL.csv", index=False
    )
    out = blocks_after(conn, market_dir, "macro_series_distinct", damage)
    row = out.sample[0]
    assert (row["series_id"], row["other"]) == ("CPIAUCSL", "CPILFESL") and row["equal_dates"] == row["common_dates"]


def test_an_fomc_file_with_shifted_dates_blocks_the_run(conn, market_dir):
    """Every FOMC date a day late (a time-zone shift, a misread format): each meeting's event gate moved to
    the wrong session, with a SUCCESS exit. Sources differ from the shipped Fed calendar on a few dates, a
    shifted file on nearly all."""
    shipped = calendars.shipped_events()
    fomc = shipped[(shipped["kind"] == "fomc") & shipped["date"].between("2019-01-01", "2024-12-31")]
    dates = pd.to_datetime(fomc["date"])
    path = market_dir / "events" / "fomc_decisions.csv"
    pd.DataFrame({"date": dates.dt.strftime("%Y-%m-%d"), "scheduled": fomc["scheduled"]}).to_csv(path, index=False)
    shifted = (dates + pd.Timedelta(days=1)).dt.strftime("%Y-%m-%d")
    damage = partial(pd.DataFrame({"date": shifted, "scheduled": fomc["scheduled"]}).to_csv, path, index=False)
    out = blocks_after(conn, market_dir, "fomc_matches_calendar", damage)
    off = (~(dates + pd.Timedelta(days=1)).isin(pd.to_datetime(shipped["date"][shipped["kind"] == "fomc"]))).sum()
    # judged: the delivered dates, the first unshifted one kept from before (events outside a file's dates
    # stay), and the calendar's meetings past the file's last date that the as-of knows (a year ahead)
    calendar = pd.to_datetime(shipped["date"][(shipped["kind"] == "fomc") & shipped["scheduled"]])
    known = calendar - pd.Timedelta(days=365) <= str(AS_OF)
    ahead = calendar[(calendar > dates.max() + pd.Timedelta(days=1)) & known]
    assert (int(out.sample[0]["off_calendar"]), int(out.sample[0]["judged"])) == (off, len(dates) + 1 + len(ahead))


def test_an_fomc_file_with_inverted_scheduled_flags_blocks_the_run(conn, market_dir):
    """Every scheduled flag inverted: each scheduled meeting becomes unannounced (known only on its day),
    so the event gate no longer holds entries before it, with a SUCCESS exit. Sources agree with the
    shipped Fed calendar on every flag they give (the real file: 266 of 266), an inverted file on none."""
    shipped = calendars.shipped_events()
    fomc = shipped[(shipped["kind"] == "fomc") & shipped["date"].between("2019-01-01", str(AS_OF))]
    path = market_dir / "events" / "fomc_decisions.csv"
    fomc[["date", "scheduled"]].to_csv(path, index=False)
    inverted = fomc.assign(scheduled=~fomc["scheduled"].astype(bool))
    out = blocks_after(
        conn, market_dir, "fomc_matches_calendar", partial(inverted[["date", "scheduled"]].to_csv, path, index=False)
    )
    row = out.sample[0]
    assert (int(row["off_calendar"]), int(row["flags_opposite"]), int(row["flags_judged"])) == (0, len(fomc), len(fomc))


def test_a_macro_value_in_the_wrong_unit_is_quarantined_and_the_corrected_file_heals(conn, market_dir):
    """A yield in basis points (420 for 4.20%) and a CPI a hundred times too small pass every
    structural rule; the series' plausible ranges set them aside, and core never holds them."""
    dgs10_file, cpi_file = market_dir / "fred" / "DGS10.csv", market_dir / "fred" / "CPIAUCSL.csv"
    dgs10, cpi = pd.read_csv(dgs10_file, dtype=str), pd.read_csv(cpi_file, dtype=str)
    bad_dgs10, bad_cpi = dgs10.copy(), cpi.copy()
    bad_dgs10.loc[bad_dgs10["observation_date"] == "2023-11-01", "DGS10"] = "420"
    bad_cpi.loc[bad_cpi["observation_date"] == "2023-10-01", "CPIAUCSL"] = "3.0"
    bad_dgs10.to_csv(dgs10_file, index=False)
    bad_cpi.to_csv(cpi_file, index=False)
    load_all(conn, market_dir)
    outcomes = build(conn)
    flagged = conn.execute(
        "SELECT row_key, column_name, value, reason FROM meta.quarantine WHERE rule = 'value_out_of_range' ORDER BY 1"
    ).fetchall()
    assert [(k, c, float(v)) for k, c, v, _ in flagged] == [
        ("CPIAUCSL|2023-10-01", "row", 3.0),
        ("DGS10|2023-11-01", "row", 420.0),
    ]
    assert "for DGS10" in flagged[1][3] and "plausible range" in flagged[1][3]
    core = "SELECT count(*) FROM core.macro_observations WHERE series_id = ? AND observation_date = ?"
    assert conn.execute(core, ["DGS10", "2023-11-01"]).fetchone()[0] == 0
    assert conn.execute(core, ["CPIAUCSL", "2023-10-01"]).fetchone()[0] == 0
    assert conn.execute(core, ["DGS10", "2023-11-02"]).fetchone()[0] == 1  # only the bad row is set aside
    assert outcomes["macro_plausible_ranges"].passed
    assert all(o.passed for o in outcomes.values() if o.check.blocking)
    # the publisher corrects the files: the next load revises the rows and nothing stays quarantined
    dgs10.to_csv(dgs10_file, index=False)
    cpi.to_csv(cpi_file, index=False)
    load_all(conn, market_dir)
    build(conn)
    assert conn.execute("SELECT count(*) FROM meta.quarantine").fetchone()[0] == 0
    value = conn.execute(
        "SELECT value FROM core.macro_observations WHERE series_id = 'DGS10' AND observation_date = '2023-11-01'"
    ).fetchone()[0]
    assert value == float(dgs10.loc[dgs10["observation_date"] == "2023-11-01", "DGS10"].item())


@pytest.mark.parametrize(("day", "recent"), [("2024-03-28", True), ("2024-03-25", False), ("2023-10-16", False)])
def test_a_halved_spx_blocks_on_the_as_of_session_and_in_history(conn, market_dir, day, recent):
    """A consistent bar at half the level passes every per-row rule. On the session a plan is made from
    it would put the condor's strikes at half the index; before it, the book's whole path after it would
    move (it was a warning, and the run published those numbers)."""
    path = market_dir / "yahoo" / "^GSPC.csv"
    spx = pd.read_csv(path)
    prices = ["Open", "High", "Low", "Close", "Adj Close"]
    spx.loc[spx["Date"] == day, prices] = spx.loc[spx["Date"] == day, prices] * 0.5
    spx.to_csv(path, index=False)
    load_all(conn, market_dir)
    outcomes = build(conn)
    history, latest = outcomes["core_outlier_jumps"], outcomes["core_outlier_jumps_recent"]
    assert history.check.blocking and latest.check.blocking
    assert "validation.max_jump" in history.check.description  # what to do when the move is real
    if recent:
        assert not latest.passed and [row["date"] for row in latest.sample] == [day]
        assert "validation.max_jump" in latest.check.description
        assert history.passed  # the as-of's own move is named once
    else:
        assert latest.passed and history.failures == 2  # down to the bad print and back up from it
        assert day in {row["date"] for row in history.sample}


def test_a_bar_repeating_the_previous_session_is_a_stale_feed_and_blocks_the_run(conn, market_dir):
    """Yesterday's bar served again as today's passes every range rule; it would make today's plan from
    yesterday's market. Set aside, today has no SPX close, which blocks, as any unusable close does."""
    path = market_dir / "yahoo" / "^GSPC.csv"
    spx = pd.read_csv(path)
    cols = ["Open", "High", "Low", "Close", "Adj Close", "Volume"]
    spx.loc[spx.index[-1], cols] = spx.loc[spx.index[-2], cols].to_numpy()
    spx.to_csv(path, index=False)
    load_all(conn, market_dir)
    outcomes = build(conn)
    last, previous = spx["Date"].iloc[-1], spx["Date"].iloc[-2]
    flagged = conn.execute("SELECT row_key, column_name, reason FROM meta.quarantine WHERE rule = 'repeated_bar'")
    ((key, column, reason),) = flagged.fetchall()
    assert (key, column) == (f"^GSPC|{last}", "row") and f"of {previous}" in reason
    spx_close = "SELECT spx_close FROM core.market_daily WHERE date = ?"
    assert conn.execute(spx_close, [last]).fetchone()[0] is None
    assert conn.execute(spx_close, [previous]).fetchone()[0] == spx["Close"].iloc[-2]
    blocked = {n for n, o in outcomes.items() if not o.passed and o.check.blocking}
    # the as-of session lacks SPX, and the row that should have given it is named
    assert blocked == {"core_required_fresh", "core_recent_sessions_complete", "as_of_rows_usable"}


def test_a_spx_open_equal_to_the_previous_close_is_quarantined_as_a_cell(conn, market_dir):
    path = market_dir / "yahoo" / "^GSPC.csv"
    spx = pd.read_csv(path)
    i = spx.index[spx["Date"] == "2023-10-04"][0]
    stale = spx.loc[i - 1, "Close"]  # the index's first value: yesterday's closes of unopened stocks
    spx.loc[i, ["Open", "High"]] = stale, max(stale, spx.loc[i, "High"])
    spx.loc[i, "Low"] = min(stale, spx.loc[i, "Low"])
    spx.to_csv(path, index=False)
    vix = pd.read_csv(market_dir / "cboe" / "VIX_History.csv", dtype=str)
    j = vix.index[vix["DATE"] == "10/04/2023"][0]
    vix_prev = vix.loc[j - 1, "CLOSE"]
    edit_cboe(market_dir, "VIX", "10/04/2023", OPEN=vix_prev, HIGH=str(max(float(vix_prev), float(vix.loc[j, "HIGH"]))))
    edit_cboe(market_dir, "VIX", "10/04/2023", LOW=str(min(float(vix_prev), float(vix.loc[j, "LOW"]))))
    load_all(conn, market_dir)
    outcomes = build(conn)
    flagged = conn.execute("SELECT row_key, column_name, value, reason FROM meta.quarantine").fetchall()
    assert [(k, c) for k, c, _, _ in flagged] == [("^GSPC|2023-10-04", "open")]  # not the VIX: a real print
    assert float(flagged[0][2]) == stale and "previous session's close" in flagged[0][3]
    o, h, lo, c = conn.execute(
        "SELECT spx_open, spx_high, spx_low, spx_close FROM core.market_daily WHERE date = '2023-10-04'"
    ).fetchone()
    assert o is None and (h, lo, c) == (spx.loc[i, "High"], spx.loc[i, "Low"], spx.loc[i, "Close"])
    assert all(o.passed for o in outcomes.values() if o.check.blocking)


def test_a_rebuild_keeps_rejects_drops_mended_defects_and_corrects_stale_rows(conn, market_dir):
    """Only the difference is written on a rebuild; the result must be what deriving afresh gives."""
    vix_file = market_dir / "cboe" / "VIX_History.csv"
    vix = pd.read_csv(vix_file, dtype=str)
    published_open = vix.loc[vix["DATE"] == "10/04/2023", "OPEN"].item()
    edit_cboe(market_dir, "VIX", "10/02/2023", OPEN="19.0", HIGH="19.0", LOW="19.0", CLOSE="19.0")
    edit_cboe(market_dir, "VIX", "10/04/2023", OPEN="99.0")
    load_all(conn, market_dir)
    quarantine.rebuild_quarantine(conn)
    conn.execute("UPDATE meta.quarantine SET reason = 'an older wording' WHERE rule = 'close_only_bar'")
    conn.execute(
        "INSERT INTO meta.quarantine VALUES ('raw.vx_futures', '2023-10-02|2023-10-18', 'settle', 'zero_settle', "
        "'0.0', 'settle missing or 0.0: core uses the close')"
    )  # no longer in raw
    edit_cboe(market_dir, "VIX", "10/04/2023", OPEN=published_open)  # the publisher mended the open
    with open(vix_file, "a") as f:
        f.write("03/29/2024,14.0,14.5\n")  # a row cut short: an input reject, which a rebuild keeps
    load_all(conn, market_dir)
    assert quarantine.rebuild_quarantine(conn) == {"close_only_bar": 1, "incomplete_row": 1}
    rows = conn.execute("SELECT rule, row_key, column_name, reason FROM meta.quarantine ORDER BY rule").fetchall()
    assert rows[0] == (
        "close_only_bar",
        "^VIX|2023-10-02",
        "range",
        "open = high = low = close: a close-only record, open/high/low set aside",
    )
    assert rows[1][:3] == ("incomplete_row", "^VIX|03/29/2024", "input") and "VIX_History.csv line" in rows[1][3]


def test_vx_zero_settle_uses_close_and_m1_rolls_before_expiry(conn, market_dir):
    path = market_dir / "cboe_futures" / "VX_per_contract.csv"
    vx = pd.read_csv(path, dtype=str)
    vx.loc[vx["Trade Date"] == "2023-10-02", "Settle"] = "0.0"
    vx.to_csv(path, index=False)
    load_all(conn, market_dir)
    build(conn)
    m1, expiry, src = conn.execute(
        "SELECT vx_m1, vx_m1_expiry::VARCHAR, vx_m1_price_source FROM core.market_daily WHERE date = '2023-10-02'"
    ).fetchone()
    close = float(vx[(vx["Trade Date"] == "2023-10-02") & (vx["Futures"] == "2023-10-18")]["Close"].iloc[0])
    assert (m1, expiry, src) == (close, "2023-10-18", "close")
    # on the October expiry day M1 is already November
    assert (
        conn.execute("SELECT vx_m1_expiry::VARCHAR FROM core.market_daily WHERE date = '2023-10-18'").fetchone()[0]
        == "2023-11-15"
    )


def test_stale_spx_blocks(conn, market_dir):
    load_all(conn, market_dir)
    conn.execute("DELETE FROM raw.daily_bars WHERE symbol = '^GSPC' AND date >= '2024-03-26'")
    quarantine.rebuild_quarantine(conn)
    core_tables.build_core(conn, AS_OF, SETTINGS)  # the expected session, as a live run would ask for
    checks.set_variables(conn, AS_OF, SETTINGS)
    for name in ("core_required_fresh", "core_recent_sessions_complete"):
        out = checks.run_check(conn, next(c for c in checks.SQL_CHECKS if c.name == name))
        assert not out.passed and out.check.blocking, name


@pytest.mark.parametrize(
    ("check", "damage"),
    [
        ("core_one_row_per_session", "INSERT INTO core.market_daily SELECT * FROM core.market_daily LIMIT 1"),
        ("core_one_row_per_session", "UPDATE core.market_daily SET date = '2023-12-25' WHERE date = '2023-12-26'"),
        ("core_ohlc_consistent", "UPDATE core.market_daily SET spx_low = spx_high + 1 WHERE date = '2023-11-01'"),
        ("core_plausible_ranges", "UPDATE core.market_daily SET vix = 180 WHERE date = '2023-11-01'"),
        ("core_outlier_jumps", "UPDATE core.market_daily SET spx_close = spx_close * 1.5 WHERE date = '2023-11-01'"),
        ("core_outlier_jumps", "UPDATE core.market_daily SET vix6m = vix6m * 3 WHERE date = '2023-11-01'"),
        # a VX month a tenth of its price on the last session: the hedge would be priced on it
        ("core_outlier_jumps_recent", "UPDATE core.market_daily SET vx_m2 = vx_m2 / 10 WHERE date = '2024-03-28'"),
        # the VIX at half its level: a fall of -0.69 in log, inside the symmetric 1.0 but past max_drop_vol_index
        ("core_outlier_jumps_recent", "UPDATE core.market_daily SET vix = vix / 2 WHERE date = '2024-03-28'"),
        ("core_history_gaps", "UPDATE core.market_daily SET vix = NULL WHERE date = '2023-11-01'"),
        (
            "macro_point_in_time",
            "UPDATE core.macro_observations SET available_date = '2024-04-30' WHERE observation_date = '2024-01-01'",
        ),
        ("vx_curve_sane", "UPDATE core.market_daily SET vx_m1_expiry = date WHERE date = '2023-11-01'"),
        (
            "macro_plausible_ranges",
            "UPDATE core.macro_observations SET value = value * 100 WHERE series_id = 'DGS10' "
            "AND observation_date = '2023-11-01'",
        ),
    ],
)
def test_each_check_fails_on_purpose_built_damage(conn, market_dir, check, damage):
    load_all(conn, market_dir)
    outcomes = build(conn)
    assert outcomes[check].passed
    conn.execute(damage)
    assert checks.run_check(conn, outcomes[check].check).failures >= 1


def test_a_missing_vx_contract_month_blocks_recent_sessions_and_warns_in_history(conn, market_dir):
    """Without the April 2024 contract, M1 on the last sessions would silently be May and M2 June."""
    path = market_dir / "cboe_futures" / "VX_per_contract.csv"
    vx = pd.read_csv(path, dtype=str)
    assert (vx["Futures"] == "2024-04-17").any()
    vx[vx["Futures"] != "2024-04-17"].to_csv(path, index=False)
    load_all(conn, market_dir)
    out = build(conn)
    recent = out["vx_months_complete_recent"]
    assert not recent.passed and recent.check.blocking
    # every one of the last 20 sessions: M2 would be May after March, or (from 2024-03-21) M1 May's
    assert recent.failures == 20
    assert not out["vx_curve_sane"].passed and not out["vx_curve_sane"].check.blocking


def test_a_vx_contract_month_missing_in_history_warns(conn, market_dir):
    path = market_dir / "cboe_futures" / "VX_per_contract.csv"
    vx = pd.read_csv(path, dtype=str)
    vx[vx["Futures"] != "2023-12-20"].to_csv(path, index=False)
    load_all(conn, market_dir)
    out = build(conn)
    assert out["vx_months_complete_recent"].passed
    sane = out["vx_curve_sane"]
    assert not sane.passed and not sane.check.blocking
    assert all("2023-10" <= row["date"][:7] <= "2023-12" for row in sane.sample)


def test_optional_series_falling_behind_warns(conn, market_dir):
    frame = pd.read_csv(market_dir / "cboe" / "VIX3M_History.csv", dtype=str)
    frame.iloc[:-10].to_csv(market_dir / "cboe" / "VIX3M_History.csv", index=False)
    load_all(conn, market_dir)
    out = build(conn)["core_optional_fresh"]
    assert not out.passed and not out.check.blocking
    assert out.sample[0]["series"] == "vix3m" and out.sample[0]["sessions_behind"] == "10"


def test_as_of_cut_holds_nothing_later(conn, market_dir):
    cut = dt.date(2023, 12, 15)
    load_all(conn, market_dir, end=cut)
    quarantine.rebuild_quarantine(conn)
    core_tables.build_core(conn, core_tables.resolve_as_of(conn, cut, live=False), SETTINGS)
    assert conn.execute("SELECT max(date) FROM core.market_daily").fetchone()[0] == cut
    assert conn.execute("SELECT max(available_date) FROM core.macro_observations").fetchone()[0] <= cut
    assert conn.execute("SELECT max(date) FROM raw.daily_bars").fetchone()[0] <= cut
    assert conn.execute("SELECT max(trade_date) FROM core.vx_futures").fetchone()[0] <= cut
    assert conn.execute("SELECT count(*) FROM core.events WHERE known_from > ?", [cut]).fetchone()[0] == 0


def test_core_rows_are_invariant_to_the_as_of_cut(tmp_path, market_dir):
    """Core for session t computed on data cut at t equals the full run's row for t."""
    full = warehouse.connect(tmp_path / "full.duckdb")
    warehouse.init_schema(full)
    load_all(full, market_dir)
    build(full)
    for cut in (dt.date(2023, 10, 31), dt.date(2024, 1, 2), dt.date(2024, 2, 15)):
        part = warehouse.connect(tmp_path / f"cut{cut}.duckdb")
        warehouse.init_schema(part)
        load_all(part, market_dir, end=cut)
        quarantine.rebuild_quarantine(part)
        core_tables.build_core(part, cut, SETTINGS)
        query = "SELECT * FROM core.market_daily WHERE date <= ? ORDER BY date"
        assert part.execute(query, [cut]).df().equals(full.execute(query, [cut]).df())
        mq = "SELECT * FROM core.macro_observations WHERE available_date <= ? ORDER BY ALL"
        assert part.execute(mq, [cut]).df().equals(full.execute(mq, [cut]).df())
        part.close()
    full.close()


def test_a_vx_settle_in_cents_is_out_of_range_and_its_row_stays_out_of_core(conn, market_dir):
    """A back month priced in cents (2,185 for 21.85): no M1/M2 check looks at it, yet the hedge
    prices the VIX options of that expiry off it. The VIX's own plausible range bounds a VX future."""
    path = market_dir / "cboe_futures" / "VX_per_contract.csv"
    vx = pd.read_csv(path, dtype=str)
    day = "2023-10-02"
    back = vx.loc[vx["Trade Date"] == day, "Futures"].max()
    row = (vx["Trade Date"] == day) & (vx["Futures"] == back)
    settle = float(vx.loc[row, "Settle"].iloc[0])
    vx.loc[row, "Settle"] = f"{settle * 100:.2f}"
    vx.to_csv(path, index=False)
    load_all(conn, market_dir)
    outcomes = build(conn)
    flagged = conn.execute("SELECT row_key, column_name, rule FROM meta.quarantine").fetchall()
    assert flagged == [(f"{day}|{back}", "row", "price_out_of_range")]
    kept = conn.execute("SELECT count(*), max(price) FROM core.vx_futures WHERE trade_date = ?", [day]).fetchone()
    assert kept[0] == (vx["Trade Date"] == day).sum() - 1 and kept[1] < 150
    assert all(o.passed for o in outcomes.values() if o.check.blocking)


def test_a_vx_contract_stored_in_cents_takes_its_corrected_file_whole(conn, market_dir):
    """A whole contract priced in cents on a new warehouse: every row set aside. Its corrected file revises
    all of them, which the limit on revisions (validation.max_revised_share) took for a bad delivery and
    refused, so the contract never healed; a series stored in the wrong unit now takes it."""
    path = market_dir / "cboe_futures" / "VX_per_contract.csv"
    good = pd.read_csv(path, dtype=str)
    contract = good["Futures"].value_counts().idxmax()
    cents = good.copy()
    mine = cents["Futures"] == contract
    for col in ("Open", "High", "Low", "Close", "Settle"):
        cents.loc[mine, col] = (pd.to_numeric(cents.loc[mine, col]) * 100).round(2).astype(str)
    cents.to_csv(path, index=False)
    share = SETTINGS.max_revised_share
    load_all(conn, market_dir, share=share)
    build(conn)
    rules = conn.execute("SELECT DISTINCT rule, split_part(row_key, '|', 2) FROM meta.quarantine").fetchall()
    assert rules == [("price_out_of_range", contract)]
    assert mine.sum() >= 20  # enough rows for a mass revision
    good.to_csv(path, index=False)
    load_all(conn, market_dir, share=share)
    build(conn)
    assert conn.execute("SELECT count(*) FROM meta.quarantine").fetchone()[0] == 0
    stored = "SELECT count(*) FROM core.vx_futures WHERE expiry = ?"
    assert conn.execute(stored, [contract]).fetchone()[0] == mine.sum()


@pytest.mark.parametrize("scale", [10.0, 0.1])
def test_a_term_index_out_of_line_with_the_vix_is_quarantined_and_left_out_of_core(conn, market_dir, scale):
    """VIX9D tenfold (or a tenth) on one session: 148.8 passes its plausible range [3, 200], yet beside a VIX
    of 15 it is a unit slip; as the as-of session's short-dated vol it repriced the whole hedge (a probe of
    the real bundle moved the published NAV by 11,562 with a SUCCESS exit). Real VIX9D/VIX, VIX3M/VIX and
    VIX6M/VIX ratios never left [0.63, 1.63]; the rule's band is [0.4, 2.5]."""
    day = "03/20/2024"
    frame = pd.read_csv(market_dir / "cboe" / "VIX9D_History.csv", dtype=str)
    row = frame.loc[frame["DATE"] == day].iloc[0]
    edit_cboe(market_dir, "VIX9D", day, **{c: f"{float(row[c]) * scale:.4f}" for c in ("OPEN", "HIGH", "LOW", "CLOSE")})
    load_all(conn, market_dir)
    outcomes = build(conn)
    flagged = conn.execute("SELECT row_key, column_name, rule, reason FROM meta.quarantine ORDER BY rule").fetchall()
    # a tenth (1.4) is below the plausible range too
    expected = {("^VIX9D|2024-03-20", "row", "out_of_line_with_vix")}
    expected |= {("^VIX9D|2024-03-20", "row", "close_out_of_range")} if scale < 1 else set()
    assert {f[:3] for f in flagged} == expected
    assert any("the VIX" in f[3] for f in flagged)
    assert conn.execute("SELECT vix9d FROM core.market_daily WHERE date = '2024-03-20'").fetchone()[0] is None
    assert all(o.passed for o in outcomes.values() if o.check.blocking)


def write_rates(root: Path, scale: dict[str, float], on: tuple[str, ...] = ()) -> None:
    """FRED files of the fed funds rate, the 3-month and the 2-year yields and the 10y-2y spread beside the
    market's DGS10 (its business days, 2023-06 on), at their late-2023 levels, each times `scale` (1 where
    not given), on the days `on` or, when none is given, on every day."""
    market = pd.read_csv(root / "fred" / "DGS10.csv", dtype=str)
    days = market["observation_date"]
    t = np.linspace(0.0, 1.0, len(days))
    levels = {"DFF": 5.08 + 0.25 * t, "DGS3MO": 5.45 - 0.10 * t, "DGS2": 4.90 - 0.30 * t}
    # FRED's 10y-2y spread: the difference of the two, to two decimals (blank where DGS10 is)
    dgs10 = pd.to_numeric(market["DGS10"], errors="coerce")
    levels["T10Y2Y"] = (dgs10 - np.round(levels["DGS2"], 2)).to_numpy()
    hit = days.isin(on) if on else pd.Series(True, index=days.index)
    for series, level in levels.items():
        values = np.round(level, 2) * np.where(hit, scale.get(series, 1.0), 1.0)
        pd.DataFrame({"observation_date": days, series: values}).to_csv(root / "fred" / f"{series}.csv", index=False)


@pytest.mark.parametrize(
    ("slipped", "scale", "rule", "blocks"),
    [
        ("DGS3MO", 0.01, "out_of_line_with_curve", True),
        ("DFF", 0.01, "out_of_line_with_curve", True),
        ("T10Y2Y", 0.01, "out_of_line_with_curve", True),
        ("DGS2", 100.0, "value_out_of_range", False),
    ],
)
def test_a_rate_file_in_the_wrong_unit_is_set_aside_and_the_corrected_file_heals(
    conn, market_dir, slipped, scale, rule, blocks
):
    """A FRED rate saved as a decimal (0.0545 for 5.45%) sits inside its plausible range [-2, 30], so nothing
    else sees it; priced with it, every option of the plan and of history moves. Beside the fed funds rate
    and the other yields of the same day it is a hundredth of each, points away: set aside row by row, the
    series that slipped and only it (the others agree among themselves), and the run stops. One in basis
    points is outside its range: set aside, and core goes on without it. On a new warehouse either is the
    whole stored history, so its corrected file revises every row: that is the heal, taken at the run's
    own limit on revisions (validation.max_revised_share), not refused as a bad delivery."""
    share = SETTINGS.max_revised_share
    write_rates(market_dir, {slipped: scale})
    load_all(conn, market_dir, share=share)
    outcomes = build(conn)
    flagged = conn.execute("SELECT row_key, rule, reason FROM meta.quarantine ORDER BY row_key").fetchall()
    n_rows = conn.execute("SELECT count(*) FROM raw.macro_observations WHERE series_id = ?", [slipped]).fetchone()[0]
    assert {(k.split("|")[0], r) for k, r, _ in flagged} == {(slipped, rule)}
    assert len(flagged) == n_rows > 100
    if rule == "out_of_line_with_curve":
        assert all("a unit slip" in reason and "DGS2 " in reason for _, _, reason in flagged)
    core = "SELECT count(*) FROM core.macro_observations WHERE series_id = ?"
    assert conn.execute(core, [slipped]).fetchone()[0] == 0
    check = outcomes["macro_rates_in_line"]
    assert check.passed is not blocks and check.check.blocking
    if blocks:
        assert {r["series_id"] for r in check.sample} == {slipped}
    write_rates(market_dir, {})
    load_all(conn, market_dir, share=share)
    outcomes = build(conn)
    assert conn.execute("SELECT count(*) FROM meta.quarantine").fetchone()[0] == 0
    known = "SELECT count(*) FROM raw.macro_observations WHERE series_id = ? AND available_date <= ?"
    assert conn.execute(core, [slipped]).fetchone()[0] == conn.execute(known, [slipped, AS_OF]).fetchone()[0]
    assert all(o.passed for o in outcomes.values() if o.check.blocking)
    # a good history is still guarded: the same slip delivered over it is refused whole
    write_rates(market_dir, {slipped: scale})
    with pytest.raises(warehouse.MassRevisionError, match=slipped):
        load_all(conn, market_dir, share=share)


@pytest.mark.parametrize(("day", "blocks"), [("2023-07-03", False), ("2024-03-25", True)])
def test_a_lone_rate_slip_is_set_aside_and_stops_the_run_only_while_current(conn, market_dir, day, blocks):
    """One 3-month yield in decimals: set aside either way. Months old, it is one bad print the plan no
    longer uses and the run goes on (as with the publishers' own past defects); current, today's plan would
    price without it, and the run stops until the file is corrected."""
    write_rates(market_dir, {"DGS3MO": 0.01}, on=(day,))
    load_all(conn, market_dir)
    outcomes = build(conn)
    flagged = conn.execute("SELECT row_key, rule FROM meta.quarantine").fetchall()
    assert flagged == [(f"DGS3MO|{day}", "out_of_line_with_curve")]
    assert outcomes["macro_rates_in_line"].passed is not blocks


@pytest.mark.parametrize(
    ("day", "slip_seen"),
    [
        # FRED's values of those days: the flight to bills after Lehman (the 3-month yield a hundredth of fed
        # funds, 2.77 points under it), a year-end reserve-settlement spike of fed funds (9.75 points over
        # the 2-year yield, 2.5 times it), and zero-rate years (the 3-month yield a tenth of the 2-year's).
        # The 10-year yield slipped to a hundredth: seen beside the 1986 curve; beside a 3-month yield of a
        # few hundredths it is as close to a real rate as that is, and the curve cannot tell
        ({"DFF": 2.80, "DGS3MO": 0.03, "DGS2": 1.64, "DGS10": 3.41}, False),
        ({"DFF": 16.17, "DGS2": 6.42, "DGS10": 7.23}, True),
        ({"DFF": 0.09, "DGS3MO": 0.02, "DGS2": 0.25, "DGS10": 3.04}, False),
    ],
)
def test_real_curves_far_apart_are_not_taken_for_a_unit_slip(conn, day, slip_seen):
    rows = [
        (s, dt.date(2008, 9, 17), v, dt.date(2008, 9, 18), "test", dt.datetime(2008, 9, 18), "r")
        for s, v in day.items()
    ]
    conn.executemany("INSERT INTO raw.macro_observations VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    quarantine.rebuild_quarantine(conn)
    assert conn.execute("SELECT count(*) FROM meta.quarantine").fetchone()[0] == 0
    conn.execute("UPDATE raw.macro_observations SET value = value / 100 WHERE series_id = 'DGS10'")
    quarantine.rebuild_quarantine(conn)
    flagged = conn.execute("SELECT row_key, rule FROM meta.quarantine").fetchall()
    assert flagged == ([("DGS10|2008-09-17", "out_of_line_with_curve")] if slip_seen else [])


def test_two_rates_alone_that_disagree_name_neither(conn):
    """With no third rate to side with, which of the two slipped cannot be told: nothing is set aside."""
    rows = [
        (s, dt.date(2024, 1, 2), v, dt.date(2024, 1, 3), "test", dt.datetime(2024, 1, 3), "r")
        for s, v in (("DFF", 5.33), ("DGS10", 0.0395))
    ]
    conn.executemany("INSERT INTO raw.macro_observations VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    quarantine.rebuild_quarantine(conn)
    assert conn.execute("SELECT count(*) FROM meta.quarantine").fetchone()[0] == 0


def tables(conn) -> dict[str, list[tuple]]:
    """raw and core, as a reader compares them (load times and run ids aside)."""
    out = {}
    for table in ("raw.daily_bars", "raw.macro_observations", "core.market_daily", "core.macro_observations"):
        columns = "* EXCLUDE (fetched_at, run_id)" if table.startswith("raw.") else "*"
        out[table] = conn.execute(f"SELECT {columns} FROM {table} ORDER BY ALL").fetchall()
    return out


def test_a_revision_a_rule_sets_aside_keeps_the_stored_good_row_and_the_corrected_file_heals(conn, market_dir):
    """A stored good VIX3M close revised to ten times itself, a stored 10-year yield revised into basis
    points: quarantined, each row would drop out of core and every value built on it would change. The
    stored versions stay (raw and core equal the clean build's), the deliveries are input rejects with the
    rule's reason, and the corrected files clear them. A revision of a row already set aside stands."""
    load_all(conn, market_dir)
    build(conn)
    clean = tables(conn)
    frame = pd.read_csv(market_dir / "cboe" / "VIX3M_History.csv", dtype=str)
    close = float(frame.loc[frame["DATE"] == "10/04/2023", "CLOSE"].iloc[0])
    edit_cboe(market_dir, "VIX3M", "10/04/2023", CLOSE=f"{close * 10:.2f}", HIGH=f"{close * 10:.2f}")
    dgs10_file = market_dir / "fred" / "DGS10.csv"
    dgs10 = pd.read_csv(dgs10_file, dtype=str)
    dgs10.assign(DGS10=dgs10["DGS10"].where(dgs10["observation_date"] != "2023-11-01", "420")).to_csv(
        dgs10_file, index=False
    )
    load_all(conn, market_dir)
    outcomes = build(conn)
    assert tables(conn) == clean
    rejects = conn.execute(
        "SELECT row_key, rule, reason FROM meta.quarantine WHERE column_name = 'input' ORDER BY row_key"
    ).fetchall()
    assert [r[:2] for r in rejects] == [
        ("DGS10|2023-11-01", "unusable_revision"),
        ("^VIX3M|2023-10-04", "unusable_revision"),
    ]
    assert "value_out_of_range" in rejects[0][2] and "the stored value stays" in rejects[0][2]
    assert "close_out_of_range" in rejects[1][2] or "out_of_line_with_vix" in rejects[1][2]
    assert all(o.passed for o in outcomes.values() if o.check.blocking)
    # the publisher corrects the files: nothing stays set aside
    edit_cboe(market_dir, "VIX3M", "10/04/2023", CLOSE=frame.loc[frame["DATE"] == "10/04/2023", "CLOSE"].iloc[0])
    edit_cboe(market_dir, "VIX3M", "10/04/2023", HIGH=frame.loc[frame["DATE"] == "10/04/2023", "HIGH"].iloc[0])
    dgs10.to_csv(dgs10_file, index=False)
    load_all(conn, market_dir)
    build(conn)
    assert tables(conn) == clean
    assert conn.execute("SELECT count(*) FROM meta.quarantine WHERE column_name = 'input'").fetchone()[0] == 0
    # a row the rules set aside already takes its revision (it was unusable before too); a revision of a
    # good one into it does not
    edit_cboe(market_dir, "VVIX", "10/05/2023", VVIX="15.71")
    stored = "SELECT close FROM raw.daily_bars WHERE symbol = '^VVIX' AND date = '2023-10-05'"
    good = conn.execute(stored).fetchone()[0]
    load_all(conn, market_dir)
    assert conn.execute(stored).fetchone()[0] == good
    conn.execute("DELETE FROM raw.daily_bars WHERE symbol = '^VVIX' AND date = '2023-10-05'")
    load_all(conn, market_dir)  # stored afresh, as a first delivery would: quarantined
    build(conn)
    edit_cboe(market_dir, "VVIX", "10/05/2023", VVIX="15.9")
    load_all(conn, market_dir)
    assert conn.execute(stored).fetchone()[0] == 15.9


def test_an_unusable_row_of_the_newest_session_blocks_the_run_but_not_a_replay_of_history(conn, market_dir):
    """VIX9D tenfold on the newest session: set aside, today's plan would be made without it and differ
    from a run on the corrected file, so the run stops and names the row. The same flag on a session a
    replay (--as-of) stands on does not block: it is history no corrected file will remove."""
    frame = pd.read_csv(market_dir / "cboe" / "VIX9D_History.csv", dtype=str)
    last = frame["DATE"].iloc[-1]
    close = float(frame["CLOSE"].iloc[-1])
    edit_cboe(market_dir, "VIX9D", last, CLOSE=f"{close * 10:.2f}", HIGH=f"{close * 10:.2f}")
    load_all(conn, market_dir)
    outcomes = build(conn)
    blocked = {n: o for n, o in outcomes.items() if not o.passed and o.check.blocking}
    assert set(blocked) == {"as_of_rows_usable"}
    assert blocked["as_of_rows_usable"].sample[0]["rule"] == "out_of_line_with_vix"
    replay = dt.datetime.strptime(last, "%m/%d/%Y").date()
    core_tables.build_core(conn, replay, SETTINGS)
    conn.execute("DELETE FROM raw.daily_bars WHERE symbol = '^GSPC' AND date > ?", [replay - dt.timedelta(days=1)])
    check = next(c for c in checks.SQL_CHECKS if c.name == "as_of_rows_usable")
    assert not checks.run_check(conn, check).passed  # still the newest SPX session: blocks
    conn.execute(
        "INSERT INTO raw.daily_bars SELECT * REPLACE (date + 7 AS date) FROM raw.daily_bars "
        "WHERE symbol = '^GSPC' AND date = (SELECT max(date) FROM raw.daily_bars WHERE symbol = '^GSPC')"
    )
    assert checks.run_check(conn, check).passed  # a later session exists: a replay of history


def test_an_unreadable_close_on_the_newest_session_stops_the_run_instead_of_republishing_the_day_before(
    conn, market_dir
):
    """A delivery whose last SPX close is garbled: before, the offline as-of fell back a session and the run
    republished yesterday's plan with a SUCCESS exit. Now the run stands on the delivered session and stops,
    naming the row."""
    path = market_dir / "yahoo" / "^GSPC.csv"
    spx = pd.read_csv(path, dtype=str)
    spx.loc[spx.index[-1], "Close"] = "5,254.35"
    spx.to_csv(path, index=False)
    load_all(conn, market_dir)
    assert core_tables.resolve_as_of(conn, None, live=False) == dt.date.fromisoformat(spx["Date"].iloc[-1])
    outcomes = build(conn)
    blocked = {n for n, o in outcomes.items() if not o.passed and o.check.blocking}
    assert {"core_required_fresh", "as_of_rows_usable"} <= blocked
    assert outcomes["as_of_rows_usable"].sample[0]["rule"] == "unreadable_value"


def test_a_vx_reject_naming_no_readable_contract_does_not_block_the_newest_session(conn):
    """Cboe's own file labels the March 2026 contract '20268-03-18' on 186 sessions: those rows name no
    contract a plan could price off (the months the hedge uses are checked by vx_months_complete_recent),
    while a readable contract's row that was not loaded does block."""
    conn.execute(
        "INSERT INTO raw.daily_bars (symbol, date, close, source, fetched_at, run_id) "
        "VALUES ('^GSPC', '2026-01-13', 6900, 'x', now(), 'r')"
    )
    conn.execute(
        "INSERT INTO meta.quarantine VALUES "
        "('raw.vx_futures', '2026-01-13|20268-03-18', 'input', 'unreadable', '', 'unreadable contract expiry'), "
        "('raw.vx_futures', '2026-01-13|2026-02-18', 'input', 'unreadable_value', '', 'Settle is not a number')"
    )
    checks.set_variables(conn, dt.date(2026, 1, 13), SETTINGS)
    out = checks.run_check(conn, next(c for c in checks.SQL_CHECKS if c.name == "as_of_rows_usable"))
    assert [s["row_key"] for s in out.sample] == ["2026-01-13|2026-02-18"]


def test_a_revision_breaking_a_cell_rule_keeps_the_stored_row_too(conn, market_dir):
    """A stored SPX bar revised with its high and low swapped, a stored VX settle revised to 0: each rule
    sets aside only a cell (the range, the settle), yet core and the features built on it would change.
    The stored versions stay, as for a row rule."""
    load_all(conn, market_dir)
    build(conn)
    clean = tables(conn)
    clean_vx = conn.execute("SELECT * EXCLUDE (fetched_at, run_id) FROM raw.vx_futures ORDER BY ALL").fetchall()
    spx_file = market_dir / "yahoo" / "^GSPC.csv"
    spx = pd.read_csv(spx_file, dtype=str)
    row = spx["Date"] == "2023-10-04"
    spx.loc[row, ["High", "Low"]] = spx.loc[row, ["Low", "High"]].to_numpy()
    spx.to_csv(spx_file, index=False)
    vx_file = market_dir / "cboe_futures" / "VX_per_contract.csv"
    vx = pd.read_csv(vx_file, dtype=str)
    vx.loc[(vx["Trade Date"] == "2023-10-04") & (vx["Futures"] == "2023-10-18"), "Settle"] = "0.0"
    vx.to_csv(vx_file, index=False)
    load_all(conn, market_dir)
    build(conn)
    assert tables(conn) == clean
    assert conn.execute("SELECT * EXCLUDE (fetched_at, run_id) FROM raw.vx_futures ORDER BY ALL").fetchall() == clean_vx
    rejects = conn.execute(
        "SELECT row_key, rule, reason FROM meta.quarantine WHERE column_name = 'input' ORDER BY row_key"
    ).fetchall()
    assert [(k, r) for k, r, _ in rejects] == [
        ("2023-10-04|2023-10-18", "unusable_revision"),
        ("^GSPC|2023-10-04", "unusable_revision"),
    ]
    assert "zero_settle" in rejects[0][2] and "high_below_low" in rejects[1][2]
