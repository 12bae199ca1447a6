"""Live: one camera's RTSP server is killed and restarted 20 times while another streams on.

Each time, the flapping camera goes down and comes back by itself, soon after its server (the
reconnect backoff starts again from 0.5 s once a camera has been up for a few seconds); the steady
camera keeps its frame rate; nothing crashes; threads and open files stay flat. The detector is
``BlobDetector`` (the real engine, readers, RTSP and planner; not the model, which this is not about).
"""

from __future__ import annotations

import os
import statistics
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from ioc.bus.base import Message
from ioc.config import load_config
from ioc.messages import CameraState
from ioc.pipeline.supervisor import Engine
from ioc.settings import Settings
from tests.factories import BlobDetector
from tests.rtsp_fixture import RtspServer

pytestmark = pytest.mark.slow

CYCLES = 20
BACK_LIMIT_S = 15.0  # generous for a loaded CI box; the measured times are printed
HEALTHY_WAIT_S = 3.5  # up this long, a camera's next outage starts the backoff from 0.5 s again
SLACK = 4  # threads / file descriptors that may come and go between two samples


def _state(engine: Engine, camera: str) -> CameraState | None:
    status = engine.camera_status(camera)
    return None if status is None else status.state


def _wait(engine: Engine, camera: str, states: tuple[CameraState, ...], limit: float) -> float:
    start = time.monotonic()
    while _state(engine, camera) not in states:
        assert time.monotonic() - start < limit, f"{camera} not {states} within {limit} s"
        time.sleep(0.05)
    return time.monotonic() - start


def _frames(camera: str) -> float:
    return REGISTRY.get_sample_value("ioc_frames_read_total", {"camera": camera}) or 0.0


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_a_camera_restarted_20_times_comes_back_each_time_and_leaks_nothing(
    rtsp_server_factory: Callable[..., RtspServer], tmp_path: Path
) -> None:
    flappy = rtsp_server_factory({"cam": "testsrc"}, fps=10)
    steady = rtsp_server_factory({"cam": "testsrc"}, fps=10)
    (tmp_path / "cameras.yaml").write_text(
        f"cameras:\n  - {{id: flappy, source: {flappy.url('cam')}, detect: {{classes: [person]}}}}\n"
        f"  - {{id: steady, source: {steady.url('cam')}, detect: {{classes: [person]}}}}\n",
        encoding="utf-8",
    )
    published: list[Message] = []
    engine = Engine(
        load_config(tmp_path / "cameras.yaml"),
        Settings(data_dir=tmp_path / "data"),
        published.append,
        detector_factory=lambda _d, _s: BlobDetector(),
    )
    engine.start()
    back: list[float] = []
    steady_fps: list[float] = []
    try:
        for camera in ("flappy", "steady"):
            _wait(engine, camera, (CameraState.ONLINE,), 30.0)
        time.sleep(HEALTHY_WAIT_S)
        for cycle in range(CYCLES):
            frames0, t0 = _frames("steady"), time.monotonic()
            flappy.stop()
            _wait(engine, "flappy", (CameraState.OFFLINE, CameraState.STALLED), 15.0)
            flappy.start()
            back.append(_wait(engine, "flappy", (CameraState.ONLINE,), BACK_LIMIT_S))
            time.sleep(HEALTHY_WAIT_S)
            steady_fps.append((_frames("steady") - frames0) / (time.monotonic() - t0))
            assert _state(engine, "steady") is CameraState.ONLINE
            if cycle == 0:
                threads0, fds0 = threading.active_count(), _fds()
        threads, fds = threading.active_count(), _fds()
    finally:
        engine.stop()
    print(f"back online after the server: median {statistics.median(back):.2f} s, max {max(back):.2f} s")
    print(f"steady camera: {min(steady_fps):.1f}..{max(steady_fps):.1f} frames/s per cycle")
    assert len(back) == CYCLES
    assert min(steady_fps) >= 0.7 * statistics.median(steady_fps)  # the other camera kept its rate
    assert threads <= threads0 + SLACK, (threads0, threads)
    assert fds <= fds0 + SLACK, (fds0, fds)
