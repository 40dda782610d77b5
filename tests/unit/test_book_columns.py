"""A backtest's session rows hold only book.BOOK_COLUMNS: every features column the book reads there.

Each session row is replaced by a dict that records the columns asked of it, then every strategy, every
ablation variant, both fill timings and the sweep's corners run over a constructed year with a crash, an
SPX hole, a session without a VIX close and sessions without VX settlements. The engine's source is what
is recorded: compiled, a read takes the dict's own lookup and skips a subclass's `get`, so a compiled
process records in a child running the source (the compiled engine books what the source books:
test_native.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest

import vixshield
from tests.unit.test_backtest import random_market
from vixshield import values
from vixshield.backtest import engine as backtest
from vixshield.strategy.book import BOOK_COLUMNS, BookSettings, SessionCache, run_book


class Recorded(dict):
    """A session row that records each column asked of it."""

    seen: ClassVar[set[str]] = set()

    def get(self, key, default=None):
        self.seen.add(key)
        return super().get(key, default)

    def __getitem__(self, key):
        self.seen.add(key)
        return super().__getitem__(key)

    def __contains__(self, key):
        self.seen.add(key)
        return super().__contains__(key)


def rich_market() -> backtest.Inputs:
    """random_market with columns the book does not read (of each dtype the features hold), a session
    without a VIX close, one without an SPX close and sessions without VX settlements."""
    inputs = random_market()
    f = inputs.features.copy()
    rng = np.random.default_rng(5)
    f["vx_m1"], f["skew"], f["hy_oas"] = f["vix"] * 1.05, rng.uniform(110, 150, len(f)), rng.uniform(3, 9, len(f))
    f["advancers"] = pd.array(rng.integers(100, 400, len(f)), dtype="Int64")
    f["curve_inverted"] = pd.array(rng.uniform(size=len(f)) < 0.3, dtype="boolean")
    f["breadth_source"], f["methodology_version"] = "constructed", 1
    f.loc[f.index[60], ["vix", "vix9d", "vix3m", "vix6m"]] = np.nan  # carried on the last surface
    f.loc[f.index[200], ["spx_close", "spx_ret"]] = np.nan  # an accepted SPX hole
    # every seventh session without VX settlements: the hedge prices its futures off the VIX curve
    vx = {day: settles for i, (day, settles) in enumerate(inputs.vx.items()) if i % 7}
    return backtest.Inputs(f, inputs.regimes, vx, inputs.opens)


def recorded_reads(inputs: backtest.Inputs, strategy: str, settings: BookSettings) -> set[str]:
    """The columns one run asks of its session rows."""
    f = inputs.features
    rows = [Recorded(r) for r in values.records(f)]
    inputs.cache.records.update(zip(f.index.asi8.tolist(), zip(f.index, rows, strict=True), strict=True))
    Recorded.seen = set()
    run = backtest.run_strategy(inputs, strategy, settings)
    assert strategy == "spx" or len(run.fills), strategy  # an option strategy traded: its rules ran
    return Recorded.seen


def settings_to_run() -> list[tuple[str, str, BookSettings]]:
    base = BookSettings()
    jobs = [(s, s, backtest.strategy_settings(s, base)) for s in backtest.STRATEGIES]
    jobs += [(f"ablation {name}", "full", s) for name, _, s in backtest.ablation_jobs(base)[1:]]
    jobs += [(f"{name}, same close", strategy, replace(s, fill="same_close")) for name, strategy, s in jobs[:9]]
    for short_delta in (0.10, 0.25):
        for take_profit in (0.30, 0.80):
            condor = replace(base.condor, short_delta=short_delta, take_profit=take_profit)
            jobs.append((f"sweep {short_delta} {take_profit}", "full", replace(base, condor=condor)))
    return jobs


def reads_by_run() -> dict[str, list[str]]:
    return {name: sorted(recorded_reads(rich_market(), strategy, s)) for name, strategy, s in settings_to_run()}


@cache
def source_reads() -> dict[str, list[str]]:
    """reads_by_run of the engine's source: here, or in a child process when this one runs compiled."""
    if not vixshield.ENGINE.startswith("compiled"):
        return reads_by_run()
    root = Path(__file__).resolve().parents[2]
    code = "import json; from tests.unit.test_book_columns import reads_by_run; print(json.dumps(reads_by_run()))"
    env = os.environ | {"VIXSHIELD_NATIVE": "0", "PYTHONPATH": str(root)}
    out = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.splitlines()[-1])


@pytest.mark.parametrize("name", [name for name, _, _ in settings_to_run()])
def test_the_backtest_reads_no_column_outside_book_columns(name):
    reads = set(source_reads()[name])
    assert reads, name  # the rows were the recorded ones
    assert reads <= set(BOOK_COLUMNS), f"{name} reads {sorted(reads - set(BOOK_COLUMNS))}: add them to BOOK_COLUMNS"


def test_rows_of_book_columns_book_what_rows_of_every_column_book():
    """The backtest's trimmed rows against the whole rows, every strategy: equal frames."""
    base = BookSettings()
    for strategy in backtest.STRATEGIES:
        settings = backtest.strategy_settings(strategy, base)
        trimmed = rich_market()
        whole = backtest.Inputs(trimmed.features, trimmed.regimes, trimmed.vx, trimmed.opens)
        object.__setattr__(whole, "cache", SessionCache())
        assert trimmed.cache.columns == BOOK_COLUMNS and whole.cache.columns is None
        a, b = backtest.run_strategy(trimmed, strategy, settings), backtest.run_strategy(whole, strategy, settings)
        for x, y in zip((a.equity, a.fills, a.trades), (b.equity, b.fills, b.trades), strict=True):
            pd.testing.assert_frame_equal(x, y)
        assert len(next(iter(trimmed.cache.records.values()))[1]) < len(trimmed.features.columns)


def test_a_cache_of_some_columns_refuses_a_run_that_writes_rows():
    inputs = random_market()
    with pytest.raises(ValueError, match="rows=False"):
        run_book(inputs.features, inputs.regimes, inputs.vx, inputs.opens, BookSettings(), cache=inputs.cache)
