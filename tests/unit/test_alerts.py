"""Alert texts and their delivery through apprise to a receiver on 127.0.0.1."""

import pytest

from tests.alert_receiver import Receiver, dead_url
from vixshield.serve import alerts

ENTRY_PLAN = {
    "date": "2020-02-14",
    "regime": {"regime": "calm"},
    "condor_plan": {
        "enter": True,
        "contracts": 2,
        "expiry": "2020-03-20",
        "long_put": 3045.0,
        "short_put": 3070.0,
        "short_call": 3440.0,
        "long_call": 3465.0,
        "credit": 4.35,
        "max_loss": 2065.0,
        "reasons": ["REGIME_CALM", "DTE_34", "NO_EVENT_GATE"],
    },
    "actions": [{"position_id": "C-2020-01-17", "action": "hold", "mark": 1.2, "pnl": 210.0, "reason": None}],
    "hedge_layers": [
        {"layer": "L0", "action": "hold", "contracts": 3, "strike": 25.0, "expiry": "2020-04-15", "reasons": []},
    ],
}
MONETIZE_PLAN = {
    "date": "2020-03-16",
    "regime": {"regime": "crisis"},
    "condor_plan": {"enter": False, "reasons": ["REGIME_CRISIS"]},
    "actions": [
        {"position_id": "C-2020-02-14", "action": "crisis_close", "mark": 22.5, "pnl": -3630.0, "reason": "CRISIS"}
    ],
    "hedge_layers": [
        {"layer": "L0", "action": "monetize", "contracts": 3, "strike": 25.0, "expiry": "2020-04-15",
         "reasons": ["MONETIZE:VIX_GE_45"]},
        {"layer": "L1", "action": "remove", "contracts": 2, "strike": 30.0, "expiry": "2020-03-18",
         "reasons": ["L1:REMOVED"]},
        {"layer": "L2", "action": "none", "contracts": 0, "strike": None, "expiry": None, "reasons": []},
        {"layer": "L3", "action": "remove", "contracts": 0, "strike": 20.0, "expiry": "2020-03-18",
         "reasons": ["L3:EXPIRED"]},  # a settlement, not an order: no message
    ],
}  # fmt: skip


def test_a_condor_entry_says_strikes_expiry_credit_max_loss_and_why():
    alert = alerts.signal_fired(ENTRY_PLAN)
    assert alert is not None and alert.title == "VixShield 2020-02-14: 1 signal(s)"
    first = alert.body.splitlines()[0]
    assert first == (
        "ENTER condor x2 exp 2020-03-20: 3045/3070P 3440/3465C, credit 4.35, max loss 2,065.00. "
        "REGIME_CALM, DTE_34, NO_EVENT_GATE"
    )
    assert alert.body.splitlines()[1:] == ["Regime calm. Orders are for the next session (vixshield tickets)."]


def test_management_and_hedge_moves_are_one_line_each_and_a_quiet_day_sends_nothing():
    lines = alerts.signal_lines(MONETIZE_PLAN)
    assert lines == [
        "Condor C-2020-02-14: CRISIS CLOSE (mark 22.50, P&L -3,630.00). CRISIS",
        "Hedge L0: MONETIZE 3 VIX 25C exp 2020-04-15. MONETIZE:VIX_GE_45",
        "Hedge L1: REMOVE 2 VIX 30C exp 2020-03-18. L1:REMOVED",
    ]
    quiet = {**ENTRY_PLAN, "condor_plan": {"enter": False}}
    assert alerts.signal_fired(quiet) is None


def test_failure_texts_keep_the_first_lines_of_the_reason():
    alert = alerts.run_failed("abcdef1234", "2024-03-28", [("raw__daily_bars", "SourceError: bad\nline 2\nline 3\nl4")])
    assert alert.body.splitlines()[:3] == ["Step raw__daily_bars: SourceError: bad", "line 2", "line 3"]
    assert "l4" not in alert.body and "abcdef12" in alert.body


def test_targets_come_from_the_settings_and_the_environment_without_duplicates(monkeypatch):
    monkeypatch.setenv(alerts.ENV_URLS, "ntfy://topic  json://127.0.0.1:1/")
    assert alerts.target_urls(["json://127.0.0.1:1/"]) == ["json://127.0.0.1:1/", "ntfy://topic"]
    assert alerts.redact("tgram://123456:SECRET@chat/-100") == "tgram://chat"
    assert alerts.redact("json://user:pw@127.0.0.1:8080/path?x=1") == "json://127.0.0.1:8080"


def test_alerts_reach_a_local_receiver_as_json():
    entry, monetize = alerts.signal_fired(ENTRY_PLAN), alerts.signal_fired(MONETIZE_PLAN)
    with Receiver() as rx:
        delivery = alerts.send([entry, monetize], [rx.url])
    assert delivery == alerts.Delivery(2, ())
    assert [m["title"] for m in rx.messages] == [entry.title, monetize.title]
    assert rx.messages[1]["message"] == monetize.body
    assert "Hedge L0: MONETIZE 3 VIX 25C" in rx.messages[1]["message"]


@pytest.mark.parametrize("url", ["dead", "nonsense-without-scheme"])
def test_an_unreachable_or_unknown_target_is_reported_never_raised(url):
    target = dead_url() if url == "dead" else url
    with Receiver() as rx:
        delivery = alerts.send([alerts.signal_fired(ENTRY_PLAN)], [target, rx.url])
    assert delivery.sent == 1 and len(rx.messages) == 1
    assert delivery.failed == (alerts.redact(target),)
    assert "not delivered to" in delivery.summary()
