"""The warehouse contract: every published table declared once (columns, types, key, comments).

From these declarations come the CREATE TABLE DDL, DuckDB's COMMENT ON TABLE/COLUMN, the additive
migration of an existing warehouse (`migrations`), the raw families' frame shapes (`schemas`), their
validation rules (`expectations`) and docs/data_dictionary.md (`dictionary`). It is Python, not SQL
files, because code reads it too (conforming frames, ordering features, building suites); SQL can
only be read back through a parser. core.* is not declared here: those tables are the outputs of the
SQL transforms in sql/transforms/, which stay the one place that defines them.

Add columns at the end of a table's declaration: an existing warehouse gains them at the end
(ALTER TABLE ADD COLUMN), so fresh and upgraded warehouses then agree on the order too.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

from vixshield import catalog


@dataclass(frozen=True)
class Column:
    """One column. Feature columns say unit, formula and inputs; the others a free comment."""

    name: str
    type: str  # DuckDB type, as duckdb_columns() spells it
    comment: str = ""
    not_null: bool = False
    unit: str = ""
    formula: str = ""
    inputs: str = ""

    @property
    def description(self) -> str:
        if self.formula:
            return f"[{self.unit}] {self.formula} (inputs: {self.inputs})"
        return self.comment


@dataclass(frozen=True)
class Table:
    """One published table. `key` is a PRIMARY KEY where `enforce_key`; derived tables that their
    writer replaces whole (features.*, signals.*) have none today and keep the key as the row order."""

    name: str  # schema.table
    comment: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    enforce_key: bool = True
    on_connect: bool = True  # created when a warehouse is opened; False: by its writer, on first write

    @property
    def schema(self) -> str:
        return self.name.split(".")[0]

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def create_sql(table: Table, replace: bool = False) -> str:
    """CREATE TABLE [IF NOT EXISTS | OR REPLACE] from the declaration."""
    lines = [f"    {quote(c.name)} {c.type}{' NOT NULL' if c.not_null else ''}" for c in table.columns]
    if table.enforce_key:
        lines.append(f"    PRIMARY KEY ({', '.join(map(quote, table.key))})")
    head = "CREATE OR REPLACE TABLE" if replace else "CREATE TABLE IF NOT EXISTS"
    return f"{head} {table.name} (\n" + ",\n".join(lines) + "\n)"


def comment_sql(table: Table, columns: list[str] | None = None) -> list[str]:
    """COMMENT ON TABLE, then COMMENT ON COLUMN for every column (or only `columns`)."""
    return [f"COMMENT ON TABLE {table.name} IS {literal(table.comment)}"] + [
        f"COMMENT ON COLUMN {table.name}.{quote(c.name)} IS {literal(c.description)}"
        for c in table.columns
        if c.description and (columns is None or c.name in columns)
    ]


# --- raw: one table per family -------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """A validation rule of a raw family, run as a Great Expectations expectation (`expectations`).

    kind: not_null (column), between (min/max, strict_min), a_ge_b (column >= other, rows with a NULL
    side skipped), in_set (values). `symbol`: only rows of that symbol. Blocking: the data is unusable."""

    name: str
    kind: Literal["not_null", "between", "a_ge_b", "in_set"]
    column: str
    blocking: bool = False
    other: str = ""
    min: float | None = None
    max: float | None = None
    strict_min: bool = False
    values: tuple[str, ...] = ()
    symbol: str | None = None


@dataclass(frozen=True)
class Family:
    """A raw family: what every source returns for it and what raw.<name> stores (plus `source` and
    the audit columns). `holds` says which symbols or series it carries."""

    name: str
    comment: str
    key_columns: tuple[Column, ...]
    value_columns: tuple[Column, ...]
    holds: str
    rules: tuple[Rule, ...] = ()

    @property
    def key(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.key_columns)

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.value_columns)

    @property
    def frame_columns(self) -> tuple[Column, ...]:
        """The canonical frame a source returns: keys, values, source."""
        return (*self.key_columns, *self.value_columns, SOURCE)

    @property
    def table(self) -> Table:
        return Table(f"raw.{self.name}", self.comment, (*self.frame_columns, *AUDIT), self.key)


def _d(name: str, comment: str = "", not_null: bool = False) -> Column:
    return Column(name, "DOUBLE", comment, not_null)


def _v(name: str, comment: str = "", not_null: bool = False) -> Column:
    return Column(name, "VARCHAR", comment, not_null)


def _date(name: str, comment: str = "", not_null: bool = False) -> Column:
    return Column(name, "DATE", comment, not_null)


SOURCE = _v("source", "the publisher (prefixed files:/sample: when read from disk)", True)
AUDIT = (
    Column("fetched_at", "TIMESTAMP", "when the run that last changed the row fetched it", True),
    _v("run_id", "the run that last changed the row (unchanged rows keep theirs)", True),
)
_HIGH_GE_LOW = Rule("high_ge_low", "a_ge_b", "high", other="low")
_OHLC = (_d("open"), _d("high"), _d("low"), _d("close"))

FAMILIES: tuple[Family, ...] = (
    Family(
        "daily_bars",
        "Daily bars of SPX, the VIX family, VVIX, SKEW and the breadth universe, as published.",
        (
            _v("symbol", "Yahoo spelling: ^GSPC, ^VIX, ... and breadth-universe tickers", True),
            _date("date", "NYSE session date", True),
        ),
        (*_OHLC, _d("adj_close", "close adjusted for dividends and splits (Yahoo)"), _d("volume")),
        holds=", ".join(s.symbol for s in catalog.DAILY_SYMBOLS) + " and the breadth universe",
        rules=(
            *(
                Rule(
                    f"close_in_range[{s.symbol}]",
                    "between",
                    "close",
                    min=s.plausible[0],
                    max=s.plausible[1],
                    symbol=s.symbol,
                )
                for s in catalog.DAILY_SYMBOLS
            ),
            Rule("close_positive", "between", "close", min=0, strict_min=True),
            _HIGH_GE_LOW,
            Rule("volume_nonnegative", "between", "volume", min=0),
        ),
    ),
    Family(
        "macro_observations",
        "FRED macro series with the session each value became knowable (available_date).",
        (
            _v("series_id", "FRED series id", True),
            _date("observation_date", "the period the value describes", True),
        ),
        (
            _d("value"),
            _date("available_date", "first NYSE session at whose close the value was knowable", True),
        ),
        holds=", ".join(m.series_id for m in catalog.MACRO_SERIES),
        rules=(
            Rule("available_date_not_null", "not_null", "available_date", blocking=True),
            Rule("available_after_observation", "a_ge_b", "available_date", blocking=True, other="observation_date"),
            Rule("value_not_null", "not_null", "value"),
        ),
    ),
    Family(
        "vx_futures",
        "Cboe CFE VIX futures, one row per contract per trade date.",
        (_date("trade_date", not_null=True), _date("expiry", "final settlement date of the contract", True)),
        (
            *_OHLC,
            _d("settle", "0.0 throughout 2013 in Cboe's files: core uses close there"),
            _d("volume"),
            _d("open_interest"),
        ),
        holds="monthly (and weekly) VX contracts",
        rules=(
            # a mislabelled contract: quarantined (traded_after_expiry), not fatal
            Rule("expiry_after_trade_date", "a_ge_b", "expiry", other="trade_date"),
            Rule("settle_nonnegative", "between", "settle", min=0),
            Rule("close_in_range", "between", "close", min=5, max=150),
            _HIGH_GE_LOW,
        ),
    ),
    Family(
        "events",
        "FOMC decisions and CPI/PPI release dates.",
        (_date("date", not_null=True), _v("kind", " | ".join(catalog.EVENT_KINDS), True)),
        (Column("scheduled", "BOOLEAN", "NULL where the source does not say"),),
        holds=", ".join(catalog.EVENT_KINDS),
        rules=(Rule("kind_known", "in_set", "kind", blocking=True, values=catalog.EVENT_KINDS),),
    ),
    Family(
        "breadth_vendor",
        "A vendor's NYSE advance-decline line (NYAD) and McClellan oscillator (NYMO).",
        (_v("series", "NYAD (A-D line level), NYMO (McClellan oscillator)", True), _date("date", not_null=True)),
        (_d("value"),),
        holds="NYAD, NYMO",
        rules=(Rule("value_not_null", "not_null", "value"),),
    ),
)
FAMILY_BY_NAME = {f.name: f for f in FAMILIES}

# --- meta: what ran, what each check found, what was set aside -----------------------------------

_JSON = "JSON"
META: tuple[Table, ...] = (
    Table(
        "meta.runs",
        "One row per pipeline run: what ran, on which data, and how it ended.",
        (
            _v("run_id", not_null=True),
            Column("started_at", "TIMESTAMP", not_null=True),
            Column("finished_at", "TIMESTAMP"),
            _v("status", "running | success | failure | killed (closed by the next run)", True),
            _v("source"),
            _date("as_of"),
            _v("config_hash"),
            _v("methodology_version"),
            Column("row_counts", _JSON, "table -> rows after the run"),
            Column("changes", _JSON, "raw table -> {inserted, revised, unchanged}"),
            _v("message"),
        ),
        ("run_id",),
    ),
    Table(
        "meta.check_results",
        "What each check found, per run.",
        (
            _v("run_id", not_null=True),
            _v("asset", "e.g. raw.daily_bars", True),
            _v("check_name", not_null=True),
            Column("passed", "BOOLEAN", not_null=True),
            _v("severity", "ERROR (blocking) | WARN", True),
            Column("failures", "BIGINT", "offending rows, where countable"),
            Column("details", _JSON),
            Column("checked_at", "TIMESTAMP", not_null=True),
        ),
        ("run_id", "asset", "check_name"),
    ),
    Table(
        "meta.quarantine",
        "Rows or cells set aside and why. Ingest rejects (rows a parser could not read) are kept forever; "
        "validation rules are re-derived from raw on every run, so this table is deterministic.",
        (
            _v("table_name", not_null=True),
            _v("row_key", "key columns joined by '|', dates as YYYY-MM-DD", True),
            _v(
                "column_name", "a value column, 'range' (open/high/low together), 'row' or 'input' (never loaded)", True
            ),
            _v("rule", not_null=True),
            _v("value"),
            _v("reason", not_null=True),
        ),
        ("table_name", "row_key", "column_name", "rule"),
    ),
    Table(
        "meta.book_state",
        "The daily book's state after its last session, so the next run resumes there; used only while "
        "the engine and every input up to last_date are unchanged (both digests, checked on each run).",
        (
            _date("last_date", not_null=True),
            _v("engine_digest", "the book's code, its settings, the methodology version", True),
            _v("inputs_digest", "features, regimes, VX prices and SPX opens up to last_date", True),
            Column("state", "BLOB", "pickled vixshield.strategy.book.BookState", True),
        ),
        (),
        enforce_key=False,
    ),
    Table(
        "meta.ticket_state",
        "Which sessions signals.tickets was built through, so the next run rebuilds only the sessions that "
        "may have changed; used only while the code, the settings and every input up to `through` are unchanged.",
        (
            _date("through", "the last session with signals when the tickets were written", not_null=True),
            _v("engine_digest", "the tickets' and the book's code, the ticket settings, the methodology version", True),
            _v("inputs_digest", "condor plans, condor actions, hedge layers and features up to through", True),
        ),
        (),
        enforce_key=False,
        on_connect=False,
    ),
    Table(
        "meta.schema_version",
        "Each version of this contract the warehouse was brought to, and what that changed (no timestamp: "
        "two warehouses built the same way are identical; meta.runs says when runs happened).",
        (
            Column("version", "INTEGER", "vixshield.store.contract.SCHEMA_VERSION", True),
            _v("contract_digest", "sha256 of the DDL of every declared table", True),
            Column("changes", _JSON, "tables created and columns added"),
        ),
        ("contract_digest",),
    ),
)


# --- backtest: the model book replayed over history per strategy (METHODOLOGY §7) ----------------

METRICS: tuple[Column, ...] = (
    _d("cagr"),
    _d("vol"),
    _d("sharpe", "vs the T-bill rate the book credited"),
    _d("sortino"),
    _d("max_drawdown"),
    _d("calmar"),
    _d("worst_month"),
    _d("hit_rate", "closed condor and option-writer trades with pnl > 0"),
    _d("trades"),
    _d("pnl_per_trade", "dollars"),
    _d("hedge_cost_per_year", "VIX-call premium paid per year / average NAV"),
)
_MV = _v("methodology_version")
_RUN = _v("run_id", not_null=True)
_STRATEGY = _v("strategy", not_null=True)
STRESS_WINDOWS = ("1998_08", "2008_10", "2011_08", "2015_08", "2018_02", "2020_03", "2022")

BACKTEST: tuple[Table, ...] = (
    Table(
        "backtest.runs",
        "One row per backtest run and strategy: what was asked, what ran, with which settings.",
        (
            _RUN,
            _STRATEGY,
            _v("description"),
            Column("started_at", "TIMESTAMP", not_null=True),
            _date("from_date", "as asked (NULL: the first session with the data needed)"),
            _date("to_date"),
            _date("first_session", "as run"),
            _date("last_session"),
            Column("sessions", "BIGINT"),
            _d("initial_nav", "dollars at the start (the NAV identity's anchor)"),
            Column("settings", _JSON, "the strategy's full book settings"),
            _v("settings_digest"),
            _d("elapsed_s"),
            _MV,
        ),
        ("run_id", "strategy"),
    ),
    Table(
        "backtest.equity",
        "The book's NAV and its parts per session.",
        (
            _RUN,
            _STRATEGY,
            _date("date", not_null=True),
            _d("nav", "dollars, from initial_nav", True),
            _d("daily_return"),
            _d("drawdown", "nav / running max - 1"),
            _d("equity_value"),
            _d("cash", "T-bills"),
            _d("condor_value", "open condors at mid (a liability, <= 0)"),
            _d("hedge_value", "open VIX calls at model"),
            _d("writer_value", "the PUT/BXM short option at mid (<= 0)"),
            _d("equity_pnl"),
            _d("interest"),
            _d("cash_rate", "annual rate credited on cash that session"),
            _v("regime"),
            _MV,
        ),
        ("run_id", "strategy", "date"),
    ),
    Table(
        "backtest.trades",
        "Every position the book opened, with its cash flows.",
        (
            _RUN,
            _STRATEGY,
            _v("position_id", not_null=True),
            _v("sleeve", "condor | hedge | writer", True),
            _v("instrument"),
            _v("layer", "L0 | L1 | L2 for hedge positions"),
            _date("entry_date", not_null=True),
            _date("exit_date", "NULL while open"),
            _date("expiry"),
            _d("contracts"),
            _d("entry_price", "model mid per unit at entry"),
            _d("exit_price", "mid (or settlement) per unit at the last exit fill"),
            _d("entry_cash", "dollars: opening fill plus adjustments (paid < 0)"),
            _d("exit_cash", "dollars: closing fills, partial sales included"),
            _d("open_value", "dollars: the last mark of a position still open"),
            _d("costs", "dollars of slippage and commissions, inside the cash"),
            _d("pnl", "entry_cash + exit_cash + open_value"),
            _v("status", "closed | open", True),
            _v("exit_reason"),
            _MV,
        ),
        ("run_id", "strategy", "position_id"),
    ),
    Table(
        "backtest.metrics",
        "Performance per run, strategy and window.",
        (
            _RUN,
            _STRATEGY,
            _v("window", "all | cboe_1990_2015 (the published indices' window)", True),
            _date("start"),
            _date("end"),
            _d("years"),
            *METRICS,
            *(_d(f"stress_{w}", "NAV return through this METHODOLOGY §7 stress window") for w in STRESS_WINDOWS),
            _MV,
        ),
        ("run_id", "strategy", "window"),
    ),
    Table(
        "backtest.ablation",
        "The full model against each variant with one rule switched off.",
        (
            _RUN,
            _v("variant", "full | no_<rule>", True),
            *METRICS,
            _d("d_cagr", "full minus the variant: > 0 means the rule added it"),
            _d("d_sharpe"),
            _d("d_max_drawdown"),
            _d("d_calmar"),
            _v("verdict"),
            _MV,
        ),
        ("run_id", "variant"),
    ),
    Table(
        "backtest.sweep",
        "Metrics over a grid of short delta, take-profit and hedge budget.",
        (
            _RUN,
            _d("short_delta", not_null=True),
            _d("take_profit", not_null=True),
            _d("hedge_budget_pct", not_null=True),
            *METRICS,
            _MV,
        ),
        ("run_id", "short_delta", "take_profit", "hedge_budget_pct"),
    ),
)


# --- research: walk-forward, out of sample, with intervals (vixshield.research) -------------------

_VARIANT = _v("variant", "spx | spx_l0 | spx_pput | spx_hedge | condors | full | no_<rule> (full without it)", True)
_CI = "the difference's paired stationary-bootstrap percentile interval (research.runs: block, level)"


def _differences(stat: str, comment: str) -> tuple[Column, ...]:
    """A statistic's difference (variant minus benchmark) and its interval, as the verdict tables hold them."""
    return (
        _d(f"d_{stat}", comment),
        _d(f"d_{stat}_low", f"lower end of {_CI}"),
        _d(f"d_{stat}_high", "upper end"),
    )


RESEARCH_STATISTICS = {
    "sharpe": "Sharpe vs T-bills, annualized",
    "cagr": "compound annual return, 252 sessions a year",
    "max_drawdown": "deepest fall from a running peak (< 0)",
    "cvar5_monthly": "mean of the worst 5% of calendar-month returns",
    "worst_month": "worst calendar-month return",
}
RESEARCH: tuple[Table, ...] = (
    Table(
        "research.runs",
        "One row per research run: the walk-forward and bootstrap settings, the out-of-sample span, the work done.",
        (
            _RUN,
            Column("started_at", "TIMESTAMP", not_null=True),
            _v("split", "anchored (fit on every year before) | rolling (fit_years before)"),
            _v("objective", "what the walk-forward maximises on the fit years: sharpe | sortino | cagr | calmar"),
            Column("first_oos_year", "INTEGER"),
            Column("fit_years", "INTEGER", "rolling: fit window length in years"),
            _date("oos_first", "first out-of-sample session"),
            _date("oos_last"),
            Column("sessions", "BIGINT", "out-of-sample sessions every variant is compared on"),
            Column("grid_points", "BIGINT", "trials over all variants (the full book: the whole grid)"),
            Column("backtests", "BIGINT", "books run (each grid point once over all history, plus the ablations)"),
            _d("block_length", "the bootstrap's mean block, sessions (Politis-White on squared returns, >= min)"),
            Column("bootstrap_reps", "BIGINT"),
            _d("confidence", "level of every interval"),
            Column("seed", "BIGINT", "the bootstrap's: the same data give the same intervals"),
            Column("settings", _JSON, "the book and research settings"),
            _v("settings_digest"),
            _d("elapsed_s"),
            _MV,
        ),
        ("run_id",),
    ),
    Table(
        "research.selections",
        "The walk-forward's choice per variant and out-of-sample year, from the fit years only.",
        (
            _RUN,
            _VARIANT,
            Column("year", "INTEGER", "traded out of sample", True),
            Column("fit_first", "INTEGER", "first year of the fit window"),
            Column("fit_last", "INTEGER", "last year of the fit window (year - 1)"),
            _v("point", "the chosen grid point, name=value,... ('fixed': nothing to choose)"),
            _d("fit_score", "its objective over the fit window"),
            Column("candidates", "BIGINT", "grid points the variant chose among"),
            _d("short_delta", "chosen value (NULL where the variant does not depend on it)"),
            _d("take_profit"),
            _d("hedge_budget_pct"),
            _MV,
        ),
        ("run_id", "variant", "year"),
    ),
    Table(
        "research.equity",
        "Each variant's out-of-sample years stitched into one daily series, from 1.0.",
        (
            _RUN,
            _VARIANT,
            _date("date", not_null=True),
            _d("daily_return", "the chosen grid point's return that session"),
            _d("nav", "growth of 1.0 from the close before the first out-of-sample session"),
            _d("drawdown", "nav / running max - 1"),
            _d("tbill_return", "the T-bill return the book credited that session (Sharpe's risk-free leg)"),
            _MV,
        ),
        ("run_id", "variant", "date"),
    ),
    Table(
        "research.comparisons",
        "Every statistic of a variant against a benchmark on the same sessions: both values, the difference "
        "and its bootstrap interval. Benchmark spx: the comparisons; benchmark no_<rule>: that rule's contribution.",
        (
            _RUN,
            _VARIANT,
            _v("benchmark", "spx, or no_<rule> (then variant is full)", True),
            _v(
                "statistic",
                ", ".join(RESEARCH_STATISTICS) + ", crash_<yyyy>_<mm> (the return through that crash window)",
                True,
            ),
            _d("value"),
            _d("benchmark_value"),
            _d("difference", "value - benchmark_value"),
            _d("ci_low", f"lower end of {_CI}"),
            _d("ci_high", "upper end"),
            _MV,
        ),
        ("run_id", "variant", "benchmark", "statistic"),
    ),
    Table(
        "research.verdict",
        "One row per variant against SPX: each statistic, its difference with an interval, and a verdict in words.",
        (
            _RUN,
            _VARIANT,
            _v("description"),
            *(
                col
                for stat, comment in RESEARCH_STATISTICS.items()
                for col in (_d(stat, comment), *_differences(stat, "variant minus SPX"))
            ),
            _v("verdict", "from the intervals that exclude 0: Sharpe first, then drawdown and bad months"),
            _MV,
        ),
        ("run_id", "variant"),
    ),
    Table(
        "research.contributions",
        "One row per [seed] rule: the full book minus the full book without it, out of sample, with intervals.",
        (
            _RUN,
            _v("ablation", "no_<rule>", True),
            _v("rule"),
            *(col for stat, comment in RESEARCH_STATISTICS.items() for col in _differences(stat, comment)),
            _v("verdict", "helped | hurt | no detectable effect (the Sharpe difference's interval)"),
            _MV,
        ),
        ("run_id", "ablation"),
    ),
    Table(
        "research.deflated",
        "The Deflated Sharpe Ratio (Bailey & Lopez de Prado 2014) of each variant chosen from a grid, counting "
        "every grid point as a trial, over the out-of-sample sessions: against T-bills and against SPX.",
        (
            _RUN,
            _VARIANT,
            _v("selection", "walk_forward (the stitched series) | best_in_hindsight (the best fixed point)", True),
            _v("benchmark", "tbills: the Sharpe ratio | spx: the Sharpe of the returns minus SPX's (the edge)", True),
            _v("point", "best_in_hindsight: that grid point"),
            _d("sharpe", "annualized, of the returns in excess of the benchmark"),
            _d("observations", "sessions"),
            _d("skew"),
            _d("kurtosis", "3 for a normal"),
            _d("trials", "grid points tried"),
            _d("sharpe_sd_trials", "standard deviation of the trials' Sharpe ratios, annualized"),
            _d("sr0", "expected maximum Sharpe of that many zero-skill trials, annualized"),
            _d("psr", "probability the true Sharpe exceeds 0"),
            _d("dsr", "probability the true Sharpe exceeds sr0: the Deflated Sharpe Ratio"),
            _MV,
        ),
        ("run_id", "variant", "selection", "benchmark"),
    ),
    Table(
        "research.crashes",
        "Per crash window and variant: what it returned against SPX (the payoff) and what being positioned "
        "cost in the year of sessions before.",
        (
            _RUN,
            _v("window", "crash_<yyyy>_<mm> or crash_2022: the METHODOLOGY §7 stress windows and 2001-09", True),
            _VARIANT,
            _d("variant_return", "through the window"),
            _d("spx_return"),
            _d("payoff", "variant_return - spx_return"),
            _d("payoff_low", "interval resampling the window's own sessions"),
            _d("payoff_high"),
            _d("cost_prior_year", "SPX minus the variant over the 252 sessions before the window (> 0: it cost)"),
            _MV,
        ),
        ("run_id", "window", "variant"),
    ),
)

# --- features: METHODOLOGY §2 features and the §3 regime, one row per session -------------------

_UNIT_TYPES = {
    "date": "DATE",
    "bool": "BOOLEAN",
    "count": "BIGINT",
    "sessions": "BIGINT",
    "text": "VARCHAR",
    "text[]": "VARCHAR[]",
}


def _f(name: str, unit: str, formula: str, inputs: str) -> Column:
    """A feature column: its type follows from its unit (the feature build casts by unit too)."""
    return Column(name, _UNIT_TYPES.get(unit, "DOUBLE"), unit=unit, formula=formula, inputs=inputs)


FEATURES_DAILY: tuple[Column, ...] = (
    _f("date", "date", "NYSE session (exchange-calendars XNYS)", "core.sessions"),
    _f("spx_close", "index pts", "S&P 500 close", "^GSPC"),
    _f("spx_ret", "log", "ln(close_t / close_t-1)", "^GSPC close"),
    _f("rv10", "ann. decimal", "sqrt(252) x sample s.d. of the last 10 log returns", "^GSPC close"),
    _f("rv21", "ann. decimal", "sqrt(252) x sample s.d. of the last 21 log returns", "^GSPC close"),
    _f("rv63", "ann. decimal", "sqrt(252) x sample s.d. of the last 63 log returns", "^GSPC close"),
    _f("pk21", "ann. decimal", "Parkinson: sqrt(252 x mean(ln(H/L)^2) / (4 ln 2)) over 21 sessions", "^GSPC H, L"),
    _f(
        "yz21",
        "ann. decimal",
        "Yang-Zhang (2000) over 21 sessions; NULL where OHLC is absent or flat",
        "^GSPC O, H, L, C",
    ),
    _f(
        "garch_vol21",
        "ann. decimal",
        "GARCH(1,1) mean vol over the next 21 sessions; parameters fit monthly on data to the prior month end",
        "^GSPC close",
    ),
    _f("garch_vol45", "ann. decimal", "as garch_vol21, over the next 45 sessions", "^GSPC close"),
    _f("vix", "vol pts", "VIX close", "^VIX"),
    _f("vix_pct252", "fraction", "share of the last 252 VIX closes (incl. today) <= today's", "^VIX"),
    _f("vix_z252", "z", "(VIX - mean_252) / sd_252", "^VIX"),
    _f("vix9d", "vol pts", "VIX9D close", "^VIX9D"),
    _f("vix3m", "vol pts", "VIX3M close", "^VIX3M"),
    _f("vix6m", "vol pts", "VIX6M close", "^VIX6M"),
    _f("ivts", "ratio", "VIX / VIX3M (implied-vol term structure; > 1 = inverted)", "^VIX, ^VIX3M"),
    _f("vix9d_vix", "ratio", "VIX9D / VIX", "^VIX9D, ^VIX"),
    _f("vix3m_vix6m", "ratio", "VIX3M / VIX6M", "^VIX3M, ^VIX6M"),
    _f("vvix", "vol pts", "VVIX close", "^VVIX"),
    _f("vvix_vix", "ratio", "VVIX / VIX", "^VVIX, ^VIX"),
    _f("skew", "index pts", "Cboe SKEW close", "^SKEW"),
    _f("vx_m1", "vol pts", "front monthly VIX future (settle; close where settle is 0)", "Cboe VX"),
    _f("vx_m2", "vol pts", "second monthly VIX future", "Cboe VX"),
    _f(
        "vx_cm30",
        "vol pts",
        "30-calendar-day constant maturity: linear in days between M1 and M2 (M1 if M1 > 30d)",
        "Cboe VX",
    ),
    _f("vx_m1_premium", "fraction", "VX M1 / VIX - 1 (premium of the front future over spot)", "Cboe VX, ^VIX"),
    _f("vx_roll", "fraction", "VX M2 / VX M1 - 1 (contango > 0)", "Cboe VX"),
    _f("vrp", "vol pts", "VIX - 100 x yz21 (rv21 where yz21 is NULL)", "^VIX, ^GSPC"),
    _f(
        "vrp_var",
        "ann. variance",
        "(VIX/100)^2 - yz21^2 (rv21 where yz21 is NULL): the BTZ variance form",
        "^VIX, ^GSPC",
    ),
    _f("spx_macd", "index pts", "EMA12 - EMA26 of the SPX close", "^GSPC close"),
    _f("spx_macd_signal", "index pts", "EMA9 of spx_macd", "^GSPC close"),
    _f("spx_macd_hist", "index pts", "spx_macd - spx_macd_signal", "^GSPC close"),
    _f("spx_macd_cross_up", "bool", "spx_macd crosses above its signal today", "^GSPC close"),
    _f("spx_macd_cross_down", "bool", "spx_macd crosses below its signal today", "^GSPC close"),
    _f("vix_macd", "vol pts", "EMA12 - EMA26 of the VIX close", "^VIX"),
    _f("vix_macd_signal", "vol pts", "EMA9 of vix_macd", "^VIX"),
    _f("vix_macd_hist", "vol pts", "vix_macd - vix_macd_signal", "^VIX"),
    _f("vix_macd_cross_up", "bool", "vix_macd crosses above its signal today", "^VIX"),
    _f("vix_macd_cross_down", "bool", "vix_macd crosses below its signal today", "^VIX"),
    _f("spx_rsi14", "0-100", "Wilder RSI(14) of the SPX close", "^GSPC close"),
    _f("vix_rsi14", "0-100", "Wilder RSI(14) of the VIX close", "^VIX"),
    _f(
        "bearish_divergence",
        "bool",
        "confirmed today (pivot + 5): SPX pivot high above the previous one 5-60 bars earlier, RSI lower",
        "^GSPC close, spx_rsi14",
    ),
    _f(
        "bullish_divergence",
        "bool",
        "confirmed today: SPX pivot low below the previous one, RSI higher",
        "^GSPC close, spx_rsi14",
    ),
    _f(
        "bearish_divergence_active",
        "bool",
        "a bearish divergence confirmed in the last 10 sessions",
        "bearish_divergence",
    ),
    _f(
        "bullish_divergence_active",
        "bool",
        "a bullish divergence confirmed in the last 10 sessions",
        "bullish_divergence",
    ),
    _f("spx_sma50", "index pts", "50-session simple moving average of the SPX close", "^GSPC close"),
    _f("spx_sma200", "index pts", "200-session simple moving average of the SPX close", "^GSPC close"),
    _f("spx_above_sma50", "bool", "spx_close > spx_sma50", "^GSPC close"),
    _f("spx_above_sma200", "bool", "spx_close > spx_sma200", "^GSPC close"),
    _f("drawdown252", "fraction", "close / max(close over the last 252 sessions) - 1", "^GSPC close"),
    _f(
        "breadth_source",
        "text",
        "'universe' (constituent closes) or 'vendor' (NYAD/NYMO) or NULL",
        "core.breadth_closes, core.breadth_vendor",
    ),
    _f(
        "breadth_coverage",
        "fraction",
        "universe members with closes today and yesterday / universe size",
        "core.breadth_closes",
    ),
    _f("advancers", "count", "universe members closing above the previous session", "core.breadth_closes"),
    _f("decliners", "count", "universe members closing below the previous session", "core.breadth_closes"),
    _f("ad_line", "count / level", "cumulative advancers - decliners (vendor: the NYAD level)", "breadth"),
    _f("ad_slope20", "per session", "OLS slope of ad_line over the last 20 sessions", "breadth"),
    _f("pct_above_sma50", "fraction", "share of universe members above their 50-session SMA", "breadth"),
    _f("mcclellan", "x1000", "EMA19 - EMA39 of (adv - dec)/(adv + dec), x1000 (vendor: NYMO)", "breadth"),
    _f("breadth_divergence", "bool", "SPX at a 20-session closing high while the A/D line is not", "breadth, ^GSPC"),
    _f("cpi_yoy", "fraction", "CPIAUCSL latest released month / 12 months earlier - 1", "FRED CPIAUCSL"),
    _f("cpi_3m_ann", "fraction", "(CPIAUCSL latest / 3 months earlier)^4 - 1", "FRED CPIAUCSL"),
    _f("core_cpi_yoy", "fraction", "as cpi_yoy for core CPI", "FRED CPILFESL"),
    _f("core_cpi_3m_ann", "fraction", "as cpi_3m_ann for core CPI", "FRED CPILFESL"),
    _f("ppi_yoy", "fraction", "PPI final demand YoY (PPI all commodities before it exists)", "FRED PPIFIS, PPIACO"),
    _f("ppi_3m_ann", "fraction", "PPI 3-month annualized (same splice)", "FRED PPIFIS, PPIACO"),
    _f("fed_funds", "percent", "effective fed funds rate known at the close", "FRED DFF"),
    _f("fed_funds_chg3m", "pct pts", "fed_funds - fed_funds 63 sessions earlier", "FRED DFF"),
    _f(
        "dgs3mo",
        "percent",
        "3-month Treasury yield known at the close; where DGS3MO is missing, DTB3 as a bond-equivalent yield",
        "FRED DGS3MO, DTB3",
    ),
    _f("dgs10", "percent", "10-year Treasury yield known at the close", "FRED DGS10"),
    _f("dgs10_chg1m", "pct pts", "dgs10 - dgs10 21 sessions earlier", "FRED DGS10"),
    _f("t10y2y", "pct pts", "10y - 2y Treasury spread", "FRED T10Y2Y"),
    _f("curve_inverted", "bool", "t10y2y < 0", "FRED T10Y2Y"),
    _f("dollar_chg3m", "fraction", "broad dollar index / 63 sessions earlier - 1", "FRED DTWEXBGS"),
    _f("rbusbis_chg3m", "fraction", "BIS real effective dollar / 63 sessions earlier - 1", "FRED RBUSBIS"),
    _f("eurusd_chg1m", "fraction", "USD per EUR / 21 sessions earlier - 1", "FRED DEXUSEU"),
    _f("usdjpy_chg1m", "fraction", "JPY per USD / 21 sessions earlier - 1", "FRED DEXJPUS"),
    _f("hy_oas", "pct pts", "ICE BofA US high-yield OAS", "FRED BAMLH0A0HYM2"),
    _f("hy_oas_chg1m", "pct pts", "hy_oas - hy_oas 21 sessions earlier", "FRED BAMLH0A0HYM2"),
    _f("z_hy_oas", "z", "z-score of hy_oas over 756 sessions (>= 252 needed)", "hy_oas"),
    _f("z_dgs10_abs_chg1m", "z", "z-score of |dgs10_chg1m| over 756 sessions", "dgs10_chg1m"),
    _f("z_dollar_chg3m", "z", "z-score of dollar_chg3m over 756 sessions", "dollar_chg3m"),
    _f("macro_stress", "score", "mean of the available z-scores above, + 1 if the curve is inverted", "macro"),
    _f(
        "sessions_to_fomc",
        "sessions",
        "sessions until the next FOMC decision known at the close (0 = today)",
        "core.events",
    ),
    _f("sessions_to_cpi", "sessions", "sessions until the next CPI release (0 = today)", "core.events"),
    _f("sessions_to_ppi", "sessions", "sessions until the next PPI release (0 = today)", "core.events"),
    _f("methodology_version", "text", "the METHODOLOGY version the row was computed under", "vixshield"),
)

FEATURES_REGIME: tuple[Column, ...] = (
    _f("date", "date", "NYSE session with a VIX close", "core.market_daily"),
    _f(
        "regime",
        "text",
        "CALM / NORMAL / ELEVATED / STRESSED / CRISIS after hysteresis (METHODOLOGY §3)",
        "features.daily",
    ),
    _f("sessions_in_regime", "sessions", "sessions since the regime was entered (1 = today)", "regime"),
    _f("raw_regime", "text", "the regime this session qualifies for on its own, before hysteresis", "features.daily"),
    _f(
        "reasons",
        "text[]",
        "rule codes that fired (REGIME:RULE), SKIPPED:<input> for missing inputs, HOLD:... for a pending downgrade",
        "features.daily",
    ),
    _f("methodology_version", "text", "the METHODOLOGY version the row was computed under", "vixshield"),
)

# --- signals: the model book's plan tables (METHODOLOGY §5-7), one run of the book writes all four -

_I = "BIGINT"
_B = "BOOLEAN"
_REASONS = Column("reasons", "VARCHAR[]", "rule codes behind the decision")
_SIGNAL_MV = _v("methodology_version", "the METHODOLOGY version the row was computed under")


def _trade_date(order: str) -> Column:
    return _date(
        "trade_date",
        f"the session {order} is for: the next NYSE session (book.fill = next_close; without a VIX close there "
        "it fills on the first session that has one) or this one (same_close); NULL when there is none",
    )


SIGNALS: tuple[Table, ...] = (
    Table(
        "signals.condor_plan",
        "Every session's candidate SPX iron condor, the decision (enter) and the reasons (METHODOLOGY §5).",
        (
            _date("date", "NYSE session whose close decided the plan"),
            _v("regime", "the regime the plan was made under"),
            _d("nav_for_sizing", "dollars"),
            _date("expiry"),
            Column("dte", _I, "calendar days to expiry"),
            _d("long_put", "strike, index pts"),
            _d("short_put", "strike, index pts"),
            _d("short_call", "strike, index pts"),
            _d("long_call", "strike, index pts"),
            _d("long_put_delta"),
            _d("short_put_delta"),
            _d("short_call_delta"),
            _d("long_call_delta"),
            _d("sigma_atm", "at-the-money vol at the expiry (decimal)"),
            _d("short_put_vol"),
            _d("short_call_vol"),
            _d("credit_mid", "index pts, at mid"),
            _d("credit", "index pts, after slippage"),
            _d("put_width", "index pts"),
            _d("call_width", "index pts"),
            _d("max_loss", "dollars per condor"),
            _d("breakeven_low", "index pts"),
            _d("breakeven_high", "index pts"),
            _d("pop", "model probability of profit"),
            _d("expected_move", "index pts to expiry"),
            _d("take_profit_price", "index pts"),
            _d("stop_price", "index pts"),
            _date("roll_date"),
            _v("divergence_modifier"),
            Column("contracts", _I),
            Column("enter", _B, "whether to place the candidate"),
            _d("pct_nav_at_risk"),
            Column("event_fomc", _B, "an FOMC decision before expiry"),
            Column("event_cpi", _B, "a CPI release before expiry"),
            Column("event_ppi", _B, "a PPI release before expiry"),
            _REASONS,
            _SIGNAL_MV,
            _trade_date("the entry order"),  # added by contract version 3, so last
        ),
        ("date",),
        enforce_key=False,
        on_connect=False,
    ),
    Table(
        "signals.condor_actions",
        "The day's action on every open condor: hold, take profit, stop, roll, adjust, close, expire.",
        (
            _date("date", "NYSE session"),
            _v("position_id"),
            _v(
                "action",
                "the decision of the session's close: hold | take_profit | stop | roll | adjust | crisis_close | "
                "expire (settled); close: an earlier session's close order filled today",
            ),
            _v("reason"),
            _d("mark", "index pts, at mid"),
            _d("pnl", "dollars: realized by a fill or settlement today, else unrealized at the mid"),
            _d("cash", "dollars that moved today (fills and settlement)"),
            Column("contracts", _I),
            _date("expiry"),
            _date("entry_date", "the session whose plan decided the entry (its fill is the next one with next_close)"),
            _d("credit", "index pts"),
            _d("short_put", "strike"),
            _d("short_call", "strike"),
            _SIGNAL_MV,
            _trade_date("the action's order"),  # added by contract version 3, so last
        ),
        ("date", "position_id"),
        enforce_key=False,
        on_connect=False,
    ),
    Table(
        "signals.hedge_layers",
        "The layered VIX-call hedge per session and layer: add, hold, remove, monetize (METHODOLOGY §6).",
        (
            _date("date", "NYSE session"),
            _v("layer", "L0 | L1 | L2"),
            _v("action", "the decision of the session's close (add | monetize | remove), a settlement, hold or none"),
            _v("instrument"),
            _date("expiry"),
            _d("strike", "VIX pts"),
            _d("delta"),
            _d("future_price", "the VX future the option is priced off"),
            _v("future_source"),
            _d("option_price", "model mid per unit"),
            Column("contracts", _I, "today's order (+ buy, - sell); a settlement is not an order"),
            Column("contracts_held", _I, "after today's fills"),
            _d("weight_pct_nav"),
            _d("premium_pct_nav", "premium paid today"),
            _d("cash_flow", "dollars that moved today (fills and settlement)"),
            _d("mark_value", "dollars"),
            _d("budget_used_pct_nav"),
            Column("trigger", _B),
            _v("trigger_details"),
            _d("contango_m1_spot"),
            _d("contango_m2_m1"),
            _REASONS,
            _SIGNAL_MV,
            _trade_date("the layer's order"),  # added by contract version 3, so last
        ),
        ("date", "layer"),
        enforce_key=False,
        on_connect=False,
    ),
    Table(
        "signals.book_daily",
        "The model book's NAV and its parts: equity sleeve, condors, hedges, cash (METHODOLOGY §7).",
        (
            _date("date", "NYSE session"),
            _d("nav", "dollars"),
            _d("equity_value", "dollars"),
            _d("cash", "dollars (T-bills)"),
            _d("condor_value", "dollars, open condors at mid"),
            _d("hedge_value", "dollars, open VIX calls at model"),
            _d("writer_value", "dollars, the short option at mid"),
            _d("equity_pnl", "dollars"),
            _d("interest", "dollars"),
            _d("cash_rate", "annual rate credited on cash"),
            _d("condor_cash", "dollars"),
            _d("hedge_cash", "dollars"),
            _d("writer_cash", "dollars"),
            Column("open_condors", _I),
            _d("open_risk_pct_nav"),
            _v("regime"),
            _SIGNAL_MV,
        ),
        ("date",),
        enforce_key=False,
        on_connect=False,
    ),
)

FEATURES: tuple[Table, ...] = (
    Table(
        "features.daily",
        "Every METHODOLOGY §2 feature per NYSE session, point-in-time.",
        FEATURES_DAILY,
        ("date",),
        enforce_key=False,
        on_connect=False,
    ),
    Table(
        "features.regime",
        "The daily regime with hysteresis and reason codes (METHODOLOGY §3).",
        FEATURES_REGIME,
        ("date",),
        enforce_key=False,
        on_connect=False,
    ),
)


# Lists of the catalog that SQL files name as {placeholder}s, so that no symbol is spelled in SQL.
def sql_fragments() -> dict[str, str]:
    return {
        "daily_symbols": ", ".join(literal(s.symbol) for s in catalog.DAILY_SYMBOLS),
        "daily_symbol_columns": ",\n        ".join(
            f"max({raw}) FILTER (symbol = {literal(s.symbol)}) AS {column}"
            for s in catalog.DAILY_SYMBOLS
            for raw, column in s.market_daily_columns()
        ),
    }


SQL_FRAGMENTS = sql_fragments()


def render_sql(text: str) -> str:
    """`text` with every {placeholder} of SQL_FRAGMENTS filled in."""
    for name, fragment in SQL_FRAGMENTS.items():
        text = text.replace("{" + name + "}", fragment)
    return text


# --- signals for traders: the day's actions as orders, and which listed product each program trades -

_LEGS = (
    'STRUCT(occ_symbol VARCHAR, root VARCHAR, expiry DATE, "right" VARCHAR, strike DOUBLE, side VARCHAR, '
    "ratio INTEGER, mid DOUBLE)[]"
)
TRADES: tuple[Table, ...] = (
    Table(
        "signals.tickets",
        "Order tickets for every action of the book: open, close, roll, adjust; hedge add, monetize, remove.",
        (
            _v("ticket_id", "one ticket per order"),
            _v("group_id", "tickets sent together (a roll: the close and the open)"),
            _date("date", "the session whose close decided it"),
            _date("trade_date", "the session it is meant to fill on (the next one)"),
            _v("kind", "open, close, roll_close, roll_open, adjust, hedge_add, hedge_monetize, hedge_remove"),
            _v("position_id", "the condor it concerns, if any"),
            _v("layer", "the hedge layer it concerns, if any"),
            _v("strategy", "the book's program"),
            Column("quantity", _I, "contracts (condors or calls)"),
            _v("order_type", "LMT"),
            _v("price_effect", "credit or debit"),
            _d("mid_price", "model mid of the whole order, per contract"),
            _d("limit_price", "mid moved by the spread model, rounded to the tick against the trader"),
            _v("time_in_force", "DAY"),
            Column("legs", _LEGS, "the legs: OCC symbol, root, expiry, right, strike, side, ratio, model mid"),
            _REASONS,
            _SIGNAL_MV,
        ),
        ("ticket_id",),
        on_connect=False,
    ),
    Table(
        "signals.instruments",
        "The listed product each program trades: option root, settlement style and multiplier.",
        (
            _v("program", "condor or hedge"),
            _v("root", "OCC root: SPXW, SPX or VIX"),
            _v("settlement", "AM (special opening quotation) or PM (the close)"),
            _d("multiplier", "dollars per index point"),
            _v("description"),
        ),
        ("program",),
        on_connect=False,
    ),
)

# Every declared table, in the order the data dictionary lists them.
TABLES: dict[str, Table] = {
    t.name: t for t in (*FEATURES, *SIGNALS, *TRADES, *(f.table for f in FAMILIES), *META, *BACKTEST, *RESEARCH)
}
SCHEMAS = ("raw", "meta", "core", "backtest", "research")  # created on connect; features and signals by their writers
SCHEMA_VERSION = 4  # 1: the DDL files of sql/schemas/ and frames' inferred types; 2: this declaration;
# 3: trade_date on signals.condor_plan, condor_actions and hedge_layers (#14 finding 8); 4: the research.* tables


def digest() -> str:
    """sha256 of every declared table's DDL and comments: a new value means the contract changed."""
    text = "\n".join(create_sql(t) + "\n" + "\n".join(comment_sql(t)) for t in TABLES.values())
    return hashlib.sha256(text.encode()).hexdigest()
