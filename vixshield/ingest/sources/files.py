"""`files`: a local directory laid out like the publishers' downloads (see README, "Data layout")."""

from __future__ import annotations

import csv
import datetime as dt
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import ClassVar

from vixshield import calendars, catalog
from vixshield.catalog import MACRO_BY_ID, SYMBOLS_BY_CBOE
from vixshield.ingest import cache
from vixshield.ingest.sources import parsers
from vixshield.ingest.sources.base import Fetched, FetchWindow, Source, SourceError
from vixshield.store import schemas

log = logging.getLogger(__name__)
# what a parsed file depends on besides its bytes and name: this module, the parsers, the schemas
_PARSE_CODE = cache.code_digest(
    __file__, parsers.__file__, schemas.__file__, catalog.__file__, packages=("pandas", "numpy")
)


_REPLACE = ". Replace it with a fresh download (see the README's data layout) and run again."
# the publishers' files of the catalog's required series
REQUIRED_FILES = tuple(
    f"cboe/{s.cboe_name}_History.csv" if s.cboe_name else f"yahoo/{s.symbol}.csv"
    for s in catalog.DAILY_SYMBOLS
    if s.required
)


class FilesSource(Source):
    """Reads cboe/, cboe_futures/, fred/, yahoo/, events/ and breadth/ under one directory.

    With `cache_dir`, each file's parsed rows are kept there, keyed by the file's bytes (and the
    parsing code): a daily run re-reads every file but parses only those that changed."""

    name = "files"

    def __init__(self, data_dir: str | Path, cache_dir: str | Path | None = None):
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.root = Path(data_dir).expanduser()
        if not self.root.is_dir():
            raise SourceError(
                f"--data-dir {self.root} is not a directory. Point it at a folder laid out like the "
                "publishers' downloads (cboe/, fred/, yahoo/, ...), or use --source sample."
            )

    def _files(self, sub: str, pattern: str = "*.csv") -> list[Path]:
        return sorted((self.root / sub).glob(pattern))

    def _require(self, *relative: str) -> None:
        """The files without which no plan can be made (SPX and VIX, catalog `required`)."""
        missing = [r for r in relative if not (self.root / r).is_file()]
        if missing:
            raise SourceError(
                f"--data-dir {self.root}: required file(s) missing: {', '.join(missing)}. "
                "SPX and VIX histories are needed for every run (see the README's data layout)."
            )

    def fetch(self, family: str, window: FetchWindow) -> Fetched:
        parsed = cache.PickleCache(self.cache_dir / family if self.cache_dir is not None else None)
        parts = []
        for path, parse in self._parts(family):
            if path is None:  # not a file: nothing to key a cache entry on
                parts.append(parse(""))
                continue
            part = self._parse_file(path, parse, family, parsed)
            parts.append(replace(part, files=((path.relative_to(self.root).as_posix(), len(part.frame)),)))
        parsed.prune()  # entries of files that changed or went away
        out = Fetched.concat(family, parts)
        out.frame["source"] = "files:" + out.frame["source"].astype(str)
        return out

    def _parse_file(
        self, path: Path, parse: Callable[[str], Fetched], family: str, parsed: cache.PickleCache
    ) -> Fetched:
        """One file's rows; any failure to read or parse it is a SourceError naming the file."""
        name = path.relative_to(self.root).as_posix()
        try:
            raw = path.read_bytes()
            k = cache.key(_PARSE_CODE, family, name, raw)
            part = parsed.get_or_make(k, lambda: parse(_text(raw)))
        except SourceError as exc:
            raise SourceError(f"{path}: {exc}{_REPLACE}") from exc
        except Exception as exc:  # undecodable bytes, a truncated or garbled CSV, an unreadable file
            raise SourceError(
                f"{path}: cannot be read as the publisher's {family} file ({type(exc).__name__}: {exc}){_REPLACE}"
            ) from exc
        if cut := _cut_short(raw):
            raise SourceError(
                f"{path}: ends in an incomplete row ({cut!r}): the download was cut short, and the rows it "
                f"lacks would silently end the history early{_REPLACE}"
            )
        # a publisher's download always has rows: an empty file, a header alone or rows none of which
        # can be read is a broken delivery or a changed format, never "nothing new"
        parsers.require_readable_rows(part, str(path), _REPLACE)
        if part.frame.empty:
            raise SourceError(f"{path}: no rows at all{_REPLACE}")
        return part

    def _parts(self, family: str) -> Iterator[tuple[Path | None, Callable[[str], Fetched]]]:
        """(file, parser of its text) for each file of the family, in a fixed order."""
        parts = self.PARTS.get(family)
        return parts(self) if parts is not None else iter(())

    def _daily_bars(self) -> Iterator[tuple[Path | None, Callable[[str], Fetched]]]:
        self._require(*REQUIRED_FILES)
        for path in self._files("yahoo"):
            yield path, lambda text, stem=path.stem: parsers.parse_yahoo_csv(text, stem)
        for path in self._files("cboe", "*_History.csv"):
            name = path.stem.removesuffix("_History")
            if name not in SYMBOLS_BY_CBOE:
                log.warning("files: skipping %s (not a catalogued index)", path.name)
                continue
            yield path, lambda text, name=name: parsers.parse_cboe_index(text, name)
        for path in self._files("breadth"):
            if path.name.startswith(("sector_etfs", "sp500_")):
                yield path, lambda text, n=path.name: parsers.parse_wide_closes(text, n, "breadth")

    def _macro_observations(self) -> Iterator[tuple[Path | None, Callable[[str], Fetched]]]:
        for path in self._files("fred"):
            if path.stem not in MACRO_BY_ID:
                log.warning("files: skipping fred/%s (no availability rule in the catalog)", path.name)
                continue
            yield path, lambda text, stem=path.stem: parsers.parse_fred_csv(text, stem)

    def _vx_futures(self) -> Iterator[tuple[Path | None, Callable[[str], Fetched]]]:
        for path in self._files("cboe_futures"):
            yield path, lambda text, path=path: _parse_vx_file(text, path)

    def _events(self) -> Iterator[tuple[Path | None, Callable[[str], Fetched]]]:
        fomc = self.root / "events" / "fomc_decisions.csv"
        if fomc.exists():
            yield fomc, lambda text: parsers.parse_fomc_csv(text, "events/fomc_decisions.csv")
        yield None, lambda _: shipped_release_events(exclude_fomc=fomc.exists())

    def _breadth_vendor(self) -> Iterator[tuple[Path | None, Callable[[str], Fetched]]]:
        for path in self._files("breadth", "*vendor*.csv"):
            yield path, lambda text, n=path.name: parsers.parse_breadth_vendor(text, n)

    # contract family -> the files it is read from (every family has one: tested)
    PARTS: ClassVar[dict[str, Callable[[FilesSource], Iterator[tuple[Path | None, Callable[[str], Fetched]]]]]] = {
        "daily_bars": _daily_bars,
        "macro_observations": _macro_observations,
        "vx_futures": _vx_futures,
        "events": _events,
        "breadth_vendor": _breadth_vendor,
    }


def _cut_short(raw: bytes) -> str | None:
    """The last line, when the file stops inside a row: no final newline and fewer fields than the
    header (publishers end their files with a newline; a download cut off mid-transfer does not)."""
    if not raw or raw.endswith((b"\n", b"\r")):
        return None
    lines = _text(raw).split("\n")
    if len(lines) < 2:
        return None
    header, last = next(csv.reader([lines[0]]), []), next(csv.reader([lines[-1]]), [])
    return lines[-1] if 0 < len(last) < len(header) else None


def _text(raw: bytes) -> str:
    """The file's text as text-mode reading gives it: BOM dropped, any newline style as \\n."""
    return raw.decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")


def _parse_vx_file(text: str, path: Path) -> Fetched:
    expiry = re.fullmatch(r"VX_(\d{4}-\d{2}-\d{2})", path.stem)  # one contract per file, as Cboe serves
    if expiry:
        text = parsers.label_vx_expiry(text, dt.date.fromisoformat(expiry.group(1)))
    return parsers.parse_vx_per_contract(text, f"cboe_futures/{path.name}")


def shipped_release_events(exclude_fomc: bool = False) -> Fetched:
    """The event calendars that ship inside the package (FOMC, CPI, PPI)."""
    events = calendars.shipped_events()
    if exclude_fomc:
        events = events[events["kind"] != "fomc"]
    return Fetched("events", schemas.conform(events.assign(source="calendar"), "events"))
