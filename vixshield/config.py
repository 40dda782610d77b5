"""Typed settings with the METHODOLOGY defaults; a YAML file overrides any field."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml

DEFAULT_UNIVERSE = ("XLB", "XLE", "XLF", "XLI", "XLK", "XLP", "XLU", "XLV", "XLY", "XLRE", "XLC")


@dataclass(frozen=True)
class LiveSettings:
    yahoo_url: str | None = None  # None: Yahoo's own hosts (a base URL redirects all of yfinance)
    fred_api_url: str = "https://api.stlouisfed.org/fred"
    fredgraph_url: str = "https://fred.stlouisfed.org/graph/fredgraph.csv"
    cboe_url: str = "https://cdn.cboe.com"
    timeout: float = 20.0  # seconds per request
    max_retries: int = 4
    backoff: float = 1.0  # first retry delay, seconds (doubles, full jitter)
    overlap_sessions: int = 10  # re-read this many sessions on incremental fetches, for revisions
    macro_overlap_days: int = 400  # monthly series get revised for about a year


@dataclass(frozen=True)
class ValidationSettings:
    max_stale_sessions: int = 3  # a required series this far behind the as-of session blocks the run
    max_jump_spx: float = 0.25  # |log return| above this is an outlier (1987 was -0.229)
    max_jump_vol_index: float = 1.0  # |log change| of a volatility index above this is an outlier


@dataclass(frozen=True)
class Settings:
    home: Path = field(default_factory=lambda: Path(os.environ.get("VIXSHIELD_HOME", "data")))
    universe: tuple[str, ...] = DEFAULT_UNIVERSE  # breadth universe fetched from Yahoo when live
    live: LiveSettings = field(default_factory=LiveSettings)
    validation: ValidationSettings = field(default_factory=ValidationSettings)

    @property
    def warehouse_path(self) -> Path:
        return self.home / "warehouse.duckdb"

    def digest(self) -> str:
        """A stable hash of the settings, stored per run."""
        payload = json.dumps(dataclasses.asdict(self), default=str, sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _merge(obj, overrides: dict):
    changes = {}
    for key, value in overrides.items():
        if not hasattr(obj, key):
            raise ValueError(
                f"unknown setting {key!r} in config file; known: {[f.name for f in dataclasses.fields(obj)]}"
            )
        current = getattr(obj, key)
        if dataclasses.is_dataclass(current) and isinstance(value, dict):
            changes[key] = _merge(current, value)
        elif isinstance(current, tuple):
            changes[key] = tuple(value)
        elif isinstance(current, Path):
            changes[key] = Path(value)
        else:
            changes[key] = value
    return dataclasses.replace(obj, **changes)


def load_settings(path: str | Path | None = None, **overrides) -> Settings:
    """Defaults, then the YAML file (if any), then keyword overrides."""
    settings = Settings()
    if path is not None:
        data = yaml.safe_load(Path(path).read_text()) or {}
        settings = _merge(settings, data)
    return _merge(settings, {k: v for k, v in overrides.items() if v is not None})
