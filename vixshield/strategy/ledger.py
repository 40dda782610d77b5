"""The book's fill ledger: one row per trade, the same columns whatever the sleeve. The backtest
builds its trades table from these rows alone, independently of the book's NAV arithmetic."""

from __future__ import annotations

from typing import NamedTuple

import pandas as pd


class Fill(NamedTuple):
    date: pd.Timestamp
    sleeve: str  # condor | hedge | writer
    position_id: str
    instrument: str
    layer: str | None  # L0 | L1 | L2 for hedge positions
    expiry: pd.Timestamp
    event: str  # open | adjust | partial | close
    contracts: float
    price: float  # per unit, before costs (mid, model or settlement)
    cash: float  # dollars, signed: paid < 0, received > 0, costs included
    costs: float  # dollars of slippage and commissions inside `cash`
    reason: str


FILL_COLUMNS = list(Fill._fields)
