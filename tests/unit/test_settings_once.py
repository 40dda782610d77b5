"""A run's settings are one value: read and validated once when the run sets its resources up (or
handed over already validated by the CLI), and every step gets that value, so a settings file edited
mid-run cannot give two steps different settings."""

from __future__ import annotations

import dagster as dg

from assets.resources import VixShieldResource, make_resources
from vixshield.config import load_settings


def test_the_file_is_read_once_per_run_and_an_edit_mid_run_changes_nothing(tmp_path):
    config = tmp_path / "s.yaml"
    config.write_text("book: {initial_nav: 250000}\n")
    seen = []

    @dg.asset
    def first(vixshield: VixShieldResource) -> None:
        seen.append(vixshield.settings())
        config.write_text("book: {initial_nav: 5}\n")  # someone edits the file while the run is going

    @dg.asset(deps=[first])
    def second(vixshield: VixShieldResource) -> None:
        seen.append(vixshield.settings())

    result = dg.materialize([first, second], resources=make_resources(tmp_path / "w.duckdb", config_file=str(config)))
    assert result.success
    assert [s.book.initial_nav for s in seen] == [250000.0, 250000.0] and seen[0] is seen[1]
    # the next run reads the file again
    seen.clear()
    assert dg.materialize(
        [first, second], resources=make_resources(tmp_path / "w.duckdb", config_file=str(config))
    ).success
    assert [s.book.initial_nav for s in seen] == [5.0, 5.0]


def test_settings_the_caller_validated_are_passed_as_a_value(tmp_path):
    config = tmp_path / "s.yaml"
    config.write_text("book: {initial_nav: 250000}\nlive: {timeout: 5}\n")
    settings = load_settings(config, home=tmp_path)
    config.unlink()  # the run never goes back to the file
    resources = make_resources(tmp_path / "w.duckdb", settings=settings, config_file=str(config))
    got = []

    @dg.asset
    def step(vixshield: VixShieldResource) -> None:
        got.append(vixshield.settings())

    assert dg.materialize([step], resources=resources).success
    assert got == [settings] and got[0].digest() == settings.digest()  # meta.runs records what the steps used
