#!/usr/bin/env bash
# The GPU measurement of issue 11 as one prepared command, for a session lent a GPU machine.
#
#   here:   PYTHON=.venv/bin/python benchmarks/cuda_device_check.sh prepare
#           stages into build/gpu/ (git-ignored, ~35 MB) the wheels the GPU image lacks (ultralytics,
#           pydantic, pydantic-settings, ruamel.yaml and their small needs, at this venv's versions, for
#           CPython 3.12 on x86-64) and a real copy of the weights with the manifest;
#   there:  benchmarks/cuda_device_check.sh run [benchmark args]      (device tool: carry ["build/gpu"])
#           installs the wheels into /tmp/site, runs benchmarks/detector_throughput_cuda.py with the
#           staged weights and writes its output to $OUT/detector_throughput_cuda.txt as well.
set -euo pipefail
cd "$(dirname "$0")/.."
STAGE=build/gpu
WANTED="ultralytics pydantic pydantic-core pydantic-settings annotated-types typing-inspection typing-extensions python-dotenv ruamel.yaml"

prepare() {
  local py=${PYTHON:-.venv/bin/python} pins
  pins=$("$py" -c 'import sys, importlib.metadata as m; print(" ".join(f"{n}=={m.version(n)}" for n in sys.argv[1:]))' $WANTED)
  rm -rf "$STAGE" && mkdir -p "$STAGE/whl" "$STAGE/models"
  "$py" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    -d "$STAGE/whl" $pins
  cp -L models/models.yaml models/yolov8s-world.pt "$STAGE/models/"
  du -sh "$STAGE"
}

run() {
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site "$STAGE"/whl/*.whl
  export PYTHONPATH="/tmp/site:$PWD" PYTHONUNBUFFERED=1
  local out=${OUT:-$STAGE}
  python3 benchmarks/detector_throughput_cuda.py --models-dir "$STAGE/models" "$@" 2>&1 | tee "$out/detector_throughput_cuda.txt"
}

case "${1:-}" in
  prepare) prepare ;;
  run) shift && run "$@" ;;
  *) echo "usage: $0 prepare | run [benchmark args]" >&2 && exit 2 ;;
esac
