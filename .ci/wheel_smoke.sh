#!/usr/bin/env bash
# Build the wheel, install it with the locked dependencies in a clean venv outside the checkout,
# and run the sample job and the plan from there: proves the package carries its SQL and data files.
set -euo pipefail
uv="$(realpath "$1")"; py="${2:-python3}"
cd "$(dirname "$0")/.."
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$uv" build --wheel --quiet --out-dir "$work/dist" .
"$uv" export --frozen --no-dev --no-emit-project --no-hashes --quiet -o "$work/requirements.txt"
"$uv" venv --quiet --python "$py" "$work/venv"
"$uv" pip install --quiet --python "$work/venv/bin/python" -r "$work/requirements.txt" "$work"/dist/*.whl
cd "$work"  # nothing of the checkout on the path
export VIXSHIELD_HOME="$work/home" DAGSTER_HOME="$work/home/dagster" DAGSTER_DISABLE_TELEMETRY=1
mkdir -p "$DAGSTER_HOME"
"$work/venv/bin/vixshield" run --source sample
"$work/venv/bin/vixshield" signals >"$work/plan.txt"
head -n 5 "$work/plan.txt"
echo "wheel smoke: ok ($(basename "$work"/dist/*.whl))"
