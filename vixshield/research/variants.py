"""The comparisons a user asks for, each a function of the configured book: SPX alone, the hedges a user
could pick instead (the VXTH-style L0 core, a Cboe PPUT protective put), the layered hedge alone, the
condors alone and the full book; and the full book with each [seed] rule switched off.

All trade as the book trades: the replicas the engine runs at the mid on their index's roll schedule (VXTH,
PPUT) get the book's fill timing and the hedge's modelled spread and commissions back, and the PPUT put
pays the condors' modelled SPX half-spread (their fixed per-leg slippage when the model is off) and their
commission. A variant lists the grid parameters it depends on:
only those are chosen by the walk-forward, and only their combinations count as its trials.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from vixshield.backtest.engine import RULE_NAMES, SWEEP_PARAMETERS, strategy_settings
from vixshield.strategy.book import BookSettings

BENCHMARK = "spx"
FULL = "full"


@dataclass(frozen=True)
class Variant:
    name: str
    description: str
    params: tuple[str, ...]  # the grid parameters it depends on; () = nothing to choose
    build: Callable[[BookSettings], BookSettings]  # from the book at one grid point


def at_book_costs(s: BookSettings, book: BookSettings) -> BookSettings:
    """A replica's settings trading as the book trades: its fill timing, VIX calls at the hedge's spread and
    commissions, an SPX put at the condors' modelled spread and commission."""
    b = book.hedge
    hedge = replace(s.hedge, spread=b.spread, slippage=b.slippage, commission_per_contract=b.commission_per_contract)
    writer = s.writer
    if writer is not None:
        c = book.condor
        writer = replace(
            writer, slippage=c.slippage_per_leg, spread=c.spread, commission_per_contract=c.commission_per_contract
        )
    return replace(s, fill=book.fill, hedge=hedge, writer=writer)


VARIANTS: tuple[Variant, ...] = (
    Variant(BENCHMARK, "SPX alone (total return)", (), lambda b: strategy_settings("spx", b)),
    Variant(
        "spx_l0",
        "SPX + the L0 VIX-call core alone (Cboe VXTH rules)",
        (),
        lambda b: at_book_costs(strategy_settings("vxth", b), b),
    ),
    Variant(
        "spx_pput",
        "SPX + a monthly 5% out-of-the-money put (Cboe PPUT rules)",
        (),
        lambda b: at_book_costs(strategy_settings("pput", b), b),
    ),
    Variant(
        "spx_hedge",
        "SPX + the full layered VIX-call hedge, no condors",
        ("hedge_budget_pct",),
        lambda b: replace(b, condors=False),
    ),
    Variant(
        "condors",
        "the iron-condor sleeve alone, on T-bills",
        ("short_delta", "take_profit"),
        lambda b: replace(b, equity_weight=0.0, hedges=False),
    ),
    Variant(FULL, "the full book: SPX, condors and the layered hedge", tuple(SWEEP_PARAMETERS), lambda b: b),
)
# the full book without one [seed] rule, at the parameters the walk-forward chose for `full`
ABLATED: dict[str, str] = {name: f"full without the {rule}" for name, rule in RULE_NAMES.items()}
