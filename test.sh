#!/usr/bin/env bash
# Second command of the README: install what is missing (test tools included), start the services the
# tests use when they are not up, then lint, type-check and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh --test
scripts/services.sh
export YOLO_OFFLINE=1 CI=true
export YOLO_CONFIG_DIR=$PWD/data/cache/ultralytics MPLCONFIGDIR=$PWD/data/cache/matplotlib
echo "== ruff"; .venv/bin/ruff check ioc tests benchmarks
echo "== mypy"; .venv/bin/mypy
echo "== pytest"; exec .venv/bin/pytest "$@"
