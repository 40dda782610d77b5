"""Order tickets: each action of a session as an order a trader can paste into a broker.

Signals are published after the close of `date`; the tickets are for the next NYSE session
(`trade_date`, METHODOLOGY §0 "decide on t, trade on t+1"), as DAY limit orders. One ticket per order:

| kind | from | legs |
|---|---|---|
| open | a plan row with enter | buy long put, sell short put, sell short call, buy long call |
| roll_open | the same, when the entry re-enters a 21-DTE roll (reason ENTER_ROLL) | as open |
| close / roll_close | take_profit, stop, crisis_close / roll actions | the four legs, sides reversed |
| adjust | an adjust action | buy back the untested short spread, sell the new one (same width) |
| hedge_add / hedge_monetize / hedge_remove | hedge-layer rows | one VIX call |

A condor that expires settles in cash and a hedge call that expires settles to the SOQ: neither needs
an order. A roll is two tickets (roll_close and, when the gates allow, roll_open) with one group_id.

Prices. Each leg's model mid is the book's own price for it on `date`'s surface (condor legs: the
METHODOLOGY §4 smile on that session's features; VIX calls: the hedge row's Black-76 price). The limit
applies the documented spread model, the book's conservative fill (METHODOLOGY §4, the settings'
slippage): condors mid -/+ slippage_per_leg per leg (0.10), VIX calls mid +/- hedge slippage (0.05),
then rounds away from the trader (credits down, debits up) to the tick: 0.05 for a multi-leg order's
net price and for single options below 3.00, 0.10 from 3.00 (Cboe's SPX and VIX option ticks).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from vixshield import calendars
from vixshield.serve import occ

TABLE = "signals.tickets"
INSTRUMENTS = "signals.instruments"
STATE = "meta.ticket_state"
VIEWS = ("views/condor_legs.sql", "views/hedge_legs.sql")
FORMATS = ("json", "csv", "ib")
MULTIPLIER = 100
COMPLEX_TICK = 0.05
_ADJUST = re.compile(r"_ROLL_(PUT|CALL)_TO_(\d+(?:\.\d+)?)$")
_CLOSE_ACTIONS = {"take_profit": "close", "stop": "close", "crisis_close": "close", "roll": "roll_close"}
_HEDGE_KINDS = {"add": "hedge_add", "monetize": "hedge_monetize", "remove": "hedge_remove"}
COLUMNS = (
    "ticket_id",
    "group_id",
    "date",
    "trade_date",
    "kind",
    "position_id",
    "layer",
    "strategy",
    "quantity",
    "order_type",
    "price_effect",
    "mid_price",
    "limit_price",
    "time_in_force",
    "legs",
    "reasons",
)


@dataclass(frozen=True)
class TicketSettings:
    """What the tickets take from the book's settings: the spread model and the condor root."""

    condor_slippage_per_leg: float = 0.10
    hedge_slippage: float = 0.05
    condor_am_settled: bool = False  # True for the CNDR replica (monthly SPX), else SPXW
    dividend_yield: float = 0.018
    kappa: float = 0.80
    time_in_force: str = "DAY"
    pricing: Any = None  # the book's CondorSettings: the whole surface (skews, kappa's VIX slope) the mids use

    @classmethod
    def from_book(cls, book) -> TicketSettings:
        cs, hs = book.condor, book.hedge
        return cls(cs.slippage_per_leg, hs.slippage, cs.mode == "cndr", cs.dividend_yield, cs.kappa, pricing=cs)

    @property
    def condor_root(self) -> str:
        return occ.spx_root(self.condor_am_settled)


def tick_for(price: float, legs: int) -> float:
    return COMPLEX_TICK if legs > 1 or abs(price) < 3.0 else 0.10


def limit_price(mid: float, slippage: float, effect: str, legs: int) -> float:
    """mid less the spread model on a credit, plus it on a debit, rounded away from the trader."""
    raw = mid - slippage if effect == "credit" else mid + slippage
    tick = tick_for(raw, legs)
    units = raw / tick
    n = math.floor(units + 1e-9) if effect == "credit" else math.ceil(units - 1e-9)
    return round(max(n, 1) * tick, 2)  # never below one tick: a zero or negative limit is no limit


def _leg(root: str, expiry: dt.date, right: str, strike: float, side: str, mid: float, ratio: int = 1) -> dict:
    return {
        "occ_symbol": occ.occ_symbol(root, expiry, right, strike),
        "root": root,
        "expiry": expiry,
        "right": right,
        "strike": float(strike),
        "side": side,
        "ratio": ratio,
        "mid": float(mid),
    }


class _CondorPricer:
    """Per-leg model mids on a session's surface, from the book's own Market (so the legs add up to
    the plan's credit_mid and the action's mark)."""

    def __init__(self, conn: duckdb.DuckDBPyConnection, days: Iterable[dt.date], s: TicketSettings):
        from vixshield.strategy.condor import CondorSettings

        self.cs = s.pricing or CondorSettings(dividend_yield=s.dividend_yield, kappa=s.kappa)
        days = sorted(set(days))
        frame = conn.execute("SELECT * FROM features.daily WHERE list_contains(?, date)", [days]).df()
        self.rows = {pd.Timestamp(r["date"]).date(): r for r in frame.to_dict("records")}
        self.markets: dict = {}

    def mid(self, day: dt.date, expiry: dt.date, right: str, strike: float) -> float:
        from vixshield.strategy.condor import Market
        from vixshield.strategy.options import Leg

        m = self.markets.get(day)
        if m is None:
            m = self.markets[day] = Market.from_row(pd.Timestamp(day), self.rows[day], self.cs)
        kind = "put" if right == "P" else "call"
        return m.price((Leg(kind, float(strike), 1),), pd.Timestamp(expiry))[0]


def _condor_legs(root, expiry, strikes, pricer, day, closing: bool) -> list[dict]:
    """The four legs, opening sides (long wings bought) or closing sides (reversed)."""
    long_put, short_put, short_call, long_call = strikes
    spec = (("P", long_put, "BUY"), ("P", short_put, "SELL"), ("C", short_call, "SELL"), ("C", long_call, "BUY"))
    flip = {"BUY": "SELL", "SELL": "BUY"}
    return [
        _leg(root, expiry, right, k, flip[side] if closing else side, pricer.mid(day, expiry, right, k))
        for right, k, side in spec
    ]


def _net(legs: list[dict]) -> tuple[str, float]:
    """(credit|debit, the net mid per unit): sells receive, buys pay."""
    net = sum(leg["mid"] * leg["ratio"] * (1 if leg["side"] == "SELL" else -1) for leg in legs)
    return ("credit", net) if net >= 0 else ("debit", -net)


def _ticket(day, kind, legs, quantity, s: TicketSettings, slippage_per_leg, reasons, position_id=None, layer=None):
    effect, mid = _net(legs)
    slip = slippage_per_leg * len(legs)
    strategy = {4: "iron_condor" if kind in ("open", "roll_open", "close", "roll_close") else "spread_roll"}.get(
        len(legs), "single"
    )
    ident = position_id or layer
    return {
        "ticket_id": f"{day:%Y%m%d}-{kind}-{ident}",
        "group_id": f"{day:%Y%m%d}-{ident}",
        "date": day,
        "trade_date": None,  # filled in one vectorized pass by build_tickets
        "kind": kind,
        "position_id": position_id,
        "layer": layer,
        "strategy": strategy,
        "quantity": int(quantity),
        "order_type": "LMT",
        "price_effect": effect,
        "mid_price": mid,
        "limit_price": limit_price(mid, slip, effect, len(legs)),
        "time_in_force": s.time_in_force,
        "legs": legs,
        "reasons": [str(r) for r in reasons],
    }


def _entry_strikes(conn: duckdb.DuckDBPyConnection) -> dict[dt.date, tuple[float, float]]:
    """Each entry plan's wing widths (put, call), by entry date."""
    rows = conn.execute("SELECT date, put_width, call_width FROM signals.condor_plan WHERE enter").fetchall()
    return {d: (pw, cw) for d, pw, cw in rows}


def build_tickets(conn: duckdb.DuckDBPyConnection, s: TicketSettings, date_from: dt.date | None = None) -> pd.DataFrame:
    """Every session's tickets (from `date_from` on when given), ordered by date and ticket id."""
    since = date_from or dt.date(1900, 1, 1)
    root = s.condor_root
    plans = conn.execute(
        "SELECT date, expiry, long_put, short_put, short_call, long_call, contracts, reasons, credit_mid "
        "FROM signals.condor_plan WHERE enter AND contracts > 0 AND date >= ? ORDER BY date",
        [since],
    ).fetchall()
    actions = conn.execute(
        "SELECT date, position_id, action, reason, contracts, expiry, entry_date, short_put, short_call, mark "
        "FROM signals.condor_actions WHERE action NOT IN ('hold', 'expire', 'close') AND date >= ? "
        "ORDER BY date, position_id",
        [since],
    ).fetchall()
    hedges = conn.execute(
        "SELECT date, layer, action, expiry, strike, option_price, contracts, reasons "
        "FROM signals.hedge_layers WHERE action IN ('add', 'monetize', 'remove') AND date >= ? ORDER BY date, layer",
        [since],
    ).fetchall()
    pricer = _CondorPricer(conn, [p[0] for p in plans] + [a[0] for a in actions], s)
    widths = _entry_strikes(conn)
    opened = dict(conn.execute("SELECT DISTINCT entry_date, position_id FROM signals.condor_actions").fetchall())
    out: list[dict] = []
    rolled_on = {a[0] for a in actions if a[2] == "roll"}
    for day, expiry, lp, sp, sc, lc, contracts, reasons, _ in plans:
        kind = "roll_open" if "ENTER_ROLL" in reasons and day in rolled_on else "open"
        legs = _condor_legs(root, expiry, (lp, sp, sc, lc), pricer, day, closing=False)
        ident = opened.get(day, f"IC-{day:%Y%m%d}")  # the book numbers it; a condor opened today has no row yet
        t = _ticket(day, kind, legs, contracts, s, s.condor_slippage_per_leg, reasons, position_id=ident)
        if kind == "roll_open":
            t["group_id"] = f"{day:%Y%m%d}-roll"
        out.append(t)
    for day, pid, action, reason, contracts, expiry, entry, sp, sc, _ in actions:
        pw, cw = widths[entry]
        if action == "adjust":
            m = _ADJUST.search(reason)
            if m is None:
                raise ValueError(f"{pid} on {day}: cannot read the adjustment's new strike from {reason!r}")
            side, new_short = m[1], float(m[2])
            if side == "CALL":
                spec = [
                    ("C", sc, "BUY"),
                    ("C", sc + cw, "SELL"),
                    ("C", new_short, "SELL"),
                    ("C", new_short + cw, "BUY"),
                ]
            else:
                spec = [
                    ("P", sp, "BUY"),
                    ("P", sp - pw, "SELL"),
                    ("P", new_short, "SELL"),
                    ("P", new_short - pw, "BUY"),
                ]
            legs = [_leg(root, expiry, r, k, sd, pricer.mid(day, expiry, r, k)) for r, k, sd in spec]
            out.append(_ticket(day, "adjust", legs, contracts, s, s.condor_slippage_per_leg, [reason], position_id=pid))
            continue
        kind = _CLOSE_ACTIONS.get(action)
        if kind is None:
            raise ValueError(f"{pid} on {day}: no ticket for the condor action {action!r}")
        legs = _condor_legs(root, expiry, (sp - pw, sp, sc, sc + cw), pricer, day, closing=True)
        t = _ticket(day, kind, legs, contracts, s, s.condor_slippage_per_leg, [f"{action}:{reason}"], position_id=pid)
        if kind == "roll_close":
            t["group_id"] = f"{day:%Y%m%d}-roll"
        out.append(t)
    for day, layer, action, expiry, strike, price, contracts, reasons in hedges:
        if action == "add":
            side, qty = "BUY", contracts  # the order's quantity (adds happen on a flat layer)
        else:
            side, qty = "SELL", -contracts
            if not any(r == f"{layer}:REMOVED" or r.startswith("MONETIZE:") for r in reasons):
                continue  # only expiries (L0:EXPIRED): a call that expires settles in cash, no order
        if qty <= 0 or expiry is None or strike is None or math.isnan(strike) or price != price:
            continue
        legs = [_leg(occ.VIX, expiry, "C", strike, side, price)]
        out.append(_ticket(day, _HEDGE_KINDS[action], legs, qty, s, s.hedge_slippage, reasons, layer=layer))
    frame = pd.DataFrame(out, columns=list(COLUMNS))
    if len(frame):
        days = pd.DatetimeIndex(pd.to_datetime(frame["date"]))
        frame["trade_date"] = [d.date() for d in calendars.next_session(days)]
    return frame.sort_values(["date", "ticket_id"], kind="stable").reset_index(drop=True)


def write_tickets(
    conn: duckdb.DuckDBPyConnection,
    frame: pd.DataFrame,
    s: TicketSettings,
    version: str,
    since: dt.date | None = None,
) -> None:
    """In one transaction: signals.tickets (all of it, or with `since` its rows from that session on),
    signals.instruments, the leg views and the stored state the next run resumes from."""
    from vixshield.store import contract, migrations, warehouse

    rows = _arrow(frame, version)
    with warehouse.transaction(conn):
        migrations.create_table(conn, contract.TABLES[INSTRUMENTS], replace=True)  # as contract.py declares it
        conn.execute(
            f"INSERT INTO {INSTRUMENTS} VALUES (?, ?, ?, 100, ?), ('hedge', 'VIX', 'AM', 100, ?)",
            [
                "condor",
                s.condor_root,
                "AM" if s.condor_am_settled else "PM",
                "SPX iron condors: SPXW PM-settled series, or SPX AM-settled monthlies (CNDR replica)",
                "VIX calls, monthly, AM-settled (special opening quotation)",
            ],
        )
        if since is None:
            migrations.create_table(conn, contract.TABLES[TABLE], replace=True)
        else:  # the rows kept are in (date, ticket_id) order: appending sorted rows keeps the table's order
            conn.execute(f"DELETE FROM {TABLE} WHERE date >= ?", [since])
        with warehouse.registered(conn, "_tickets", rows):  # Arrow: ~100x faster than executemany here
            conn.execute(f"INSERT INTO {TABLE} SELECT * FROM _tickets ORDER BY date, ticket_id")
        for view in VIEWS:
            conn.execute(warehouse.sql_text(view))
        _store_state(conn, s, version)


# --- incremental runs: like the book (vixshield/strategy/signals.py), the tickets resume from a stored state

# the modules whose code decides a ticket (with the book's, which price the legs and date the orders)
TICKET_MODULES = ("serve/tickets", "serve/occ")


@dataclass(frozen=True)
class TicketUpdate:
    rows: int  # tickets written
    since: dt.date | None  # the first session rebuilt; None: all history
    reason: str


def engine_digest(s: TicketSettings, version: str) -> str:
    """The code and settings that decide the tickets: a new value rebuilds them all."""
    from vixshield.strategy.signals import ENGINE_MODULES, PACKAGE_DIR

    h = hashlib.sha256(f"{version}|{s!r}".encode())
    for name in (*ENGINE_MODULES, *TICKET_MODULES):
        h.update(name.encode())
        h.update((PACKAGE_DIR / f"{name}.py").read_bytes())
    return h.hexdigest()[:32]


def inputs_digest(conn: duckdb.DuckDBPyConnection, through: dt.date) -> str:
    """Every row a ticket up to `through` is built from (order-free row hashes, XORed per table)."""
    row = conn.execute(
        """SELECT (SELECT bit_xor(hash(p)) FROM signals.condor_plan p WHERE date <= $d),
                  (SELECT bit_xor(hash(a)) FROM signals.condor_actions a WHERE date <= $d),
                  (SELECT bit_xor(hash(h)) FROM signals.hedge_layers h WHERE date <= $d),
                  (SELECT bit_xor(hash(f)) FROM features.daily f WHERE date <= $d)""",
        {"d": through},
    ).fetchone()
    return "-".join(str(x) for x in row)


def _last_signal(conn: duckdb.DuckDBPyConnection) -> dt.date | None:
    return conn.execute(
        "SELECT greatest((SELECT max(date) FROM signals.condor_plan), (SELECT max(date) FROM signals.condor_actions), "
        "(SELECT max(date) FROM signals.hedge_layers))"
    ).fetchone()[0]


def _store_state(conn: duckdb.DuckDBPyConnection, s: TicketSettings, version: str) -> None:
    from vixshield.store import contract, migrations

    migrations.create_table(conn, contract.TABLES[STATE], replace=True)  # a cache: always the current shape
    if (through := _last_signal(conn)) is not None:
        conn.execute(
            f"INSERT INTO {STATE} VALUES (?, ?, ?)",
            [through, engine_digest(s, version), inputs_digest(conn, through)],
        )


def resume_from(conn: duckdb.DuckDBPyConnection, s: TicketSettings, version: str) -> tuple[dt.date | None, str]:
    """The first session whose tickets may differ from the stored ones (None: rebuild them all), and why.

    A ticket of session d reads the signal rows of d, the features of d, the entry plan of its
    condor and the condor's position id, which the book writes on the sessions after the entry. So
    with the same code and settings, and every input up to the stored `through` unchanged, the
    tickets up to `through` stand, except entries whose condors first show in the new sessions."""
    tables = {r[0] for r in conn.execute("SELECT schema_name || '.' || table_name FROM duckdb_tables()").fetchall()}
    if TABLE not in tables or STATE not in tables:
        return None, "no stored tickets"
    row = conn.execute(f"SELECT through, engine_digest, inputs_digest FROM {STATE}").fetchone()
    if row is None:
        return None, "no stored tickets"
    through, engine, inputs = row
    if engine != engine_digest(s, version):
        return None, "the tickets' code or settings changed"
    last = _last_signal(conn)
    if last is None or last < through:
        return None, f"the signals end before the stored tickets ({through}): a replay further back"
    if inputs != inputs_digest(conn, through):
        return None, f"signals or features up to {through} changed"
    since = through + dt.timedelta(days=1)
    (entered,) = conn.execute("SELECT min(entry_date) FROM signals.condor_actions WHERE date > ?", [through]).fetchone()
    since = min(since, entered) if entered is not None else since
    return since, f"rebuilt from {since}"


def update_tickets(conn: duckdb.DuckDBPyConnection, s: TicketSettings, version: str) -> TicketUpdate:
    """Bring signals.tickets up to the latest signals: only the sessions that may have changed (a
    full rebuild writes the same table, tested), or all history when the stored state cannot be used."""
    since, reason = resume_from(conn, s, version)
    frame = build_tickets(conn, s, since)
    write_tickets(conn, frame, s, version, since)
    return TicketUpdate(len(frame), since, reason if since else f"rebuilt all history: {reason}")


_LEG = pa.struct(
    [("occ_symbol", pa.string()), ("root", pa.string()), ("expiry", pa.date32()), ("right", pa.string()),
     ("strike", pa.float64()), ("side", pa.string()), ("ratio", pa.int32()), ("mid", pa.float64())]
)  # fmt: skip
_SCHEMA = pa.schema(
    [("ticket_id", pa.string()), ("group_id", pa.string()), ("date", pa.date32()), ("trade_date", pa.date32()),
     ("kind", pa.string()), ("position_id", pa.string()), ("layer", pa.string()), ("strategy", pa.string()),
     ("quantity", pa.int64()), ("order_type", pa.string()), ("price_effect", pa.string()),
     ("mid_price", pa.float64()), ("limit_price", pa.float64()), ("time_in_force", pa.string()),
     ("legs", pa.list_(_LEG)), ("reasons", pa.list_(pa.string())), ("methodology_version", pa.string())]
)  # fmt: skip


def _none(value):
    return None if isinstance(value, float) and math.isnan(value) else value


def _arrow(frame: pd.DataFrame, version: str) -> pa.Table:
    """The tickets as an Arrow table typed like signals.tickets (NaN in text columns become NULL)."""
    data = {c: [_none(v) for v in frame[c]] for c in COLUMNS}
    data["methodology_version"] = [version] * len(frame)
    return pa.Table.from_pydict(data, schema=_SCHEMA)


def read_tickets(conn: duckdb.DuckDBPyConnection, date: str | None = None) -> tuple[dt.date, list[dict]]:
    """The tickets of `date` (default: the latest session with signals) as plain data."""
    if date is not None:
        try:
            day = dt.date.fromisoformat(date)
        except ValueError as exc:
            raise ValueError(f"date {date!r} is not YYYY-MM-DD") from exc
    else:
        day = conn.execute("SELECT max(date) FROM signals.condor_plan").fetchone()[0]
        if day is None:
            raise LookupError("no signals yet: run `vixshield run` first")
    first, last = conn.execute("SELECT min(date), max(date) FROM signals.condor_plan").fetchone()
    if first is None or not first <= day <= last:
        raise LookupError(f"no signals for {day}: sessions {first} .. {last}")
    cur = conn.execute(f"SELECT * EXCLUDE (methodology_version) FROM {TABLE} WHERE date = ? ORDER BY ticket_id", [day])
    names = [d[0] for d in cur.description]
    return day, [_plain(dict(zip(names, row, strict=True))) for row in cur.fetchall()]


def _plain(value):
    """JSON-ready: dates as ISO strings, NaN as None, structs and lists recursively."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def to_json(tickets: list[dict]) -> str:
    return json.dumps(tickets, indent=2)


CSV_COLUMNS = (
    "ticket_id", "group_id", "date", "trade_date", "kind", "position_id", "layer", "strategy", "quantity",
    "order_type", "price_effect", "mid_price", "limit_price", "time_in_force", "leg", "occ_symbol", "side",
    "ratio", "leg_quantity", "root", "expiry", "right", "strike", "leg_mid", "reasons",
)  # fmt: skip


def to_csv(tickets: list[dict]) -> str:
    """Long format: one row per leg, the ticket's fields repeated on each (reasons joined by ';')."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for t in tickets:
        for i, leg in enumerate(t["legs"], 1):
            w.writerow(
                [
                    *(t[c] for c in CSV_COLUMNS[:11]),
                    f"{t['mid_price']:.4f}",
                    f"{t['limit_price']:.2f}",
                    t["time_in_force"],
                    i,
                    leg["occ_symbol"],
                    leg["side"],
                    leg["ratio"],
                    leg["ratio"] * t["quantity"],
                    leg["root"],
                    leg["expiry"],
                    leg["right"],
                    f"{leg['strike']:g}",
                    f"{leg['mid']:.4f}",
                    ";".join(t["reasons"]),
                ]
            )
    return buf.getvalue()


# Interactive Brokers TWS BasketTrader import file (IBKR TWS guide, "Basket Fields" and "Manually Create a
# Basket File"): a header row of TWS field names, then one order per row. The fields used, as that guide
# defines them: Action (BUY or SELL), Quantity, Symbol (the underlying), SecType (OPT), Exchange (a valid
# destination: SMART), Currency (USD), TimeInForce (e.g. DAY), OrderType (LMT), LmtPrice,
# LastTradingDayOrContractMonth (YYYYMMDD is read as the last trading day), Strike, Right (P or C),
# BasketTag (a string identifying the basket order; it appears as the Order Reference), plus the TWS
# contract fields Multiplier and TradingClass (SPX vs SPXW, which share the Symbol SPX).
# The guide's combination orders (SecType BAG) need legs the basket file does not describe, so each leg
# is its own limit order at its mid -/+ the per-leg spread model; BasketTag groups a ticket's legs.
IB_COLUMNS = (
    "Action", "Quantity", "Symbol", "SecType", "LastTradingDayOrContractMonth", "Strike", "Right", "Multiplier",
    "TradingClass", "Exchange", "Currency", "TimeInForce", "OrderType", "LmtPrice", "BasketTag",
)  # fmt: skip
_UNDERLYING = {occ.SPX_AM: "SPX", occ.SPX_PM: "SPX", occ.VIX: "VIX"}


def last_trading_day(root: str, expiry: dt.date) -> dt.date:
    """AM-settled series (SPX monthlies, VIX) stop trading the session before their expiration date;
    PM-settled SPXW trade through it."""
    if root == occ.SPX_PM:
        return expiry
    return calendars.previous_session(pd.Timestamp(expiry)).date()


def to_ib_basket(tickets: list[dict], s: TicketSettings | None = None) -> str:
    s = s or TicketSettings()
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(IB_COLUMNS)
    for t in tickets:
        for leg in t["legs"]:
            root = leg["root"]
            slip = s.hedge_slippage if root == occ.VIX else s.condor_slippage_per_leg
            effect = "credit" if leg["side"] == "SELL" else "debit"
            expiry = dt.date.fromisoformat(str(leg["expiry"])[:10])
            w.writerow(
                [
                    leg["side"],
                    leg["ratio"] * t["quantity"],
                    _UNDERLYING[root],
                    "OPT",
                    f"{last_trading_day(root, expiry):%Y%m%d}",
                    f"{leg['strike']:g}",
                    leg["right"],
                    MULTIPLIER,
                    root,
                    "SMART",
                    "USD",
                    t["time_in_force"],
                    "LMT",
                    f"{limit_price(leg['mid'], slip, effect, 1):.2f}",
                    t["ticket_id"],
                ]
            )
    return buf.getvalue()


def render(tickets: list[dict], fmt: str, s: TicketSettings | None = None) -> str:
    if fmt == "json":
        return to_json(tickets)
    if fmt == "csv":
        return to_csv(tickets)
    if fmt == "ib":
        return to_ib_basket(tickets, s)
    raise ValueError(f"ticket format must be one of {', '.join(FORMATS)}, not {fmt!r}")
