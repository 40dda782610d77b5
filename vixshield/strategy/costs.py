"""What a fill pays beyond the model price (METHODOLOGY §4, §6): slippage against the trader on every
option leg and a commission per option contract. Condors, VIX calls and the replicas' written options
all price their fills here; the replicas pass zeros (Cboe's indices fill at the mid)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Costs:
    slippage: float  # index points per option leg, off the model price (buys above it, sales below)
    commission: float  # dollars per option contract, per fill
    legs: int = 1  # options in one unit of what is traded: 4 for an iron condor
    multiplier: float = 100.0  # dollars per index point

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
