"""Short, phone-readable notifications: a run failed, a blocking check stopped publishing, a signal
fired, the published snapshot is stale. Formatting is plain data in, (title, body) out; delivery goes
through apprise, so any of its 100+ services is one URL in `alerts.urls` or VIXSHIELD_ALERT_URLS.

Delivery never raises: an unreachable target is reported back (the run logs and records it)."""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

log = logging.getLogger(__name__)

ENV_URLS = "VIXSHIELD_ALERT_URLS"
REASON_LINES = 3  # of an error: enough to say what broke, short enough for a lock screen
HEDGE_MOVES = ("add", "monetize", "remove")
# no decision for the trader: an entry has its own message, `close` is the fill of an earlier session's order
QUIET_CONDOR_ACTIONS = ("hold", "open", "expire", "close")


@dataclass(frozen=True)
class Alert:
    kind: str  # run_failed | publish_blocked | signal | stale
    title: str
    body: str


@dataclass(frozen=True)
class Delivery:
    sent: int
    failed: tuple[str, ...]  # targets (scheme://host, no tokens) that did not take the message

    def summary(self) -> str:
        text = f"{self.sent} sent"
        return text + (f", not delivered to {', '.join(self.failed)}" if self.failed else "")


def target_urls(configured: Iterable[str]) -> list[str]:
    """The settings' URLs, then VIXSHIELD_ALERT_URLS' (whitespace-separated), without duplicates."""
    urls = [*configured, *os.environ.get(ENV_URLS, "").split()]
    return list(dict.fromkeys(u for u in urls if u))


def redact(url: str) -> str:
    """scheme://host[:port] of a target: enough to say which one failed, never its token or path."""
    m = re.match(r"([a-z0-9+.-]+)://(?:[^@/]*@)?([^/?#]*)", url, re.I)
    return f"{m.group(1)}://{m.group(2)}" if m else "(unparsable url)"


def first_lines(text: str, n: int = REASON_LINES) -> str:
    lines = [ln.strip() for ln in (text or "").splitlines() if ln.strip()]
    return "\n".join(lines[:n])


def run_failed(run_id: str, as_of: object, failures: Sequence[tuple[str, str]]) -> Alert:
    """A step raised; `failures`: (step, error text) in the order they happened."""
    lines = [f"Step {step}: {first_lines(reason)}" for step, reason in failures[:3]]
    body = "\n".join([*lines, f"Nothing published; readers keep the last snapshot. Run {run_id[:8]}, as of {as_of}."])
    return Alert("run_failed", "VixShield run FAILED", body)


def publish_blocked(run_id: str, as_of: object, checks: Sequence[tuple[str, str, str]]) -> Alert:
    """Blocking checks failed; `checks`: (asset, check, what it found)."""
    lines = [f"{asset} {check}: {first_lines(found, 2)}" for asset, check, found in checks[:4]]
    more = [f"... and {len(checks) - 4} more"] if len(checks) > 4 else []
    body = "\n".join(
        [*lines, *more, f"Nothing published; readers keep the last snapshot. Run {run_id[:8]}, as of {as_of}."]
    )
    return Alert("publish_blocked", "VixShield: blocking check stopped publishing", body)


def _money(x: object) -> str:
    return "-" if x is None else f"{float(x):,.2f}"


def _strike(x: object) -> str:
    return "-" if x is None else f"{float(x):g}"


def _reasons(reasons: object, n: int = 4) -> str:
    items = list(reasons or [])
    return ", ".join(str(r) for r in items[:n]) + (" ..." if len(items) > n else "")


def signal_lines(plan: dict) -> list[str]:
    """One line per decision in the day's plan (as signals.plan_for returns it); none when nothing fired."""
    lines: list[str] = []
    c = plan.get("condor_plan") or {}
    if c.get("enter"):
        lines.append(
            f"ENTER condor x{c.get('contracts')} exp {c.get('expiry')}: "
            f"{_strike(c.get('long_put'))}/{_strike(c.get('short_put'))}P "
            f"{_strike(c.get('short_call'))}/{_strike(c.get('long_call'))}C, "
            f"credit {_money(c.get('credit'))}, max loss {_money(c.get('max_loss'))}. {_reasons(c.get('reasons'))}"
        )
    for a in plan.get("actions") or []:
        if a.get("action") in QUIET_CONDOR_ACTIONS:
            continue
        lines.append(
            f"Condor {a.get('position_id')}: {str(a.get('action')).upper().replace('_', ' ')} "
            f"(mark {_money(a.get('mark'))}, P&L {_money(a.get('pnl'))}). {a.get('reason') or ''}".rstrip()
        )
    for h in plan.get("hedge_layers") or []:
        if h.get("action") not in HEDGE_MOVES or not h.get("contracts"):
            continue  # no order: a hold, or a call that settled (contracts counts the order only)
        lines.append(
            f"Hedge {h.get('layer')}: {str(h.get('action')).upper()} {h.get('contracts')} VIX "
            f"{_strike(h.get('strike'))}C exp {h.get('expiry')}. {_reasons(h.get('reasons'))}"
        )
    return lines


def signal_fired(plan: dict) -> Alert | None:
    lines = signal_lines(plan)
    if not lines:
        return None
    regime = (plan.get("regime") or {}).get("regime", "?")
    body = "\n".join([*lines, f"Regime {regime}. Orders are for the next session (vixshield tickets)."])
    return Alert("signal", f"VixShield {plan.get('date')}: {len(lines)} signal(s)", body)


def stale(published_as_of: object, last_session: object, published_at: object) -> Alert:
    return Alert(
        "stale",
        "VixShield data is STALE",
        f"The published snapshot is as of {published_as_of} (published {published_at}); "
        f"the last completed NYSE session is {last_session}. Check the evening run.",
    )


STALE_GRACE = dt.timedelta(hours=5)  # after a close: the evening run starts 2.5 h later and may retry


def stale_since(manifest: dict | None, now: dt.datetime) -> tuple[str, Alert] | None:
    """(session, alert) when the published snapshot is older than the last NYSE session that closed
    more than STALE_GRACE before `now` (aware), else None. The session keys "once per session"."""
    from vixshield import calendars

    last = calendars.last_completed_session(now - STALE_GRACE).date()
    as_of = (manifest or {}).get("as_of")
    if as_of and dt.date.fromisoformat(str(as_of)[:10]) >= last:
        return None
    published = (manifest or {}).get("published_at", "never")
    return str(last), stale(as_of or "nothing (no snapshot)", last, published)


def send(alerts: Sequence[Alert], urls: Sequence[str]) -> Delivery:
    """Each alert to every target. Never raises: a target that refuses, times out or cannot be parsed
    counts as failed (named without its token) and is logged."""
    if not alerts or not urls:
        return Delivery(0, ())
    import apprise

    sent, failed = 0, []
    for url in urls:
        target = apprise.Apprise()
        if not target.add(url):
            log.warning("alert target %s is not a URL apprise knows; skipped", redact(url))
            failed.append(redact(url))
            continue
        ok = True
        for alert in alerts:
            try:
                ok = bool(target.notify(title=alert.title, body=alert.body)) and ok
            except Exception as exc:  # a plugin bug must not fail the run that alerts about it
                log.warning("alert to %s raised %s", redact(url), type(exc).__name__)
                ok = False
        if ok:
            sent += len(alerts)
        else:
            log.warning("alert target %s did not take every message", redact(url))
            failed.append(redact(url))
    return Delivery(sent, tuple(failed))
