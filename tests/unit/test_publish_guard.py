"""A run for the latest data never publishes an earlier session than readers already have."""

import datetime as dt

import pytest

from vixshield import METHODOLOGY_VERSION
from vixshield.serve import publish
from vixshield.store import warehouse


def test_an_earlier_session_than_the_published_one_is_refused_with_what_to_do(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    with warehouse.connect(home / "warehouse.duckdb") as conn:
        warehouse.init_schema(conn)
    publish.refuse_going_back(home, dt.date(2024, 3, 27))  # nothing published yet: nothing to protect
    publish.publish(home / "warehouse.duckdb", home, "run-1", "2024-03-28", METHODOLOGY_VERSION, ["meta.runs"])
    for same_or_later in (dt.date(2024, 3, 28), dt.date(2024, 4, 1)):
        publish.refuse_going_back(home, same_or_later)
    with pytest.raises(publish.PublishError) as refused:
        publish.refuse_going_back(home, dt.date(2024, 3, 27))
    message = str(refused.value)
    assert "ends on 2024-03-27, before the published snapshot's 2024-03-28" in message
    assert "--as-of 2024-03-27" in message and "readers keep 2024-03-28" in message
