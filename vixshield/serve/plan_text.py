"""The day's plan as a trader reads it in a terminal (`vixshield signals`)."""

from __future__ import annotations

from typing import Any

from vixshield.serve.plans import split_open


def _f(x: Any, fmt: str = "{:.2f}") -> str:
    return "-" if x is None else fmt.format(x)


def _condor_line(a: dict) -> str:
    """One condor_actions row."""
    return (
        f"  {a['position_id']:<16} {a['action']:<13} mark {_f(a['mark'])}  P&L ${_f(a['pnl'], '{:+,.0f}')}"
        f"   {a['short_put']:g}P/{a['short_call']:g}C exp {str(a['expiry'])[:10]}   {a['reason']}"
    )


def render(plan: dict) -> str:
    p, regime = plan["condor_plan"], plan["regime"] or {}
    lines = [f"VixShield plan for {plan['date']}  (methodology {p.get('methodology_version')})", ""]
    lines.append(
        f"Regime  {regime.get('regime', '?')} for {regime.get('sessions_in_regime', '?')} sessions"
        f"   {', '.join(regime.get('reasons') or [])}"
    )
    book = plan.get("book") or {}
    if book:
        lines.append(
            f"Book    NAV {_f(book.get('nav'), '{:,.0f}')}   open condors {book.get('open_condors')}"
            f"   open risk {_f(book.get('open_risk_pct_nav'), '{:.1%}')} of NAV"
        )
    lines.append("")
    if p.get("expiry") is None:
        lines.append(f"Iron condor  none today: {', '.join(p['reasons'])}")
    else:
        when = f" on {str(p['trade_date'])[:10]}" if p.get("trade_date") else ""
        verdict = f"ENTER {p['contracts']} contracts{when}" if p["enter"] else "NO ENTRY"
        lines += [
            f"Iron condor  {verdict}   ({', '.join(p['reasons'])})",
            f"  expiry {p['expiry'][:10]} ({p['dte']} DTE, SPXW PM-settled)   ATM vol {_f(p['sigma_atm'], '{:.1%}')}",
            f"  sell {p['short_put']:g}P / buy {p['long_put']:g}P   (short delta {_f(p['short_put_delta'], '{:+.2f}')},"
            f" wing {p['put_width']:g})",
            f"  sell {p['short_call']:g}C / buy {p['long_call']:g}C   "
            f"(short delta {_f(p['short_call_delta'], '{:+.2f}')},"
            f" wing {p['call_width']:g})",
            f"  credit {_f(p['credit'])} (model mid {_f(p['credit_mid'])})   max loss ${_f(p['max_loss'], '{:,.0f}')}"
            f" per condor   breakevens {_f(p['breakeven_low'])} / {_f(p['breakeven_high'])}",
            f"  probability of profit {_f(p['pop'], '{:.0%}')}   expected move +/-{_f(p['expected_move'], '{:.0f}')}",
            f"  take profit at {_f(p['take_profit_price'])}   stop at {_f(p['stop_price'])}"
            f"   roll on {str(p['roll_date'])[:10]}   risk {_f(p['pct_nav_at_risk'], '{:.2%}')} of NAV",
        ]
    held, gone = split_open(plan["actions"])
    lines += ["", "Open condors" + ("" if held else "  none"), *map(_condor_line, held)]
    if gone:
        lines += ["", "Closed today", *map(_condor_line, gone)]
    lines += ["", "Hedge layers"]
    for h in plan["hedge_layers"]:
        strike = "" if h.get("strike") is None else f"K {h['strike']:g}"
        expiry = "" if h.get("expiry") is None else f"exp {str(h['expiry'])[:10]}"
        lines.append(
            f"  {h['layer']:<3} {h['action']:<9} {strike:<8} {expiry:<15} "
            f"target {_f(h.get('weight_pct_nav'), '{:.2%}')}"
            f"  value {_f(h.get('mark_value'), '{:,.0f}')}   {', '.join(h.get('reasons') or [])}"
        )
    return "\n".join(lines)
