"""CameraReader against real RTSP servers (GStreamer, one process per camera)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from ioc.ingest import CameraReader, LatestFrameSlot, read_video_frames
from ioc.messages import CameraState
from tests.factories import make_camera
from tests.ingest.clips import write_clip
from tests.ingest.helpers import ReaderFactory, Recorder, collect, ignore_status
from tests.rtsp_fixture import RtspServer

pytestmark = pytest.mark.slow
FPS = 15


def test_rtsp_camera_goes_online_and_delivers_frames(
    make_reader: ReaderFactory, rtsp_server: RtspServer
) -> None:
    reader, recorder = make_reader("rtsp-1", rtsp_server.url("cam1"), stall_seconds=3.0)
    recorder.wait_for(CameraState.ONLINE, timeout=10)
    assert recorder.states[:2] == [CameraState.CONNECTING, CameraState.ONLINE]
    seen = collect(reader.slot, 2.0)
    assert len(seen) >= 0.7 * 2.0 * FPS
    frame = reader.slot.peek()
    assert frame is not None and frame.image.shape == (240, 320, 3)
    status = reader.snapshot()
    assert status.fps == pytest.approx(FPS, rel=0.25)
    assert status.last_frame_age_s is not None and status.last_frame_age_s < 0.5


def test_rtsp_server_loops_a_file(rtsp_server_factory: Callable[..., RtspServer], tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "loop.h264", frames=15, fps=FPS, container_format="h264")
    server = rtsp_server_factory({"clip": str(clip)}, fps=FPS)
    started, n = time.monotonic(), 0
    for _ in read_video_frames(server.url("clip"), read_timeout_s=3.0):
        n += 1
        if n == 40:  # 2.7 passes over the 1 s file
            break
    assert time.monotonic() - started == pytest.approx(40 / FPS, abs=1.0)


def test_dead_camera_does_not_slow_the_other_and_comes_back(
    make_reader: ReaderFactory, rtsp_server_factory: Callable[..., RtspServer]
) -> None:
    server_a, server_b = rtsp_server_factory(fps=FPS), rtsp_server_factory(fps=FPS)
    opts = {"stall_seconds": 2.0, "backoff_initial": 0.2, "backoff_max": 1.0}
    reader_a, rec_a = make_reader("two-a", server_a.url("cam1"), **opts)
    reader_b, rec_b = make_reader("two-b", server_b.url("cam1"), **opts)
    rec_a.wait_for(CameraState.ONLINE, timeout=10)
    rec_b.wait_for(CameraState.ONLINE, timeout=10)

    server_a.stop()
    killed = time.monotonic()
    outage: list[int] = []
    collector = threading.Thread(target=lambda: outage.extend(collect(reader_b.slot, 4.0)))
    collector.start()
    down = rec_a.wait_for(CameraState.OFFLINE, timeout=5)
    assert time.monotonic() - killed < 3.0
    assert down.reason in {"stream ended", "connection refused"}
    collector.join()
    assert len(outage) >= 0.7 * 4.0 * FPS, f"camera b slowed down: {len(outage)} frames in 4 s"
    assert rec_b.states == [CameraState.CONNECTING, CameraState.ONLINE]
    assert reader_a.snapshot().state is not CameraState.ONLINE

    mark = len(rec_a.statuses)
    server_a.start()  # same port: the camera comes back at the same URL
    rec_a.wait_for(CameraState.ONLINE, timeout=10, after=mark)
    assert len(collect(reader_a.slot, 1.0)) >= 0.7 * FPS
    assert reader_a.snapshot().reconnects >= 1
    assert reader_b.snapshot().reconnects == 0


def test_hung_camera_is_stalled_then_reconnects(make_reader: ReaderFactory, rtsp_server: RtspServer) -> None:
    reader, recorder = make_reader("hung", rtsp_server.url("cam1"), stall_seconds=1.5, backoff_initial=0.2)
    recorder.wait_for(CameraState.ONLINE, timeout=10)
    rtsp_server.pause()  # connection open, no data: only the watchdog can notice
    paused = time.monotonic()
    try:
        stalled = recorder.wait_for(CameraState.STALLED, timeout=8)
        assert stalled.reason.startswith("no frame for ")
        assert time.monotonic() - paused < 6.0
    finally:
        rtsp_server.resume()
    mark = recorder.statuses.index(stalled)
    recorder.wait_for(CameraState.ONLINE, timeout=15, after=mark)
    assert reader.snapshot().reconnects >= 1


def test_stop_is_prompt_while_streaming(rtsp_server: RtspServer) -> None:
    stop = threading.Event()
    reader = CameraReader(
        make_camera(id="stop-live", source=rtsp_server.url("cam1")),
        LatestFrameSlot("stop-live"),
        ignore_status,
        stop,
    )
    reader.start()
    assert reader.slot.take(timeout=10) is not None
    started = time.monotonic()
    stop.set()
    reader.join(timeout=2.0)
    assert not reader.is_alive()
    assert time.monotonic() - started < 2.0


def _first_retry_delay(recorder: Recorder, after: int) -> float:
    """Seconds between the first offline status after ``after`` and the reconnect that follows."""
    down = recorder.wait_for(CameraState.OFFLINE, timeout=5, after=after)
    retry = recorder.wait_for(CameraState.CONNECTING, timeout=5, after=recorder.statuses.index(down) + 1)
    return (retry.changed_at - down.changed_at).total_seconds()


def test_backoff_resets_after_a_healthy_period(make_reader: ReaderFactory, rtsp_server: RtspServer) -> None:
    opts = {"backoff_initial": 0.3, "backoff_max": 2.4, "healthy_seconds": 1.0, "stall_seconds": 2.0}
    _, recorder = make_reader("healthy", rtsp_server.url("cam1"), **opts)
    recorder.wait_for(CameraState.ONLINE, timeout=10)
    rtsp_server.stop()
    time.sleep(3.5)  # refused attempts after 0.3, 0.6, 1.2 s: the next delay would be 2.4 s
    mark = len(recorder.statuses)
    rtsp_server.start()
    recorder.wait_for(CameraState.ONLINE, timeout=10, after=mark)
    time.sleep(1.5)  # healthy for longer than healthy_seconds
    mark = len(recorder.statuses)
    rtsp_server.stop()
    assert _first_retry_delay(recorder, mark) < 0.3 * 1.1 + 0.15
