"""The compiled engine (vixshield/native.py): loaded only while the source is what was built, and it books
what the source books.

The build itself is `make setup`'s (about a minute), so these tests use the checkout's build when there
is one: in CI, where setup always builds it, its absence fails (but in the lowest-versions tier, which
runs the source on purpose with VIXSHIELD_NATIVE=0); elsewhere it skips."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import vixshield
from tests.unit.test_backtest import random_market
from vixshield import native
from vixshield.backtest import engine as backtest
from vixshield.strategy import book
from vixshield.strategy.book import BookSettings

ROOT = Path(__file__).resolve().parents[2]


def fake_build(tmp_path: Path, **changes) -> Path:
    """A build folder whose manifest matches the current source (no extension in it: `status` reads only
    the manifest and the sources), with `changes` applied to the manifest."""
    manifest = {
        "suffix": native.SUFFIX,
        "sources": {p: native.source_hash(p) for p in native.ENGINE_MODULES},
        "files": {native.module_name(p): f"vixshield/{p}{native.SUFFIX}" for p in native.ENGINE_MODULES},
    } | changes
    (tmp_path / native.MANIFEST).write_text(json.dumps(manifest))
    return tmp_path


def test_a_build_of_exactly_this_source_is_served_from_its_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("VIXSHIELD_NATIVE", raising=False)
    files, how = native.status(fake_build(tmp_path))
    assert how == "compiled (mypyc)"
    assert files["vixshield.strategy.book"] == tmp_path / f"vixshield/strategy/book{native.SUFFIX}"
    assert set(files) == {native.module_name(p) for p in native.ENGINE_MODULES}


def test_an_edited_module_runs_as_source_until_the_next_build(tmp_path, monkeypatch):
    monkeypatch.delenv("VIXSHIELD_NATIVE", raising=False)
    sources = {p: native.source_hash(p) for p in native.ENGINE_MODULES} | {"strategy/hedge": "0" * 64}
    files, how = native.status(fake_build(tmp_path, sources=sources))
    assert files is None and "strategy/hedge" in how and how.startswith("source")


def test_a_build_missing_a_module_or_for_another_python_or_switched_off_is_not_used(tmp_path, monkeypatch):
    monkeypatch.delenv("VIXSHIELD_NATIVE", raising=False)
    fewer = {p: native.source_hash(p) for p in native.ENGINE_MODULES[1:]}
    assert native.status(fake_build(tmp_path, sources=fewer))[0] is None
    files, how = native.status(fake_build(tmp_path, suffix=".cpython-399-x.so"))
    assert files is None and ".cpython-399-x.so" in how
    assert native.status(tmp_path / "absent")[1].startswith("source (no compiled build")
    monkeypatch.setenv("VIXSHIELD_NATIVE", "0")
    assert native.status(fake_build(tmp_path))[1] == "source (VIXSHIELD_NATIVE=0)"


SOURCE_RUN = """
import pickle, sys
from tests.unit.test_backtest import random_market
from vixshield.backtest import engine as backtest
from vixshield.strategy import book
assert book.__file__.endswith(".py"), book.__file__  # VIXSHIELD_NATIVE=0: the source
settings = {s: backtest.strategy_settings(s, book.BookSettings()) for s in backtest.STRATEGIES}
runs = {s: backtest.run_strategy(random_market(), s, settings[s]) for s in backtest.STRATEGIES}
pickle.dump({s: (r.equity, r.fills, r.trades) for s, r in runs.items()}, open(sys.argv[1], "wb"))
"""


def test_the_compiled_engine_books_what_the_source_books(tmp_path):
    """Every strategy on a constructed year with a crash, compiled here and as source in a child process.
    The same IEEE operations in the same order: equal to 1e-12 relative (a C compiler may fuse a
    multiply-add where the target has one, which moves only the last bits; on x86-64 they are equal)."""
    if not vixshield.ENGINE.startswith("compiled"):
        if os.environ.get("CI") and os.environ.get("VIXSHIELD_NATIVE") != "0":  # 0: the lowest tier's source
            pytest.fail(f"make setup builds the compiled engine, but it runs {vixshield.ENGINE}")
        pytest.skip(f"the engine runs {vixshield.ENGINE}")
    assert book.__file__.endswith(native.SUFFIX)
    out = tmp_path / "source.pkl"
    env = os.environ | {"VIXSHIELD_NATIVE": "0", "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-c", SOURCE_RUN, str(out)], cwd=ROOT, env=env, check=True, timeout=300)
    source = pickle.loads(out.read_bytes())
    for strategy in backtest.STRATEGIES:
        run = backtest.run_strategy(random_market(), strategy, backtest.strategy_settings(strategy, BookSettings()))
        assert strategy == "spx" or len(run.fills), strategy  # each option strategy trades: substance to compare
        for mine, theirs in zip((run.equity, run.fills, run.trades), source[strategy], strict=True):
            pd.testing.assert_frame_equal(mine, theirs, check_exact=False, rtol=1e-12, atol=0.0)


def test_setup_goes_on_as_source_when_the_compiler_fails_and_build_says_it_failed(monkeypatch, capsys):
    """`make setup` runs `ensure`: a machine that cannot compile (no C compiler) still gets a working install."""

    def fails(out: Path = native.NATIVE_DIR) -> Path:
        raise RuntimeError("mypyc failed (gcc: not found)")

    monkeypatch.delenv("VIXSHIELD_NATIVE", raising=False)
    monkeypatch.setattr(native, "status", lambda build=native.NATIVE_DIR: (None, "source (no compiled build)"))
    monkeypatch.setattr(native, "build", fails)
    assert native.main(["ensure"]) == 0
    assert (
        "the engine runs as source: the compiled build failed: mypyc failed (gcc: not found)" in capsys.readouterr().err
    )
    assert native.main(["build"]) == 1
    assert native.main(["nonsense"]) == 2
