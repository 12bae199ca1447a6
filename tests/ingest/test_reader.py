"""CameraReader on real sources: files, a refused port, a silent server (RTSP servers: test_reader_rtsp)."""

from __future__ import annotations

import itertools
import logging
import socket
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY

from ioc import metrics
from ioc.ingest import CameraReader, LatestFrameSlot
from ioc.messages import CameraState, CameraStatus, ReasonCode
from tests.factories import make_camera
from tests.ingest.helpers import ReaderFactory, Recorder, free_port, ignore_status


def test_file_camera_goes_online_in_real_time(make_reader: ReaderFactory, clip_15fps: Path) -> None:
    reader, recorder = make_reader("file-live", str(clip_15fps), stall_seconds=2.0)
    read_before = metrics.FRAMES_READ.labels(camera="file-live")._value.get()
    recorder.wait_for(CameraState.ONLINE, timeout=5)
    frames = []
    deadline = time.monotonic() + 3.0  # 1.5 passes of the 2 s clip: crosses a loop
    while time.monotonic() < deadline:
        frame = reader.slot.take(timeout=0.5)
        if frame is not None:
            frames.append(frame)
    # 45 at exactly 15 fps; pacing catches up after a scheduling hiccup, so allow a little either
    # way. Unpaced decoding would deliver hundreds.
    assert 38 <= len(frames) <= 52
    stamps = [f.timestamp for f in frames]
    assert stamps == sorted(stamps)
    assert all(abs(f.wall_time - time.time()) < 5 for f in frames)
    assert [f.index for f in frames] == list(range(frames[0].index, frames[0].index + len(frames)))
    status = reader.snapshot()
    assert status.state is CameraState.ONLINE
    assert status.fps == pytest.approx(15, rel=0.2)
    assert status.last_frame_age_s is not None and status.last_frame_age_s < 0.5
    assert status.reconnects == 0
    assert metrics.CAMERA_UP.labels(camera="file-live")._value.get() == 1
    assert metrics.CAMERA_FPS.labels(camera="file-live")._value.get() == pytest.approx(15, rel=0.2)
    assert metrics.FRAMES_READ.labels(camera="file-live")._value.get() - read_before >= len(frames)
    assert recorder.states[:2] == [CameraState.CONNECTING, CameraState.ONLINE]


def test_file_without_loop_ends_offline(make_reader: ReaderFactory, clip_15fps: Path) -> None:
    reader, recorder = make_reader("file-once", str(clip_15fps), loop=False)
    end = recorder.wait_for(CameraState.OFFLINE, timeout=6)
    assert (end.reason, end.reason_code, end.reason_args) == ("end of file", ReasonCode.EOF, {})
    reader.join(timeout=2)
    assert not reader.is_alive()
    assert recorder.states == [CameraState.CONNECTING, CameraState.ONLINE, CameraState.OFFLINE]
    assert metrics.FRAMES_READ.labels(camera="file-once")._value.get() == 30


def test_missing_file_is_an_error_and_retried(make_reader: ReaderFactory, tmp_path: Path) -> None:
    missing = tmp_path / "gone.mp4"
    reader, recorder = make_reader("file-missing", str(missing), backoff_initial=0.1, backoff_max=0.2)
    status = recorder.wait_for(CameraState.ERROR, timeout=3)
    assert status.reason == "file not found"
    recorder.wait_for(CameraState.ERROR, timeout=3, after=recorder.statuses.index(status) + 1)
    assert reader.snapshot().reconnects >= 1


def test_refused_port_backs_off_with_capped_delays_and_stops_promptly(make_reader: ReaderFactory) -> None:
    url = f"rtsp://127.0.0.1:{free_port()}/cam"
    before = metrics.RECONNECTS.labels(camera="refused")._value.get()
    reader, recorder = make_reader("refused", url, backoff_initial=0.05, backoff_max=0.4)
    time.sleep(3.0)
    statuses = list(recorder.statuses)
    assert {s.reason for s in statuses if s.state is CameraState.OFFLINE} == {"connection refused"}
    starts = [s.changed_at.timestamp() for s in statuses if s.state is CameraState.CONNECTING]
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert len(gaps) >= 5
    assert gaps[-1] > gaps[0]  # it backs off ...
    assert max(gaps) < 0.4 * 1.0 + 0.35  # ... but never longer than the cap (+ one connect and poll)
    reconnects = reader.snapshot().reconnects
    assert reconnects == len(starts) - 1
    assert metrics.RECONNECTS.labels(camera="refused")._value.get() - before == reconnects
    started = time.monotonic()
    assert reader.stop(timeout=2.0)
    assert time.monotonic() - started < 2.0
    assert reader.state is CameraState.OFFLINE


def test_stop_is_prompt_while_connecting_to_a_silent_server(make_reader: ReaderFactory) -> None:
    with socket.socket() as silent:  # accepts TCP connections (backlog) but never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"rtsp://127.0.0.1:{silent.getsockname()[1]}/cam"
        reader, recorder = make_reader("silent", url, open_timeout_s=30.0)
        time.sleep(1.0)
        assert reader.state is CameraState.CONNECTING
        started = time.monotonic()
        assert reader.stop(timeout=2.0)
        assert time.monotonic() - started < 2.0
    assert recorder.states == [CameraState.CONNECTING, CameraState.OFFLINE]


def test_a_server_that_never_answers_times_out(make_reader: ReaderFactory) -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"rtsp://127.0.0.1:{silent.getsockname()[1]}/cam"
        _, recorder = make_reader("silent-timeout", url, open_timeout_s=0.5, stall_seconds=0.5)
        status = recorder.wait_for(CameraState.OFFLINE, timeout=5)
    assert status.reason == "no answer within 0.5 s (timed out)"
    assert (status.reason_code, status.reason_args) == (ReasonCode.NO_ANSWER, {"n": 0.5})


def test_a_failing_status_callback_does_not_kill_the_reader(clip_15fps: Path) -> None:
    def broken(status: CameraStatus) -> None:
        raise RuntimeError("subscriber bug")

    stop = threading.Event()
    reader = CameraReader(make_camera(id="cb", source=str(clip_15fps)), LatestFrameSlot("cb"), broken, stop)
    reader.start()
    try:
        assert reader.slot.take(timeout=5) is not None
        assert reader.is_alive()
    finally:
        assert reader.stop()


def test_a_normal_stop_is_logged_once_and_not_as_a_warning(
    make_reader: ReaderFactory, clip_15fps: Path, caplog: pytest.LogCaptureFixture
) -> None:
    reader, recorder = make_reader("calm", str(clip_15fps))
    recorder.wait_for(CameraState.ONLINE, timeout=5)
    with caplog.at_level(logging.INFO, logger="ioc.ingest.reader"):
        assert reader.stop()
    stopped = [r for r in caplog.records if r.getMessage() == "camera calm: offline (stopped)"]
    assert [r.levelno for r in stopped] == [logging.INFO]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


class _OnceBrokenReader(CameraReader):
    """A reader whose first connection attempt cannot start its source thread."""

    def _launch(self, number: int) -> Any:
        if number == 0:
            raise RuntimeError("can't start new thread")
        return super()._launch(number)


def test_an_unexpected_reader_failure_is_an_error_and_retried(clip_15fps: Path) -> None:
    recorder = Recorder()
    stop = threading.Event()
    camera = make_camera(id="crash", source=str(clip_15fps))
    reader = _OnceBrokenReader(camera, LatestFrameSlot("crash"), recorder, stop, backoff_initial=0.1)
    reader.start()
    try:
        error = recorder.wait_for(CameraState.ERROR, timeout=3)
        assert error.reason == "reader failed: RuntimeError: can't start new thread"
        recorder.wait_for(CameraState.ONLINE, timeout=5)
        assert reader.is_alive()
    finally:
        assert reader.stop()
    assert recorder.states[:4] == [
        CameraState.CONNECTING,
        CameraState.ERROR,
        CameraState.CONNECTING,
        CameraState.ONLINE,
    ]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"stall_seconds": 0.0}, "camera 'cam-1': stall_seconds must be > 0, got 0.0"),
        ({"backoff_initial": 5.0, "backoff_max": 1.0}, r"max delay \(1.0 s\) must be >= the initial"),
    ],
)
def test_bad_reader_settings_are_refused(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CameraReader(make_camera(), LatestFrameSlot("cam-1"), ignore_status, threading.Event(), **kwargs)


def test_slot_of_another_camera_is_refused() -> None:
    with pytest.raises(ValueError, match="camera 'cam-1' was given the slot of camera 'other'"):
        CameraReader(make_camera(), LatestFrameSlot("other"), ignore_status, threading.Event())


def test_reader_converts_only_the_frames_that_are_used(make_reader: ReaderFactory, clip_15fps: Path) -> None:
    def value(metric: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(metric, {"camera": "file-lazy", **labels}) or 0.0

    reader, recorder = make_reader("file-lazy", str(clip_15fps), stall_seconds=2.0)
    recorder.wait_for(CameraState.ONLINE, timeout=5)
    time.sleep(1.0)  # ~15 frames decoded; nobody looks at them
    used = [reader.slot.take(timeout=1.0) for _ in range(3)]
    for frame in used:
        assert frame is not None and frame.image.shape == (240, 320, 3) and frame.luma.shape == (240, 320)
    read = value("ioc_frames_read_total")
    assert read >= 15
    assert value("ioc_frames_converted_total", format="bgr") == 3
    assert value("ioc_frames_converted_total", format="luma") == 3
