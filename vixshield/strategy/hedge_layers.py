"""The hedge layers of METHODOLOGY §6 as data: one `LayerSpec` per layer, run by `hedge.advance`.

A layer is a trigger (a pure function of the session), a weight rule, the call it buys (tenor in VIX
expirations, target delta), an entry policy and its removal rules. Parameters are named by their
HedgeSettings attribute, so YAML overrides and the ablation's switches keep working; a literal value
works too (a research variant). Adding a layer is one entry in `LAYERS` plus its trigger function
(and, for a real layer, its settings fields).

What is not per layer, and why:
- the instrument: every layer buys VIX calls priced by Black-76 on the VX future (hedge.HedgeMarket);
  another instrument needs its own pricing and fills, not a spec entry;
- monetization (VIX >= monetize_vix closes every layer; a position at half_multiple x its cost sells
  half) is a rule across layers, applied to all positions; the premium budget is shared by the layers
  marked `budgeted` (L1/L2: METHODOLOGY §0, L0 follows VXTH as its own sleeve).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mypy_extensions import mypyc_attr

from vixshield.strategy.vix_options import is_vix_expiration, vix_expiry
from vixshield.values import flag, num

if TYPE_CHECKING:
    from vixshield.strategy.hedge import HedgeMarket, HedgeSettings

Param = str | float | int | bool  # a HedgeSettings attribute name, or the value itself
Trigger = Callable[["HedgeMarket", "HedgeSettings"], tuple[bool, "Detail | str"]]  # (on, "part=True; part=NA")
Weight = Callable[["HedgeMarket", "HedgeSettings"], tuple[float, list[str]]]  # (% NAV before beta, reasons)


def setting(s: HedgeSettings, p: Param) -> Any:
    """The value a spec parameter names."""
    return getattr(s, p) if isinstance(p, str) else p


# --- entry policies -------------------------------------------------------------------------------


@mypyc_attr(native_class=False)  # a plain class when compiled: frozen, picklable, introspectable
@dataclass(frozen=True)
class EachTrigger:
    """Buy the weight's worth every time the trigger fires (a zero weight buys nothing) and hold each
    purchase to expiry or removal. Cboe VXTH's monthly purchase."""

    on: str
    off: str
    off_held: str  # the trigger is off and the layer holds a position

    def add(self, held: bool, weight: float) -> tuple[bool, str | None]:
        """(buy today?, reason code)"""
        return weight > 0, None


@mypyc_attr(native_class=False)  # a plain class when compiled: frozen, picklable, introspectable
@dataclass(frozen=True)
class WhileTriggered:
    """Hold the weight while the trigger is on: the weight is a target, bought only when the layer is
    flat ("ALREADY_HELD" otherwise), and held until a removal rule, monetization or expiry."""

    on: str = "TRIGGER_ON"
    off: str = "TRIGGER_OFF"
    off_held: str = "TRIGGER_OFF"

    def add(self, held: bool, weight: float) -> tuple[bool, str | None]:
        return (False, "ALREADY_HELD") if held else (True, None)


Entry = EachTrigger | WhileTriggered


# --- removal rules: (market, sessions the trigger has been off, settings) -> reason code or None ---------


@mypyc_attr(native_class=False)  # a plain class when compiled: frozen, picklable, introspectable
@dataclass(frozen=True)
class IvtsBelow:
    """Remove at once when IVTS falls below the level."""

    level: Param

    def __call__(self, mkt: HedgeMarket, off: int, s: HedgeSettings) -> str | None:
        level = setting(s, self.level)
        return f"IVTS_LT_{level:g}" if mkt.ivts < level else None


@mypyc_attr(native_class=False)  # a plain class when compiled: frozen, picklable, introspectable
@dataclass(frozen=True)
class OffFor:
    """Remove once the trigger has been off this many consecutive sessions (today included)."""

    sessions: Param

    def __call__(self, mkt: HedgeMarket, off: int, s: HedgeSettings) -> str | None:
        n = setting(s, self.sessions)
        return f"OFF_{n}_SESSIONS" if off >= n else None


Exit = Callable[["HedgeMarket", int, "HedgeSettings"], str | None]


@mypyc_attr(native_class=False)  # a plain class when compiled: frozen, picklable, introspectable
@dataclass(frozen=True)
class LayerSpec:
    """One hedge layer: when it buys, how much, which call, and when it leaves."""

    name: str  # row label and reason-code prefix ("L1" -> "L1:TRIGGER_ON")
    enabled: Param  # the layer's switch (the ablation turns [seed] layers off)
    trigger: Trigger
    weight: Weight
    months: Param  # tenor: 1 = the next VIX expiration after the front, 2 = the one after (vix_options)
    delta: Param  # the call's target delta
    entry: Entry
    exits: tuple[Exit, ...] = ()  # tried in order, the first that fires removes the layer; none: held to expiry
    seed: str | None = None  # a [seed] rule: the backtest's ablation runs `full` without it, under this name
    budgeted: bool = True  # draws on the shared premium budget (L1/L2); False: its own sleeve (L0, VXTH)


# --- triggers and weights -------------------------------------------------------------------------


READS: dict[Trigger, tuple[str, ...]] = {}  # each declared trigger: the settings it reads (`reads`)


def reads(*names: str) -> Callable[[Trigger], Trigger]:
    """Declare the HedgeSettings a trigger reads: a session's result is then memoized per their values
    (hedge.HedgeMarket.trigger), shared by runs that differ in anything else, e.g. a sweep's budgets.
    A trigger without the declaration is called every time. tests/unit/test_hedge_layers.py checks
    that no other setting moves a declared trigger."""

    def declare(trigger: Trigger) -> Trigger:
        READS[trigger] = names  # a registry, not an attribute: a compiled function takes none (native.py)
        return trigger

    return declare


class Detail:
    """A trigger's parts as text ("part=True; part=NA"), formatted when read (`str`): the backtest writes
    no rows, and formatting every session's parts was 3% of a full run. Equal to its text."""

    def __init__(self, template: str, *values: object) -> None:
        self.template, self.values = template, values

    def __str__(self) -> str:
        return self.template.format(*self.values)

    def __repr__(self) -> str:
        return repr(str(self))

    def __eq__(self, other: object) -> bool:
        return str(self) == str(other)

    def __hash__(self) -> int:
        return hash(str(self))


def _fmt(v: bool | None) -> str:
    return "NA" if v is None else str(v)


@reads()
def vix_expiration_day(mkt: HedgeMarket, s: HedgeSettings) -> tuple[bool, Detail]:
    """L0 (VXTH) buys on each monthly VIX expiration day."""
    on = is_vix_expiration(mkt.day)
    return on, Detail("vix_expiration={}", on)


@reads("l1_ivts_on")
def momentum(mkt: HedgeMarket, s: HedgeSettings) -> tuple[bool, Detail]:
    """L1 trigger and its parts; a missing input makes its part (and the trigger) False, shown as NA."""
    row = mkt.row  # written out, not as a dict of parts: it runs every session, on the hot path
    m, ms = num(row.get("spx_macd")), num(row.get("spx_macd_signal"))
    vm, vms = num(row.get("vix_macd")), num(row.get("vix_macd_signal"))
    ivts = num(row.get("ivts"))
    below = None if math.isnan(m) or math.isnan(ms) else m < ms
    negative = None if math.isnan(m) else m < 0
    above = None if math.isnan(vm) or math.isnan(vms) else vm > vms
    contango = None if math.isnan(ivts) else ivts > s.l1_ivts_on
    on = bool(below and negative and above and contango)  # all(): a missing part (None) is off
    parts = _fmt(below), _fmt(negative), _fmt(above), s.l1_ivts_on, _fmt(contango)
    return on, Detail("spx_macd<signal={}; spx_macd<0={}; vix_macd>signal={}; ivts>{:g}={}", *parts)


@reads("l2_macro_stress")
def breadth_macro(mkt: HedgeMarket, s: HedgeSettings) -> tuple[bool, Detail]:
    """L2 trigger: (breadth divergence or bearish RSI divergence active) and macro stress >= threshold."""
    row = mkt.row
    bd, rd = flag(row.get("breadth_divergence")), flag(row.get("bearish_divergence_active"))
    ms = num(row.get("macro_stress"))
    stress = None if math.isnan(ms) else ms >= s.l2_macro_stress
    on = bool(bd or rd) and bool(stress)
    parts = _fmt(bd), _fmt(rd), s.l2_macro_stress, _fmt(stress)
    return on, Detail("breadth_divergence={}; bearish_divergence_active={}; macro_stress>={:g}={}", *parts)


def l0_weight(future: float, s: HedgeSettings) -> tuple[float, str]:
    """VXTH band weight (% NAV, before beta) for the same-expiry future, and its reason code."""
    lower = None
    for upper, weight in s.l0_bands:
        if future <= upper:
            label = f"LE_{upper:g}" if lower is None else f"{lower:g}_{upper:g}"
            return weight, f"L0:BAND_{label}"
        lower = upper
    return s.l0_above_pct, f"L0:BAND_GT_{lower:g}"


def vxth_bands(mkt: HedgeMarket, s: HedgeSettings) -> tuple[float, list[str]]:
    """L0's weight: the VXTH band of the future expiring with the call it buys."""
    fwd = mkt.future(vix_expiry(mkt.day, s.l0_months))[0]
    base, code = l0_weight(fwd, s) if fwd == fwd else (0.0, "NO_PRICE")
    return base, [code]


def fixed(pct: Param) -> Weight:
    """A constant weight (% NAV, before beta)."""

    def weight(mkt: HedgeMarket, s: HedgeSettings) -> tuple[float, list[str]]:
        return setting(s, pct), []

    return weight


def while_triggered(name: str, trigger: Trigger, exits: tuple[Exit, ...], seed: str | None = None) -> LayerSpec:
    """A layer held at a fixed weight while its trigger is on, its parameters the `<name>_*` settings
    (l1_enabled, l1_weight_pct, l1_months, l1_delta for "L1")."""
    p = name.lower()
    weight = fixed(f"{p}_weight_pct")
    return LayerSpec(name, f"{p}_enabled", trigger, weight, f"{p}_months", f"{p}_delta", WhileTriggered(), exits, seed)


LAYERS: tuple[LayerSpec, ...] = (
    # L0 core, Cboe VXTH: on each VIX expiration buy 1-month 30-delta calls, weight by the future's band
    LayerSpec(
        "L0",
        enabled="l0_enabled",
        trigger=vix_expiration_day,
        weight=vxth_bands,
        months="l0_months",
        delta="l0_delta",
        entry=EachTrigger(on="EXPIRATION_DAY", off="NOT_EXPIRATION_DAY", off_held="HOLD_TO_EXPIRY"),
        budgeted=False,  # VXTH buys its band weight every month; no discretionary budget stops it
    ),
    # L1 momentum [seed]: SPX MACD < signal and < 0, VIX MACD > signal, IVTS above l1_ivts_on; removed at
    # once below l1_ivts_off or after l1_off_sessions with the trigger off
    while_triggered(
        "L1", momentum, (IvtsBelow("l1_ivts_off"), OffFor("l1_off_sessions")), seed="L1 momentum hedge layer"
    ),
    # L2 breadth/macro [seed]: (breadth or bearish RSI divergence) and macro stress >= l2_macro_stress;
    # removed after l2_off_sessions without the trigger
    while_triggered("L2", breadth_macro, (OffFor("l2_off_sessions"),), seed="L2 breadth/macro hedge layer"),
)
