"""Disposable, content-addressed caches beside the warehouse (`<home>/cache/`).

A cache entry is the result of a pure function of its key (a digest of everything the result depends
on, code included), so an entry is either right or absent: it never needs invalidating, only pruning.
Every entry carries a sha256 of its pickled bytes, checked on read: an entry that is damaged, truncated,
of an older format or otherwise unreadable is deleted, logged and recomputed, never trusted and never fatal.
Nothing in the warehouse depends on it, and a run that crashes leaves at worst an unused entry behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import logging
import os
import pickle
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)

# An entry is MAGIC + sha256(payload) + payload, payload being the pickle. Without the checksum a flipped
# bit in a pickled float unpickles fine and publishes a wrong number; with it, any damage is a miss. The
# checksum guards against accidents (disk, copies, crashes), not against someone who can write the folder.
_MAGIC = b"vixshield-cache 1\n"  # a file without it (an old bare pickle, an empty file) is not an entry
_HEADER = len(_MAGIC) + hashlib.sha256().digest_size


def key(*parts: bytes | str) -> str:
    """A 32-hex-digit digest of the parts (kept apart, so ("ab", "c") and ("a", "bc") differ)."""
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()


def code_digest(*files: str | Path, packages: Iterable[str] = ()) -> str:
    """The source of the given modules and the installed versions of `packages`: part of every key
    whose entries that code computes, so a change to it starts a fresh cache."""
    versions = [f"{p}=={importlib.metadata.version(p)}" for p in packages]
    return key(*(Path(f).read_bytes() for f in files), *versions)


class PickleCache:
    """One entry per key under `root`. `get_or_make` reads an entry or computes and stores it;
    `prune` removes the entries this instance did not touch (what the last pass no longer needs).
    A root of None disables the cache: every call computes. An entry that is not a `kind` is bad."""

    def __init__(self, root: str | Path | None, kind: type | tuple[type, ...] = object) -> None:
        self.root = Path(root) if root is not None else None
        self.kind = kind
        self.touched: set[str] = set()

    def get_or_make(self, k: str, make: Callable[[], T]) -> T:
        self.touched.add(k)
        if self.root is not None:
            value = read_pickle(self.root / f"{k}.pkl", self.kind)
            if value is not None:
                return value
        value = make()
        if self.root is not None:
            write_pickle(self.root / f"{k}.pkl", value)
        return value

    def prune(self) -> None:
        if self.root is None or not self.root.is_dir():
            return
        for path in self.root.iterdir():
            if path.suffix in (".pkl", ".tmp") and path.stem not in self.touched:
                path.unlink(missing_ok=True)


def read_pickle(path: Path, kind: type | tuple[type, ...] = object) -> Any:
    """The value stored at `path`, or None when it is absent or bad (then the caller recomputes it).
    A bad entry is deleted and logged with the reason."""
    try:
        blob = Path(path).read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return None  # never written (or no cache folder): an ordinary miss, nothing to report
    except OSError as exc:
        return _discard(path, f"cannot be read ({exc})")
    if not blob:
        return _discard(path, "empty file")
    if not blob.startswith(_MAGIC):
        return _discard(path, "no checksum header (garbage, or written by an older version)")
    payload = blob[_HEADER:]
    if hashlib.sha256(payload).digest() != blob[len(_MAGIC) : _HEADER]:
        return _discard(path, "checksum mismatch (truncated or corrupted)")
    try:
        value = pickle.loads(payload)
    # intact bytes that no longer load, e.g. a class since renamed: any error means "recompute"
    except Exception as exc:
        return _discard(path, f"cannot be unpickled ({type(exc).__name__}: {exc})")
    if not isinstance(value, kind):
        return _discard(path, f"holds a {type(value).__name__}, not the expected type")
    return value


def write_pickle(path: Path, value: Any) -> None:
    """Atomically (temp file, then rename): a reader never sees half an entry. A read-only or full
    disk is not an error: the run goes on uncached."""
    payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(_MAGIC + hashlib.sha256(payload).digest())
            fh.write(payload)
        os.replace(tmp, path)
    except OSError:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def _discard(path: Path, reason: str) -> None:
    # Deleted rather than left: a bad entry would otherwise be re-read (and re-reported) by every run
    # until the folder is cleared by hand; the caller's rewrite replaces it.
    log.warning("cache: discarding bad entry %s: %s; it is recomputed", path, reason)
    with contextlib.suppress(OSError):
        Path(path).unlink(missing_ok=True)
    return None


def cache_dir(warehouse_path: str | Path) -> Path:
    """Where a warehouse's caches live: `cache/` beside the warehouse file."""
    return Path(warehouse_path).parent / "cache"
