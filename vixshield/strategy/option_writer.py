"""The monthly option writer behind the Cboe PUT, BXM/BXMD and PPUT replicas (METHODOLOGY §7).

On each monthly SPX expiration session the expiring option settles at the AM settlement (the
expiration-day open) and a new one expiring next month's third Friday is traded at the session's close
at the model mid. PUT: an at-the-money put sold, fully collateralized in T-bills (the strike's notional).
BXM: an at-the-money call sold against the equity sleeve (one call per 100 index units held); BXMD: the
same with the 30-delta call. PPUT (side "long"): a put 5% out of the money bought against the equity
sleeve, one per 100 index units held. Contracts are index units (fractional), as the indices are computed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import pandas as pd
from mypy_extensions import mypyc_attr

from vixshield.strategy import options
from vixshield.strategy.condor import MULTIPLIER, Market, is_roll_day
from vixshield.strategy.costs import Costs, fill_half_spread
from vixshield.strategy.ledger import Fill
from vixshield.strategy.options import leg
from vixshield.strategy.settings import WriterSettings
from vixshield.values import num


@mypyc_attr(native_class=False)  # a plain class when compiled: frozen, picklable, introspectable
@dataclass(frozen=True)
class Written:
    """The one open option: written (PUT, BXM/BXMD) or bought (PPUT)."""

    position_id: str
    kind: str
    strike: float
    expiry: pd.Timestamp
    contracts: float
    entry_price: float
    entry_date: pd.Timestamp
    mark: float  # model mid per unit, last session
    side: str = "short"

    @property
    def sign(self) -> int:
        return -1 if self.side == "short" else 1

    @property
    def value(self) -> float:
        """Dollars: a short option is a liability, a long one an asset."""
        return self.sign * self.contracts * self.mark * MULTIPLIER


def strike(m: Market, expiry: pd.Timestamp, s: WriterSettings) -> float:
    """ATM: PUT sells the highest strike at or below the index, BXM the lowest at or above; `otm` moves that
    level out of the money first (PPUT: the highest strike at or below 95% of the index); else by delta."""
    if s.delta is None:
        level = m.spot * (1 - s.otm if s.kind == "put" else 1 + s.otm)
        return options.round_to_grid(level, s.strike_step, "down" if s.kind == "put" else "up")
    return options.round_to_grid(m.strike_for_delta(expiry, s.delta, s.kind), s.strike_step)


def writer_session(
    m: Market,
    am_open: float | None,
    nav: float,
    equity_value: float,
    pos: Written | None,
    s: WriterSettings,
    fills: list[Fill] | None = None,
    roll: bool = True,
) -> tuple[Written | None, float]:
    """Settle, mark and roll the option for one session; returns (position, cash received, < 0 when paid).
    roll=False (a session without a VIX close) settles and marks only: trading needs a vol."""
    cash = 0.0
    if pos is not None and m.day >= pos.expiry:
        settle = options.settlement_value(pos.expiry, True, am_open, m.spot)
        paid = pos.contracts * options.intrinsic(settle, pos.strike, pos.kind) * MULTIPLIER
        cash += pos.sign * paid
        reason = f"SETTLED_AT_{settle:.2f}"
        _record(fills, m.day, pos, "close", paid / (pos.contracts * MULTIPLIER), pos.sign * paid, 0.0, reason)
        pos = None
    elif pos is not None:
        price, _ = m.price((leg(pos.kind, pos.strike, 1),), pos.expiry)
        pos = replace(pos, mark=price if price == price else pos.mark)
    if roll and pos is None and is_roll_day(m.day) and not math.isnan(m.spot) and nav > 0:
        expiry = options.monthly_expiry_after(m.day)
        if math.isnan(m.sigma_atm(expiry)):
            return pos, cash
        k = strike(m, expiry, s)
        price, delta = m.price((leg(s.kind, k, 1),), expiry)
        costs = Costs(_half_spread(m, expiry, price, delta, s), s.commission_per_contract, multiplier=MULTIPLIER)
        short = s.side == "short"
        fill = max(price - costs.spread, 0.0) if short else price + costs.spread
        # PUT: T-bills (NAV incl. the premium) = the strike notional; BXM, PPUT: one option per 100 index units held
        cash_secured = short and s.kind == "put"
        n = nav / ((k - fill) * MULTIPLIER) if cash_secured else max(equity_value, 0.0) / (m.spot * MULTIPLIER)
        if n > 0:
            received = (n * fill * MULTIPLIER if short else -n * fill * MULTIPLIER) - costs.fees(n)
            pos = Written(f"{s.kind.upper()}-{m.day:%Y%m%d}", s.kind, k, expiry, n, price, m.day, price, s.side)
            cash += received
            _record(fills, m.day, pos, "open", price, received, costs.of(n), "ROLL_MONTHLY")
    return pos, cash


def _half_spread(m: Market, expiry: pd.Timestamp, price: float, delta: float, s: WriterSettings) -> float:
    """Index points a fill pays off the mid: the fixed slippage, or the SPX spread model (condor.py's per leg)."""
    if s.spread is None:
        return s.slippage
    return fill_half_spread(price, delta, m.days(expiry), num(m.row.get("vix")), s.spread, s.slippage)


def _record(
    fills: list[Fill] | None, day, pos: Written, event: str, price: float, cash: float, costs: float, reason: str
) -> None:
    if fills is not None:
        instrument = f"SPX {pos.expiry:%Y-%m-%d} {pos.strike:g} {pos.kind}"
        fills.append(
            Fill(
                day,
                "writer",
                pos.position_id,
                instrument,
                None,
                pos.expiry,
                event,
                pos.contracts,
                price,
                cash,
                costs,
                reason,
            )
        )
