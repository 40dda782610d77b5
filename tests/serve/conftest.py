"""A home built once per session by the CLI on the small market folder, with tickets and the page."""

from pathlib import Path

import pytest

from tests.conftest import BuiltHome, cli_built_once


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory, market_template: Path) -> BuiltHome:
    """Read it, never write it (the same home as tests/conftest.py's cli_built)."""
    return cli_built_once(tmp_path_factory, "small", market_template)
