"""The engine compiled: the book's modules built to C extensions by mypyc, imported in place of their
source only while the source is exactly what was built.

The book loop is pure Python with a flat profile: no kernel a vectorised or numba rewrite could take
(#16's profiles). Compiling the whole core with mypyc runs it about 1.4x faster with bit-for-bit the
same results (bench/engine_check). `make setup` builds it (`python -m vixshield.native build`, which
needs mypy: the dev extra) into vixshield/_native/, with the sha256 of each source it compiled. On
`import vixshield`, `install` serves those modules only when every one of the sources still has its
hash, so an edited module runs as source until the next build and a stale binary never runs. Without a
build (the wheel, the lowest-versions tier) or with VIXSHIELD_NATIVE=0 the same modules run as source.

What compiling asks of the code (checked by the build, which type-checks first): a frozen dataclass is
a plain class (`@mypyc_attr(native_class=False)`: pickled and copied as before); the settings classes
live uncompiled in strategy/settings.py (the settings loader reads their annotations, which a compiled
class does not keep); no attribute is set on a function; an annotation holds at run time (a compiled
function checks its arguments' types). And for speed: a dataclass's generated __init__ stays Python, so
the records made every session write their own (strategy/record.py says how they still pickle); a call
through a type object (`cls(...)`), with `**kwargs` or `*args`, through a functools cache, or to a
NamedTuple's constructor goes through Python, so the hot path calls compiled functions directly with
positional arguments; a module-level constant read on the hot path is `Final` (a C static).
`python -m bench.instructions` counts what a change saves where a timing on a shared host cannot.
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

# the modules whose code decides the book's rows (a change to any invalidates a stored book state, see
# strategy/signals.py), all compiled
ENGINE_MODULES = (
    "strategy/book",
    "strategy/condor",
    "strategy/costs",
    "strategy/hedge",
    "strategy/hedge_layers",
    "strategy/listings",
    "strategy/options",
    "strategy/option_writer",
    "strategy/record",
    "strategy/vix_options",
    "features/term_structure",
    "calendars",
    "values",
)
PACKAGE_DIR = Path(__file__).resolve().parent
NATIVE_DIR = PACKAGE_DIR / "_native"
MANIFEST = "manifest.json"
SUFFIX = importlib.machinery.EXTENSION_SUFFIXES[0]  # this interpreter's ABI: a build for another is ignored
MYPY_CONFIG = "[mypy]\nignore_missing_imports = True\nfollow_imports = silent\n"


def module_name(path: str) -> str:
    return "vixshield." + path.replace("/", ".")


def source_hash(path: str) -> str:
    return hashlib.sha256((PACKAGE_DIR / f"{path}.py").read_bytes()).hexdigest()


class _Finder(importlib.abc.MetaPathFinder):
    """Finds the compiled modules (and mypyc's shared library they load) in the build directory."""

    def __init__(self, files: dict[str, Path]):
        self.files = files

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        file = self.files.get(fullname)
        return None if file is None else importlib.util.spec_from_file_location(fullname, file)


def status(build: Path = NATIVE_DIR) -> tuple[dict[str, Path] | None, str]:
    """(module name -> extension file, or None; why) for the build in `build`."""
    if os.environ.get("VIXSHIELD_NATIVE", "1") == "0":
        return None, "source (VIXSHIELD_NATIVE=0)"
    try:
        manifest = json.loads((build / MANIFEST).read_text())
    except (OSError, ValueError):
        return None, "source (no compiled build: `python -m vixshield.native build`)"
    if manifest.get("suffix") != SUFFIX:
        return None, f"source (the build is for {manifest.get('suffix')}, this Python loads {SUFFIX})"
    stale = [p for p, h in manifest["sources"].items() if p not in ENGINE_MODULES or source_hash(p) != h]
    if stale or set(manifest["sources"]) != set(ENGINE_MODULES):
        return None, f"source (changed since the build: {', '.join(stale) or 'the module list'})"
    return {name: build / file for name, file in manifest["files"].items()}, "compiled (mypyc)"


def install() -> str:
    """Serve the compiled modules when the build matches the source; returns how the engine runs."""
    files, how = status()
    loaded = [m for m in files or () if m in sys.modules]
    if files and not loaded and not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.insert(0, _Finder(files))
    return how


def build(out: Path = NATIVE_DIR) -> Path:
    """Compile ENGINE_MODULES with mypyc into `out` (replaced whole), with the manifest `install` reads."""
    import shutil  # here, not at the top: every `import vixshield` imports this module
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for path in ENGINE_MODULES:  # a copy, so that the build leaves no binary beside the source
            dest = root / "vixshield" / f"{path}.py"
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(PACKAGE_DIR / f"{path}.py", dest)
        for package in {root / "vixshield", *(p.parent for p in (root / "vixshield").rglob("*.py"))}:
            (package / "__init__.py").touch()
        (root / "mypy.ini").write_text(MYPY_CONFIG)
        files = [f"vixshield/{p}.py" for p in ENGINE_MODULES]
        cmd = [sys.executable, "-m", "mypyc", "--config-file", "mypy.ini", *files]
        done = subprocess.run(cmd, cwd=root, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"mypyc failed ({' '.join(cmd[1:4])} ...):\n{done.stdout[-4000:]}{done.stderr[-4000:]}")
        staged = out.with_name(out.name + ".new")
        shutil.rmtree(staged, ignore_errors=True)
        built = {}
        for so in root.rglob(f"*{SUFFIX}"):
            rel = so.relative_to(root)
            if rel.parts[0] == "build":
                continue
            (staged / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(so, staged / rel)
            built[".".join(rel.with_name(rel.name.removesuffix(SUFFIX)).parts)] = str(rel)
        missing = [module_name(p) for p in ENGINE_MODULES if module_name(p) not in built]
        if missing:
            raise RuntimeError(f"mypyc built no extension for {', '.join(missing)}")
        manifest = {"suffix": SUFFIX, "sources": {p: source_hash(p) for p in ENGINE_MODULES}, "files": built}
        (staged / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True))
        shutil.rmtree(out, ignore_errors=True)
        staged.rename(out)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """build: compile now; ensure: compile unless the build matches the source (make setup); status."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args not in (["build"], ["ensure"], ["status"]):
        print("usage: python -m vixshield.native build|ensure|status", file=sys.stderr)
        return 2
    files, how = status()
    if args == ["build"] or (args == ["ensure"] and files is None and not how.endswith("VIXSHIELD_NATIVE=0)")):
        if importlib.util.find_spec("mypyc") is None:
            print("the engine runs as source: mypyc is not installed (it comes with mypy, in the dev extra)")
            return 1 if args == ["build"] else 0
        print(f"compiling the engine with mypyc: {len(ENGINE_MODULES)} modules, about a minute ...", flush=True)
        try:
            build()
        except (RuntimeError, OSError) as exc:  # no C compiler, say: the source runs the same book, slower
            print(f"the engine runs as source: the compiled build failed: {exc}", file=sys.stderr)
            return 1 if args == ["build"] else 0
        how = status()[1]
    print(f"the engine runs {how}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
