"""What the installed package needs is declared, and what it reads ships inside it."""

import ast
import importlib.metadata
import re
import sys
import tomllib

from tests.conftest import REPO

PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
CODE = ("vixshield", "assets", "pipelines")  # what the wheel installs


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def imported_modules() -> set[str]:
    """Top-level modules the installed code imports (at module level or inside functions)."""
    found = set()
    for package in CODE:
        for path in (REPO / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    found |= {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    found.add(node.module.split(".")[0])
    return found - set(sys.stdlib_module_names) - set(CODE) - {"__future__"}


def test_every_third_party_import_is_a_declared_dependency():
    declared = {_name(r) for r in PYPROJECT["project"]["dependencies"]}
    providers = importlib.metadata.packages_distributions()
    undeclared = {
        module: providers.get(module)
        for module in imported_modules()
        if not {_name(d) for d in providers.get(module, [])} & declared
    }
    assert undeclared == {}, f"imported but not in [project].dependencies: {undeclared}"


def test_every_file_the_code_reads_is_package_data():
    """sql/ and data/ ship in the wheel (a wheel without them failed with 'schema meta does not exist')."""
    globs = PYPROJECT["tool"]["setuptools"]["package-data"]["vixshield"]
    root = REPO / "vixshield"
    shipped = {p for g in globs for p in root.glob(g)}
    for folder in ("sql", "data"):
        files = {p for p in (root / folder).rglob("*") if p.is_file() and "__pycache__" not in p.parts}
        assert files and files <= shipped, sorted(str(p.relative_to(root)) for p in files - shipped)
