"""Shared fixtures: a small market-data folder in the publishers' exact formats, and paths."""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from vixshield import calendars
from vixshield.store import warehouse

REPO = Path(__file__).resolve().parent.parent
SHARED_MARKET = REPO.parent / "shared" / "data" / "market"


def write_market_dir(root: Path, start: str = "2023-09-01", end: str = "2024-03-28", seed: int = 7) -> Path:
    """Write a realistic little data set laid out like the publishers' downloads.

    Prices are a seeded random walk around 2023-24 levels (SPX ~4500, VIX ~15), so that every
    check has clean data to pass on; tests then break one thing at a time.
    """
    rng = np.random.default_rng(seed)
    days = calendars.sessions(start, end)
    n = len(days)
    returns = rng.normal(0.0003, 0.008, n)
    spx = 4500 * np.exp(np.cumsum(returns))
    # the VIX moves against SPX on the same session (real daily correlation about -0.7) and reverts to 15
    shocks = rng.normal(0, 0.03, n) - 4 * (returns - 0.0003)
    log_vix, level = np.empty(n), np.log(15)
    for i, shock in enumerate(shocks):
        level += 0.02 * (np.log(15) - level) + shock
        log_vix[i] = level
    vix = np.clip(np.exp(log_vix), 10, 40)

    def ohlc(close: np.ndarray, spread: float) -> pd.DataFrame:
        open_ = close * (1 + rng.normal(0, spread / 3, n))
        high = np.maximum(open_, close) * (1 + np.abs(rng.normal(0, spread, n)))
        low = np.minimum(open_, close) * (1 - np.abs(rng.normal(0, spread, n)))
        return pd.DataFrame({"open": open_, "high": high, "low": low, "close": close})

    for sub in ("yahoo", "cboe", "cboe_futures", "fred", "events", "breadth"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    bars = ohlc(spx, 0.004)
    pd.DataFrame(
        {
            "Date": days.strftime("%Y-%m-%d"),
            "Open": bars.open,
            "High": bars.high,
            "Low": bars.low,
            "Close": bars.close,
            "Adj Close": bars.close,
            "Volume": rng.integers(3e9, 5e9, n),
        }
    ).to_csv(root / "yahoo" / "^GSPC.csv", index=False)
    # longer-dated indices swing less intraday than the VIX, shorter ones more
    for name, level, spread in (
        ("VIX", 1.0, 0.03),
        ("VIX9D", 0.92, 0.04),
        ("VIX3M", 1.12, 0.015),
        ("VIX6M", 1.2, 0.01),
    ):
        b = ohlc(vix * level, spread)
        pd.DataFrame(
            {
                "DATE": days.strftime("%m/%d/%Y"),
                "OPEN": b.open.map("{:.6f}".format),
                "HIGH": b.high.map("{:.6f}".format),
                "LOW": b.low.map("{:.6f}".format),
                "CLOSE": b.close.map("{:.6f}".format),
            }
        ).to_csv(root / "cboe" / f"{name}_History.csv", index=False)
    pd.DataFrame({"DATE": days.strftime("%m/%d/%Y"), "VVIX": (80 + 3 * vix).round(2)}).to_csv(
        root / "cboe" / "VVIX_History.csv", index=False
    )
    pd.DataFrame({"DATE": days.strftime("%m/%d/%Y"), "SKEW": (135 + rng.normal(0, 4, n)).round(2)}).to_csv(
        root / "cboe" / "SKEW_History.csv", index=False
    )
    rows = []
    expiries = calendars.vix_expirations(days[0], days[-1] + pd.DateOffset(months=3))
    for i, day in enumerate(days):
        live = [e for e in expiries if e >= day][:3]
        for k, e in enumerate(live):
            px = round(vix[i] * (1.05 + 0.04 * k), 2)
            rows.append(
                [
                    day.strftime("%Y-%m-%d"),
                    e.strftime("%Y-%m-%d"),
                    px,
                    round(px + 0.4, 2),
                    round(px - 0.4, 2),
                    px,
                    px,
                    0.0,
                    50000 - 10000 * k,
                    0,
                    150000 - 30000 * k,
                ]
            )
    pd.DataFrame(
        rows,
        columns=[
            "Trade Date",
            "Futures",
            "Open",
            "High",
            "Low",
            "Close",
            "Settle",
            "Change",
            "Total Volume",
            "EFP",
            "Open Interest",
        ],
    ).to_csv(root / "cboe_futures" / "VX_per_contract.csv", index=False)
    months = pd.date_range("2022-01-01", end, freq="MS")
    pd.DataFrame(
        {"observation_date": months.strftime("%Y-%m-%d"), "CPIAUCSL": np.round(280 + 0.8 * np.arange(len(months)), 3)}
    ).to_csv(root / "fred" / "CPIAUCSL.csv", index=False)
    daily = pd.bdate_range("2023-06-01", end)
    dgs10 = np.round(4.2 + np.cumsum(rng.normal(0, 0.03, len(daily))), 2).astype(str)
    dgs10[5] = ""  # FRED leaves holidays blank
    pd.DataFrame({"observation_date": daily.strftime("%Y-%m-%d"), "DGS10": dgs10}).to_csv(
        root / "fred" / "DGS10.csv", index=False
    )
    pd.DataFrame(
        {"date": ["2023-09-20", "2023-11-01", "2023-12-13", "2024-01-31", "2024-03-20"], "scheduled": ["True"] * 5}
    ).to_csv(root / "events" / "fomc_decisions.csv", index=False)
    # NYSE net advances follow SPX's return; NYAD is their running sum, NYMO the McClellan oscillator of them
    # (19- minus 39-session EMA)
    net = 100_000 * returns + rng.normal(0, 300, n)
    ema = pd.Series(net).ewm
    nymo = ema(alpha=0.1, adjust=False).mean() - ema(alpha=0.05, adjust=False).mean() + rng.normal(0, 4, n)
    pd.DataFrame(
        {"Date": days.strftime("%Y-%m-%d"), "NYAD": np.round(np.cumsum(net), 2), "NYMO": np.round(nymo, 2)}
    ).to_csv(root / "breadth" / "nyse_NYAD_NYMO_vendor.csv", index=False)
    # a breadth universe: the SPDR sector ETFs, each following SPX with its own beta and noise
    sectors = ["XLB", "XLE", "XLF", "XLI", "XLK", "XLP", "XLU", "XLV", "XLY", "XLRE", "XLC"]
    beta = rng.uniform(0.6, 1.4, len(sectors))
    moves = np.diff(np.log(spx), prepend=np.log(spx[0]))[:, None] * beta + rng.normal(0, 0.006, (n, len(sectors)))
    closes = pd.DataFrame(np.round(50 * np.exp(np.cumsum(moves, axis=0)), 4), columns=sectors)
    closes.insert(0, "Date", days.strftime("%Y-%m-%d"))
    closes.to_csv(root / "breadth" / "sector_etfs_close.csv", index=False)
    return root


@pytest.fixture(scope="session")
def market_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small market folder, written once per session. Read it, never change it: a test that
    edits files gets its own copy (`market_dir`)."""
    return write_market_dir(tmp_path_factory.mktemp("template") / "market")


@pytest.fixture
def market_dir(tmp_path: Path, market_template: Path) -> Path:
    return Path(shutil.copytree(market_template, tmp_path / "market"))


@dataclass(frozen=True)
class BuiltHome:
    home: Path
    log: str  # what `vixshield run` printed on stderr


def cli_built_once(tmp_path_factory: pytest.TempPathFactory, name: str, data_dir: Path, *args: str) -> BuiltHome:
    """`vixshield run --source files --data-dir DATA_DIR ARGS` into a home named `name`, built once
    for the whole test session even when pytest-xdist runs several workers: the first worker to
    get here builds it under a lock, in the folder the workers share; the others wait and reuse it."""
    from tests.e2e.helpers import vixshield

    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the workers' base temps are siblings under one session folder
    folder = root / f"built-{name}"
    folder.mkdir(exist_ok=True)
    with open(folder / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, or when the holder dies
        log = folder / "run.log"
        if not log.exists():
            out = vixshield(folder / "home", "run", "--source", "files", "--data-dir", str(data_dir), *args)
            assert out.returncode == 0, out.stderr[-3000:]
            log.write_text(out.stderr)  # written last: its presence means the home is complete
    return BuiltHome(folder / "home", log.read_text())


@pytest.fixture(scope="session")
def cli_built(tmp_path_factory: pytest.TempPathFactory, market_template: Path) -> BuiltHome:
    """A home built once per session by `vixshield run --source files` on the small market folder.
    Read it, never write it: a test that changes the warehouse works on a copy (`cli_home`)."""
    return cli_built_once(tmp_path_factory, "small", market_template)


@pytest.fixture
def cli_home(tmp_path: Path, cli_built: BuiltHome) -> Path:
    """A copy of the session's built home (warehouse, cache, snapshot, Dagster runs) for one test."""
    return copy_home(cli_built.home, tmp_path / "home")


def copy_home(src: Path, dst: Path) -> Path:
    return Path(shutil.copytree(src, dst))


@pytest.fixture
def conn(tmp_path: Path):
    """An empty warehouse (every schema and table created) in a temp file."""
    c = warehouse.connect(tmp_path / "w.duckdb")
    warehouse.init_schema(c)
    yield c
    c.close()


@pytest.fixture
def shared_market() -> Path:
    if not (SHARED_MARKET / "MANIFEST.md").exists():
        pytest.skip("the shared real-data bundle is not present")
    return SHARED_MARKET


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    h = tmp_path / "home"
    monkeypatch.setenv("VIXSHIELD_HOME", str(h))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    (tmp_path / "dagster").mkdir()
    (tmp_path / "dagster" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    return h


def as_date(s: str) -> dt.date:
    return dt.date.fromisoformat(s)


os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
