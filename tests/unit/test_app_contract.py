"""The published-column contract: a removed or renamed column needs a version bump, an addition does not.

tests/e2e/test_compat.py holds every build's published columns to the committed contract; these tests
pin the rules it applies and the command that updates the file.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vixshield.serve import app_contract as contract
from vixshield.serve import publish

V1 = contract.Contract(1, {"signals.condor_plan": ["date", "credit", "enter"], "features.regime": ["date", "regime"]})


def manifest_with(columns: dict[str, list[str]]) -> dict:
    entries = {t: [{"name": c, "type": "DOUBLE", "comment": None} for c in cols] for t, cols in columns.items()}
    return {"columns": entries}


def test_the_committed_contract_covers_every_published_table_and_view():
    committed = contract.load()
    assert committed.version >= 1
    assert set(committed.tables) == {*publish.PUBLISHED_TABLES, *contract.VIEWS}
    assert all(cols and cols[0] == "date" for cols in committed.tables.values())


def test_an_added_column_is_listed_without_a_bump():
    published = {**V1.tables, "signals.condor_plan": ["date", "credit", "enter", "credit_fill"]}
    assert contract.removed(V1, published) == {}
    assert contract.added(V1, published) == {"signals.condor_plan": ["credit_fill"]}
    assert contract.updated(V1, published, bump=False) == contract.Contract(1, published)


def test_a_renamed_or_removed_column_or_table_needs_a_bump():
    renamed = {"signals.condor_plan": ["date", "credit_model", "enter"], "features.regime": ["date", "regime"]}
    assert contract.removed(V1, renamed) == {"signals.condor_plan": ["credit"]}
    assert contract.added(V1, renamed) == {"signals.condor_plan": ["credit_model"]}
    with pytest.raises(ValueError, match="--bump"):
        contract.updated(V1, renamed, bump=False)
    assert contract.updated(V1, renamed, bump=True) == contract.Contract(2, renamed)
    assert contract.removed(V1, {"signals.condor_plan": ["date", "credit", "enter"]}) == {
        "features.regime": ["date", "regime"]
    }


def test_the_command_updates_the_file_from_a_published_manifest(tmp_path, monkeypatch, capsys):
    path = tmp_path / "published_contract.json"
    contract.write(V1, path)
    monkeypatch.setattr(contract, "contract_path", lambda: path)
    home = tmp_path / "home"
    (home / "published").mkdir(parents=True)

    def publish_columns(columns: dict[str, list[str]]) -> None:
        (home / "published" / "manifest.json").write_text(json.dumps(manifest_with(columns)))

    publish_columns({"signals.condor_plan": ["date", "credit", "enter", "pop"], "features.regime": ["date", "regime"]})
    assert contract.main([str(home)]) == 0
    assert contract.load(path).version == 1 and "pop" in contract.load(path).tables["signals.condor_plan"]

    publish_columns({"signals.condor_plan": ["date", "enter", "pop"], "features.regime": ["date", "regime"]})
    assert contract.main([str(home)]) == 2  # a removal is refused without --bump, the file unchanged
    assert "credit" in capsys.readouterr().err and "credit" in contract.load(path).tables["signals.condor_plan"]
    assert contract.main([str(home), "--bump"]) == 0
    assert contract.load(path) == contract.Contract(2, json.loads(Path(path).read_text())["tables"])
    assert contract.load(path).tables["signals.condor_plan"] == ["date", "enter", "pop"]
