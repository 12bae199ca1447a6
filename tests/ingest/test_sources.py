"""PyAV sources on real files and a real HTTP MJPEG stream."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pytest

from ioc.ingest import SourceError, SourceKind, iter_file_frames, probe_file, read_video_frames, source_kind
from ioc.ingest.reasons import Reason
from ioc.ingest.sources import file_path, redact_source
from ioc.messages import ReasonCode
from tests.ingest.clips import clip_image, write_clip
from tests.ingest.mjpeg_server import MjpegServer


@pytest.mark.parametrize(
    ("source", "kind"),
    [
        ("rtsp://10.0.0.5:554/stream1", SourceKind.RTSP),
        ("RTSPS://cam.local/live", SourceKind.RTSP),
        ("http://cam.local/video.mjpg", SourceKind.HTTP),
        ("https://cam.local/mjpeg", SourceKind.HTTP),
        ("file:///srv/demo.mp4", SourceKind.FILE),
        ("data/demo/intersection.mp4", SourceKind.FILE),
    ],
)
def test_source_kind(source: str, kind: SourceKind) -> None:
    assert source_kind(source) is kind


@pytest.mark.parametrize(
    ("source", "path"),
    [("file:///srv/my%20clip.mp4", Path("/srv/my clip.mp4")), ("clips/a.mp4", Path("clips/a.mp4"))],
)
def test_file_path(source: str, path: Path) -> None:
    assert file_path(source) == path


@pytest.mark.parametrize(
    ("source", "shown"),
    [
        ("rtsp://admin:s3cret@10.0.0.5:554/live", "rtsp://admin:***@10.0.0.5:554/live"),
        ("rtsp://cam/stream?user=x&password=s3cret", "rtsp://cam/stream?user=x&password=***"),
        ("rtsp://10.0.0.5/live", "rtsp://10.0.0.5/live"),
        ("http://viewer@cam/x.mjpg", "http://viewer@cam/x.mjpg"),
        ("/videos/a@b.mp4", "/videos/a@b.mp4"),
    ],
)
def test_passwords_never_shown(source: str, shown: str) -> None:
    assert redact_source(source) == shown
    assert "s3cret" not in str(SourceError(source, Reason.of(ReasonCode.REFUSED)))
    failed = Reason.of(ReasonCode.FAILED, detail=f"HTTPError: 401 Unauthorized for {source}")
    quoted = SourceError(source, failed)
    assert "s3cret" not in str(quoted) and "s3cret" not in quoted.reason.text


def test_iter_file_frames_gives_every_frame_at_its_pts(tmp_path: Path) -> None:
    pts_ms = [0, 100, 250, 300, 1000, 1040, 2500]
    clip = write_clip(tmp_path / "vfr.mkv", frames=len(pts_ms), pts_ms=pts_ms)
    frames = list(iter_file_frames(clip, start_time=1_700_000_000.0, camera_id="gate"))
    assert [f.timestamp for f in frames] == pytest.approx([p / 1000 for p in pts_ms], abs=1e-9)
    assert [f.wall_time for f in frames] == pytest.approx([1_700_000_000.0 + p / 1000 for p in pts_ms])
    assert [f.index for f in frames] == list(range(len(pts_ms)))
    assert {f.camera_id for f in frames} == {"gate"}
    assert all(f.image.shape == (240, 320, 3) and f.image.dtype == np.uint8 for f in frames)


def test_iter_file_frames_constant_rate_and_bgr_content(clip_15fps: Path) -> None:
    frames = list(iter_file_frames(clip_15fps))
    assert len(frames) == 30
    assert [f.timestamp for f in frames] == pytest.approx([i / 15 for i in range(30)], abs=1e-9)
    assert frames[0].camera_id == "clip15"
    expected = clip_image(5, 320, 240).astype(np.int16)
    assert np.abs(frames[5].image.astype(np.int16) - expected).mean() < 6  # BGR, not RGB


def test_probe_file(clip_15fps: Path) -> None:
    info = probe_file(clip_15fps)
    assert (info.fps, info.frame_count, info.width, info.height) == (15.0, 30, 320, 240)
    assert info.duration_s == pytest.approx(2.0, abs=0.07)


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("missing.mp4", None, "file not found"),
        ("junk.mp4", b"this is not a video", "not a readable video"),
        ("folder", "dir", "is a directory"),
    ],
)
def test_unreadable_files_raise_naming_the_path(
    tmp_path: Path, name: str, content: bytes | str | None, reason: str
) -> None:
    path = tmp_path / name
    if content == "dir":
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    for call in (lambda: list(iter_file_frames(path)), lambda: probe_file(path)):
        with pytest.raises(SourceError, match=reason) as info:
            call()
        assert str(path) in str(info.value)
        assert info.value.fatal


def _timed(images: Iterable[object], count: int) -> tuple[int, float]:
    started = time.monotonic()
    n = 0
    for _ in images:
        n += 1
        if n == count:
            break
    return n, time.monotonic() - started


def test_file_plays_in_real_time_and_loops(clip_15fps: Path) -> None:
    n, elapsed = _timed(read_video_frames(str(clip_15fps), loop=True), 45)  # 1.5 passes of a 30-frame clip
    assert n == 45
    assert elapsed == pytest.approx(44 / 15, abs=0.35)


def test_file_without_loop_ends_after_its_frames(clip_15fps: Path) -> None:
    n, elapsed = _timed(read_video_frames(f"file://{clip_15fps}", loop=False), 1000)
    assert n == 30
    assert elapsed == pytest.approx(29 / 15, abs=0.35)


def test_cancel_interrupts_pacing_promptly(clip_15fps: Path) -> None:
    cancel = threading.Event()
    frames = read_video_frames(str(clip_15fps), loop=True, cancel=cancel)
    next(frames)
    threading.Timer(0.3, cancel.set).start()
    n, elapsed = _timed(frames, 1000)
    assert elapsed < 0.6
    assert n < 10


def test_http_mjpeg_stream() -> None:
    server = MjpegServer(fps=10, width=160, height=120)
    try:
        n, elapsed = _timed(read_video_frames(server.url, read_timeout_s=3.0), 15)
        assert n == 15
        assert elapsed == pytest.approx(1.5, abs=0.6)  # the camera's pace, not faster
        frame = next(iter(read_video_frames(server.url)))
        assert (frame.width, frame.height) == (160, 120)
    finally:
        server.close()


def test_http_not_found_is_a_source_error() -> None:
    server = MjpegServer()
    try:
        with pytest.raises(SourceError) as info:
            next(iter(read_video_frames(server.url.replace("video.mjpg", "nope"), open_timeout_s=3.0)))
        assert "/nope" in str(info.value)
        assert not info.value.fatal
    finally:
        server.close()
