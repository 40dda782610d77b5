"""A settings file is checked before anything runs: a wrong type, a value outside what the methodology
allows or an unknown key is a ConfigError naming the file, the dotted key, the value and what is
expected (exit code 2 in the CLI, a failing `config` check in the doctor); windows that column names
embed are fixed, not settings."""

from __future__ import annotations

import dataclasses

import pytest

from pipelines import cli, doctor
from vixshield.config import (
    FIXED,
    ConfigError,
    FeatureSettings,
    Settings,
    check_settings,
    load_settings,
    settings_from_json,
    settings_json,
)
from vixshield.store import dictionary
from vixshield.strategy.book import BookSettings
from vixshield.strategy.condor import CondorSettings
from vixshield.strategy.costs import SpreadSettings
from vixshield.strategy.hedge import HedgeSettings


def load(tmp_path, text: str) -> Settings:
    path = tmp_path / "my.yaml"
    path.write_text(text)
    return load_settings(path)


# every example of issue #13, and a few neighbours: (file text, dotted key, value, what is expected)
REFUSED = [
    ("book:\n  condor: {short_delta: twelve}\n", "book.condor.short_delta", "'twelve'", "a valid number"),
    ("book:\n  initial_nav: -5\n", "book.initial_nav", "-5", "greater than 0"),
    ("live:\n  timeout: soon\n", "live.timeout", "'soon'", "a valid number"),
    ("live:\n  timeout: '5'\n", "live.timeout", "'5'", "a valid number"),  # a quoted number is a mistake too
    ("book:\n  condor: {short_delta: 0.5}\n", "book.condor.short_delta", "0.5", "less than 0.5"),
    ("book:\n  condor: {long_delta: 0}\n", "book.condor.long_delta", "0", "greater than 0"),
    ("book:\n  condor: {mode: weekly}\n", "book.condor.mode", "'weekly'", "'default' or 'cndr'"),
    ("book:\n  condor: {allowed_regimes: [CALM, PANIC]}\n", "book.condor.allowed_regimes[1]", "'PANIC'", "'CALM'"),
    ("book:\n  condors: 1\n", "book.condors", "1", "a valid boolean"),
    ("book:\n  hedge: {budget_sessions: 0}\n", "book.hedge.budget_sessions", "0", "greater than or equal to 1"),
    ("regime:\n  downgrade_sessions: 0\n", "regime.downgrade_sessions", "0", "greater than or equal to 1"),
    ("validation:\n  max_revised_share: 1.5\n", "validation.max_revised_share", "1.5", "less than or equal to 1"),
    ("live:\n  cboe_url: cdn.cboe.com\n", "live.cboe_url", "'cdn.cboe.com'", "matching"),
    ("universe: []\n", "universe", "[]", "at least 1 item"),
]


@pytest.mark.parametrize(("text", "key", "value", "expected"), REFUSED, ids=[r[1] for r in REFUSED])
def test_a_wrong_type_or_range_names_the_file_key_value_and_expectation(tmp_path, text, key, value, expected):
    with pytest.raises(ConfigError) as err:
        load(tmp_path, text)
    message = str(err.value)
    assert message.startswith(f"config file {tmp_path / 'my.yaml'}: ")
    assert f"{key} = {value}: expected" in message and expected in message


def test_an_unknown_key_is_named_with_the_closest_known_one(tmp_path):
    with pytest.raises(
        ConfigError, match=r"my\.yaml: book\.condor\.short_detla: unknown setting; did you mean 'short_delta'"
    ):
        load(tmp_path, "book:\n  condor: {short_detla: 0.12}\n")
    with pytest.raises(ConfigError, match=r"bogus: unknown setting; known: home, universe, live"):
        load(tmp_path, "bogus: 1\n")


def test_every_error_of_a_file_is_reported_at_once(tmp_path):
    with pytest.raises(ConfigError) as err:
        load(tmp_path, "book:\n  initial_nav: -5\n  condor: {short_delta: twelve}\nlive: {timeout: soon}\n")
    message = str(err.value)
    assert "has 3 errors" in message
    assert all(k in message for k in ("book.initial_nav", "book.condor.short_delta", "live.timeout"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("book:\n  condor: {long_delta: 0.2}\n", "book.condor.long_delta (0.2) must be below book.condor.short_delta"),
        ("book:\n  condor: {min_dte: 50}\n", "book.condor.min_dte (50) must be at most book.condor.target_dte (45)"),
        ("book:\n  condor: {wing_min_pct: 0.2, wing_max_pct: 0.1}\n", "book.condor.wing_min_pct (0.2) must be below"),
        ("book:\n  condor: {roll_dte: 40}\n", "book.condor.roll_dte (40) must be below book.condor.min_dte (35)"),
        ("book:\n  hedge: {l1_ivts_off: 1.0}\n", "book.hedge.l1_ivts_off (1) must be at most book.hedge.l1_ivts_on"),
        ("book:\n  hedge: {l0_bands: [[30, 1], [15, 0]]}\n", "book.hedge.l0_bands must be ordered"),
        ("regime:\n  calm_vix: 25\n", "regime.calm_vix (25) must be below regime.elevated_vix (20)"),
    ],
)
def test_ordered_pairs_are_checked_across_keys(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load(tmp_path, text)


@pytest.mark.parametrize(
    ("key", "value", "embedded"),
    [
        ("rsi_period", "10", "spx_rsi14"),
        ("rsi_period", "0", "spx_rsi14"),  # the issue's `rsi_period: 0`: refused before any range is asked
        ("vol_windows", "[10, 63]", "rv21"),  # was KeyError: 'rv21' in the middle of a run
        ("range_window", "10", "yz21"),
        ("macd", "[5, 35, 5]", "EMA12 - EMA26"),
        ("garch_horizons", "[21]", "garch_vol45"),
        ("percentile_window", "100", "vix_pct252"),
    ],
)
def test_a_window_the_columns_embed_is_fixed_by_the_methodology(tmp_path, key, value, embedded):
    with pytest.raises(ConfigError) as err:
        load(tmp_path, f"features:\n  {key}: {value}\n")
    message = str(err.value)
    assert f"my.yaml: features.{key} is fixed by the methodology" in message
    assert embedded in message and "remove it" in message


def test_fixed_windows_are_not_settable_in_code_either():
    with pytest.raises(TypeError):
        FeatureSettings(rsi_period=10)  # type: ignore[call-arg]
    with pytest.raises(ValueError):
        dataclasses.replace(FeatureSettings(), vol_windows=(10, 63))


def test_every_fixed_window_names_columns_that_exist_and_the_rest_are_settable():
    columns = {c.name for c in dictionary.FEATURES_DAILY}
    fixed = [f for f in dataclasses.fields(FeatureSettings) if FIXED in f.metadata]
    assert {f.name for f in dataclasses.fields(FeatureSettings) if f.init} == {"breadth_min_coverage"}
    for f in fixed:
        named = [w.strip(",") for w in f.metadata[FIXED].split() if w.strip(",") in columns]
        assert named or "*_" in f.metadata[FIXED] or "z_*" in f.metadata[FIXED], f.name
    # the embedded number is the fixed value: rv21 <- 21, spx_rsi14 <- 14, vix_pct252 <- 252, pk21 <- 21
    fs = FeatureSettings()
    assert {f"rv{w}" for w in fs.vol_windows} | {f"garch_vol{h}" for h in fs.garch_horizons} <= columns
    assert {f"spx_rsi{fs.rsi_period}", f"vix_pct{fs.percentile_window}", f"drawdown{fs.drawdown_window}"} <= columns
    assert {f"pk{fs.range_window}", f"yz{fs.range_window}"} <= columns


def test_a_full_override_file_loads_with_every_value_typed(tmp_path):
    settings = load(
        tmp_path,
        """\
universe: [XLB, XLE]
live: {timeout: 5, max_retries: 2, backoff: 0, attempt_deadline: 30, request_budget: 90, yahoo_url: "http://127.0.0.1:9"}
validation: {max_stale_sessions: 2, max_revised_share: 0.5}
features: {breadth_min_coverage: 0.6}
regime: {crisis_vix: 45, calm_vix: 14.5, downgrade_sessions: 2}
book:
  initial_nav: 250000
  equity_weight: 0.8
  condor: {short_delta: 0.12, long_delta: 0.04, event_gate: false, allowed_regimes: [CALM, NORMAL], take_profit: 0.6}
  hedge: {budget_pct_nav: 3.0, monetize_vix: .inf, l0_bands: [[15, 0], [30, 1.5], [50, 0.5]]}
  writer: {kind: call, delta: 0.3}
""",
    )
    assert settings.universe == ("XLB", "XLE")
    assert settings.live.timeout == 5.0 and isinstance(settings.live.timeout, float)
    assert settings.live.yahoo_url == "http://127.0.0.1:9" and settings.live.macro_overlap_days == 400
    assert settings.features.breadth_min_coverage == 0.6 and settings.features.rsi_period == 14
    assert settings.regime.crisis_vix == 45.0 and settings.regime.stressed_vix == 30.0
    book = settings.book
    assert isinstance(book, BookSettings) and book.initial_nav == 250000.0 and isinstance(book.initial_nav, float)
    assert book.condor == dataclasses.replace(
        CondorSettings(),
        short_delta=0.12,
        long_delta=0.04,
        event_gate=False,
        allowed_regimes=("CALM", "NORMAL"),
        take_profit=0.6,
    )
    assert book.hedge.monetize_vix == float("inf") and book.hedge.l0_bands[1] == (30.0, 1.5)
    assert book.writer is not None and book.writer.kind == "call" and book.writer.delta == 0.3
    assert check_settings(settings) == settings


def test_defaults_are_the_methodology_defaults():
    s = load_settings()
    assert s == Settings() and s.book == BookSettings()  # a missing key is the dataclass default, declared once
    # METHODOLOGY §2-§6, as written there
    f = s.features
    assert (f.vol_windows, f.range_window, f.garch_horizons, f.rsi_period, f.macd) == (
        (10, 21, 63),
        21,
        (21, 45),
        14,
        (12, 26, 9),
    )
    assert (f.divergence_active, f.percentile_window, f.drawdown_window, f.breadth_divergence_window) == (
        10,
        252,
        252,
        20,
    )
    r = s.regime
    assert (r.crisis_vix, r.crisis_ivts, r.stressed_vix, r.stressed_ivts) == (40, 1.10, 30, 1.00)
    assert (r.stressed_drawdown, r.stressed_drawdown_vix, r.elevated_vix, r.elevated_ivts) == (-0.10, 25, 20, 0.95)
    assert (r.elevated_vix_pct, r.elevated_macro_stress, r.calm_vix, r.calm_ivts, r.downgrade_sessions) == (
        0.80,
        1.0,
        15,
        0.90,
        3,
    )
    c = s.book.condor
    assert (c.target_dte, c.min_dte, c.max_dte, c.short_delta, c.long_delta) == (45, 35, 60, 0.16, 0.05)
    assert (c.wing_min_pct, c.wing_max_pct, c.max_new_per_week, c.max_open, c.kappa, c.dividend_yield) == (
        0.0,
        1.0,
        1,
        4,
        0.84,
        0.018,
    )
    assert (c.kappa_vix_slope, c.skew_put, c.skew_call, c.smile_floor, c.smile_cap) == (0.03, 0.25, 0.10, 0.5, 2.5)
    assert (c.risk_per_condor, c.max_total_risk, c.elevated_size, c.take_profit, c.stop_multiple) == (
        0.02,
        0.10,
        0.5,
        0.50,
        2.0,
    )
    assert (c.roll_dte, c.adjust_delta, c.modified_short_delta, c.slippage_per_leg) == (21, 0.30, 0.10, 0.10)
    h = s.book.hedge
    assert h.l0_bands == ((15.0, 0.0), (30.0, 1.0), (50.0, 0.5)) and h.l0_above_pct == 0.0
    assert (h.l1_weight_pct, h.l1_ivts_on, h.l1_ivts_off, h.l1_off_sessions, h.l2_off_sessions) == (
        0.5,
        0.95,
        0.90,
        5,
        10,
    )
    assert (h.monetize_vix, h.half_multiple, h.half_ivts, h.budget_pct_nav) == (50.0, 3.0, 1.0, 4.0)
    assert HedgeSettings() == h


def test_the_defaults_satisfy_every_rule_and_round_trip_with_the_same_digest():
    s = Settings()
    again = settings_from_json(settings_json(s))
    assert again == s and again.digest() == s.digest()
    assert check_settings(s) == s


def test_settings_built_in_code_are_checked_by_the_doctor(tmp_path):
    bad = dataclasses.replace(Settings(home=tmp_path), book=dataclasses.replace(BookSettings(), initial_nav=-5.0))
    check = {c.name: c for c in doctor.run_doctor(bad, tmp_path, check_network=False)}["config"]
    assert check.level == "fail" and "book.initial_nav = -5.0" in check.detail


def test_the_doctor_reports_an_invalid_file_instead_of_config_ok(tmp_path, capsys):
    config = tmp_path / "bad.yaml"
    config.write_text("book:\n  condor: {short_delta: twelve}\n")
    assert cli.main(["--home", str(tmp_path), "--config", str(config), "doctor", "--offline"]) == 1
    out = capsys.readouterr().out
    assert "fail  config" in out and "bad.yaml: book.condor.short_delta = 'twelve'" in out
    assert "config ok" not in out


@pytest.mark.parametrize("command", [["signals"], ["dictionary", "--output", "-"], ["query", "SELECT 1"]])
def test_the_cli_refuses_an_invalid_file_with_exit_code_2(tmp_path, capsys, command):
    config = tmp_path / "bad.yaml"
    config.write_text("book:\n  initial_nav: -5\n")
    assert cli.main(["--home", str(tmp_path), "--config", str(config), *command]) == 2
    err = capsys.readouterr().err
    assert "error: config file" in err and "bad.yaml: book.initial_nav = -5: expected a value greater than 0" in err


UNBOUNDED = {"book.hedge.l2_macro_stress", "regime.elevated_macro_stress"}  # z-score levels: any real number


def _numeric_leaves(obj: object, path: str) -> list[str]:
    out = []
    for f in dataclasses.fields(obj):
        value, key = getattr(obj, f.name), f"{path}.{f.name}"
        if dataclasses.is_dataclass(value):
            out.extend(_numeric_leaves(value, key))
        elif isinstance(value, int | float) and not isinstance(value, bool):
            out.append(key)
    return out


def test_every_numeric_setting_has_a_range_or_is_known_to_need_none():
    """A setting added later without a range would load any number: this names it."""
    from vixshield.config import BOOK_FIELDS, _settings_model, settings_schema

    schema = settings_schema()
    for key in _numeric_leaves(BookSettings(), "book"):
        assert key in BOOK_FIELDS or key in UNBOUNDED, f"{key} has no range in config.BOOK_FIELDS"
    for key in BOOK_FIELDS:  # and every range names a real field (a renamed one would silently lose its range)
        *parents, name = key.split(".")
        cls = {"book": BookSettings, "condor": CondorSettings, "hedge": HedgeSettings, "spread": SpreadSettings}.get(
            parents[-1]
        )
        if cls is None:
            from vixshield.strategy.option_writer import WriterSettings as cls
        assert name in {f.name for f in dataclasses.fields(cls)}, key
    for section in ("LiveSettings", "ValidationSettings", "RegimeSettings"):
        for name, prop in schema["$defs"][section]["properties"].items():
            if prop.get("type") in ("number", "integer") and f"regime.{name}" not in UNBOUNDED:
                assert {"minimum", "exclusiveMinimum"} & set(prop), f"{section}.{name} has no range"
    assert _settings_model() is _settings_model()  # built once per process


def test_accepted_holes_load_as_records_and_each_mistake_is_named(tmp_path):
    """validation.accepted_holes is a list of records (series, date, reason): YAML's own dates and quoted ones
    both load, the list survives the JSON a run hands its steps, and a record missing a field, with a
    misspelt key, an empty reason or a date no calendar has is refused naming the item and the field."""
    settings = load(
        tmp_path,
        "validation:\n  accepted_holes:\n"
        "    - {series: ^GSPC, date: 2008-10-10, reason: the publisher's bar is null}\n"
        "    - {series: CPIAUCSL, date: '2022-05-01', reason: garbled at the source}\n",
    )
    holes = settings.validation.accepted_holes
    assert [(h.series, h.date.isoformat(), h.reason) for h in holes] == [
        ("^GSPC", "2008-10-10", "the publisher's bar is null"),
        ("CPIAUCSL", "2022-05-01", "garbled at the source"),
    ]
    assert settings_from_json(settings_json(settings)) == settings
    assert Settings().validation.accepted_holes == () == Settings().validation.set_aside
    refused = {
        "[{series: ^GSPC, date: 2008-10-10}]": "validation.accepted_holes[0].reason: required",
        "[{series: ^GSPC, date: 2008-10-10, reason: x}, {sereis: ^VIX, date: 2008-10-10, reason: x}]": (
            "validation.accepted_holes[1].sereis: unknown setting; did you mean 'series'?"
        ),
        "[{series: ^GSPC, date: 2008-10-10, reason: ''}]": "validation.accepted_holes[0].reason = '': expected",
        "[{series: ^GSPC, date: '10/10/2008', reason: x}]": "validation.accepted_holes[0].date = '10/10/2008'",
        "[{series: ^GSPC, date: 2008-13-10, reason: x}]": "refused: a date that does not exist",
    }
    for text, message in refused.items():
        with pytest.raises(ConfigError) as err:
            load(tmp_path, f"validation:\n  accepted_holes: {text}\n")
        assert message in str(err.value) and "my.yaml" in str(err.value)
