"""Disposable, content-addressed caches beside the warehouse (`<home>/cache/`).

A cache entry is the result of a pure function of its key (a digest of everything the result depends
on, code included), so an entry is either right or absent: it never needs invalidating, only pruning.
Losing or corrupting the directory costs time, never correctness: an unreadable entry is recomputed.
Nothing in the warehouse depends on it, and a run that crashes leaves at worst an unused entry behind.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import pickle
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


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
    """One pickle per key under `root`. `get_or_make` reads an entry or computes and stores it;
    `prune` removes the entries this instance did not touch (what the last pass no longer needs).
    A root of None disables the cache: every call computes."""

    def __init__(self, root: str | Path | None) -> None:
        self.root = Path(root) if root is not None else None
        self.touched: set[str] = set()

    def get_or_make(self, k: str, make: Callable[[], T]) -> T:
        self.touched.add(k)
        if self.root is not None:
            value = read_pickle(self.root / f"{k}.pkl")
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


def read_pickle(path: Path) -> Any:
    """The pickled value at `path`, or None when it is absent or unreadable (then it is recomputed)."""
    try:
        with open(path, "rb") as fh:
            return pickle.load(fh)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, ValueError):
        return None


def write_pickle(path: Path, value: Any) -> None:
    """Atomically (temp file, then rename): a reader never sees half an entry. A read-only or full
    disk is not an error: the run goes on uncached."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except OSError:
        pass


def cache_dir(warehouse_path: str | Path) -> Path:
    """Where a warehouse's caches live: `cache/` beside the warehouse file."""
    return Path(warehouse_path).parent / "cache"
