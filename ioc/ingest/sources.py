"""Camera sources opened with PyAV: RTSP(S), HTTP(S) MJPEG and video files.

``read_video_frames`` is one connection to a live source (files play in real time and may loop);
it is what a ``CameraReader`` drives. ``iter_file_frames`` reads every frame of a file as fast as
it can with stream time taken from the presentation timestamps, for replays.

Decoded frames stay in the decoder's pixel format (YUV); nothing here converts them. The
pipeline converts the few it uses (``ioc.ingest.picture``), so a camera costs its decode only.

Decoder threads: each stream is decoded by ONE thread, the reader's own (``DECODER_THREADS``).
A site runs many cameras on few cores, so the streams already keep every core busy; a codec
thread pool per stream (FFmpeg's default: one thread per core) would only add threads, wake-ups
and, with frame threading, a frame of delay per thread. Camera H.264 usually has one slice per
frame, so slice threading has nothing to split anyway. PyAV releases the GIL while decoding, so
the readers' decoders run in parallel. Measured in ``benchmarks/decode_cost.py``.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import av
import av.error
from av.container import InputContainer
from av.video.frame import VideoFrame

from ioc.ingest.picture import AvPicture
from ioc.ingest.reasons import Reason
from ioc.messages import ReasonCode as R
from ioc.redact import redact_text, redact_url
from ioc.types import Frame

logger = logging.getLogger(__name__)

DECODER_THREADS = 1
"""Decoder threads per stream; see the module docstring for why one."""

MAX_PACING_LAG_S = 1.0
"""A file source that falls further behind real time than this re-anchors instead of bursting."""


class SourceKind(enum.StrEnum):
    RTSP = "rtsp"
    HTTP = "http"
    FILE = "file"


class SourceError(Exception):
    """A source could not be opened or read.

    ``fatal`` marks problems that waiting will not fix by itself (a missing file, data that is not
    video); network failures are not fatal. The message names the source, and ``reason`` (shown in
    camera statuses to every role) may quote it: both have credentials hidden (:mod:`ioc.redact`).
    """

    def __init__(self, source: str, reason: Reason, *, fatal: bool = False) -> None:
        reason = reason.redacted(redact_text)
        super().__init__(f"{redact_source(source)}: {reason.text}")
        self.source = source
        self.reason = reason
        self.fatal = fatal


@dataclass(frozen=True, slots=True)
class FileInfo:
    """What ``probe_file`` learns about a video file (for progress bars and tracker set-up)."""

    path: Path
    fps: float
    frame_count: int
    duration_s: float
    width: int
    height: int


def source_kind(source: str) -> SourceKind:
    """Which kind of source a ``cameras.yaml`` ``source:`` string names."""
    lower = source.lower()
    if lower.startswith(("rtsp://", "rtsps://")):
        return SourceKind.RTSP
    if lower.startswith(("http://", "https://")):
        return SourceKind.HTTP
    return SourceKind.FILE


def file_path(source: str) -> Path:
    """The path of a file source (``file://`` URLs included)."""
    if source.lower().startswith("file://"):
        return Path(unquote(urlsplit(source).path))
    return Path(source)


def redact_source(source: str) -> str:
    """The source with its password and sensitive query values replaced by ``***`` (for logs,
    errors and statuses); the rule is :func:`ioc.redact.redact_url`."""
    return redact_url(source)


def _options(kind: SourceKind, socket_timeout_s: float) -> dict[str, str]:
    timeout_us = str(int(socket_timeout_s * 1_000_000))
    if kind is SourceKind.RTSP:
        return {
            "rtsp_transport": "tcp",
            "fflags": "nobuffer",
            "flags": "low_delay",
            "probesize": "32",
            "analyzeduration": "0",
            "timeout": timeout_us,
        }
    if kind is SourceKind.HTTP:
        return {"fflags": "nobuffer", "flags": "low_delay", "timeout": timeout_us}
    return {}


def _classify(source: str, kind: SourceKind, exc: BaseException, timeout_s: float) -> SourceError:
    is_file = kind is SourceKind.FILE
    if isinstance(exc, SourceError):
        return exc
    if isinstance(exc, av.error.ExitError | TimeoutError):
        return SourceError(source, Reason.of(R.NO_DATA, n=timeout_s))
    if isinstance(exc, ConnectionRefusedError):
        return SourceError(source, Reason.of(R.REFUSED))
    if isinstance(exc, FileNotFoundError) and is_file:
        return SourceError(source, Reason.of(R.NOT_FOUND), fatal=True)
    if isinstance(exc, PermissionError) and is_file:
        return SourceError(source, Reason.of(R.DENIED), fatal=True)
    if isinstance(exc, IsADirectoryError) and is_file:
        return SourceError(source, Reason.of(R.IS_DIR), fatal=True)
    if isinstance(exc, av.error.InvalidDataError):
        if is_file:
            return SourceError(source, Reason.of(R.UNREADABLE), fatal=True)
        return SourceError(source, Reason.of(R.INVALID))
    if isinstance(exc, av.error.FFmpegError):
        reason = exc.strerror or str(exc)
        return SourceError(source, Reason.of(R.OTHER, detail=str(reason).lower()), fatal=False)
    if isinstance(exc, OSError):
        detail = (exc.strerror or str(exc)).lower()
        return SourceError(source, Reason.of(R.OTHER, detail=detail), fatal=is_file)
    return SourceError(source, Reason.of(R.OTHER, detail=f"{type(exc).__name__}: {exc}"))


def open_container(
    source: str, *, open_timeout_s: float = 10.0, read_timeout_s: float = 5.0
) -> InputContainer:
    """Open ``source`` with PyAV, low-latency options for streams; raises ``SourceError``."""
    kind = source_kind(source)
    target = str(file_path(source)) if kind is SourceKind.FILE else source
    if kind is SourceKind.FILE and not Path(target).is_file():
        reason = Reason.of(R.IS_DIR if Path(target).is_dir() else R.NOT_FOUND)
        raise SourceError(source, reason, fatal=True)
    started = time.monotonic()
    try:
        container = av.open(
            target,
            mode="r",
            options=_options(kind, max(open_timeout_s, read_timeout_s)),
            timeout=(open_timeout_s, read_timeout_s),
        )
    except Exception as exc:
        timed_out = time.monotonic() - started >= open_timeout_s * 0.95
        if timed_out and kind is not SourceKind.FILE and isinstance(exc, av.error.FFmpegError):
            raise SourceError(source, Reason.of(R.NO_ANSWER, n=open_timeout_s)) from exc
        raise _classify(source, kind, exc, open_timeout_s) from exc
    if not container.streams.video:
        container.close()
        raise SourceError(source, Reason.of(R.NO_VIDEO), fatal=True)
    return container


def configure_decoder(container: InputContainer, threads: int = DECODER_THREADS) -> None:
    """Set the first video stream's decoder threading (before its first packet is decoded)."""
    stream = container.streams.video[0]
    stream.thread_type = "SLICE"
    stream.codec_context.thread_count = threads


def _decoded(container: InputContainer, source: str, read_timeout_s: float) -> Iterator[VideoFrame]:
    """Decoded ``av.VideoFrame``s of the first video stream; errors become ``SourceError``."""
    kind = source_kind(source)
    try:
        configure_decoder(container)
        yield from container.decode(video=0)
    except Exception as exc:
        raise _classify(source, kind, exc, read_timeout_s) from exc


class _Pacer:
    """Sleeps so that stream time advances with the monotonic clock (files played in real time)."""

    def __init__(self, cancel: threading.Event) -> None:
        self._cancel = cancel
        self._origin: float | None = None

    def wait_until(self, stream_s: float) -> bool:
        """Wait until ``stream_s`` is due; ``False`` when cancelled meanwhile."""
        now = time.monotonic()
        if self._origin is None or now - (self._origin + stream_s) > MAX_PACING_LAG_S:
            self._origin = now - stream_s
        delay = self._origin + stream_s - now
        return not (delay > 0 and self._cancel.wait(delay))


def _frame_seconds(frame: VideoFrame, index: int, fps: float) -> float:
    t = frame.time
    return float(t) if t is not None else index / fps


def _stream_fps(container: InputContainer) -> float:
    stream = container.streams.video[0]
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    return float(rate) if rate else 25.0


def _file_pass(
    source: str, pacer: _Pacer, offset_s: float, cancel: threading.Event, read_timeout_s: float
) -> Iterator[tuple[VideoFrame, float]]:
    """One real-time pass over a file; yields (frame, end of its stream time incl. ``offset_s``)."""
    container = open_container(source, read_timeout_s=read_timeout_s)
    try:
        fps = _stream_fps(container)
        first: float | None = None
        for index, frame in enumerate(_decoded(container, source, read_timeout_s)):
            t = _frame_seconds(frame, index, fps)
            first = t if first is None else first
            stream_s = offset_s + (t - first)
            if not pacer.wait_until(stream_s):
                return
            yield frame, stream_s + 1.0 / fps
    finally:
        container.close()


def _file_frames(
    source: str, *, loop: bool, cancel: threading.Event, read_timeout_s: float
) -> Iterator[VideoFrame]:
    pacer = _Pacer(cancel)
    offset_s = 0.0
    while not cancel.is_set():
        produced = False
        for frame, end_s in _file_pass(source, pacer, offset_s, cancel, read_timeout_s):
            produced = True
            offset_s = end_s
            yield frame
        if not produced and not cancel.is_set():
            raise SourceError(source, Reason.of(R.NO_DECODABLE), fatal=True)
        if not loop:
            return
        logger.debug("%s: end of file, looping", redact_source(source))


def _stream_frames(
    source: str, *, open_timeout_s: float, read_timeout_s: float, cancel: threading.Event
) -> Iterator[VideoFrame]:
    container = open_container(source, open_timeout_s=open_timeout_s, read_timeout_s=read_timeout_s)
    try:
        for frame in _decoded(container, source, read_timeout_s):
            if cancel.is_set():
                return
            yield frame
    finally:
        container.close()


def read_video_frames(
    source: str,
    *,
    loop: bool = True,
    open_timeout_s: float = 10.0,
    read_timeout_s: float = 5.0,
    cancel: threading.Event | None = None,
) -> Iterator[VideoFrame]:
    """One connection to ``source``: decoded frames as they arrive, in the decoder's format.

    Streams yield as fast as the camera sends; files are paced to real time by their
    timestamps and start again at the end when ``loop``. The iterator ends when the stream ends
    (or the file, without ``loop``) or ``cancel`` is set, and raises ``SourceError`` on failure.
    A blocked read gives up after ``read_timeout_s``.
    """
    cancel = cancel or threading.Event()
    if source_kind(source) is SourceKind.FILE:
        return _file_frames(source, loop=loop, cancel=cancel, read_timeout_s=read_timeout_s)
    return _stream_frames(source, open_timeout_s=open_timeout_s, read_timeout_s=read_timeout_s, cancel=cancel)


def iter_file_frames(path: Path, start_time: float = 0.0, *, camera_id: str | None = None) -> Iterator[Frame]:
    """Every frame of a video file, as fast as decoding goes (replays).

    ``timestamp`` is seconds from the first frame by presentation time (frame index / fps when a
    frame has no pts); ``wall_time = start_time + timestamp``. ``camera_id`` defaults to the
    file's stem. Frames are lazy (``Frame.lazy``): converted only when used. Raises
    ``SourceError`` naming the path if the file cannot be read.
    """
    source = str(path)
    cam = camera_id if camera_id is not None else Path(path).stem
    container = open_container(source)
    try:
        fps = _stream_fps(container)
        first: float | None = None
        for index, frame in enumerate(_decoded(container, source, 5.0)):
            t = _frame_seconds(frame, index, fps)
            first = t if first is None else first
            ts = t - first
            picture = AvPicture(frame, cam)
            yield Frame.lazy(cam, picture, timestamp=ts, wall_time=start_time + ts, index=index)
    finally:
        container.close()


def probe_file(path: Path) -> FileInfo:
    """Frame rate, frame count, duration and size of a video file; raises ``SourceError``."""
    container = open_container(str(path))
    try:
        stream = container.streams.video[0]
        fps = _stream_fps(container)
        if stream.duration is not None and stream.time_base is not None:
            duration_s = float(stream.duration * stream.time_base)
        elif container.duration is not None:
            duration_s = container.duration / av.time_base
        else:
            duration_s = 0.0
        frame_count = int(stream.frames) or round(duration_s * fps)
        return FileInfo(
            path=Path(path),
            fps=fps,
            frame_count=frame_count,
            duration_s=duration_s,
            width=int(stream.codec_context.width),
            height=int(stream.codec_context.height),
        )
    finally:
        container.close()
