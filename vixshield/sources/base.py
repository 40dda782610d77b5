"""The one small interface every publisher module sits behind."""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import pandas as pd

from vixshield import schemas

FAMILY_NAMES = tuple(schemas.FAMILIES)


class SourceError(RuntimeError):
    """A source could not deliver what was asked; the message says what to do.
    `status` is the HTTP status where one was received."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


@dataclass
class Fetched:
    """Rows of one raw family, plus rows the parser could not read (quarantined with a reason)."""

    family: str
    frame: pd.DataFrame
    rejects: list[dict] = field(default_factory=list)  # {"key": str, "reason": str, "raw": str}

    @classmethod
    def empty(cls, family: str) -> Fetched:
        return cls(family, schemas.empty(family))

    def extend(self, other: Fetched) -> Fetched:
        frames = [f for f in (self.frame, other.frame) if len(f)]
        frame = pd.concat(frames, ignore_index=True) if frames else self.frame
        return Fetched(self.family, schemas.conform(frame, self.family), self.rejects + other.rejects)


@dataclass(frozen=True)
class FetchWindow:
    """Which dates to fetch: `start` None means the whole history; `end` is the as-of session."""

    start: dt.date | None
    end: dt.date


class Source(ABC):
    """A publisher (or a bundle of them). `fetch` returns one family in its canonical schema."""

    name: str = "source"
    live: bool = False

    @abstractmethod
    def fetch(self, family: str, window: FetchWindow) -> Fetched: ...

    def families(self) -> tuple[str, ...]:
        return FAMILY_NAMES
