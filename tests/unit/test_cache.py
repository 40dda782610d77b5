"""vixshield.ingest.cache and the files source's parse cache: a cached result equals a fresh one, a changed
input is never served a stale entry, and a damaged or unwritable cache only costs time."""

from __future__ import annotations

import datetime as dt
import hashlib
import pickle
import struct
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from vixshield.features.garch import garch_forecasts
from vixshield.ingest import cache
from vixshield.ingest.sources import parsers
from vixshield.ingest.sources.base import FetchWindow
from vixshield.ingest.sources.files import FilesSource
from vixshield.store.schemas import FAMILIES

OPEN = FetchWindow(None, dt.date(2200, 1, 1))


def counted(value):
    calls = []

    def make():
        calls.append(1)
        return value

    return make, calls


def test_keys_keep_their_parts_apart():
    assert cache.key("ab", "c") != cache.key("a", "bc")
    assert cache.key("ab", "c") == cache.key(b"ab", b"c")
    assert len(cache.key("x")) == 32


def test_an_entry_is_computed_once_and_read_back_by_a_later_instance(tmp_path):
    make, calls = counted({"rows": [1, 2, 3]})
    first = cache.PickleCache(tmp_path)
    assert first.get_or_make("k1", make) == {"rows": [1, 2, 3]}
    assert first.get_or_make("k1", make) == {"rows": [1, 2, 3]}
    later = cache.PickleCache(tmp_path)
    assert later.get_or_make("k1", make) == {"rows": [1, 2, 3]}
    assert len(calls) == 1


def test_a_damaged_entry_is_recomputed_and_rewritten(tmp_path):
    cache.PickleCache(tmp_path).get_or_make("k1", lambda: [1.5])
    path = tmp_path / "k1.pkl"
    path.write_bytes(path.read_bytes()[:5])  # truncated, as after a crash mid-copy
    make, calls = counted([1.5])
    again = cache.PickleCache(tmp_path)
    assert again.get_or_make("k1", make) == [1.5]
    assert calls == [1]
    assert cache.read_pickle(path) == [1.5]


def test_prune_drops_what_the_pass_did_not_use(tmp_path):
    old = cache.PickleCache(tmp_path)
    for k in ("a", "b", "c"):
        old.get_or_make(k, lambda k=k: k)
    (tmp_path / "left-by-a-crash.tmp").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("not ours")
    new = cache.PickleCache(tmp_path)
    new.get_or_make("b", lambda: "b")
    new.get_or_make("d", lambda: "d")
    new.prune()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.pkl", "d.pkl", "notes.txt"]


def test_no_root_computes_every_time_and_an_unusable_root_is_not_an_error(tmp_path):
    make, calls = counted(7)
    off = cache.PickleCache(None)
    assert off.get_or_make("k", make) == off.get_or_make("k", make) == 7
    assert len(calls) == 2
    off.prune()
    blocked = tmp_path / "a-file"
    blocked.write_text("")  # a cache root that cannot be created
    make, calls = counted(8)
    assert cache.PickleCache(blocked / "cache").get_or_make("k", make) == 8
    cache.write_pickle(blocked / "x.pkl", 1)
    assert cache.read_pickle(blocked / "x.pkl") is None


def test_code_digest_follows_the_source(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("X = 1\n")
    before = cache.code_digest(module, packages=("pandas",))
    assert cache.code_digest(module, packages=("pandas",)) == before
    module.write_text("X = 2\n")
    assert cache.code_digest(module, packages=("pandas",)) != before


# the files source's parse cache


def fetch_all(source: FilesSource) -> dict[str, tuple[pd.DataFrame, list]]:
    return {f: (out.frame, out.rejects) for f in FAMILIES for out in [source.fetch(f, OPEN)]}


def assert_same(a: dict, b: dict) -> None:
    for family in FAMILIES:
        pd.testing.assert_frame_equal(a[family][0], b[family][0], check_exact=True)
        assert a[family][1] == b[family][1]


def test_cached_fetches_equal_uncached_and_parse_nothing_the_second_time(market_dir, tmp_path, monkeypatch):
    plain = fetch_all(FilesSource(market_dir))
    cached = FilesSource(market_dir, tmp_path / "cache")
    assert_same(fetch_all(cached), plain)
    entries = sorted(p.name for p in (tmp_path / "cache").rglob("*.pkl"))
    assert len(entries) == sum(1 for p in market_dir.rglob("*.csv"))

    def must_not_parse(*_):
        raise AssertionError("a cached file was parsed again")

    for name in dir(parsers):
        if name.startswith("parse_"):
            monkeypatch.setattr(parsers, name, must_not_parse)
    assert_same(fetch_all(cached), plain)
    assert sorted(p.name for p in (tmp_path / "cache").rglob("*.pkl")) == entries


def test_an_edited_or_removed_file_is_read_afresh(market_dir: Path, tmp_path):
    cached = FilesSource(market_dir, tmp_path / "cache")
    fetch_all(cached)
    vix = market_dir / "cboe" / "VIX_History.csv"
    text = vix.read_text().splitlines()
    date, *_ = text[-1].split(",")
    text[-1] = f"{date},20.000000,21.000000,19.000000,20.500000"
    vix.write_text("\n".join(text) + "\n")
    (market_dir / "cboe" / "SKEW_History.csv").unlink()
    after = fetch_all(cached)
    assert_same(after, fetch_all(FilesSource(market_dir)))
    bars = after["daily_bars"][0]
    last = bars[(bars["symbol"] == "^VIX") & (bars["date"] == pd.Timestamp(dt.datetime.strptime(date, "%m/%d/%Y")))]
    assert last["close"].tolist() == [20.5]
    assert "^SKEW" not in set(bars["symbol"])
    # the stale entries went with the pass that no longer needed them
    assert len(list((tmp_path / "cache").rglob("*.pkl"))) == sum(1 for p in market_dir.rglob("*.csv"))


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_a_bom_and_any_newline_style_read_as_the_plain_file_does(market_dir: Path, tmp_path, newline: str):
    expected = FilesSource(market_dir).fetch("events", OPEN).frame
    fomc = market_dir / "events" / "fomc_decisions.csv"
    fomc.write_bytes(("\ufeff" + newline.join(fomc.read_text().splitlines()) + newline).encode())
    cached = FilesSource(market_dir, tmp_path / "cache").fetch("events", OPEN).frame
    pd.testing.assert_frame_equal(cached, expected)
    assert (cached["kind"] == "fomc").sum() == 5


# damaged entries: every kind of damage is detected, the entry recomputed, and the warning names its path


def flip_a_payload_bit(blob: bytes) -> bytes:
    i = cache._HEADER + (len(blob) - cache._HEADER) // 2
    return blob[:i] + bytes([blob[i] ^ 0x10]) + blob[i + 1 :]


def bare_pickle(blob: bytes) -> bytes:
    """What the code before checksums wrote: the pickle alone, no header."""
    return blob[cache._HEADER :]


DAMAGE = {
    "flipped bit": flip_a_payload_bit,
    "truncated": lambda blob: blob[: len(blob) * 2 // 3],
    "zero length": lambda blob: b"",
    "garbage": lambda blob: bytes(range(256)) * (len(blob) // 256 + 1),
    "old format": bare_pickle,
}


def warned_about(caplog: pytest.LogCaptureFixture, path: Path) -> list[str]:
    return [
        r.getMessage() for r in caplog.records if r.name == "vixshield.ingest.cache" and str(path) in r.getMessage()
    ]


@pytest.mark.parametrize("damage", DAMAGE)
def test_a_bad_entry_is_deleted_logged_and_recomputed(tmp_path, caplog, damage):
    cache.PickleCache(tmp_path).get_or_make("k1", lambda: {"vix": 15.84})
    path = tmp_path / "k1.pkl"
    path.write_bytes(DAMAGE[damage](path.read_bytes()))
    make, calls = counted({"vix": 15.84})
    with caplog.at_level("WARNING", logger="vixshield.ingest.cache"):
        assert cache.PickleCache(tmp_path).get_or_make("k1", make) == {"vix": 15.84}
    assert calls == [1]
    assert len(warned_about(caplog, path)) == 1
    caplog.clear()
    assert cache.read_pickle(path) == {"vix": 15.84}  # rewritten whole
    assert not caplog.records


def test_the_reason_is_logged_and_a_bad_entry_is_gone_even_when_nothing_rewrites_it(tmp_path, caplog):
    path = tmp_path / "e.pkl"
    cache.write_pickle(path, [1.0, 2.0])
    reasons = {
        "empty file": b"",
        "no checksum header": pickle.dumps([1.0, 2.0]),
        "checksum mismatch": flip_a_payload_bit(path.read_bytes()),
    }
    for reason, blob in reasons.items():
        path.write_bytes(blob)
        caplog.clear()
        with caplog.at_level("WARNING", logger="vixshield.ingest.cache"):
            assert cache.read_pickle(path) is None
        assert reason in caplog.text and str(path) in caplog.text
        assert not path.exists()  # not left to fail (and be reported by) every later run


def test_an_intact_entry_that_cannot_be_unpickled_or_is_of_the_wrong_type_is_bad(tmp_path, caplog):
    path = tmp_path / "e.pkl"
    payload = b"cno_such_module\nNoSuchClass\n)R."  # a class since removed: the bytes are fine, loading is not
    path.write_bytes(cache._MAGIC + hashlib.sha256(payload).digest() + payload)
    with caplog.at_level("WARNING", logger="vixshield.ingest.cache"):
        assert cache.read_pickle(path) is None
    assert "cannot be unpickled" in caplog.text and str(path) in caplog.text
    caplog.clear()
    cache.write_pickle(path, [1, 2])
    with caplog.at_level("WARNING", logger="vixshield.ingest.cache"):
        assert cache.PickleCache(tmp_path, kind=dict).get_or_make("e", lambda: {"a": 1}) == {"a": 1}
    assert "not the expected type" in caplog.text
    assert cache.read_pickle(path, dict) == {"a": 1}


def vix_entry(cache_dir: Path) -> Path:
    """The parse-cache entry of cboe/VIX_History.csv."""
    for path in (cache_dir / "daily_bars").glob("*.pkl"):
        if set(cache.read_pickle(path).frame["symbol"]) == {"^VIX"}:
            return path
    raise AssertionError("no VIX entry")


def with_vix_close(blob: bytes, old: float, new: float) -> bytes:
    """The entry with one VIX close changed in place: a single flipped bit when `new` is `old` +- 2^k."""
    at = blob.index(struct.pack("<d", old), cache._HEADER)
    return blob[:at] + struct.pack("<d", new) + blob[at + 8 :]


@pytest.mark.parametrize("damage", [*DAMAGE, "old format, wrong value"])
def test_a_damaged_parse_cache_entry_reads_as_the_fresh_parse(market_dir, tmp_path, caplog, damage):
    fresh = fetch_all(FilesSource(market_dir))
    cache_dir = tmp_path / "cache"
    fetch_all(FilesSource(market_dir, cache_dir))
    path = vix_entry(cache_dir)
    blob = path.read_bytes()
    vix = fresh["daily_bars"][0].query("symbol == '^VIX'")["close"].reset_index(drop=True)
    close = float(vix.max())  # a value stored once, so the damage lands on it
    if damage == "flipped bit":
        # the fault campaign's case (VIX 15.84 read back as 11.84): one flipped bit in a close, which the
        # bare pickle loads without complaint, so only the checksum can tell
        wrong = struct.unpack(
            "<d", (struct.unpack("<Q", struct.pack("<d", close))[0] ^ (1 << 50)).to_bytes(8, "little")
        )[0]
        damaged = with_vix_close(blob, close, wrong)
        loaded = pickle.loads(bare_pickle(damaged)).frame["close"].reset_index(drop=True)
        assert (loaded != vix).sum() == 1 and wrong in set(loaded)
    elif damage == "old format, wrong value":
        damaged = bare_pickle(with_vix_close(blob, close, close + 1.0))
    else:
        damaged = DAMAGE[damage](blob)
    path.write_bytes(damaged)
    with caplog.at_level("WARNING", logger="vixshield.ingest.cache"):
        assert_same(fetch_all(FilesSource(market_dir, cache_dir)), fresh)
    assert len(warned_about(caplog, path)) == 1
    caplog.clear()
    with caplog.at_level("WARNING", logger="vixshield.ingest.cache"):
        assert_same(fetch_all(FilesSource(market_dir, cache_dir)), fresh)  # rewritten: read back silently
    assert not caplog.records


@pytest.mark.parametrize("damage", DAMAGE)
def test_a_damaged_garch_memo_is_refitted(tmp_path, caplog, damage):
    # read and written as assets/features.py does: `read_pickle(path) or {}`, fits, `write_pickle(path, memo)`
    rng = np.random.default_rng(5)
    close = pd.Series(
        3000 * np.exp(np.cumsum(rng.normal(0, 0.01, 620))), index=pd.bdate_range("2019-01-01", periods=620)
    )
    memo: dict = {}
    fresh = garch_forecasts(close, refit="quarterly", memo=memo)
    assert len(memo) >= 2
    path = tmp_path / "garch_fits.pkl"
    cache.write_pickle(path, memo)
    path.write_bytes(DAMAGE[damage](path.read_bytes()))
    with caplog.at_level("WARNING", logger="vixshield.ingest.cache"):
        loaded = cache.read_pickle(path) or {}
    assert loaded == {}
    assert len(warned_about(caplog, path)) == 1
    pd.testing.assert_frame_equal(garch_forecasts(close, refit="quarterly", memo=loaded), fresh, check_exact=True)
    assert loaded.keys() == memo.keys()
