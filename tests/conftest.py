"""Suite-wide settings: nothing may phone home, caches stay inside the repo's data dir."""

from __future__ import annotations

import os
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("YOLO_CONFIG_DIR", str(_ROOT / "data" / "cache" / "ultralytics"))
os.environ.setdefault("MPLCONFIGDIR", str(_ROOT / "data" / "cache" / "matplotlib"))
os.environ.setdefault("CI", "true")
os.environ.setdefault("OPENVINO_TELEMETRY_OPT_OUT", "1")
