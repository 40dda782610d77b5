"""The backtest (METHODOLOGY §7): the one model book run over history, per strategy.

Every strategy is a BookSettings for vixshield.strategy.book.run_book; there is no second engine. `full` is the
daily methodology (its NAV equals signals.book_daily); the Cboe replicas switch sleeves and modes:

  spx   SPX total return (dividends at q), nothing else
  cndr  Cboe CNDR: the monthly 20/5-delta condor held to settlement, 10x max loss in T-bills
  put   Cboe PUT: the monthly at-the-money put, fully collateralized in T-bills
  bxm   Cboe BXM: SPX plus the monthly at-the-money covered call
  bxmd  Cboe BXMD: SPX plus the monthly 30-delta covered call
  vxth  Cboe VXTH: SPX plus the L0 VIX-call layer only (from the first VX futures session)
  pput  Cboe PPUT: SPX plus a monthly put 5% out of the money, bought (one per 100 index units held)

Replicas fill at the model mid with no fees (as Cboe's indices do); `full` pays the configured
slippage and commissions. Trades come from the book's fill ledger, independently of its NAV
arithmetic, and reconcile with it (see `reconcile`).
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import gc
import itertools
import math
import multiprocessing
import operator
import os
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from vixshield.backtest import metrics
from vixshield.strategy.book import BOOK_COLUMNS, BookSettings, SessionCache, run_book
from vixshield.strategy.hedge_layers import LAYERS
from vixshield.strategy.ledger import FILL_COLUMNS
from vixshield.strategy.option_writer import WriterSettings

STRATEGIES: dict[str, str] = {
    "full": "the daily methodology: SPX sleeve, managed condors, layered VIX hedge, T-bills",
    "full_same_close": "full, every decision filled at the close it was taken on (the pre-#14 fill)",
    "spx": "SPX total return (dividends at q)",
    "cndr": "Cboe CNDR replica: monthly 20/5-delta iron condor held to settlement, 10x max loss in T-bills",
    "put": "Cboe PUT replica: monthly at-the-money put, fully collateralized in T-bills",
    "bxm": "Cboe BXM replica: SPX plus a monthly at-the-money covered call",
    "bxmd": "Cboe BXMD replica: SPX plus a monthly 30-delta covered call",
    "vxth": "Cboe VXTH replica: SPX plus the L0 VIX-call layer only",
    "pput": "Cboe PPUT replica: SPX plus a monthly 5% out-of-the-money put bought against it",
}
NEEDS_VX = frozenset({"vxth"})  # starts at the first session with VX futures settlements


def _replica(book: BookSettings) -> BookSettings:
    """Replicas fill at the model mid and pay no fees, and trade on their index's roll date: the roll is a
    published schedule (Cboe sells at mid-day of the roll date, here at its close), not a signal to act
    on the next session."""
    return replace(
        book,
        fill="same_close",
        condor=replace(
            book.condor,
            slippage_per_leg=0.0,
            commission_per_contract=0.0,
            spread=replace(book.condor.spread, multiplier=0.0),
        ),
        hedge=replace(
            book.hedge, slippage=0.0, commission_per_contract=0.0, spread=replace(book.hedge.spread, multiplier=0.0)
        ),
    )


def strategy_settings(name: str, base: BookSettings) -> BookSettings:
    """The book settings of a named strategy, derived from the configured base (costs, q, kappa...)."""
    off = replace(base, condors=False, hedges=False, writer=None)
    if name == "full":
        return base
    if name == "full_same_close":
        return replace(base, fill="same_close")
    if name == "spx":
        return replace(off, equity_weight=1.0)
    if name == "cndr":
        return _replica(replace(off, equity_weight=0.0, condors=True, condor=replace(base.condor, mode="cndr")))
    if name == "put":
        return _replica(replace(off, equity_weight=0.0, writer=WriterSettings("put")))
    if name == "bxm":
        return _replica(replace(off, equity_weight=1.0, writer=WriterSettings("call")))
    if name == "bxmd":
        return _replica(replace(off, equity_weight=1.0, writer=WriterSettings("call", delta=0.30)))
    if name == "vxth":  # VXTH: L0 only, no monetization, no budget cap
        others = {spec.enabled: False for spec in LAYERS if spec.name != "L0" and isinstance(spec.enabled, str)}
        l0 = replace(base.hedge, **others, monetize_vix=math.inf, budget_pct_nav=1e9)
        return _replica(replace(off, equity_weight=1.0, hedges=True, hedge=l0))
    if name == "pput":
        return _replica(replace(off, equity_weight=1.0, writer=WriterSettings("put", side="long", otm=0.05)))
    raise ValueError(f"unknown strategy {name!r}; known: {', '.join(STRATEGIES)}")


def _condor_off(attr: str) -> Callable[[BookSettings], BookSettings]:
    return lambda b: replace(b, condor=replace(b.condor, **{attr: False}))


def _layer_off(attr: str) -> Callable[[BookSettings], BookSettings]:
    return lambda b: replace(b, hedge=replace(b.hedge, **{attr: False}))


# [seed] rules and the gates, each switched off in one variant of `full` (METHODOLOGY §7 ablation):
# (change, rule name) by variant, in name order; every [seed] hedge layer of LAYERS has one
_VARIANTS = {
    "no_divergence_modifier": (_condor_off("divergence_modifier"), "RSI-divergence modifier"),
    "no_event_gate": (_condor_off("event_gate"), "event gate (FOMC/CPI/PPI)"),
    "no_regime_gates": (_condor_off("regime_gates"), "regime/VRP/IVTS entry gates"),
} | {
    f"no_{spec.name.lower()}": (_layer_off(spec.enabled), spec.seed)
    for spec in LAYERS
    if spec.seed and isinstance(spec.enabled, str)
}
ABLATIONS: dict[str, Callable[[BookSettings], BookSettings]] = {k: v[0] for k, v in sorted(_VARIANTS.items())}
RULE_NAMES: dict[str, str] = {k: v[1] for k, v in sorted(_VARIANTS.items())}
# sweepable parameters -> where they live in BookSettings
SWEEP_PARAMETERS: dict[str, tuple[str, str]] = {
    "short_delta": ("condor", "short_delta"),
    "take_profit": ("condor", "take_profit"),
    "hedge_budget_pct": ("hedge", "budget_pct_nav"),
}
DEFAULT_GRID: dict[str, tuple[float, ...]] = {
    "short_delta": (0.10, 0.12, 0.16, 0.20, 0.25),
    "take_profit": (0.30, 0.40, 0.50, 0.65, 0.80),
    "hedge_budget_pct": (2.0, 4.0),
}
# 100 points, the size of grid a walk-forward chooses from in every fit window (#16): the bench times it
GRID_100: dict[str, tuple[float, ...]] = DEFAULT_GRID | {"hedge_budget_pct": (1.0, 2.0, 4.0, 6.0)}


@dataclass(frozen=True)
class Inputs:
    """What the book reads (signals.load_inputs): features, regimes, VX prices, SPX opens."""

    features: pd.DataFrame
    regimes: Mapping[pd.Timestamp, str]
    vx: Mapping[pd.Timestamp, Mapping[pd.Timestamp, float]]
    opens: Mapping[pd.Timestamp, float]
    # shared by every run over these features in this process (not copied by dataclasses.replace)
    cache: SessionCache = field(
        default_factory=lambda: SessionCache(columns=BOOK_COLUMNS), init=False, repr=False, compare=False
    )
    # names these inputs across processes: a worker given them again keeps its warm cache (run_many)
    token: str = field(default_factory=lambda: uuid.uuid4().hex, init=False, repr=False, compare=False)

    def window(self, strategy: str, start: str | None, end: str | None) -> pd.DataFrame:
        f = self.features
        first = pd.Timestamp(start) if start else f.index.min()
        if strategy in NEEDS_VX and self.vx:
            first = max(first, min(self.vx))
        last = pd.Timestamp(end) if end else f.index.max()
        if first <= f.index.min() and last >= f.index.max():
            return f  # the whole history: no copy of every column
        return f[(f.index >= first) & (f.index <= last)]


@dataclass
class StrategyRun:
    strategy: str
    settings: BookSettings
    equity: pd.DataFrame  # date-indexed book_daily rows
    trades: pd.DataFrame
    fills: pd.DataFrame

    def metrics(self, windows: Mapping[str, tuple[str | None, str | None]] = metrics.WINDOWS) -> list[dict]:
        rows = []
        for window, (first, last) in windows.items():
            perf = metrics.performance(self.equity, self.trades, self.settings.initial_nav, first, last)
            nav = metrics.clip(self.equity["nav"], first, last)
            rows.append({"strategy": self.strategy, "window": window, **perf, **metrics.stress(nav)})
        return rows


@contextlib.contextmanager
def cycle_collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off for the block, back to its previous state after. The book
    loop allocates millions of small objects, most freed by reference counting and the rest kept in the
    session cache's memos; the collector finds no garbage among them, yet its full passes over the
    growing memos took a third of a cold run (bench/backtest_bench.py). On the way out the block's
    survivors move to the oldest generation unscanned (freeze, then unfreeze): the first young
    collection would otherwise walk every one of them at once (0.15-0.25 s a run), finding nothing.
    Garbage among them is still found by the next full collection."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.freeze()
            gc.unfreeze()
            gc.enable()


def run_strategy(
    inputs: Inputs, strategy: str, settings: BookSettings, start: str | None = None, end: str | None = None
) -> StrategyRun:
    """One strategy over [start, end]: the book's NAV path, its fills and its trades."""
    window = inputs.window(strategy, start, end)
    with cycle_collector_paused():
        out = run_book(window, inputs.regimes, inputs.vx, inputs.opens, settings, rows=False, cache=inputs.cache)
    # column by column: pandas' list-of-dicts constructor converts every row's values one by one; the
    # rows are transposed in one pass (itemgetter, zip) rather than one list comprehension per column
    equity = pd.DataFrame()
    if out.daily:
        keys = list(out.daily[0])
        columns = dict(zip(keys, zip(*map(operator.itemgetter(*keys), out.daily), strict=True), strict=True))
        dates = pd.DatetimeIndex(pd.to_datetime(pd.Series(columns.pop("date"))), name="date")
        equity = pd.DataFrame(columns, index=dates)
    fills = pd.DataFrame(out.fills, columns=FILL_COLUMNS).astype(
        {"date": "datetime64[ns]", "expiry": "datetime64[ns]", "contracts": float, "price": float, "cash": float}
        | {"costs": float}
    )
    return StrategyRun(strategy, settings, equity, trades_from(fills, out.open_positions), fills)


TRADE_COLUMNS = [
    "position_id",
    "sleeve",
    "instrument",
    "layer",
    "entry_date",
    "exit_date",
    "expiry",
    "contracts",
    "entry_price",
    "exit_price",
    "entry_cash",
    "exit_cash",
    "open_value",
    "costs",
    "pnl",
    "status",
    "exit_reason",
]


def trades_from(fills: pd.DataFrame, open_positions: Iterable[Mapping]) -> pd.DataFrame:
    """One row per position from the fill ledger. entry_cash: the opening fill plus any adjustment;
    exit_cash: closing fills (partial sales included); an open position carries its last mark as
    open_value. pnl = entry_cash + exit_cash + open_value, every cost already inside the cash."""
    if fills.empty:
        return pd.DataFrame(columns=TRADE_COLUMNS)
    # the text columns as Python strings while selecting and grouping: pandas 3's Arrow-backed strings take
    # their rows through pyarrow, ~20-80 ms in a new process (its allocator's first pages) where NumPy takes
    # ~2; the table built from them below infers the same dtypes as before
    fills = fills.astype({c: object for c, dtype in fills.dtypes.items() if isinstance(dtype, pd.StringDtype)})
    by = fills.groupby("position_id", sort=False)
    opening = fills[fills["event"] == "open"].drop_duplicates("position_id").set_index("position_id")
    exits = fills[fills["event"].isin(["close", "partial"])]
    last_exit = exits.drop_duplicates("position_id", keep="last").set_index("position_id")
    entry_cash = fills[fills["event"].isin(["open", "adjust"])].groupby("position_id")["cash"].sum()
    marks = pd.Series({p["position_id"]: float(p["value"]) for p in open_positions}, dtype=float)
    ids = opening.index
    closed = ~ids.isin(marks.index)
    out = pd.DataFrame(
        {
            "position_id": ids.to_numpy(),
            "sleeve": opening["sleeve"].to_numpy(),
            "instrument": by["instrument"].last().reindex(ids).to_numpy(),
            "layer": opening["layer"].to_numpy(),
            "entry_date": opening["date"].to_numpy(),
            "exit_date": last_exit["date"].reindex(ids).where(closed).to_numpy(),
            "expiry": opening["expiry"].to_numpy(),
            "contracts": opening["contracts"].astype(float).to_numpy(),
            "entry_price": opening["price"].astype(float).to_numpy(),
            "exit_price": last_exit["price"].reindex(ids).astype(float).to_numpy(),
            "entry_cash": entry_cash.reindex(ids).fillna(0.0).to_numpy(),
            "exit_cash": exits.groupby("position_id")["cash"].sum().reindex(ids).fillna(0.0).to_numpy(),
            "open_value": marks.reindex(ids).fillna(0.0).to_numpy(),
            "costs": by["costs"].sum().reindex(ids).to_numpy(),
            "status": np.where(closed, "closed", "open"),
            "exit_reason": last_exit["reason"].reindex(ids).where(closed).to_numpy(),
        }
    )
    out.insert(TRADE_COLUMNS.index("pnl"), "pnl", out["entry_cash"] + out["exit_cash"] + out["open_value"])
    return out[TRADE_COLUMNS]


def reconcile(run: StrategyRun) -> dict[str, float]:
    """The accounting identity, in dollars: NAV change = equity P&L + interest + trade P&L. The trade
    side comes from the fill ledger, the NAV side from the book's balances; the gap must be ~0."""
    eq = run.equity
    nav_change = float(eq["nav"].iloc[-1] - run.settings.initial_nav)
    carry = float(eq["equity_pnl"].sum() + eq["interest"].sum())
    trade_pnl = float(run.trades["pnl"].sum()) if len(run.trades) else 0.0
    return {"nav_change": nav_change, "carry": carry, "trade_pnl": trade_pnl, "gap": nav_change - carry - trade_pnl}


# --- many runs: strategies, the ablation, the sweep --------------------------------------------------

Task = tuple[str, str, BookSettings, str | None, str | None, bool]  # label, strategy, settings, start, end, full

_WORKER_INPUTS: Inputs | None = None  # this process's inputs (and their warm session cache)


def _init_worker(inputs: Inputs) -> None:
    global _WORKER_INPUTS
    _WORKER_INPUTS = inputs


def _job(task: Task) -> tuple[str, StrategyRun | dict]:
    label, strategy, settings, start, end, full = task
    run = run_strategy(_WORKER_INPUTS, strategy, settings, start, end)
    return label, (run if full else run.metrics({"all": (None, None)})[0])


def _chunk(inputs: Inputs, tasks: list[Task]) -> list[tuple[str, StrategyRun | dict]]:
    """A few jobs on any executor's worker. The inputs arrive pickled with each chunk (their session cache
    does not: SessionCache pickles empty); a worker process that already holds equal inputs (the same
    token) keeps its own, whose cache earlier chunks warmed."""
    if _WORKER_INPUTS is None or _WORKER_INPUTS.token != inputs.token:
        _init_worker(inputs)
    return [_job(task) for task in tasks]


def run_many(
    jobs: list[tuple[str, str, BookSettings]],
    inputs: Inputs,
    start: str | None = None,
    end: str | None = None,
    workers: int | None = None,
    full: bool = True,
    progress: Callable[[str], None] | None = None,
    executor: cf.Executor | None = None,
) -> dict[str, StrategyRun | dict]:
    """Run (label, strategy, settings) jobs, in parallel processes when more than one core is free.
    full=False returns only each run's whole-period metrics (what an ablation or a sweep needs).
    executor: run them there instead, in chunks of jobs (about two per worker; `workers` says how many
    it has): any concurrent.futures.Executor whose workers import vixshield, e.g. a Dask cluster's
    `Client.get_executor()`, a spawn-context ProcessPoolExecutor, a Ray or loky pool (README, Backtest)."""
    workers = max(1, min(workers or os.cpu_count() or 1, len(jobs)))
    tasks: list[Task] = [(label, strategy, settings, start, end, full) for label, strategy, settings in jobs]
    results: dict[str, StrategyRun | dict] = {}

    def done(label: str, result: StrategyRun | dict) -> None:
        results[label] = result
        if progress:
            progress(label)

    if executor is not None:
        size = max(1, math.ceil(len(tasks) / (2 * workers)))
        chunks = [tasks[i : i + size] for i in range(0, len(tasks), size)]
        for chunk in executor.map(_chunk, [inputs] * len(chunks), chunks):
            for label, result in chunk:
                done(label, result)
        return results
    _init_worker(inputs)
    # the first job runs here: with fork, every worker then starts from its warm session cache
    # (prices, strikes, candidates), which the ablation's and a sweep's variants mostly share
    local = tasks if workers == 1 else tasks[:1]
    for task in local:
        done(*_job(task))
    if workers == 1:
        return results
    # fork where the platform has it: workers start in ~0.1 s with the modules imported and this
    # process's session cache (copy-on-write); they only run pure Python, never the parent's
    # DuckDB connection or threads. Elsewhere spawn, with the inputs pickled once per worker.
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    ctx = multiprocessing.get_context(method)
    # frozen, the objects the workers inherit (the warm cache above all) are never traversed by their
    # collectors, whose passes would otherwise copy every page of it (the gc module's advice for fork)
    frozen = gc.get_freeze_count()
    gc.freeze()
    try:
        with cf.ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker, initargs=(inputs,)) as pool:
            for label, result in pool.map(_job, tasks[1:]):
                done(label, result)
    finally:
        if not frozen:  # else someone froze before us: leave it as they may expect
            gc.unfreeze()
    return results


def ablation_jobs(base: BookSettings) -> list[tuple[str, str, BookSettings]]:
    return [("full", "full", base)] + [(name, "full", change(base)) for name, change in ABLATIONS.items()]


def ablation_table(results: Mapping[str, dict]) -> pd.DataFrame:
    """Full against each rule removed: metrics, deltas (full minus variant) and a plain verdict."""
    full = results["full"]
    rows = []
    for variant, m in results.items():
        row = {"variant": variant, **{k: m.get(k) for k in metrics.METRIC_COLUMNS}}
        for k in ("cagr", "sharpe", "max_drawdown", "calmar"):
            row[f"d_{k}"] = full[k] - m[k]
        row["verdict"] = "baseline" if variant == "full" else _verdict(variant, row)
        rows.append(row)
    return pd.DataFrame(rows)


def _verdict(variant: str, row: Mapping[str, float]) -> str:
    """A positive d_sharpe means the rule helped: the book without it earns less per unit of risk."""
    d_sharpe, d_cagr, d_dd = row["d_sharpe"], row["d_cagr"], row["d_max_drawdown"]
    word = "no material effect" if abs(d_sharpe) < 0.005 else ("helped" if d_sharpe > 0 else "hurt")
    dd = "max drawdown unchanged"
    if abs(d_dd) >= 0.0005:
        dd = f"max drawdown {abs(d_dd) * 100:.1f} pts {'shallower' if d_dd > 0 else 'deeper'} with it"
    return f"{RULE_NAMES[variant]}: {word} (Sharpe {d_sharpe:+.3f}, CAGR {d_cagr * 100:+.2f} pts, {dd})"


def sweep_jobs(base: BookSettings, grid: Mapping[str, Iterable[float]]) -> list[tuple[str, str, BookSettings]]:
    unknown = set(grid) - set(SWEEP_PARAMETERS)
    if unknown:
        raise ValueError(f"cannot sweep {sorted(unknown)}; sweepable: {', '.join(SWEEP_PARAMETERS)}")
    names = list(grid)
    jobs = []
    for point in itertools.product(*(tuple(grid[n]) for n in names)):
        settings = base
        for name, value in zip(names, point, strict=True):
            part, attr = SWEEP_PARAMETERS[name]
            settings = replace(settings, **{part: replace(getattr(settings, part), **{attr: float(value)})})
        label = ",".join(f"{n}={v:g}" for n, v in zip(names, point, strict=True))
        jobs.append((label, "full", settings))
    return jobs


def sweep_table(results: Mapping[str, dict], base: BookSettings) -> pd.DataFrame:
    """One row per grid point: the three parameters (an unswept one at its base setting) and the metrics."""
    defaults = {name: getattr(getattr(base, part), attr) for name, (part, attr) in SWEEP_PARAMETERS.items()}
    rows = []
    for label, m in results.items():
        params = {k: float(v) for k, v in (part.split("=") for part in label.split(","))}
        rows.append({**defaults, **params, **{k: m.get(k) for k in metrics.METRIC_COLUMNS}})
    return pd.DataFrame(rows)
