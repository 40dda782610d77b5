# The two contract commands: `make demo` (set up + run the daily job on the bundled sample)
# and `make test` (set up + run the test suite). Both install from the committed lock (uv.lock),
# frozen, with uv bootstrapped from PyPI into .tools/: a fresh machine needs only python3.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TOOLS := .tools
UV_VERSION := 0.13.9
UV := $(TOOLS)/bin/uv
# uv uses the given python3 and never downloads an interpreter; the project env is $(VENV)
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)
# compile every installed module once: imports then skip compiling (GX imports in ~3.5 s, not ~7.5 s)
# even where PYTHONDONTWRITEBYTECODE keeps Python from caching bytecode itself
export UV_COMPILE_BYTECODE := 1

.PHONY: setup demo test test-fast test-lowest wheel-smoke compat-env lock outdated lint schema bench ui clean

$(UV):
	$(PY) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet uv==$(UV_VERSION)

$(BIN)/vixshield: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --extra dev --python $(PY)
	@touch $@

# the engine compiled by mypyc (vixshield/native.py): built when missing or older than its source, ~1 min
setup: $(BIN)/vixshield
	@$(BIN)/python -c "from vixshield.native import main; raise SystemExit(main(['ensure']))"

demo: setup
	$(BIN)/vixshield run --source sample

# pytest-xdist: one worker per core; a module stays on one worker (its fixtures are built once)
PYTEST := $(BIN)/pytest -q -n auto --dist loadscope

test: setup
	$(BIN)/ruff check .
	$(PYTEST)

# the tier a developer runs often: everything but the whole-pipeline and real-data tests. Much of it
# waits on fake servers' stalls and deadlines, so it runs one worker more than there are cores.
FAST_WORKERS := $(shell echo $$(( $$(nproc) + 1 )))

test-fast: setup
	$(BIN)/ruff check .
	$(BIN)/pytest -q -n $(FAST_WORKERS) --dist loadscope -m "not slow"

# the floors in pyproject.toml are honest: the lowest direct versions pass the fast tier
test-lowest: $(UV)
	.ci/test_lowest.sh $(UV) $(PY)

# the built wheel, installed in a clean venv outside the checkout, runs the sample and prints the plan
wheel-smoke: $(UV)
	.ci/wheel_smoke.sh $(UV) $(PY)

# the readers tests/e2e/test_compat.py opens the published snapshot with, from pinned versions: the oldest
# supported DuckDB (tests/compat/oldest-duckdb.txt) in .venv-compat and the DuckDB Node API
# (tests/compat/node/package-lock.json). Needs PyPI and the npm registry; without it those tests skip.
COMPAT_VENV := .venv-compat

compat-env: $(UV)
	$(UV) venv --quiet --allow-existing --python $(PY) $(COMPAT_VENV)
	$(UV) pip sync --quiet --only-binary :all: --python $(COMPAT_VENV)/bin/python tests/compat/oldest-duckdb.txt
	npm ci --prefix tests/compat/node --no-audit --no-fund --loglevel=error

# refresh the lock (and the lowest-direct pins) to the newest versions the bounds allow
lock: $(UV)
	$(UV) lock --upgrade
	$(UV) pip compile pyproject.toml --extra dev --resolution lowest-direct --python-version 3.11 \
		--no-header --quiet -o .ci/lowest-direct.txt

# what newer versions exist for the direct dependencies (run it now and then; `make lock` takes them)
outdated: setup
	$(UV) tree --outdated --depth 1 --frozen

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# the settings file's JSON Schema for editors, generated from vixshield/config.py (a test keeps it current)
schema: setup
	$(BIN)/python -m vixshield.config docs/settings.schema.json

bench: setup
	$(BIN)/python -m bench.run_pipeline
	$(BIN)/python -m bench.features_bench
	$(BIN)/python -m bench.signals_bench
	$(BIN)/python -m bench.serving_bench
	$(BIN)/python -m bench.backtest_bench

# `dg dev` (dagster-dg-cli), the dev command Dagster recommends over the superseded `dagster dev`, on the
# instance of $$VIXSHIELD_HOME (default ./data): the runs of `vixshield run` and the schedule show here too
ui: setup
	DAGSTER_HOME="$$($(BIN)/python -m pipelines.instance)" $(BIN)/dg dev -w workspace.yaml

clean:
	rm -rf $(VENV) $(TOOLS) .venv-lowest $(COMPAT_VENV) tests/compat/node/node_modules dist data .pytest_cache .ruff_cache \
		vixshield/_native
