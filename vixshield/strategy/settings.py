"""The book's settings, one frozen dataclass per sleeve, each field a rule's parameter with its
METHODOLOGY default (docs/settings.schema.json lists them with their ranges).

They live apart from the rules that read them because those modules are compiled (vixshield/native.py)
and a compiled module does not keep its classes' annotations, which the settings loader (config.py)
builds its checks from. Each rule's module re-exports its own (condor.CondorSettings, ...)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class SpreadSettings:
    """Bid-ask half-spread of one SPX option, in index points (docs/execution.md: the rule and sources).

    half = (base + rel * price * (ref_delta/|delta|)^moneyness_exp * (ref_dte/dte)^dte_exp)
           * (vix/ref_vix)^vix_exp, between half a tick and half Cboe's widest legal quote, times
    `multiplier`. A fixed point cost is a different share of the credit at every index level (17% of
    the 1990s credit, 4.7% of today's); an absolute tick-sized floor plus a share of the price scales
    with both, wider in % for cheap far out-of-the-money and short-dated options, wider when VIX is."""

    model: bool = True  # False: the fixed slippage_per_leg of METHODOLOGY §4 instead
    base: float = 0.05  # index points: half the 0.10 SPX tick (options at 3.00 and up)
    rel: float = 0.01  # share of the option's mid price
    ref_delta: float = 0.50
    moneyness_exp: float = 0.25
    ref_dte: float = 30.0  # calendar days
    dte_exp: float = 0.25
    ref_vix: float = 20.0
    vix_exp: float = 0.50
    multiplier: float = 1.0  # 0: fills at mid; 2: twice the modelled spread (backtest cost variants)


@dataclass(frozen=True)
class CondorSettings:
    """METHODOLOGY §4-§5 defaults; [seed] rules are switchable for the ablation."""

    mode: str = "default"  # "default" | "cndr" (the Cboe CNDR replica, METHODOLOGY §5)
    target_dte: int = 45  # SPXW expiration nearest 45 DTE
    min_dte: int = 35
    max_dte: int = 60
    short_delta: float = 0.16
    long_delta: float = 0.05
    # wing width bounds as fractions of spot (a fixed point width is a different delta at every index
    # level): the long legs sit at long_delta unless a bound binds; 1.0 leaves the width uncapped
    wing_min_pct: float = 0.0  # at least one strike step whatever this says
    wing_max_pct: float = 1.0
    strike_step: float = 5.0  # SPX strike grid
    max_new_per_week: int = 1  # first eligible session of the ISO week
    max_open: int = 4
    allowed_regimes: tuple[str, ...] = ("CALM", "NORMAL", "ELEVATED")
    event_gate: bool = True  # [seed] no FOMC/CPI/PPI today or next session
    divergence_modifier: bool = True  # [seed] active divergence: threatened short to 0.10, wing halved
    modified_short_delta: float = 0.10
    regime_gates: bool = True  # regime / VRP / IVTS gates (off for the "without gates" ablation)
    risk_per_condor: float = 0.02  # of NAV
    max_total_risk: float = 0.10  # of NAV, all open condors
    elevated_size: float = 0.5
    take_profit: float = 0.50  # close when mark <= 50% of credit
    stop_multiple: float = 2.0  # close when mark - credit >= 2x credit
    roll_dte: int = 21  # close at 21 DTE and re-enter if gates allow
    adjust_delta: float = 0.30  # a short at |delta| >= 0.30: roll the untested short to 0.16, once
    slippage_per_leg: float = 0.10  # per leg, used only when spread.model is off (METHODOLOGY §4's fixed fill)
    spread: SpreadSettings = field(default_factory=SpreadSettings)  # the modelled bid-ask half-spread per leg
    commission_per_contract: float = 0.65  # dollars per option contract, per fill (a retail SPX rate)
    kappa: float = 0.84  # ATM vol = kappa x VIX-family vol (calibrated: docs/execution.md)
    # the rest of the surface (METHODOLOGY §4, docs/execution.md): kappa rises by kappa_vix_slope per
    # 10 VIX points above 20; sigma(K) = sigma_atm (1 - b z), b = skew_put below the forward, skew_call
    # above, clipped to [smile_floor, smile_cap] x sigma_atm
    kappa_vix_slope: float = 0.03
    skew_put: float = 0.25
    skew_call: float = 0.10
    smile_floor: float = 0.5
    smile_cap: float = 2.5
    dividend_yield: float = 0.018
    # cndr mode: monthly SPX (AM-settled) sold on the third Friday, shorts nearest +-0.20 delta, longs
    # nearest +-0.05, held to settlement, collateral_multiple x max loss in T-bills, no gates
    cndr_short_delta: float = 0.20
    cndr_long_delta: float = 0.05
    collateral_multiple: float = 10.0

    def __post_init__(self) -> None:
        if self.mode not in ("default", "cndr"):
            raise ValueError(f"condor mode must be 'default' or 'cndr', not {self.mode!r}")


# VIX options quote in the same ticks as SPX (0.05 below 3.00, 0.10 above) under the same legal widths,
# but are dearer to make a market in: base is half the 0.05 tick and rel twice SPX's, so a 1-month
# 30-delta call near 1.00 at VIX 20 is quoted one 0.10 wide (the fixed 0.05 half-spread of METHODOLOGY
# §6), and a 20.00 call sold at VIX 60 pays the legal half-width 0.50 (docs/execution.md).
VIX_OPTION_SPREAD = SpreadSettings(base=0.025, rel=0.02)


@dataclass(frozen=True)
class HedgeSettings:
    """METHODOLOGY §6 defaults. Weights and budget are in percent of NAV (1.0 = 1%)."""

    multiplier: float = 100.0  # Cboe VIX options: $100 per index point
    strike_step: float = 1.0  # 1-point VIX strike grid (vix_options module doc)
    # L0 core: Cboe VXTH. (upper bound, inclusive; weight % NAV) by the same-expiry future:
    # <=15 -> 0, (15, 30] -> 1, (30, 50] -> 0.5, >50 -> l0_above_pct (VXTH's own band edges)
    l0_enabled: bool = True
    l0_bands: tuple[tuple[float, float], ...] = ((15.0, 0.0), (30.0, 1.0), (50.0, 0.5))
    l0_above_pct: float = 0.0
    l0_delta: float = 0.30  # §6 L0: 30-delta
    l0_months: int = 1  # §6 L0: 1-month calls
    # L1 momentum: SPX MACD < signal and < 0, VIX MACD > signal, IVTS > 0.95
    l1_enabled: bool = True
    l1_weight_pct: float = 0.5  # §6 L1: 0.5% NAV
    l1_delta: float = 0.30  # §6 L1: 30-delta
    l1_months: int = 2  # §6 L1: 2-month
    l1_ivts_on: float = 0.95  # §6 L1 trigger: IVTS > 0.95
    l1_ivts_off: float = 0.90  # §6 L1: remove at once when IVTS < 0.90
    l1_off_sessions: int = 5  # §6 L1: remove after 5 sessions with the trigger off
    # L2 breadth/macro: (breadth divergence or bearish RSI divergence) and macro stress >= 0.5
    l2_enabled: bool = True
    l2_weight_pct: float = 0.5  # §6 L2: 0.5% NAV
    l2_delta: float = 0.25  # §6 L2: 25-delta
    l2_months: int = 2  # §6 L2: 2-month
    l2_macro_stress: float = 0.5  # §6 L2 trigger: macro stress >= 0.5
    l2_off_sessions: int = 10  # §6 L2: remove after 10 sessions without trigger
    # monetize
    monetize_vix: float = 50.0  # §6: VIX >= 50 closes every layer (math.inf disables, e.g. a pure VXTH replica)
    half_multiple: float = 3.0  # §6: a position worth >= 3x its cost ...
    half_ivts: float = 1.0  # ... while IVTS > 1: sell half
    # budget
    budget_pct_nav: float = 4.0  # §6: L1/L2 premium per rolling year <= 4% NAV
    budget_sessions: int = 252  # the rolling year, in sessions
    budget_nav: str = "mean"  # the NAV the budget is a share of: "mean" over the rolling year, or "current"
    # costs: buys fill at model + half-spread, sales at model - half-spread (VIX points); settlement is free
    spread: SpreadSettings = field(default_factory=lambda: VIX_OPTION_SPREAD)
    slippage: float = 0.05  # the fixed half-spread when spread.model is off: half the 0.10 tick above 3.00
    commission_per_contract: float = 0.65  # dollars per contract, per fill


@dataclass(frozen=True)
class WriterSettings:
    kind: str = "put"  # "put" (PUT, cash-secured) | "call" (BXM/BXMD, covered by the equity sleeve)
    delta: float | None = None  # None: at the money; else the strike nearest this |delta| (BXMD: 0.30)
    strike_step: float = 5.0
    slippage: float = 0.0  # index points per unit, off the model mid (with `spread`: when its model is off)
    commission_per_contract: float = 0.0
    side: str = "short"  # "short" (PUT, BXM/BXMD: written) | "long" (PPUT: bought to protect the equity sleeve)
    otm: float = 0.0  # with delta None: the strike this share of the index out of the money (PPUT: 0.05)
    # None: fills at the mid plus `slippage` (the Cboe replicas: their indices trade at the mid); else the
    # modelled SPX half-spread the condors pay (a research variant trading as the book trades)
    spread: SpreadSettings | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("put", "call"):
            raise ValueError(f"writer kind must be 'put' or 'call', not {self.kind!r}")
        if self.side not in ("short", "long"):
            raise ValueError(f"writer side must be 'short' or 'long', not {self.side!r}")


FILLS = ("next_close", "same_close")


@dataclass(frozen=True)
class BookSettings:
    initial_nav: float = 5_000_000.0  # one 16/5-delta condor risks $20-50k at SPX 3500-7500: 2% of NAV must cover it
    equity_weight: float = 1.0  # SPX total return sleeve, as a share of NAV (rebalanced daily)
    condors: bool = True
    hedges: bool = True
    condor: CondorSettings = field(default_factory=CondorSettings)
    hedge: HedgeSettings = field(default_factory=HedgeSettings)
    writer: WriterSettings | None = None  # the PUT/BXM replicas' monthly short option; off in the daily book
    # AM settlement without a true open (quarantined or absent): previous close + w x (close - previous
    # close); w = 0.19 is the least-squares fit of real ^GSPC opens on 2014-2019 (README, Methodology changes)
    open_proxy_weight: float = 0.19
    # when a decision taken on a session's close fills: "next_close" (the default) at the next session's
    # close, as a trader acting on the evening's signal does; "same_close" at the deciding close itself (the
    # pre-#14 variant). Settlements and the replicas' scheduled rolls are not decisions (docs/execution.md)
    fill: str = "next_close"

    def __post_init__(self) -> None:
        if self.fill not in FILLS:
            raise ValueError(f"book.fill must be one of {', '.join(FILLS)}, not {self.fill!r}")

    @property
    def defer(self) -> bool:
        """Decisions become orders for the next session (book.fill = next_close)."""
        return self.fill == "next_close"
