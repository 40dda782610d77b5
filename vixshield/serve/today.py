"""The today page: one static, self-contained HTML file a trader reads on a phone after the close.

Written on every publish (published/today.html, from the new snapshot) and served at `/` by
`vixshield serve`. No script, no external file, no CDN: the charts are inline SVG drawn here, so the
page opens offline and from a file. Sections: the regime with its reasons and how long it has lasted,
the condor plan or why no entry, open condors with P&L and their management levels, the hedge layers
with their triggers, tomorrow's tickets, the VIX term structure today vs a month ago, a year of SPX
shaded by regime, and each source's freshness.
"""

from __future__ import annotations

import datetime as dt
import html
import math
from collections.abc import Sequence
from typing import Any

import duckdb

from vixshield.serve.plans import split_open

REGIME_COLORS = {
    "CALM": "#d9f2d9",
    "NORMAL": "#eef4fb",
    "ELEVATED": "#fff1c9",
    "STRESSED": "#ffd9b3",
    "CRISIS": "#ffb3b3",
}
_CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2733;background:#f6f7f9}
main{max-width:860px;margin:0 auto;padding:12px}
h1{font-size:1.3em;margin:.4em 0}h2{font-size:1.1em;margin:1.2em 0 .4em;border-bottom:1px solid #ccd3db}
section{background:#fff;border-radius:8px;padding:8px 12px;margin:10px 0;box-shadow:0 1px 2px #0001}
.badge{display:inline-block;padding:2px 8px;border-radius:12px;font-weight:600}
.scroll{overflow-x:auto}table{border-collapse:collapse;width:100%;font-size:.92em}
td,th{padding:3px 6px;border-bottom:1px solid #e3e7ec;text-align:left;white-space:nowrap}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.muted{color:#5c6b7a;font-size:.9em}code{font-size:.95em}svg{width:100%;height:auto;display:block}
.enter{color:#0a7a2f;font-weight:600}.noentry{color:#a33;font-weight:600}
"""


def _e(x: Any) -> str:
    return html.escape("" if x is None else str(x))


def _num(x: Any, fmt: str = "{:,.2f}") -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return fmt.format(x)


def _rows(conn: duckdb.DuckDBPyConnection, sql: str, params: Sequence = ()) -> list[dict]:
    cur = conn.execute(sql, list(params))
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], numeric: Sequence[int] = ()) -> str:
    """Cells are already escaped HTML."""
    head = "".join(
        f'<th class="n">{_e(h)}</th>' if i in numeric else f"<th>{_e(h)}</th>" for i, h in enumerate(headers)
    )
    body = "".join(
        "<tr>"
        + "".join(f'<td class="n">{c}</td>' if i in numeric else f"<td>{c}</td>" for i, c in enumerate(r))
        + "</tr>"
        for r in rows
    )
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def _has(conn: duckdb.DuckDBPyConnection, table: str) -> bool:
    schema, name = table.split(".")
    sql = "SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name = ?"
    sql_v = "SELECT count(*) FROM duckdb_views() WHERE schema_name = ? AND view_name = ?"
    return bool(conn.execute(sql, [schema, name]).fetchone()[0] or conn.execute(sql_v, [schema, name]).fetchone()[0])


def line_chart(
    series: Sequence[tuple[str, str, Sequence[tuple[float, float]]]],
    width: int = 560,
    height: int = 240,
    bands: Sequence[tuple[float, float, str]] = (),
    x_labels: Sequence[tuple[float, str]] = (),
    title: str = "",
) -> str:
    """An inline SVG line chart: series of (name, color, [(x, y)]), optional shaded x-bands
    (x0, x1, color) behind them, and labels on the x axis."""
    pts = [p for _, _, s in series for p in s if not math.isnan(p[1])]
    if not pts:
        return '<p class="muted">no data</p>'
    left, right, top, bottom = 52, 8, 24, 26
    x0, x1 = min(p[0] for p in pts), max(p[0] for p in pts)
    y0, y1 = min(p[1] for p in pts), max(p[1] for p in pts)
    pad = (y1 - y0) * 0.05 or 1.0
    y0, y1 = y0 - pad, y1 + pad
    x1 = x1 if x1 > x0 else x0 + 1

    def sx(x: float) -> float:
        return left + (x - x0) / (x1 - x0) * (width - left - right)

    def sy(y: float) -> float:
        return top + (y1 - y) / (y1 - y0) * (height - top - bottom)

    out = [
        f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="{_e(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{_e(title)}</title>",
    ]
    for b0, b1, color in bands:
        out.append(
            f'<rect x="{sx(b0):.1f}" y="{top}" width="{max(sx(b1) - sx(b0), 0.5):.1f}" '
            f'height="{height - top - bottom}" fill="{color}"/>'
        )
    for i in range(5):
        y = y0 + (y1 - y0) * i / 4
        out.append(
            f'<line x1="{left}" x2="{width - right}" y1="{sy(y):.1f}" y2="{sy(y):.1f}" stroke="#dde2e8"/>'
            f'<text x="{left - 4}" y="{sy(y) + 4:.1f}" font-size="12" text-anchor="end" fill="#5c6b7a">{y:,.1f}</text>'
        )
    for x, label in x_labels:
        out.append(
            f'<text x="{sx(x):.1f}" y="{height - 8}" font-size="12" text-anchor="middle" '
            f'fill="#5c6b7a">{_e(label)}</text>'
        )
    for k, (name, color, s) in enumerate(series):
        good = [(x, y) for x, y in s if not math.isnan(y)]
        path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in good)
        out.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{path}"/>')
        if len(good) <= 12:
            out += [f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="3" fill="{color}"/>' for x, y in good]
        out.append(
            f'<text x="{left + 8 + 200 * k}" y="15" font-size="13" fill="{color}" font-weight="600">{_e(name)}</text>'
        )
    out.append("</svg>")
    return "".join(out)


def _regime(conn, day) -> str:
    r = _rows(conn, "SELECT regime, sessions_in_regime, reasons FROM features.regime WHERE date = ?", [day])
    if not r:
        return "<section><h2>Regime</h2><p>no regime for this session</p></section>"
    r = r[0]
    since = conn.execute(
        "SELECT min(date) FROM (SELECT date FROM features.regime WHERE date <= ? ORDER BY date DESC LIMIT ?)",
        [day, int(r["sessions_in_regime"] or 1)],
    ).fetchone()[0]
    color = REGIME_COLORS.get(r["regime"], "#eee")
    return (
        f'<section id="regime"><h2>Regime</h2><p><span class="badge" style="background:{color}">{_e(r["regime"])}'
        f"</span> for {_e(r['sessions_in_regime'])} sessions (since {_e(since)})</p>"
        f'<p class="muted">reasons: {_e(", ".join(r["reasons"] or []))}</p></section>'
    )


def _plan(conn, day) -> str:
    p = _rows(conn, "SELECT * FROM signals.condor_plan WHERE date = ?", [day])[0]
    reasons = ", ".join(p["reasons"] or [])
    if p.get("expiry") is None:
        return (
            f'<section id="plan"><h2>Iron condor plan</h2><p class="noentry">No candidate: {_e(reasons)}</p></section>'
        )
    when = f" on {_e(str(p['trade_date'])[:10])}" if p.get("trade_date") is not None else ""
    verdict = (
        f'<span class="enter">ENTER {p["contracts"]} contracts{when}</span>'
        if p["enter"]
        else '<span class="noentry">NO ENTRY</span>'
    )
    legs = []
    if _has(conn, "signals.condor_legs"):
        legs = _rows(
            conn,
            'SELECT leg, side, "right", strike, occ_symbol FROM signals.condor_legs '
            "WHERE date = ? AND source = 'plan' ORDER BY strike",
            [day],
        )
    deltas = {
        "long_put": p["long_put_delta"],
        "short_put": p["short_put_delta"],
        "short_call": p["short_call_delta"],
        "long_call": p["long_call_delta"],
    }
    leg_rows = [
        [_e(g["side"]), _e(g["leg"]), _num(g["strike"], "{:,.0f}"), _num(deltas.get(g["leg"]), "{:+.2f}"),
         f"<code>{_e(g['occ_symbol'])}</code>"]
        for g in legs
    ]  # fmt: skip
    facts = [
        ["expiry", f"{_e(p['expiry'])} ({_e(p['dte'])} DTE)"],
        ["credit (conservative / model mid)", f"{_num(p['credit'])} / {_num(p['credit_mid'])}"],
        ["max loss per condor", f"${_num(p['max_loss'], '{:,.0f}')}"],
        ["breakevens", f"{_num(p['breakeven_low'], '{:,.1f}')} / {_num(p['breakeven_high'], '{:,.1f}')}"],
        ["probability of profit (model)", _num(p["pop"], "{:.0%}")],
        ["take profit at / stop at", f"{_num(p['take_profit_price'])} / {_num(p['stop_price'])}"],
        ["roll on", _e(p["roll_date"])],
    ]
    return (
        f'<section id="plan"><h2>Iron condor plan</h2><p>{verdict} <span class="muted">({_e(reasons)})</span></p>'
        + _table(["side", "leg", "strike", "delta", "OCC symbol"], leg_rows, numeric=(2, 3))
        + _table(["", ""], facts)
        + "</section>"
    )


CONDOR_HEADERS = ("position", "action", "shorts", "expiry", "qty", "credit")  # then the price: mark or exit


def _condor_cells(a: dict) -> list[str]:
    """A condor_actions row's leading cells (CONDOR_HEADERS), then its price: the mark, or the exit's fill."""
    return [_e(a["position_id"]), _e(a["action"]), _e(f"{a['short_put']:g}P / {a['short_call']:g}C"),
            _e(a["expiry"]), _num(a["contracts"], "{:,}"), _num(a["credit"]), _num(a["mark"])]  # fmt: skip


def _positions(conn, day) -> str:
    """The condors held after the session, then those that left the book on it."""
    acts = _rows(
        conn,
        "SELECT a.*, p.take_profit_price / p.credit AS tp_ratio, p.stop_price / p.credit AS stop_ratio, p.roll_date "
        "FROM signals.condor_actions a LEFT JOIN signals.condor_plan p ON p.date = a.entry_date "
        "WHERE a.date = ? ORDER BY a.position_id",
        [day],
    )
    held, gone = split_open(acts)
    out = '<section id="positions"><h2>Open condors</h2>'
    if not held:
        out += "<p>none</p>"
    else:
        rows = []
        for a in held:
            tp = a["credit"] * a["tp_ratio"] if a["tp_ratio"] is not None else math.nan
            stop = a["credit"] * a["stop_ratio"] if a["stop_ratio"] is not None else math.nan
            rows.append(
                [*_condor_cells(a), _num(a["pnl"], "{:+,.0f}"), _num(tp), _num(stop), _e(a["roll_date"] or "-"),
                 _e(a["reason"])]
            )  # fmt: skip
        headers = [*CONDOR_HEADERS, "mark", "P&L $", "take profit", "stop", "roll date", "reason"]
        out += _table(headers, rows, (4, 5, 6, 7, 8, 9))
    if gone:
        rows = [[*_condor_cells(a), _num(a["cash"], "{:+,.0f}"), _e(a["reason"])] for a in gone]
        headers = [*CONDOR_HEADERS, "exit price", "cash $", "reason"]
        out += "<h3>Closed today</h3>" + _table(headers, rows, (4, 5, 6, 7))
    return out + "</section>"


def _hedges(conn, day) -> str:
    hs = _rows(conn, "SELECT * FROM signals.hedge_layers WHERE date = ? ORDER BY layer", [day])
    symbols = {}
    if _has(conn, "signals.hedge_legs"):
        symbols = dict(
            conn.execute("SELECT layer, occ_symbol FROM signals.hedge_legs WHERE date = ?", [day]).fetchall()
        )
    rows = [
        [_e(h["layer"]), _e(h["action"]), f"<code>{_e(symbols.get(h['layer'], '-'))}</code>",
         _num(h["contracts_held"], "{:,}"), _num(h["option_price"]), _num(h["mark_value"], "{:,.0f}"),
         _num(h["weight_pct_nav"], "{:.2f}%"), "on" if h["trigger"] else "off", _e(h["trigger_details"]),
         _e(", ".join(h["reasons"] or []))]
        for h in hs
    ]  # fmt: skip
    headers = [
        "layer",
        "action",
        "VIX call",
        "held",
        "price",
        "value $",
        "target",
        "trigger",
        "trigger state",
        "reasons",
    ]
    budget = hs[0]["budget_used_pct_nav"] if hs else None
    return (
        '<section id="hedges"><h2>Hedge layers</h2>'
        + _table(headers, rows, (3, 4, 5, 6))
        + f'<p class="muted">premium budget used over the rolling year: {_num(budget, "{:.2f}% of NAV")}</p></section>'
    )


def _tickets(conn, day) -> str:
    if not _has(conn, "signals.tickets"):
        return ""
    ts = _rows(conn, "SELECT * FROM signals.tickets WHERE date = ? ORDER BY ticket_id", [day])
    if not ts:
        return '<section id="tickets"><h2>Orders for the next session</h2><p>none</p></section>'
    rows = [
        [_e(t["kind"]), _e(t["trade_date"]), _num(t["quantity"], "{:,}"),
         "<br>".join(f"{_e(g['side'])} <code>{_e(g['occ_symbol'])}</code>" for g in t["legs"]),
         f"{_e(t['order_type'])} {_num(t['limit_price'])} {_e(t['price_effect'])}", _e(t["time_in_force"])]
        for t in ts
    ]  # fmt: skip
    return (
        '<section id="tickets"><h2>Orders for the next session</h2>'
        + _table(["ticket", "trade on", "qty", "legs", "limit", "TIF"], rows, (2,))
        + "</section>"
    )


def _term_structure(conn, day) -> str:
    cols = "vix9d, vix, vix3m, vix6m"
    now = conn.execute(f"SELECT date, {cols} FROM core.market_daily WHERE date <= ? ORDER BY date DESC LIMIT 1", [day])
    now = now.fetchone()
    month = day - dt.timedelta(days=30)
    ago = conn.execute(
        f"SELECT date, {cols} FROM core.market_daily WHERE date <= ? ORDER BY date DESC LIMIT 1", [month]
    ).fetchone()
    tenors = (9, 30, 93, 183)

    def pts(row):
        return [(t, float(v) if v is not None else math.nan) for t, v in zip(tenors, row[1:], strict=True)]

    series = [(f"today {now[0]}", "#c0392b", pts(now))] if now else []
    if ago:
        series.append((f"a month ago {ago[0]}", "#7f8c8d", pts(ago)))
    labels = [(9, "9d"), (30, "30d"), (93, "3m"), (183, "6m")]
    chart = line_chart(series, height=200, x_labels=labels, title="VIX term structure today vs a month ago")
    return f'<section id="term"><h2>VIX term structure</h2>{chart}</section>'


def _spx_year(conn, day) -> str:
    rows = conn.execute(
        "SELECT m.date, m.spx_close, r.regime FROM core.market_daily m LEFT JOIN features.regime r USING (date) "
        "WHERE m.date <= ? AND m.date > ? AND m.spx_close IS NOT NULL ORDER BY m.date",
        [day, day - dt.timedelta(days=365)],
    ).fetchall()
    if not rows:
        return ""
    series = [("SPX close", "#1f4e79", [(float(i), float(c)) for i, (_, c, _) in enumerate(rows)])]
    bands, start = [], 0
    for i in range(1, len(rows) + 1):
        if i == len(rows) or rows[i][2] != rows[start][2]:
            if rows[start][2] in REGIME_COLORS:
                bands.append((start - 0.5, i - 0.5, REGIME_COLORS[rows[start][2]]))
            start = i
    step = max(len(rows) // 6, 1)
    labels = [(float(i), rows[i][0].strftime("%b %y")) for i in range(0, len(rows), step)]
    chart = line_chart(series, bands=bands, x_labels=labels, title="SPX over the last year, shaded by regime")
    legend = " ".join(f'<span class="badge" style="background:{c}">{_e(n)}</span>' for n, c in REGIME_COLORS.items())
    return f'<section id="spx"><h2>SPX, one year, by regime</h2>{chart}<p class="muted">{legend}</p></section>'


def _freshness(conn, day) -> str:
    queries = [  # the latest observation of each series, and when it was fetched
        ("SELECT source, symbol, max(date), max(fetched_at) FROM raw.daily_bars WHERE symbol LIKE '^%' GROUP BY ALL",
         "raw.daily_bars"),
        ("SELECT source, 'breadth universe (' || count(DISTINCT symbol) || ' symbols)', max(date), max(fetched_at) "
         "FROM raw.daily_bars WHERE symbol NOT LIKE '^%' GROUP BY ALL", "raw.daily_bars"),
        ("SELECT source, series_id, max(available_date), max(fetched_at) FROM raw.macro_observations GROUP BY ALL",
         "raw.macro_observations"),
        ("SELECT source, 'VX futures', max(trade_date), max(fetched_at) FROM raw.vx_futures GROUP BY ALL",
         "raw.vx_futures"),
    ]  # fmt: skip
    rows = []
    for sql, table in queries:
        if not _has(conn, table):
            continue
        for source, what, last, fetched in conn.execute(sql).fetchall():
            lag = (day - last).days if isinstance(last, dt.date) else None
            when = fetched.strftime("%Y-%m-%d %H:%M") if fetched else "-"
            state = (
                "-"
                if lag is None
                else ("current" if lag == 0 else f"{abs(lag):,} days {'behind' if lag > 0 else 'ahead'}")
            )
            rows.append([_e(source), _e(what), _e(last), state, _e(when)])
    rows.sort(key=lambda r: (r[0], r[1]))
    return (
        '<section id="freshness"><h2>Data freshness</h2>'
        + _table(["source", "series", "latest", "vs the as-of session", "fetched (UTC)"], rows, (3,))
        + "</section>"
    )


def render_page(conn: duckdb.DuckDBPyConnection, facts: dict | None = None) -> str:
    """The whole page for the latest session of the snapshot open on `conn` (facts: run_id, as_of,
    published_at from the publish)."""
    facts = facts or {}
    day = conn.execute("SELECT max(date) FROM signals.condor_plan").fetchone()[0]
    title = "VixShield today"
    if day is None:
        body = "<p>No signals yet: run <code>vixshield run</code>.</p>"
    else:
        book = _rows(conn, "SELECT nav, open_condors, open_risk_pct_nav FROM signals.book_daily WHERE date = ?", [day])
        nav = (
            f"<p>Book NAV ${_num(book[0]['nav'], '{:,.0f}')}, {book[0]['open_condors']} open condors, open risk "
            f"{_num(book[0]['open_risk_pct_nav'], '{:.1%}')} of NAV</p>"
            if book
            else ""
        )
        title = f"VixShield today: {day}"
        body = "".join(
            [
                f"<h1>{_e(title)}</h1>{nav}",
                f'<p class="muted">published {_e(facts.get("published_at", "-"))}, run {_e(facts.get("run_id", "-"))}; '
                "signals after the close, orders for the next session</p>",
                _regime(conn, day),
                _plan(conn, day),
                _positions(conn, day),
                _hedges(conn, day),
                _tickets(conn, day),
                _term_structure(conn, day),
                _spx_year(conn, day),
                _freshness(conn, day),
            ]
        )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body><main>{body}</main></body></html>\n"
    )
