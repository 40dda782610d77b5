"""Publishers behind one interface: `make_source(name, ...)` returns a `Source`.

The base types (pandas underneath) load when first used, so that the CLI can parse its arguments,
and start what a run needs first, before pandas is imported."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vixshield.config import Settings
    from vixshield.ingest.sources.base import Fetched, FetchWindow, Source, SourceError

SOURCE_NAMES = ("sample", "files", "live")
_BASE_TYPES = ("Fetched", "FetchWindow", "Source", "SourceError")


def __getattr__(name: str) -> object:
    if name in _BASE_TYPES:
        from vixshield.ingest.sources import base

        return getattr(base, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def make_source(
    name: str, settings: Settings, data_dir: str | Path | None = None, cache_dir: str | Path | None = None
) -> Source:
    """The named source. `cache_dir` (optional) keeps the files source's parsed files between runs."""
    from vixshield.ingest.sources.base import SourceError

    if name == "sample":
        from vixshield.ingest.sources.sample import SampleSource

        return SampleSource()
    if name == "files":
        if data_dir is None:
            raise SourceError("--source files needs --data-dir DIR (a folder laid out like the publishers' files)")
        from vixshield.ingest.sources.files import FilesSource

        return FilesSource(data_dir, cache_dir)
    if name == "live":
        from vixshield.ingest.sources.live import LiveSource

        return LiveSource(settings)
    raise SourceError(f"unknown source {name!r}; choose one of {', '.join(SOURCE_NAMES)}")


__all__ = ["SOURCE_NAMES", "FetchWindow", "Fetched", "Source", "SourceError", "make_source"]
