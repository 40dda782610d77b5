"""The one small interface every publisher module sits behind."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from vixshield.store import contract, schemas

FAMILY_NAMES = tuple(f.name for f in contract.FAMILIES)


class SourceError(RuntimeError):
    """A source could not deliver what was asked; the message says what to do.
    `status` is the HTTP status where one was received; `transient` marks a network failure that
    may heal by itself (worth retrying the step later), as opposed to a bad file or response."""

    def __init__(self, message: str, status: int | None = None, transient: bool = False):
        super().__init__(message)
        self.status = status
        self.transient = transient


@dataclass
class Fetched:
    """Rows of one raw family, plus rows the parser could not read (quarantined with a reason)."""

    family: str
    frame: pd.DataFrame
    rejects: list[dict] = field(default_factory=list)  # {"key": str, "reason": str, "raw": str}
    # where the frame's rows came from, in order: (file, rows) runs; empty when the source has no files
    files: tuple[tuple[str, int], ...] = ()

    @classmethod
    def empty(cls, family: str) -> Fetched:
        return cls(family, schemas.empty(family))

    @classmethod
    def concat(cls, family: str, parts: list[Fetched]) -> Fetched:
        """The parts' rows in order, and all their rejects, as one Fetched of `family`."""
        frames = [p.frame for p in parts if len(p.frame)]
        frame = pd.concat(frames, ignore_index=True) if frames else schemas.empty(family)
        files = tuple(run for p in parts for run in (p.files or (("", len(p.frame)),)) if run[1])
        rejects = [r for p in parts for r in p.rejects]
        return cls(family, schemas.conform(frame, family), rejects, files if any(f for f, _ in files) else ())

    def file_of(self, rows: pd.Index) -> list[str]:
        """The file each of the frame's rows (by its label, the row's position when fetched) came from."""
        if not self.files:
            return ["" for _ in rows]
        ends = np.cumsum([n for _, n in self.files])
        return [self.files[i][0] for i in np.searchsorted(ends, np.asarray(rows), side="right")]

    def extend(self, other: Fetched) -> Fetched:
        return Fetched.concat(self.family, [self, other])


@dataclass(frozen=True)
class FetchWindow:
    """Which dates to fetch: `start` None means the whole history; `end` is the as-of session."""

    start: dt.date | None
    end: dt.date


class Source:
    """A publisher (or a bundle of them). `fetch` returns one family in its canonical schema.

    FETCHERS maps a contract family to how this source fetches it (a function of the source and the
    window); a family the source does not serve comes back empty. Which families exist, their
    columns and checks are the contract's; only how to fetch them lives with the publisher."""

    name: str = "source"
    live: bool = False
    FETCHERS: ClassVar[dict[str, Callable[[Any, FetchWindow], Fetched]]] = {}

    def fetch(self, family: str, window: FetchWindow) -> Fetched:
        fetcher = self.FETCHERS.get(family)
        return fetcher(self, window) if fetcher is not None else Fetched.empty(family)

    def families(self) -> tuple[str, ...]:
        return FAMILY_NAMES
