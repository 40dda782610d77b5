"""The settings file is read safely: no YAML anchors or aliases (a 400-byte "billion laughs" file
would otherwise expand into gigabytes once the settings are merged and hashed), no file over
MAX_CONFIG_BYTES, and every refusal is a ValueError naming the file, which the CLI reports with exit 2."""

from __future__ import annotations

import time

import pytest
import yaml

from pipelines import cli
from vixshield.config import MAX_CONFIG_BYTES, ConfigError, load_settings

BILLION_LAUGHS = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""
TERMINATES = 10.0  # seconds; a safety net against the expansion hanging, not a performance bound


def test_an_alias_bomb_is_refused_naming_the_file(tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(BILLION_LAUGHS)
    started = time.monotonic()
    with pytest.raises(ValueError, match=r"bomb\.yaml.*anchors and aliases") as err:
        load_settings(path)
    assert time.monotonic() - started < TERMINATES  # refused, not expanded
    assert isinstance(err.value, ConfigError) and isinstance(err.value, yaml.YAMLError)


@pytest.mark.parametrize(
    "text",
    [
        "live: &live\n  timeout: 5\n",  # an anchor alone
        "base: &b {timeout: 5}\nlive:\n  <<: *b\n",  # a merge key
        "universe: [XLB]\nregime:\n  calm_vix: *x\n",  # an alias to nothing
    ],
    ids=["anchor", "merge-key", "alias"],
)
def test_any_anchor_or_alias_is_refused(tmp_path, text):
    path = tmp_path / "settings.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=r"settings\.yaml"):
        load_settings(path)


def test_a_normal_settings_file_still_loads(tmp_path):
    path = tmp_path / "settings.yaml"
    path.write_text(
        "# ordinary settings\nuniverse: [XLB, XLE]\nlive:\n  timeout: 5\n  attempt_deadline: 30\n"
        "regime:\n  calm_vix: 14.5\n"
    )
    settings = load_settings(path)
    assert settings.universe == ("XLB", "XLE")
    assert settings.live.timeout == 5 and settings.live.attempt_deadline == 30
    assert settings.regime.calm_vix == 14.5


def test_an_empty_file_means_defaults(tmp_path):
    path = tmp_path / "empty.yaml"
    path.write_text("# nothing set\n")
    assert load_settings(path) == load_settings()


def test_an_oversized_file_is_refused_naming_the_file(tmp_path):
    path = tmp_path / "huge.yaml"
    path.write_text("# padding\n" * (MAX_CONFIG_BYTES // 10 + 1))
    with pytest.raises(ConfigError, match=rf"huge\.yaml is larger than {MAX_CONFIG_BYTES} bytes"):
        load_settings(path)


def test_deep_nesting_and_a_non_mapping_are_refused(tmp_path):
    deep = tmp_path / "deep.yaml"
    deep.write_text("[" * 5000 + "]" * 5000)
    with pytest.raises(ConfigError, match=r"deep\.yaml.*nested more than"):
        load_settings(deep)
    listing = tmp_path / "list.yaml"
    listing.write_text("- XLB\n- XLE\n")
    with pytest.raises(ConfigError, match=r"list\.yaml: expected a mapping"):
        load_settings(listing)


def test_malformed_yaml_and_a_missing_file_name_the_file(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("live: [timeout: 5\n")
    with pytest.raises(ConfigError, match=r"broken\.yaml"):
        load_settings(broken)
    with pytest.raises(ConfigError, match=r"absent\.yaml does not exist"):
        load_settings(tmp_path / "absent.yaml")


def test_the_cli_reports_a_refused_file_with_exit_code_2(tmp_path, capsys):
    path = tmp_path / "bomb.yaml"
    path.write_text(BILLION_LAUGHS)
    assert cli.main(["--config", str(path), "dictionary", "--output", str(tmp_path / "d.md")]) == 2
    err = capsys.readouterr().err
    assert "bomb.yaml" in err and "anchors and aliases" in err
