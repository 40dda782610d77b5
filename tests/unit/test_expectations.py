"""The raw-table GX suites: clean frames pass, and each defect trips exactly its own expectation.

Frames are round-tripped through the real raw DDL in DuckDB so dtypes match what the pipeline
validates; defects the DDL would reject (NULL or duplicate keys) are applied after reading back.
The GX context is built once per process (module cache), so only the first test pays the import.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import duckdb
import pandas as pd
import pytest

from vixshield.catalog import DAILY_SYMBOLS
from vixshield.store import schemas, warehouse
from vixshield.validate import expectations as ex

ROWS: dict[str, list[dict]] = {
    "daily_bars": [
        {
            "symbol": "^GSPC",
            "date": "2024-03-04",
            "open": 5130.99,
            "high": 5149.67,
            "low": 5127.18,
            "close": 5130.95,
            "adj_close": 5130.95,
            "volume": 4.76e9,
            "source": "yahoo",
        },
        {
            "symbol": "^GSPC",
            "date": "2024-03-05",
            "open": 5110.52,
            "high": 5114.54,
            "low": 5056.82,
            "close": 5078.65,
            "adj_close": 5078.65,
            "volume": 4.97e9,
            "source": "yahoo",
        },
        {
            "symbol": "^GSPC",
            "date": "2024-03-06",
            "open": 5108.03,
            "high": 5127.97,
            "low": 5092.22,
            "close": 5104.76,
            "adj_close": 5104.76,
            "volume": 4.65e9,
            "source": "yahoo",
        },
        {
            "symbol": "^VIX",
            "date": "2024-03-04",
            "open": 13.71,
            "high": 14.92,
            "low": 13.64,
            "close": 14.67,
            "adj_close": 14.67,
            "volume": 0.0,
            "source": "yahoo",
        },
        {
            "symbol": "^VIX",
            "date": "2024-03-05",
            "open": 14.89,
            "high": 15.61,
            "low": 14.33,
            "close": 14.46,
            "adj_close": 14.46,
            "volume": 0.0,
            "source": "yahoo",
        },
        {
            "symbol": "^VIX",
            "date": "2024-03-06",
            "open": 14.12,
            "high": 14.77,
            "low": 13.95,
            "close": 14.74,
            "adj_close": 14.74,
            "volume": 0.0,
            "source": "yahoo",
        },
        # Close-only Cboe series: no open/high/low, volume NULL.
        {"symbol": "^SKEW", "date": "2024-03-04", "close": 147.58, "source": "files:cboe"},
        # A breadth-universe ticker: not in the catalog, so no plausible range applies.
        {
            "symbol": "AAPL",
            "date": "2024-03-04",
            "open": 176.15,
            "high": 176.9,
            "low": 173.79,
            "close": 175.1,
            "adj_close": 174.3,
            "volume": 8.1e7,
            "source": "yahoo",
        },
    ],
    "macro_observations": [
        {
            "series_id": "DGS10",
            "observation_date": "2024-03-04",
            "value": 4.22,
            "available_date": "2024-03-05",
            "source": "fred",
        },
        {
            "series_id": "DGS10",
            "observation_date": "2024-03-05",
            "value": 4.15,
            "available_date": "2024-03-06",
            "source": "fred",
        },
        {
            "series_id": "CPIAUCSL",
            "observation_date": "2024-01-01",
            "value": 308.417,
            "available_date": "2024-02-13",
            "source": "fred",
        },
        # A VIXCLS close is knowable at the close of its own date.
        {
            "series_id": "VIXCLS",
            "observation_date": "2024-03-04",
            "value": 14.67,
            "available_date": "2024-03-04",
            "source": "fred",
        },
    ],
    "vx_futures": [
        {
            "trade_date": "2024-03-04",
            "expiry": "2024-03-20",
            "open": 14.9,
            "high": 15.45,
            "low": 14.8,
            "close": 15.3,
            "settle": 15.2875,
            "volume": 71234.0,
            "open_interest": 145678.0,
            "source": "cboe",
        },
        {
            "trade_date": "2024-03-04",
            "expiry": "2024-04-17",
            "open": 16.1,
            "high": 16.55,
            "low": 16.0,
            "close": 16.45,
            "settle": 16.4375,
            "volume": 45210.0,
            "open_interest": 98765.0,
            "source": "cboe",
        },
        # Expiry day itself: the contract still trades (expiry == trade_date).
        {
            "trade_date": "2024-03-20",
            "expiry": "2024-03-20",
            "open": 13.4,
            "high": 13.5,
            "low": 13.2,
            "close": 13.3,
            "settle": 13.3,
            "volume": 1200.0,
            "open_interest": 0.0,
            "source": "cboe",
        },
        # 2013 files: settle reported as 0.0.
        {
            "trade_date": "2013-05-01",
            "expiry": "2013-05-22",
            "open": 14.2,
            "high": 14.6,
            "low": 14.05,
            "close": 14.5,
            "settle": 0.0,
            "volume": 30000.0,
            "open_interest": 80000.0,
            "source": "cboe",
        },
    ],
    "events": [
        {"date": "2024-03-12", "kind": "cpi", "scheduled": True, "source": "bls"},
        {"date": "2024-03-14", "kind": "ppi", "scheduled": True, "source": "bls"},
        {"date": "2024-03-20", "kind": "fomc", "scheduled": True, "source": "fed"},
        {"date": "2020-03-15", "kind": "fomc", "scheduled": False, "source": "fed"},
        {"date": "2024-05-01", "kind": "fomc", "scheduled": None, "source": "fed"},
    ],
    "breadth_vendor": [
        {"series": "NYAD", "date": "2024-03-04", "value": 212345.0, "source": "vendor"},
        {"series": "NYMO", "date": "2024-03-04", "value": -12.4, "source": "vendor"},
        {"series": "NYMO", "date": "2024-03-05", "value": -38.1, "source": "vendor"},
    ],
}


def stored(family: str, rows: list[dict] | None = None) -> pd.DataFrame:
    """`rows` as raw.<family> gives them back: through the real DDL and DuckDB's `.df()`."""
    frame = schemas.conform(pd.DataFrame(ROWS[family] if rows is None else rows), family)
    frame["fetched_at"] = pd.Timestamp("2024-03-07 01:00:00")
    frame["run_id"] = "run-test"
    conn = duckdb.connect()
    try:
        warehouse.init_schema(conn)
        conn.register("incoming", frame)
        conn.execute(f"INSERT INTO raw.{family} SELECT * FROM incoming")
        return conn.execute(f"SELECT * FROM raw.{family}").df()
    finally:
        conn.close()


def failed(outcomes: list[ex.ExpectationOutcome]) -> set[str]:
    return {o.name for o in outcomes if not o.passed}


def by_name(outcomes: list[ex.ExpectationOutcome]) -> dict[str, ex.ExpectationOutcome]:
    return {o.name: o for o in outcomes}


@pytest.mark.parametrize("family", list(schemas.FAMILIES))
def test_clean_frame_passes_everything(family: str) -> None:
    frame = stored(family)
    assert len(frame) == len(ROWS[family])
    outcomes = ex.validate_table(family, frame)
    assert failed(outcomes) == set()
    assert all(o.unexpected_count == 0 for o in outcomes)
    # The common blocking core is present in every suite.
    names = by_name(outcomes)
    keys, _ = schemas.FAMILIES[family]
    for name in ["columns_match", "keys_unique", "source_not_null", *(f"key_not_null[{k}]" for k in keys)]:
        assert names[name].blocking, name


def test_daily_bars_has_a_range_check_per_catalog_symbol() -> None:
    names = by_name(ex.validate_table("daily_bars", stored("daily_bars")))
    for symbol in DAILY_SYMBOLS:
        assert not names[f"close_in_range[{symbol.symbol}]"].blocking


@pytest.mark.parametrize("family", list(schemas.FAMILIES))
def test_empty_frame_passes(family: str) -> None:
    outcomes = ex.validate_table(family, stored(family, []))
    assert outcomes
    assert failed(outcomes) == set()
    assert all(o.unexpected_count == 0 for o in outcomes)


def _set(row: int, column: str, value: object) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def mutate(frame: pd.DataFrame) -> pd.DataFrame:
        frame.loc[row, column] = value
        return frame

    return mutate


def _duplicate_first(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.concat([frame, frame.iloc[[0]]], ignore_index=True)


def _drop(column: str) -> Callable[[pd.DataFrame], pd.DataFrame]:
    return lambda frame: frame.drop(columns=[column])


def _add_column(frame: pd.DataFrame) -> pd.DataFrame:
    frame["note"] = "x"
    return frame


DAY = pd.Timestamp
# (family, defect, the one expectation it must trip, blocking, unexpected_count)
DEFECTS = [
    ("daily_bars", _duplicate_first, "keys_unique", True, 2),
    ("daily_bars", _drop("adj_close"), "columns_match", True, 1),
    ("daily_bars", _add_column, "columns_match", True, 1),
    ("daily_bars", _set(0, "symbol", None), "key_not_null[symbol]", True, 1),
    ("daily_bars", _set(1, "date", pd.NaT), "key_not_null[date]", True, 1),
    ("daily_bars", _set(2, "source", None), "source_not_null", True, 1),
    ("daily_bars", _set(4, "close", 200.0), "close_in_range[^VIX]", False, 1),
    ("daily_bars", _set(0, "close", 25000.0), "close_in_range[^GSPC]", False, 1),
    ("daily_bars", _set(6, "close", 60.0), "close_in_range[^SKEW]", False, 1),
    ("daily_bars", _set(7, "close", -1.0), "close_positive", False, 1),
    ("daily_bars", _set(3, "low", 15.5), "high_ge_low", False, 1),
    ("daily_bars", _set(7, "volume", -5.0), "volume_nonnegative", False, 1),
    ("macro_observations", _duplicate_first, "keys_unique", True, 2),
    ("macro_observations", _drop("run_id"), "columns_match", True, 1),
    ("macro_observations", _set(0, "series_id", None), "key_not_null[series_id]", True, 1),
    (
        "macro_observations",
        _set(2, "available_date", DAY("2023-12-29")),
        "available_after_observation",
        True,
        1,
    ),
    ("macro_observations", _set(1, "available_date", pd.NaT), "available_date_not_null", True, 1),
    ("macro_observations", _set(1, "value", None), "value_not_null", False, 1),
    ("vx_futures", _duplicate_first, "keys_unique", True, 2),
    ("vx_futures", _set(1, "expiry", DAY("2024-02-14")), "expiry_after_trade_date", False, 1),
    ("vx_futures", _set(0, "settle", -0.05), "settle_nonnegative", False, 1),
    ("vx_futures", _set(0, "close", 200.0), "close_in_range", False, 1),
    ("vx_futures", _set(1, "high", 15.9), "high_ge_low", False, 1),
    ("vx_futures", _set(2, "expiry", pd.NaT), "key_not_null[expiry]", True, 1),
    ("events", _duplicate_first, "keys_unique", True, 2),
    ("events", _set(0, "kind", "nfp"), "kind_known", True, 1),
    ("events", _drop("scheduled"), "columns_match", True, 1),
    ("breadth_vendor", _duplicate_first, "keys_unique", True, 2),
    ("breadth_vendor", _set(1, "value", None), "value_not_null", False, 1),
    ("breadth_vendor", _set(0, "series", None), "key_not_null[series]", True, 1),
]


@pytest.mark.parametrize(
    ("family", "defect", "name", "blocking", "count"),
    DEFECTS,
    ids=[f"{f}-{n}-{i}" for i, (f, _, n, _, _) in enumerate(DEFECTS)],
)
def test_defect_trips_exactly_its_expectation(
    family: str, defect: Callable[[pd.DataFrame], pd.DataFrame], name: str, blocking: bool, count: int
) -> None:
    outcomes = ex.validate_table(family, defect(stored(family)))
    assert failed(outcomes) == {name}
    outcome = by_name(outcomes)[name]
    assert outcome.blocking is blocking
    assert outcome.unexpected_count == count
    json.dumps(outcome.details)  # must be storable as a check result


def test_details_name_the_offending_values() -> None:
    frame = _set(4, "close", 200.0)(stored("daily_bars"))
    outcome = by_name(ex.validate_table("daily_bars", frame))["close_in_range[^VIX]"]
    assert outcome.details["partial_unexpected"] == [200.0]

    dup = by_name(ex.validate_table("daily_bars", _duplicate_first(stored("daily_bars"))))["keys_unique"]
    assert dup.details["partial_unexpected"][0] == {"symbol": "^GSPC", "date": "2024-03-04T00:00:00"}

    cols = by_name(ex.validate_table("daily_bars", _drop("adj_close")(stored("daily_bars"))))["columns_match"]
    assert cols.details["missing"] == ["adj_close"]


def test_missing_referenced_column_fails_without_raising() -> None:
    outcomes = ex.validate_table("vx_futures", _drop("high")(stored("vx_futures")))
    assert failed(outcomes) == {"columns_match", "high_ge_low"}
    assert "error" in by_name(outcomes)["high_ge_low"].details
    assert by_name(outcomes)["high_ge_low"].unexpected_count is None


def test_object_dtype_text_validates_the_same() -> None:
    frame = stored("daily_bars").astype({"symbol": object, "source": object, "run_id": object})
    assert failed(ex.validate_table("daily_bars", frame)) == set()
    frame.loc[4, "close"] = 200.0
    assert failed(ex.validate_table("daily_bars", frame)) == {"close_in_range[^VIX]"}


def test_unknown_family_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown raw family"):
        ex.validate_table("intraday", pd.DataFrame())


# the worker process a run starts so that GX's import overlaps the ingest


@pytest.fixture(scope="module")
def worker():
    """One worker for the module (spawning one imports GX again, ~8 s); the last test kills it."""
    ex.start_worker()
    yield ex._WORKER
    ex.stop_worker()


@pytest.mark.slow  # spawns the GX worker (imports GX again, ~8 s)
def test_the_worker_gives_the_outcomes_validating_here_gives(worker) -> None:
    assert worker is not None and worker.process.poll() is None
    for family, defect, *_ in DEFECTS[:: len(DEFECTS) // 6]:
        frame = defect(stored(family))
        assert ex.validate_table(family, frame) == ex._validate_here(family, frame)
    ex.start_worker()  # idempotent: the same process
    assert ex._WORKER is worker


@pytest.mark.slow  # spawns the GX worker (imports GX again, ~8 s)
def test_an_error_in_the_worker_is_raised_here(worker) -> None:
    with pytest.raises(Exception, match="without a dataframe") as raised:
        ex.validate_table("daily_bars", "not a frame")
    assert type(raised.value).__module__.startswith("great_expectations")
    assert worker.process.poll() is None  # and it goes on serving
    assert failed(ex.validate_table("daily_bars", stored("daily_bars"))) == set()


@pytest.mark.slow  # spawns the GX worker (imports GX again, ~8 s)
def test_a_dead_worker_falls_back_to_validating_here(worker) -> None:
    worker.process.kill()
    worker.process.wait()
    frame = _set(4, "close", 200.0)(stored("daily_bars"))
    assert failed(ex.validate_table("daily_bars", frame)) == {"close_in_range[^VIX]"}
    assert ex._WORKER is None


def test_a_worker_that_cannot_start_leaves_validation_here(monkeypatch) -> None:
    def no_processes():
        raise OSError("Resource temporarily unavailable")  # what fork/spawn raise at a process limit

    monkeypatch.setattr(ex, "_Worker", no_processes)
    ex.start_worker()
    assert ex._WORKER is None
    assert failed(ex.validate_table("daily_bars", _set(4, "close", 200.0)(stored("daily_bars")))) == {
        "close_in_range[^VIX]"
    }
