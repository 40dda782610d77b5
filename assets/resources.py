"""Resources: the DuckDB warehouse and the run's settings (source, data dir, as-of, validated settings)."""

import datetime as dt
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource
from pydantic import PrivateAttr

from vixshield.config import Settings, load_settings, settings_from_json, settings_json
from vixshield.ingest.sources import Source, make_source
from vixshield.store import warehouse


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
    """What a run reads and as of when, and the settings it runs with. Defaults come from the
    environment so that the Dagster UI and `vixshield run` agree: VIXSHIELD_SOURCE, VIXSHIELD_DATA_DIR,
    VIXSHIELD_CONFIG.

    The settings are one value per run: `settings_json` when the caller already validated them (the
    CLI, which records their digest in meta.runs), else `config_file` read and validated once when the
    run sets the resource up. Every step gets that same value, so a file edited mid-run cannot give
    two steps different settings."""

    source: str = "sample"
    data_dir: str | None = None
    as_of: str | None = None  # YYYY-MM-DD; None = latest available
    config_file: str | None = None
    settings_json: str | None = None  # config.settings_json of the validated settings; wins over config_file
    # Great Expectations validates the rows this run wrote (older rows were validated when written,
    # and keys/NOT NULL are enforced by the DDL). True re-validates every stored row.
    validate_all: bool = False
    _settings: Settings | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._settings = self._load()

    def _load(self) -> Settings:
        return settings_from_json(self.settings_json) if self.settings_json else load_settings(self.config_file)

    def settings(self) -> Settings:
        if self._settings is None:  # used outside a run (a direct call): load once, then keep
            self._settings = self._load()
        return self._settings

    def make_source(self, cache_dir: str | Path | None = None) -> Source:
        return make_source(self.source, self.settings(), self.data_dir, cache_dir)

    def requested_as_of(self) -> dt.date | None:
        return dt.date.fromisoformat(self.as_of) if self.as_of else None

    @property
    def is_live(self) -> bool:
        return self.source == "live"


def make_resources(
    database: str | Path,
    source: str = "sample",
    data_dir: str | Path | None = None,
    as_of: str | None = None,
    settings: Settings | None = None,
    config_file: str | None = None,
    validate_all: bool = False,
) -> dict:
    """The resources of a run, built in one place (the Definitions, the CLI and the tests).
    `settings`: the run's validated settings, handed to every step as a value. The warehouse
    resource carries the run log, so every run writes its meta.runs row (assets/runlog.py)."""
    from assets.runlog import RecordedWarehouse, RunLog

    vixshield = VixShieldResource(
        source=source,
        data_dir=str(data_dir) if data_dir is not None else None,
        as_of=as_of,
        config_file=config_file,
        settings_json=settings_json(settings) if settings is not None else None,
        validate_all=validate_all,
    )
    db = str(database)
    return {
        "duckdb": RecordedWarehouse(database=db, run_log=RunLog(database=db, vixshield=vixshield)),
        "vixshield": vixshield,
    }


def _env(name: str, default: str | None) -> str | dg.EnvVar | None:
    """dg.EnvVar(name) when the variable is set: resolved when a run launches, shown by name (never by
    value) in the UI; the default otherwise."""
    return dg.EnvVar(name) if os.environ.get(name) else default


def default_resources() -> dict:
    """For the code location (UI, schedule): VIXSHIELD_SOURCE, VIXSHIELD_DATA_DIR and VIXSHIELD_CONFIG
    as EnvVars, read when each run launches; the warehouse and the replays' folder are those of the
    run's settings (`$VIXSHIELD_HOME`, as for the CLI), also resolved when the run launches."""
    from assets.replays import ReplayResource
    from assets.runlog import RecordedWarehouse, RunLog

    vixshield = VixShieldResource(
        source=_env("VIXSHIELD_SOURCE", "sample"),
        data_dir=_env("VIXSHIELD_DATA_DIR", None),
        config_file=_env("VIXSHIELD_CONFIG", None),
    )
    return {
        "duckdb": RecordedWarehouse(run_log=RunLog(vixshield=vixshield)),
        "vixshield": vixshield,
        "replays": ReplayResource(),
    }
