"""What a fill pays beyond the model price (METHODOLOGY §4, §6): slippage against the trader on every
option leg and a commission per option contract. Condors, VIX calls and the replicas' written options
all price their fills here; the replicas pass zeros (Cboe's indices fill at the mid)."""

from __future__ import annotations

from dataclasses import dataclass

from vixshield.strategy.record import Record
from vixshield.strategy.settings import SpreadSettings


@dataclass  # not frozen, so that compiled it is a native class (vixshield/native.py); never mutated
class Costs(Record):
    slippage: float  # index points per option leg, off the model price (buys above it, sales below)
    commission: float  # dollars per option contract, per fill
    legs: int = 1  # options in one unit of what is traded: 4 for an iron condor
    multiplier: float = 100.0  # dollars per index point

    def __init__(self, slippage: float, commission: float, legs: int = 1, multiplier: float = 100.0) -> None:
        # made per fill: compiled, a dataclass's own __init__ stays Python (strategy/record.py)
        self.slippage, self.commission, self.legs, self.multiplier = slippage, commission, legs, multiplier

    @property
    def spread(self) -> float:
        """Points per unit of the whole combination between the model price and the fill."""
        return self.legs * self.slippage

    def fees(self, contracts: float) -> float:
        """Commissions, in dollars, for `contracts` units of the combination."""
        return self.legs * contracts * self.commission

    def of(self, contracts: float) -> float:
        """Dollars of slippage and commissions in a fill of `contracts` units (settlements pay none)."""
        return contracts * (self.spread * self.multiplier + self.legs * self.commission)

    def unit_cost(self, price: float) -> float:
        """All-in dollars to buy one unit at model `price`: the fill price times the multiplier, plus fees."""
        return (price + self.spread) * self.multiplier + self.legs * self.commission


# Cboe's maximum bid/ask width of an option quote by bid price (Rule 8.7 bid/ask differentials, as
# restated in Regulatory Circular RG13-018): (bid up to, widest legal quote). A modelled spread never
# exceeds it: SPX market makers must quote inside it, so it bounds the half-spread from above.
CBOE_MAX_WIDTH: tuple[tuple[float, float], ...] = ((2.0, 0.25), (5.0, 0.40), (10.0, 0.50), (20.0, 0.80))
CBOE_MAX_WIDTH_ABOVE = 1.00


def tick(price: float) -> float:
    """SPX option tick: 0.05 below 3.00, 0.10 at and above."""
    return 0.05 if price < 3.0 else 0.10


def max_width(price: float) -> float:
    """Cboe's widest legal quote for an option at `price` (the table above)."""
    for upto, width in CBOE_MAX_WIDTH:
        if price < upto:
            return width
    return CBOE_MAX_WIDTH_ABOVE


def half_spread(price: float, delta: float, dte: float, vix: float, s: SpreadSettings) -> float:
    """Modelled half-spread (index points) of one option at mid `price`; 0 for a worthless or expired
    option (settlement pays no spread). A missing VIX counts as ref_vix."""
    if not price > 0.0 or dte <= 0:
        return 0.0
    money = (s.ref_delta / max(abs(delta), 0.01)) ** s.moneyness_exp
    h = s.base + s.rel * price * money * (s.ref_dte / dte) ** s.dte_exp
    if vix == vix and vix > 0:
        h *= (vix / s.ref_vix) ** s.vix_exp
    h = min(max(h, tick(price) / 2), max_width(price) / 2)
    return h * s.multiplier


def fill_half_spread(price: float, delta: float, dte: float, vix: float, s: SpreadSettings, slippage: float) -> float:
    """What one option's fill pays off the mid, in index points: the modelled half-spread, or the fixed
    `slippage` (times the multiplier) when the model is off."""
    return half_spread(price, delta, dte, vix, s) if s.model else slippage * s.multiplier
