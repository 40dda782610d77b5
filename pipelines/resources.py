"""Resources: the DuckDB warehouse and the run's settings (source, data dir, as-of, config file)."""

import datetime as dt
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource

from vixshield import warehouse
from vixshield.config import Settings, load_settings
from vixshield.sources import Source, make_source


class WarehouseResource(DuckDBResource):
    """DuckDBResource that always closes its connection, also when the asset body raises (the
    stock resource leaks it then, and DuckDB refuses a second configuration of an open file)."""

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        conn = warehouse.connect(self.database)
        try:
            yield conn
        finally:
            conn.close()


class VixShieldResource(dg.ConfigurableResource):
    """What a run reads and as of when. Defaults come from the environment so that the Dagster UI
    and `vixshield run` agree: VIXSHIELD_SOURCE, VIXSHIELD_DATA_DIR, VIXSHIELD_CONFIG."""

    source: str = "sample"
    data_dir: str | None = None
    as_of: str | None = None  # YYYY-MM-DD; None = latest available
    config_file: str | None = None
    # Great Expectations validates the rows this run wrote (older rows were validated when written,
    # and keys/NOT NULL are enforced by the DDL). True re-validates every stored row.
    validate_all: bool = False

    def settings(self) -> Settings:
        return load_settings(self.config_file)

    def make_source(self, cache_dir: str | Path | None = None) -> Source:
        return make_source(self.source, self.settings(), self.data_dir, cache_dir)

    def requested_as_of(self) -> dt.date | None:
        return dt.date.fromisoformat(self.as_of) if self.as_of else None

    @property
    def is_live(self) -> bool:
        return self.source == "live"


def default_resources() -> dict:
    settings = load_settings(os.environ.get("VIXSHIELD_CONFIG") or None)
    home = Path(os.environ.get("VIXSHIELD_HOME", str(settings.home)))
    return {
        "duckdb": WarehouseResource(database=str(home / "warehouse.duckdb")),
        "vixshield": VixShieldResource(
            source=os.environ.get("VIXSHIELD_SOURCE", "sample"),
            data_dir=os.environ.get("VIXSHIELD_DATA_DIR") or None,
            config_file=os.environ.get("VIXSHIELD_CONFIG") or None,
        ),
    }
