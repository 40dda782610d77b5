"""docs/settings.schema.json, the schema editors check a settings file against, is the one the code
generates (`make schema` rewrites it), and it accepts and refuses what the loader does."""

from __future__ import annotations

import json

import pytest
import yaml

from tests.conftest import REPO
from vixshield.config import SCHEMA_PATH, ConfigError, load_settings, schema_json

jsonschema = pytest.importorskip("jsonschema")


def test_the_committed_schema_is_the_generated_one():
    committed = (REPO / SCHEMA_PATH).read_text()
    assert committed == schema_json(), "docs/settings.schema.json is stale: run `make schema` and commit it"


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("book:\n  initial_nav: 250000\n  condor: {short_delta: 0.12, event_gate: false}\n", True),
        ("live: {timeout: 5}\nregime: {calm_vix: 14.5}\nfeatures: {breadth_min_coverage: 0.6}\n", True),
        ("book:\n  condor: {short_delta: twelve}\n", False),
        ("book:\n  initial_nav: -5\n", False),
        ("live: {timeout: soon}\n", False),
        ("features: {rsi_period: 10}\n", False),  # fixed by the methodology: not a key an editor offers
        ("book:\n  condor: {short_detla: 0.12}\n", False),
    ],
)
def test_the_schema_agrees_with_the_loader(tmp_path, text, valid):
    path = tmp_path / "s.yaml"
    path.write_text(text)
    validator = jsonschema.Draft202012Validator(json.loads(schema_json()))
    assert validator.is_valid(yaml.safe_load(text)) == valid
    if valid:
        load_settings(path)
    else:
        with pytest.raises(ConfigError):
            load_settings(path)


def test_the_schema_carries_ranges_and_defaults_but_no_machine_paths():
    schema = json.loads(schema_json())
    condor = schema["$defs"]["CondorSettings"]["properties"]
    assert condor["short_delta"] == {
        "default": 0.16,
        "exclusiveMaximum": 0.5,
        "exclusiveMinimum": 0,
        "title": "Short Delta",
        "type": "number",
    }
    assert "default" not in schema["properties"]["home"]  # $VIXSHIELD_HOME at generation time is nobody's default
    assert set(schema["$defs"]["FeatureSettings"]["properties"]) == {"breadth_min_coverage"}
