"""The whole 1990-2026 bundle built by the CLI once per test session (skipped when the bundle is absent)."""

import pytest

from tests.conftest import SHARED_MARKET, BuiltHome, cli_built_once


def real_bundle_built(tmp_path_factory: pytest.TempPathFactory, name: str, *args: str) -> BuiltHome:
    """`vixshield run --source files` on the whole bundle, once per session. Read it, never write
    it: copy the warehouse into a home of your own first (the backtest tests do)."""
    if not (SHARED_MARKET / "MANIFEST.md").exists():
        pytest.skip("the shared real-data bundle is not present")
    return cli_built_once(tmp_path_factory, name, SHARED_MARKET, *args)


@pytest.fixture(scope="session")
def real_built(tmp_path_factory: pytest.TempPathFactory) -> BuiltHome:
    return real_bundle_built(tmp_path_factory, "real")
