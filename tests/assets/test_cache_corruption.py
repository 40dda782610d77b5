"""A damaged cache costs time, never correctness: the daily job run on a randomly corrupted copy of a
built warehouse's cache succeeds and writes exactly the tables of a build that had no cache at all."""

from __future__ import annotations

import hashlib
import logging
import random
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from tests.assets.helpers import run_daily, table_digests
from vixshield.ingest import cache

pytestmark = pytest.mark.slow

ROUNDS = 3  # each round is a daily-job run (~4 s); every round damages 1-4 entries of three kinds


def output_digests(db: Path) -> dict[str, str]:
    """`table_digests` (raw, core, meta; no stamps) plus features.* and signals.*, which the GARCH memo feeds."""
    out = table_digests(db, stamps=False)
    with duckdb.connect(str(db), read_only=True) as conn:
        for schema, table in conn.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE schema_name IN ('features', 'signals')"
        ).fetchall():
            frame = conn.execute(f"SELECT * FROM {schema}.{table} ORDER BY ALL").df()
            out[f"{schema}.{table}"] = hashlib.sha256(frame.to_csv().encode()).hexdigest()
    return out


def corrupt(path: Path, rng: random.Random) -> str:
    """Damage the file one of three ways; every way changes its bytes."""
    blob = bytearray(path.read_bytes())
    how = rng.choice(["flip", "truncate", "overwrite"])
    if how == "flip":
        i = rng.randrange(len(blob))
        blob[i] ^= 1 << rng.randrange(8)
    elif how == "truncate":
        del blob[rng.randrange(len(blob)) :]
    else:
        start = rng.randrange(len(blob))
        for i in range(start, min(len(blob), start + rng.randint(1, 64))):
            blob[i] ^= rng.randrange(1, 256)  # never XOR 0: the byte always changes
    path.write_bytes(bytes(blob))
    return how


def test_a_corrupted_cache_never_changes_what_the_job_writes(
    daily_built: tuple[Path, dg.ExecuteInProcessResult],
    market_template: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
):
    # daily_built ran into an empty folder, so its tables are a build with no cache to read: the reference
    built_db, _ = daily_built
    reference = output_digests(built_db)
    built_cache = cache.cache_dir(built_db)
    entries = sorted(p.relative_to(built_cache) for p in built_cache.rglob("*.pkl"))
    assert Path("garch_fits.pkl") in entries and len(entries) > 10
    rng = random.Random(20240328)
    for round_ in range(ROUNDS):
        db = tmp_path / f"round{round_}" / "w.duckdb"
        cache_dir = cache.cache_dir(db)  # where the job will look for the cache of this warehouse
        shutil.copytree(built_cache, cache_dir)
        damaged = {e: corrupt(cache_dir / e, rng) for e in rng.sample(entries, rng.randint(1, 4))}
        # parse entries are rewritten only on a miss (garch_fits.pkl is rewritten by every run)
        untouched = {
            e: (cache_dir / e).stat().st_mtime_ns for e in entries if e not in damaged and e != Path("garch_fits.pkl")
        }
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="vixshield.ingest.cache"):
            result = run_daily(db, market_template)
        assert result.success, (round_, damaged)
        assert output_digests(db) == reference, (round_, damaged)
        # the corrupted copy was read: each damaged entry was reported once, by path, and rewritten...
        warnings = [r.getMessage() for r in caplog.records if r.name == "vixshield.ingest.cache"]
        assert len(warnings) == len(damaged), (round_, damaged, warnings)
        for entry in damaged:
            assert any(str(cache_dir / entry) in w for w in warnings), (round_, entry, warnings)
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="vixshield.ingest.cache"):
            for entry in entries:
                assert cache.read_pickle(cache_dir / entry) is not None, (round_, entry)
        assert not caplog.records
        # ...and the intact parse entries were served from it, not recomputed and rewritten
        assert {e: (cache_dir / e).stat().st_mtime_ns for e in untouched} == untouched
