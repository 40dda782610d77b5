"""`vixshield doctor`: what is installed, configured, built, published and reachable, in one report.

Each check answers one question a user asks when something does not work ("is the warehouse
built?", "is the snapshot apps read current and intact?", "can a live run reach Yahoo?"), and a
failing check says what to do. The doctor only reads: the working warehouse is opened read-only,
network probes are bare TCP connects with a deadline (run in parallel daemon threads, so a host
whose DNS lookup hangs cannot hang the report), and the FRED key is reported as set or not set,
never shown.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata as md
import os
import platform
import re
import socket
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import duckdb

from vixshield.config import ConfigError, LiveSettings, Settings, check_settings, load_settings
from vixshield.serve import publish

Level = Literal["ok", "warn", "fail"]
EXPECTED_SCHEMAS = ("raw", "meta", "core", "features")
MAX_SNAPSHOT_AGE = dt.timedelta(days=4)  # a long weekend plus a holiday without a run is still normal
BUILD_HINT = "run `vixshield run --source sample` (offline) or `vixshield run --source live` to build it"


@dataclass(frozen=True)
class DoctorCheck:
    name: str
    ok: bool
    level: Level
    detail: str


def _check(name: str, level: Level, detail: str) -> DoctorCheck:
    return DoctorCheck(name, level != "fail", level, detail)


def _versions() -> list[DoctorCheck]:
    checks = [_check("python", "ok" if sys.version_info >= (3, 11) else "fail", platform.python_version())]
    try:
        requires = md.requires("vixshield") or []
        own = md.version("vixshield")
    except md.PackageNotFoundError:
        return [*checks, _check("packages", "fail", "vixshield is not installed (pip install -e .)")]
    found, missing = [f"vixshield {own}"], []
    for req in requires:
        if "extra ==" in req:
            continue
        name = re.match(r"[A-Za-z0-9_.\-]+", req).group(0)
        try:
            found.append(f"{name} {md.version(name)}")
        except md.PackageNotFoundError:
            missing.append(name)
    if missing:
        return [*checks, _check("packages", "fail", f"missing: {', '.join(missing)} (pip install -e .)")]
    return [*checks, _check("packages", "ok", ", ".join(found))]


def _warehouse(home: Path) -> DoctorCheck:
    path = home / "warehouse.duckdb"
    if not path.exists():
        return _check("warehouse", "fail", f"no working warehouse at {path}; {BUILD_HINT}")
    try:
        with duckdb.connect(str(path), read_only=True) as conn:
            query = "SELECT schema_name FROM duckdb_schemas() WHERE database_name = current_database()"
            schemas = {r[0] for r in conn.execute(query).fetchall()}
            last = None
            if "meta" in schemas:
                last = conn.execute(
                    "SELECT run_id, status, coalesce(finished_at, started_at), as_of FROM meta.runs "
                    "ORDER BY started_at DESC LIMIT 1"
                ).fetchone()
    except duckdb.Error as exc:
        if "lock" in str(exc).lower():
            return _check("warehouse", "warn", f"{path} is locked by another process (a run in progress?)")
        return _check("warehouse", "fail", f"{path} does not open: {exc}")
    missing = [s for s in EXPECTED_SCHEMAS if s not in schemas]
    if missing:
        return _check("warehouse", "fail", f"{path} lacks schemas {missing}; {BUILD_HINT}")
    runs = f"last run {last[0][:8]} {last[1]} at {last[2]:%Y-%m-%d %H:%M} UTC, as of {last[3]}" if last else "no runs"
    level: Level = "ok" if last and last[1] == "success" else "warn"
    return _check("warehouse", level, f"{path}: schemas {', '.join(EXPECTED_SCHEMAS)}; {runs}")


def _snapshot(home: Path, now: dt.datetime) -> list[DoctorCheck]:
    path = publish.snapshot_path(home)
    try:
        manifest = publish.read_manifest(home)
    except publish.PublishError as exc:
        return [_check("snapshot", "fail", str(exc))]
    if not path.exists() or manifest is None:
        missing = path if not path.exists() else publish.manifest_path(home)
        return [
            _check("snapshot", "warn", f"nothing published ({missing} missing); a successful `vixshield run` publishes")
        ]
    published = dt.datetime.fromisoformat(manifest["published_at"])
    age = now - published
    hours = age.total_seconds() / 3600
    level: Level = "ok" if age <= MAX_SNAPSHOT_AGE else "warn"
    detail = (
        f"{path}: published {hours:.1f} h ago, run {str(manifest.get('run_id'))[:8]}, as of {manifest.get('as_of')}, "
        f"methodology {manifest.get('methodology_version')}"
    )
    checks = [_check("snapshot", level, detail + ("" if level == "ok" else "; stale: is the daily run scheduled?"))]
    problems = publish.verify(home)
    if not problems:
        try:
            with publish.open_snapshot(home) as conn:
                counts = publish.table_counts(conn)
            if counts != manifest.get("row_counts"):
                problems.append("row counts differ from the manifest")
        except duckdb.Error as exc:
            problems.append(f"does not open: {exc}")
    if problems:
        checks.append(_check("manifest", "fail", "; ".join(problems) + "; the next successful run republishes"))
    else:
        checks.append(_check("manifest", "ok", f"{len(manifest.get('files', {}))} files match their sha256 checksums"))
    return checks


def _hosts(live: LiveSettings) -> dict[str, tuple[str, int]]:
    from vixshield.ingest.sources.live import YAHOO_HOST

    urls = {
        "yahoo": live.yahoo_url or YAHOO_HOST,
        "fred api": live.fred_api_url,
        "fredgraph": live.fredgraph_url,
        "cboe": live.cboe_url,
    }
    out = {}
    for name, url in urls.items():
        parts = urlsplit(url)
        out[name] = (parts.hostname or url, parts.port or (443 if parts.scheme == "https" else 80))
    return out


def _reachability(live: LiveSettings, timeout: float) -> list[DoctorCheck]:
    """Parallel TCP connects; whatever has not answered by the deadline is unreachable."""
    hosts = _hosts(live)
    results: dict[str, str | None] = {}  # name -> None when reachable, else why not

    def probe(name: str, host: str, port: int) -> None:
        try:
            socket.create_connection((host, port), timeout=timeout).close()
            results[name] = None
        except OSError as exc:
            results[name] = type(exc).__name__ + (f" ({exc.strerror})" if exc.strerror else "")

    threads = [threading.Thread(target=probe, args=(n, h, p), daemon=True) for n, (h, p) in hosts.items()]
    for t in threads:
        t.start()
    deadline = time.monotonic() + timeout + 0.2
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    checks = []
    for name, (host, port) in hosts.items():
        where = f"{host}:{port}"
        if name in results and results[name] is None:
            checks.append(_check(f"net {name}", "ok", f"{where} reachable"))
        else:
            why = results.get(name) or f"no answer within {timeout:g}s"
            checks.append(_check(f"net {name}", "warn", f"{where} unreachable: {why}; `--source live` will fail"))
    return checks


def run_doctor(
    settings: Settings | None,
    home: str | Path,
    check_network: bool = True,
    timeout: float = 3.0,
    config_file: str | Path | None = None,
) -> list[DoctorCheck]:
    """Every check, in report order. `settings` None loads `config_file`; either way the settings are
    validated as a settings file would be (types, ranges, known keys) and reported as the `config` check."""
    home = Path(home)
    checks = _versions()
    try:
        settings = load_settings(config_file, home=home) if settings is None else check_settings(settings)
    except ConfigError as exc:  # names the file, each dotted key, its value and what is expected
        settings = None
        checks.append(_check("config", "fail", str(exc)))
    except Exception as exc:  # any other error (an import, a bug) is the user's to see too
        settings = None
        checks.append(_check("config", "fail", f"{config_file or 'defaults'}: {type(exc).__name__}: {exc}"))
    if settings is not None:
        checks.append(_check("config", "ok", f"{config_file or 'defaults'}; hash {settings.digest()}"))
    checks.append(_warehouse(home))
    checks.extend(_snapshot(home, dt.datetime.now(dt.UTC)))
    key = "set" if os.environ.get("FRED_API_KEY") else "not set (the keyless fredgraph.csv is used)"
    checks.append(_check("FRED_API_KEY", "ok", key))
    if check_network:
        checks.extend(_reachability(settings.live if settings is not None else LiveSettings(), timeout))
    return checks


def format_report(checks: list[DoctorCheck]) -> str:
    width = max((len(c.name) for c in checks), default=0)
    lines = [f"  {c.level:<5} {c.name:<{width}}  {c.detail}" for c in checks]
    counts = {level: sum(c.level == level for c in checks) for level in ("ok", "warn", "fail")}
    lines.append(f"\n{counts['ok']} ok, {counts['warn']} warn, {counts['fail']} fail")
    return "\n".join(lines)
