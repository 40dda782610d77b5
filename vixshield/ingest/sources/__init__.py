"""Publishers behind one interface: `make_source(name, ...)` returns a `Source`."""

from __future__ import annotations

from pathlib import Path

from vixshield.config import Settings
from vixshield.ingest.sources.base import Fetched, FetchWindow, Source, SourceError

SOURCE_NAMES = ("sample", "files", "live")


def make_source(
    name: str, settings: Settings, data_dir: str | Path | None = None, cache_dir: str | Path | None = None
) -> Source:
    """The named source. `cache_dir` (optional) keeps the files source's parsed files between runs."""
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
