#!/usr/bin/env bash
# Installs everything ioc needs, idempotently: system packages (when root and missing), a virtual
# environment in .venv with the pinned torch, the project, the default model, and the demo footage.
#   scripts/setup.sh          runtime
#   scripts/setup.sh --test   runtime + test tools (Chromium, GStreamer RTSP server, pytest, ruff, mypy)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WITH_TEST=0
[[ "${1:-}" == "--test" ]] && WITH_TEST=1
PY=${PYTHON:-python3}
VENV=$ROOT/.venv
export YOLO_OFFLINE=${YOLO_OFFLINE:-1} CI=${CI:-true}
export YOLO_CONFIG_DIR=${YOLO_CONFIG_DIR:-$ROOT/data/cache/ultralytics}
export MPLCONFIGDIR=${MPLCONFIGDIR:-$ROOT/data/cache/matplotlib}

quiet_pip() { "$VENV/bin/pip" install -q --disable-pip-version-check "$@" 2>&1 | { grep -v "is ignored: it is neither" || true; }; }
log() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

apt_packages=(libgl1 libglib2.0-0 ffmpeg opencv-doc fonts-dejavu-core)
if (( WITH_TEST )); then
  apt_packages+=(chromium gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good
    gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav gstreamer1.0-rtsp
    python3-gst-1.0 gstreamer1.0-tools)
fi
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if (( ${#missing[@]} )); then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    log "apt: installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    log "WARNING: missing system packages (install them as root): ${missing[*]}"
  fi
fi

stamp_src=$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16)
stamp=$VENV/.ioc-installed-$stamp_src-$WITH_TEST
if [[ ! -f $stamp ]]; then
  [[ -x $VENV/bin/python ]] || { log "creating $VENV"; "$PY" -m venv "$VENV"; }
  log "pip: installing torch (pinned) and the project (a few minutes the first time)"
  quiet_pip "torch==2.14.1" "torchvision==0.29.1"
  extra=""; (( WITH_TEST )) && extra="[test]"
  quiet_pip -e ".$extra"
  rm -f "$VENV"/.ioc-installed-*
  touch "$stamp"
else
  log "venv up to date ($VENV)"
fi

log "model: provisioning the default detector"
"$VENV/bin/ioc" models fetch
log "demo: preparing footage and config"
"$VENV/bin/ioc" demo prepare
log "model: INT8 for the CPU, calibrated on the demo footage (first time ~1-2 min; then cached)"
"$VENV/bin/ioc" models export --int8 || log "WARNING: INT8 export failed (see above); the detector runs FP32"
log "done"
