#!/usr/bin/env bash
# First command of the README: install what is missing, then run the engine + wall display on the
# bundled demo (cameras.yaml). Extra arguments go to `ioc serve`.
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh
exec .venv/bin/ioc serve --config cameras.yaml "$@"
