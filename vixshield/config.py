"""Typed settings with the METHODOLOGY defaults; a YAML file overrides any field."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

if TYPE_CHECKING:
    from vixshield.book import BookSettings

MAX_CONFIG_BYTES = 1 << 20  # 1 MiB: a settings file is a few hundred bytes; anything near this is a mistake
MAX_CONFIG_DEPTH = 20  # settings nest three levels deep; this only stops a "[[[[..." file exhausting the stack
DEFAULT_UNIVERSE = ("XLB", "XLE", "XLF", "XLI", "XLK", "XLP", "XLU", "XLV", "XLY", "XLRE", "XLC")


@dataclass(frozen=True)
class LiveSettings:
    yahoo_url: str | None = None  # None: Yahoo's own hosts (a base URL redirects all of yfinance)
    fred_api_url: str = "https://api.stlouisfed.org/fred"
    fredgraph_url: str = "https://fred.stlouisfed.org/graph/fredgraph.csv"
    cboe_url: str = "https://cdn.cboe.com"
    timeout: float = 20.0  # seconds to connect, and per read: a silent server fails after this
    max_retries: int = 4
    backoff: float = 1.0  # first retry delay, seconds (doubles, full jitter)
    attempt_deadline: float = 60.0  # seconds for one whole attempt (connect + every read of the body)
    request_budget: float = 150.0  # seconds for one request's attempts and backoff together; see HttpSettings
    overlap_sessions: int = 10  # re-read this many sessions on incremental fetches, for revisions
    macro_overlap_days: int = 400  # monthly series get revised for about a year


@dataclass(frozen=True)
class ValidationSettings:
    max_stale_sessions: int = 3  # a required series this far behind the as-of session blocks the run
    max_jump_spx: float = 0.25  # |log return| above this is an outlier (1987 was -0.229)
    max_jump_vol_index: float = 1.0  # |log change| of a volatility index above this is an outlier
    max_revised_share: float = 0.25  # a delivery changing more of one series' stored rows is refused


@dataclass(frozen=True)
class FeatureSettings:
    """METHODOLOGY §2 windows. Every value for session t uses data up to t's close only."""

    vol_windows: tuple[int, ...] = (10, 21, 63)  # close-to-close realized vol (sessions)
    range_window: int = 21  # Parkinson and Yang-Zhang
    garch_horizons: tuple[int, ...] = (21, 45)  # mean vol over the next h sessions
    garch_refit: str = "monthly"  # parameters re-estimated at most monthly (METHODOLOGY §2)
    rsi_period: int = 14  # Wilder
    macd: tuple[int, int, int] = (12, 26, 9)
    pivot_bars: int = 5  # bars each side of a divergence pivot
    divergence_gap: tuple[int, int] = (5, 60)  # bars between compared pivots
    divergence_active: int = 10  # sessions a divergence stays active after confirmation
    percentile_window: int = 252  # VIX percentile and z-score
    drawdown_window: int = 252
    breadth_min_coverage: float = 0.5  # below this the vendor A/D line is used
    breadth_divergence_window: int = 20
    stress_window: int = 756  # 3-year z-scores in the macro stress score
    month: int = 21  # sessions in "1-month" changes
    quarter: int = 63  # sessions in "3-month" changes


@dataclass(frozen=True)
class RegimeSettings:
    """METHODOLOGY §3 thresholds; the first matching row wins."""

    crisis_vix: float = 40.0
    crisis_ivts: float = 1.10
    stressed_vix: float = 30.0
    stressed_ivts: float = 1.00
    stressed_drawdown: float = -0.10
    stressed_drawdown_vix: float = 25.0
    elevated_vix: float = 20.0
    elevated_ivts: float = 0.95
    elevated_vix_pct: float = 0.80
    elevated_macro_stress: float = 1.0
    calm_vix: float = 15.0
    calm_ivts: float = 0.90
    downgrade_sessions: int = 3  # moving down needs this many consecutive qualifying sessions


@dataclass(frozen=True)
class Settings:
    home: Path = field(default_factory=lambda: Path(os.environ.get("VIXSHIELD_HOME", "data")))
    universe: tuple[str, ...] = DEFAULT_UNIVERSE  # breadth universe fetched from Yahoo when live
    live: LiveSettings = field(default_factory=LiveSettings)
    validation: ValidationSettings = field(default_factory=ValidationSettings)
    features: FeatureSettings = field(default_factory=FeatureSettings)
    regime: RegimeSettings = field(default_factory=RegimeSettings)
    book: BookSettings = field(default_factory=lambda: _book_settings())

    @property
    def warehouse_path(self) -> Path:
        return self.home / "warehouse.duckdb"

    def digest(self) -> str:
        """A stable hash of the settings, stored per run."""
        return digest(settings_json(self))


def settings_json(settings) -> str:
    """Any settings dataclass as canonical JSON (sorted keys): what runs store and digests hash."""
    return json.dumps(dataclasses.asdict(settings), default=str, sort_keys=True)


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _book_settings():
    from vixshield.book import BookSettings  # the book's settings live beside its rules

    return BookSettings()


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


class ConfigError(ValueError, yaml.YAMLError):
    """A settings file that cannot be used, naming the file and why. A ValueError (and a YAMLError,
    as the raw parse errors were) so the CLI reports it as an argument error with exit code 2."""


class _SettingsLoader(yaml.SafeLoader):
    """SafeLoader that refuses anchors and aliases and caps nesting. Settings files have no use for
    aliases, and they are what makes a few hundred bytes expand into gigabytes ("billion laughs"):
    the expansion happens later, when the settings are merged, hashed and stored."""

    def compose_node(self, parent, index):  # type: ignore[override]
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise yaml.composer.ComposerError(
                None, None, "anchors and aliases (&name, *name, <<: *name) are not allowed", event.start_mark
            )
        self._depth = getattr(self, "_depth", 0) + 1
        try:
            if self._depth > MAX_CONFIG_DEPTH:
                raise yaml.composer.ComposerError(
                    None, None, f"nested more than {MAX_CONFIG_DEPTH} levels deep", event.start_mark
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def read_config_file(path: str | Path) -> dict:
    """The YAML mapping in `path`, parsed without aliases and only if the file is at most
    MAX_CONFIG_BYTES; every refusal is a ConfigError naming the file."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist")
    with path.open("rb") as fh:
        raw = fh.read(MAX_CONFIG_BYTES + 1)  # never more, even if the file grows after a size check
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(f"config file {path} is larger than {MAX_CONFIG_BYTES} bytes; refused")
    loader = _SettingsLoader(raw)
    loader.name = str(path)  # error marks then say `in "my.yaml", line 3` rather than "<byte string>"
    try:
        data = loader.get_single_data()
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path} refused: {exc}") from None
    finally:
        loader.dispose()
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path}: expected a mapping of settings, got a {type(data).__name__}")
    return data


def load_settings(path: str | Path | None = None, **overrides) -> Settings:
    """Defaults, then the YAML file (if any), then keyword overrides."""
    settings = Settings()
    if path is not None:
        settings = _merge(settings, read_config_file(path))
    return _merge(settings, {k: v for k, v in overrides.items() if v is not None})
