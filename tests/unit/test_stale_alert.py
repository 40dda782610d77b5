"""Stale data: the published snapshot older than the last completed NYSE session, announced once."""

import datetime as dt
import json
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from tests.alert_receiver import Receiver
from vixshield.serve import alerts

NY = ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    ("as_of", "now", "stale_since"),
    [
        ("2024-07-02", dt.datetime(2024, 7, 3, 17, 59, tzinfo=NY), None),  # early close at 13:00: within 5 h
        ("2024-07-02", dt.datetime(2024, 7, 3, 18, 1, tzinfo=NY), "2024-07-03"),  # ... and past it
        ("2024-07-03", dt.datetime(2024, 7, 5, 10, 0, tzinfo=NY), None),  # Independence Day: nothing new
        ("2024-03-28", dt.datetime(2024, 4, 1, 9, 0, tzinfo=NY), None),  # Good Friday and the weekend
        ("2024-03-28", dt.datetime(2024, 4, 1, 21, 1, tzinfo=NY), "2024-04-01"),
        ("2024-03-28", dt.datetime(2024, 4, 1, 20, 59, tzinfo=NY), None),  # the evening run may still be going
        (None, dt.datetime(2024, 4, 1, 9, 0, tzinfo=NY), "2024-03-28"),  # never published
    ],
)
def test_stale_means_older_than_the_last_session_closed_five_hours_ago(as_of, now, stale_since):
    manifest = {"as_of": as_of, "published_at": "2024-03-28T22:40:00+00:00"} if as_of else None
    found = alerts.stale_since(manifest, now)
    assert (found[0] if found else None) == stale_since
    if found:
        assert found[1].title == "VixShield data is STALE" and f"last completed NYSE session is {stale_since}" in (
            found[1].body
        )


def test_the_sensor_announces_a_stale_snapshot_once_per_session(tmp_path, monkeypatch):
    from pipelines.definitions import stale_snapshot

    (tmp_path / "published").mkdir()
    (tmp_path / "published" / "manifest.json").write_text(json.dumps({"as_of": "2020-03-16", "published_at": "x"}))
    monkeypatch.setenv("VIXSHIELD_HOME", str(tmp_path))
    monkeypatch.delenv("VIXSHIELD_CONFIG", raising=False)
    with Receiver() as rx:
        monkeypatch.setenv(alerts.ENV_URLS, rx.url)
        with dg.build_sensor_context() as context:
            first = stale_snapshot(context)
            cursor = context.cursor
            second = stale_snapshot(context)
    assert isinstance(first, dg.SkipReason) and "Alerts: 1 sent" in first.skip_message
    assert cursor and dt.date.fromisoformat(cursor) > dt.date(2020, 3, 16)
    assert "already announced" in second.skip_message
    (msg,) = rx.messages
    assert msg["title"] == "VixShield data is STALE" and "as of 2020-03-16" in msg["message"]
