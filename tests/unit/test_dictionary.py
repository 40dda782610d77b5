"""The committed data dictionary page matches the registry the feature build is checked against."""

import re

from tests.conftest import REPO
from vixshield import dictionary


def test_docs_page_lists_every_column_in_order():
    text = (REPO / "docs" / "data_dictionary.md").read_text()
    for table, cols in dictionary.TABLES.items():
        section = text.split(f"## `{table}`")[1].split("\n## ")[0]
        names = re.findall(r"^\| `([a-z0-9_]+)` \|", section, flags=re.M)
        assert names == [c.name for c in cols], "docs/data_dictionary.md is stale: run `vixshield dictionary`"


def test_every_column_says_its_unit_formula_and_inputs():
    for cols in dictionary.TABLES.values():
        assert len({c.name for c in cols}) == len(cols)
        assert all(c.unit and c.formula and c.inputs for c in cols)
