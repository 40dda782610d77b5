"""The rule of the rooms, checked on the source: the domain core (vixshield/) knows no Dagster and
nothing above it; assets know the core but not the app layer (pipelines/) that wires them."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = {
    "vixshield": ("dagster", "dagster_duckdb", "assets", "pipelines"),
    "assets": ("pipelines",),
}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_flow_down_the_layers(package):
    offenders = {
        str(path.relative_to(ROOT)): sorted(m for m in imported_modules(path) if m.split(".")[0] in FORBIDDEN[package])
        for path in sorted((ROOT / package).rglob("*.py"))
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_core_is_grouped_by_stage():
    """The top of the core holds only the cross-cutting modules; everything else sits in its stage."""
    top = sorted(p.stem for p in (ROOT / "vixshield").glob("*.py"))
    assert top == ["__init__", "calendars", "catalog", "config", "native", "values"]
