"""The committed data dictionary page is the contract rendered: every declared table and column."""

import re

from tests.conftest import REPO
from vixshield.store import contract, dictionary


def test_docs_page_lists_every_table_and_column_in_order():
    text = (REPO / "docs" / "data_dictionary.md").read_text()
    assert text == dictionary.markdown(_first_valid(text)) + "\n", "stale: run `vixshield dictionary`"
    for table in contract.TABLES.values():
        section = text.split(f"## `{table.name}`")[1].split("\n## ")[0]
        names = re.findall(r"^\| `([a-z0-9_]+)` \|", section, flags=re.M)
        assert names == table.names, "docs/data_dictionary.md is stale: run `vixshield dictionary`"


def _first_valid(text: str) -> dict[str, dict[str, str]]:
    """The first-valid dates the page was rendered with (they come from a real-data warehouse)."""
    out: dict[str, dict[str, str]] = {}
    for table in dictionary.TABLES:
        section = text.split(f"## `{table}`")[1].split("\n## ")[0]
        out[table] = dict(re.findall(r"^\| `([a-z0-9_]+)` \|.*\| ([^|]*?) \|$", section, flags=re.M))
    return out


def test_every_feature_column_says_its_unit_formula_and_inputs():
    for cols in dictionary.TABLES.values():
        assert len({c.name for c in cols}) == len(cols)
        assert all(c.unit and c.formula and c.inputs for c in cols)


def test_every_table_says_what_it_holds_and_its_key():
    for table in contract.TABLES.values():
        assert table.comment and set(table.key) <= set(table.names), table.name
        assert len(set(table.names)) == len(table.names), table.name
