"""Warehouses the daily job builds in process, once per session; tests that change one use a copy."""

from pathlib import Path

import dagster as dg
import pytest

from tests.assets.helpers import run_daily


@pytest.fixture(scope="session")
def daily_built(
    tmp_path_factory: pytest.TempPathFactory, market_template: Path
) -> tuple[Path, dg.ExecuteInProcessResult]:
    """The daily job over the small market folder into an empty warehouse. Read only."""
    db = tmp_path_factory.mktemp("daily") / "w.duckdb"
    result = run_daily(db, market_template)
    assert result.success
    return db, result


@pytest.fixture
def daily_db(tmp_path: Path, daily_built: tuple[Path, dg.ExecuteInProcessResult]) -> Path:
    """A copy of `daily_built`'s warehouse for one test to change."""
    copy = tmp_path / "w.duckdb"
    copy.write_bytes(daily_built[0].read_bytes())
    return copy


@pytest.fixture(scope="session")
def resumed(tmp_path_factory: pytest.TempPathFactory, market_template: Path):
    """Two daily runs into one warehouse: as of 2024-03-22, then through 2024-03-28 (four more sessions)."""
    db = tmp_path_factory.mktemp("inc") / "w.duckdb"
    first = run_daily(db, market_template, as_of="2024-03-22")
    second = run_daily(db, market_template)
    assert first.success and second.success
    return db, first, second
