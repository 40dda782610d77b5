"""`files`: a local directory laid out like the publishers' downloads (see README, "Data layout")."""

from __future__ import annotations

import datetime as dt
import logging
import re
from pathlib import Path

from vixshield import calendars, schemas
from vixshield.catalog import MACRO_BY_ID, SYMBOLS_BY_CBOE
from vixshield.sources import parsers
from vixshield.sources.base import Fetched, FetchWindow, Source, SourceError

log = logging.getLogger(__name__)


class FilesSource(Source):
    """Reads cboe/, cboe_futures/, fred/, yahoo/, events/ and breadth/ under one directory."""

    name = "files"

    def __init__(self, data_dir: str | Path):
        self.root = Path(data_dir).expanduser()
        if not self.root.is_dir():
            raise SourceError(
                f"--data-dir {self.root} is not a directory. Point it at a folder laid out like the "
                "publishers' downloads (cboe/, fred/, yahoo/, ...), or use --source sample."
            )

    def _files(self, sub: str, pattern: str = "*.csv") -> list[Path]:
        return sorted((self.root / sub).glob(pattern))

    def _read(self, path: Path) -> str:
        return path.read_text(encoding="utf-8-sig")

    def fetch(self, family: str, window: FetchWindow) -> Fetched:
        out = Fetched.empty(family)
        for part in self._parts(family):
            out = out.extend(part)
        out.frame["source"] = "files:" + out.frame["source"].astype(str)
        return out

    def _parts(self, family: str):
        if family == "daily_bars":
            for path in self._files("yahoo"):
                yield parsers.parse_yahoo_csv(self._read(path), path.stem)
            for path in self._files("cboe", "*_History.csv"):
                name = path.stem.removesuffix("_History")
                if name not in SYMBOLS_BY_CBOE:
                    log.warning("files: skipping %s (not a catalogued index)", path.name)
                    continue
                yield parsers.parse_cboe_index(self._read(path), name)
            for path in self._files("breadth"):
                if path.name.startswith(("sector_etfs", "sp500_")):
                    yield parsers.parse_wide_closes(self._read(path), path.name, "breadth")
        elif family == "macro_observations":
            for path in self._files("fred"):
                if path.stem not in MACRO_BY_ID:
                    log.warning("files: skipping fred/%s (no availability rule in the catalog)", path.name)
                    continue
                yield parsers.parse_fred_csv(self._read(path), path.stem)
        elif family == "vx_futures":
            for path in self._files("cboe_futures"):
                text = self._read(path)
                expiry = re.fullmatch(r"VX_(\d{4}-\d{2}-\d{2})", path.stem)  # one contract per file, as Cboe serves
                if expiry:
                    text = parsers.label_vx_expiry(text, dt.date.fromisoformat(expiry.group(1)))
                yield parsers.parse_vx_per_contract(text, f"cboe_futures/{path.name}")
        elif family == "events":
            fomc = self.root / "events" / "fomc_decisions.csv"
            if fomc.exists():
                yield parsers.parse_fomc_csv(self._read(fomc), "events/fomc_decisions.csv")
            yield shipped_release_events(exclude_fomc=fomc.exists())
        elif family == "breadth_vendor":
            for path in self._files("breadth", "*vendor*.csv"):
                yield parsers.parse_breadth_vendor(self._read(path), path.name)


def shipped_release_events(exclude_fomc: bool = False) -> Fetched:
    """The event calendars that ship inside the package (FOMC, CPI, PPI)."""
    events = calendars.shipped_events()
    if exclude_fomc:
        events = events[events["kind"] != "fomc"]
    return Fetched("events", schemas.conform(events.assign(source="calendar"), "events"))
