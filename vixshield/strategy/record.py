"""The base of the book's hot records (Condor, CondorBook, CondorOrder, HedgePosition, HedgeBook, Costs).

Each is a dataclass that writes its own __init__: compiled (vixshield/native.py), a dataclass's generated
__init__ stays Python and costs more than the rest of making the object, and these are made every
session. A compiled class with such an __init__ unpickles by calling it without arguments, so a record
pickles (into the stored book state, to a pool's workers) and copies as its class and its fields, in
the order its __init__ takes them."""

from __future__ import annotations

import dataclasses
from typing import Any


class Record:
    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return type(self), tuple(getattr(self, f.name) for f in dataclasses.fields(self) if f.init)  # type: ignore[arg-type]
