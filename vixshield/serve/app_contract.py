"""The published-column contract: which columns apps may rely on, and its version.

`vixshield/sql/published_contract.json` lists, per published table and view, the columns apps read by
name, with a version number the manifest repeats (`contract_version`). An app written against version
N refuses a snapshot whose contract version it does not know. Adding a column keeps the version (apps
ignore columns they do not read); renaming or removing one breaks apps, so it needs a bump. A test
compares every build's published columns with this file and says which of the two commands below to run.

    python -m vixshield.serve.app_contract HOME           # list the columns HOME's snapshot adds (no bump)
    python -m vixshield.serve.app_contract HOME --bump    # accept removed or renamed columns: version + 1
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

# Views apps read besides the published tables (publish.PUBLISHED_TABLES); their columns are in the
# manifest and the contract too.
VIEWS: tuple[str, ...] = ("signals.latest_plan",)
CONTRACT_FILE = "published_contract.json"


@dataclass(frozen=True)
class Contract:
    version: int
    tables: dict[str, list[str]]  # "schema.table" -> column names, in published order


def contract_path() -> Path:
    return Path(str(resources.files("vixshield") / "sql" / CONTRACT_FILE))


def load(path: Path | None = None) -> Contract:
    data = json.loads((path or contract_path()).read_text())
    return Contract(int(data["version"]), {t: list(cols) for t, cols in data["tables"].items()})


def columns_of(manifest: Mapping) -> dict[str, list[str]]:
    """Column names per table from a manifest's sidecar schema."""
    return {t: [c["name"] for c in cols] for t, cols in manifest.get("columns", {}).items()}


def removed(contract: Contract, published: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    """Contract columns a publication lacks (a whole table missing counts as all its columns), for the
    tables it publishes or should: every table of the contract."""
    gone = {t: [c for c in cols if c not in set(published.get(t, ()))] for t, cols in contract.tables.items()}
    return {t: cols for t, cols in gone.items() if cols}


def added(contract: Contract, published: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    """Published columns the contract does not list yet."""
    new = {t: [c for c in cols if c not in set(contract.tables.get(t, ()))] for t, cols in published.items()}
    return {t: cols for t, cols in new.items() if cols}


def updated(contract: Contract, published: Mapping[str, Sequence[str]], bump: bool) -> Contract:
    """The contract for `published`: its columns, the version bumped when asked (required when a
    contract column is gone: an app that reads it would break)."""
    if removed(contract, published) and not bump:
        raise ValueError("published columns were removed or renamed: pass --bump to raise the contract version")
    return Contract(contract.version + 1 if bump else contract.version, {t: list(c) for t, c in published.items()})


def write(contract: Contract, path: Path | None = None) -> None:
    body = {"version": contract.version, "tables": dict(sorted(contract.tables.items()))}
    (path or contract_path()).write_text(json.dumps(body, indent=2) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vixshield.serve.app_contract", description=__doc__.split("\n")[0])
    parser.add_argument("home", type=Path, help="a VIXSHIELD_HOME with a published snapshot (e.g. after make demo)")
    parser.add_argument("--bump", action="store_true", help="accept removed/renamed columns: contract version + 1")
    args = parser.parse_args(argv)
    manifest = json.loads((args.home / "published" / "manifest.json").read_text())
    current, published = load(), columns_of(manifest)
    try:
        new = updated(current, published, args.bump)
    except ValueError as exc:
        print(f"error: {exc}: {removed(current, published)}", file=sys.stderr)
        return 2
    write(new)
    print(f"{contract_path().name}: version {new.version}; added {added(current, published) or 'nothing'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
