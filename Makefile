# The two contract commands: `make demo` (set up + run the daily job on the bundled sample)
# and `make test` (set up + run the test suite). Each builds its own virtualenv.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup demo test lint bench ui clean

$(BIN)/vixshield: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

setup: $(BIN)/vixshield

demo: setup
	$(BIN)/vixshield run --source sample

test: setup
	$(BIN)/ruff check .
	$(BIN)/pytest -q

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: setup
	$(BIN)/python -m bench.run_pipeline
	$(BIN)/python -m bench.features_bench
	$(BIN)/python -m bench.signals_bench
	$(BIN)/python -m bench.serving_bench
	$(BIN)/python -m bench.backtest_bench

ui: setup
	$(BIN)/dagster dev -w workspace.yaml

clean:
	rm -rf $(VENV) data .pytest_cache .ruff_cache
