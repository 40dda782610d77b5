#!/usr/bin/env bash
# The floors in pyproject.toml are honest: install the lowest version it allows of every direct
# dependency (pinned in .ci/lowest-direct.txt by `make lock`) in .venv-lowest and run the fast tier.
set -euo pipefail
uv="$(realpath "$1")"; py="${2:-python3}"
cd "$(dirname "$0")/.."
"$uv" venv --quiet --allow-existing --python "$py" .venv-lowest
"$uv" pip sync --quiet --python .venv-lowest/bin/python .ci/lowest-direct.txt
"$uv" pip install --quiet --no-deps --python .venv-lowest/bin/python -e .
# the engine as source (the compiled build is make setup's, from the lock's mypy): VIXSHIELD_NATIVE=0
VIXSHIELD_NATIVE=0 .venv-lowest/bin/python -m pytest -q -n "$(( $(nproc) + 1 ))" --dist loadscope -m "not slow" -p no:cacheprovider
