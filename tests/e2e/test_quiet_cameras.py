"""Live: 8 RTSP cameras, 2 busy (a ball moving) and 6 quiet (a parked object, sensor noise, nothing
moving). The quiet cameras' detector work falls to their re-check rate once the parked object is
stationary; the busy cameras get the detector at their frame rate. Counted from the metrics the
engine exports (``ioc_detector_frames_total``, ``ioc_stationary_objects``), never timed.

The detector is ``BlobDetector`` (a real, tiny detector: every bright blob is a person), so the
test measures scheduling, not the model; the engine, readers, RTSP and the planner are the real ones.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from prometheus_client import REGISTRY

from ioc.bus.base import Message
from ioc.config import load_config
from ioc.pipeline.supervisor import Engine
from ioc.settings import Settings
from tests.e2e.footage_clips import write_h264
from tests.factories import BlobDetector
from tests.rtsp_fixture import RtspServer

pytestmark = pytest.mark.slow

BUSY = ["busy-0", "busy-1"]
QUIET = [f"quiet-{i}" for i in range(6)]
RECHECK_SECONDS = 4.0
STATIONARY_RECHECK_SECONDS = 4.0
WINDOW_S = 12.0


def _quiet_clip(path: Path, seed: int) -> Path:
    """A dark street with one bright parked object and sensor noise, 4 s at 10 fps."""
    rng = np.random.default_rng(seed)
    base = np.full((240, 320, 3), 45, dtype=np.uint8)
    x = 40 + 30 * seed
    base[150:210, x : x + 50] = 210
    frames = []
    for _ in range(40):
        noise = rng.integers(-5, 6, size=base.shape)
        frames.append(np.clip(base.astype(np.int16) + noise, 0, 255).astype(np.uint8))
    return write_h264(path, frames, 10)


def _reasons(camera: str) -> dict[str, float]:
    out = {}
    for reason in ("first", "motion", "tracks", "stationary", "recheck", "hold"):
        labels = {"camera": camera, "reason": reason}
        out[reason] = REGISTRY.get_sample_value("ioc_detector_frames_total", labels) or 0.0
    return out


def _detector_runs(camera: str) -> float:
    r = _reasons(camera)
    return r["first"] + r["motion"] + r["tracks"] + r["stationary"] + r["recheck"]


def test_parked_objects_do_not_keep_quiet_cameras_busy(
    rtsp_server_factory: Callable[..., RtspServer], tmp_path: Path
) -> None:
    mounts = dict.fromkeys(BUSY, "testsrc")
    mounts |= {name: str(_quiet_clip(tmp_path / f"{name}.h264", i)) for i, name in enumerate(QUIET)}
    server = rtsp_server_factory(mounts, fps=10)
    cameras = "\n".join(
        f"  - {{id: {name}, source: {server.url(name)}, detect: {{fps: 5, classes: [person], "
        f"recheck_seconds: {RECHECK_SECONDS}, stationary_recheck_seconds: {STATIONARY_RECHECK_SECONDS}}}}}"
        for name in (*BUSY, *QUIET)
    )
    (tmp_path / "cameras.yaml").write_text(f"cameras:\n{cameras}\n", encoding="utf-8")
    config = load_config(tmp_path / "cameras.yaml")
    settings = Settings(data_dir=tmp_path / "data")
    published: list[Message] = []
    engine = Engine(config, settings, published.append, detector_factory=lambda _d, _s: BlobDetector())
    engine.start()
    try:
        _wait_stationary(QUIET, timeout=40.0)
        before = {c: _detector_runs(c) for c in (*BUSY, *QUIET)}
        time.sleep(WINDOW_S)
        ran = {c: _detector_runs(c) - before[c] for c in (*BUSY, *QUIET)}
    finally:
        engine.stop()
    # A quiet camera: one whole-frame re-check every RECHECK_SECONDS and one stationary crop every
    # STATIONARY_RECHECK_SECONDS at most, (+1 each for where the window cuts).
    quiet_limit = WINDOW_S / RECHECK_SECONDS + WINDOW_S / STATIONARY_RECHECK_SECONDS + 2
    for camera in QUIET:
        assert ran[camera] <= quiet_limit, (camera, ran, _reasons(camera))
    for camera in BUSY:  # every busy camera got the detector far more often than any quiet one
        assert ran[camera] >= 3 * quiet_limit, (camera, ran)


def _wait_stationary(cameras: list[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    counts: dict[str, float] = {}
    while time.monotonic() < deadline:
        counts = {c: REGISTRY.get_sample_value("ioc_stationary_objects", {"camera": c}) or 0 for c in cameras}
        if all(n >= 1 for n in counts.values()):
            return
        time.sleep(0.5)
    raise AssertionError(f"quiet cameras' parked objects never became stationary: {counts}")
