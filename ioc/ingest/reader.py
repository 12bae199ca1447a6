"""One camera reader: open the source, decode into the latest-frame slot, reconnect, watch for stalls.

Each ``CameraReader`` owns a supervising thread (the only owner of the camera's state machine) and,
per connection attempt, a short-lived source thread that opens the source and decodes frames into
the slot. The supervisor never blocks on I/O: it polls the attempt, declares ``stalled`` when no
frame came for ``stall_seconds`` and moves on; the abandoned source thread ends when PyAV's read
timeout interrupts its blocked read. So a dead camera cannot slow another, nor ``stop()``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from av.video.frame import VideoFrame

from ioc import metrics
from ioc.config.models import CameraConfig
from ioc.ingest.backoff import Backoff
from ioc.ingest.picture import AvPicture
from ioc.ingest.reasons import Reason
from ioc.ingest.slot import LatestFrameSlot
from ioc.ingest.sources import SourceError, SourceKind, read_video_frames, redact_source, source_kind
from ioc.ingest.state import StreamStateMachine
from ioc.messages import CameraState, CameraStatus
from ioc.messages import ReasonCode as R
from ioc.types import Frame

logger = logging.getLogger(__name__)

StatusCallback = Callable[[CameraStatus], None]
FPS_SMOOTHING = 0.2  # weight of the newest frame interval in the fps moving average
POLL_SECONDS = 0.1
READ_TIMEOUT_MARGIN_S = 1.0  # the watchdog declares a stall before PyAV's read timeout fires


class _Attempt:
    """One connection attempt, shared between the supervisor and its source thread."""

    def __init__(self, number: int) -> None:
        self.number = number
        self.cancel = threading.Event()
        self.done = threading.Event()
        self.started_at = time.monotonic()
        self.frames = 0
        self.last_frame_at: float | None = None
        self.error: SourceError | None = None


@dataclass(frozen=True, slots=True)
class _Outcome:
    state: CameraState
    reason: Reason
    final: bool = False  # end of a file that does not loop: the reader is done


class CameraReader(threading.Thread):
    """Daemon thread reading one camera into ``slot`` until ``stop()`` or ``stop_event``.

    ``on_status`` is called (from this thread) with the full ``CameraStatus`` on every state change.
    """

    def __init__(
        self,
        camera: CameraConfig,
        slot: LatestFrameSlot,
        on_status: StatusCallback,
        stop_event: threading.Event,
        *,
        backoff_initial: float = 0.5,
        backoff_max: float = 30.0,
        stall_seconds: float = 5.0,
        open_timeout_s: float = 10.0,
        healthy_seconds: float = 3.0,
    ) -> None:
        if stall_seconds <= 0:
            raise ValueError(f"camera {camera.id!r}: stall_seconds must be > 0, got {stall_seconds}")
        super().__init__(name=f"ioc-reader-{camera.id}", daemon=True)
        if slot.camera_id != camera.id:
            raise ValueError(f"camera {camera.id!r} was given the slot of camera {slot.camera_id!r}")
        self.camera = camera
        self.slot = slot
        self._on_status = on_status
        self._stop_event = stop_event
        self._halt = threading.Event()
        self._backoff = Backoff(backoff_initial, backoff_max)
        self._stall_s = stall_seconds
        self._open_timeout_s = open_timeout_s
        self._healthy_s = healthy_seconds
        self._kind = source_kind(camera.source)
        self._machine = StreamStateMachine(camera.id)
        self._lock = threading.Lock()  # guards the counters below; never held during I/O
        self._index = 0
        self._fps: float | None = None
        self._frame_dt: float | None = None
        self._last_frame_at: float | None = None
        self._reconnects = 0
        self._online_since: float | None = None
        self._attempt: _Attempt | None = None
        cam = camera.id
        self._m_read = metrics.FRAMES_READ.labels(camera=cam)
        self._m_fps = metrics.CAMERA_FPS.labels(camera=cam)
        self._m_up = metrics.CAMERA_UP.labels(camera=cam)
        self._m_reconnects = metrics.RECONNECTS.labels(camera=cam)

    # ---- public API -------------------------------------------------------------------------

    @property
    def camera_id(self) -> str:
        return self.camera.id

    @property
    def state(self) -> CameraState:
        with self._lock:
            return self._machine.state

    def stop(self, timeout: float = 2.0) -> bool:
        """Ask the reader to end and wait up to ``timeout`` s; ``True`` when its thread ended."""
        self._halt.set()
        if self.is_alive():
            self.join(timeout)
        return not self.is_alive()

    def snapshot(self) -> CameraStatus:
        """The camera's status now (state, fps, last frame age, reconnects, dropped frames)."""
        with self._lock:
            change = self._machine.current
            age = None if self._last_frame_at is None else time.monotonic() - self._last_frame_at
            fps = self._fps
            reconnects = self._reconnects
        return CameraStatus(
            camera_id=self.camera.id,
            state=change.state,
            **change.reason.status_fields(),
            changed_at=change.changed_at,
            fps=fps,
            last_frame_age_s=age,
            reconnects=reconnects,
            dropped_frames=self.slot.dropped,
        )

    # ---- supervisor thread ------------------------------------------------------------------

    def _stopping(self) -> bool:
        return self._halt.is_set() or self._stop_event.is_set()

    def _sleep(self, seconds: float) -> bool:
        """Wait ``seconds``; ``True`` as soon as the reader is asked to stop."""
        deadline = time.monotonic() + seconds
        while not self._stopping():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self._halt.wait(min(remaining, POLL_SECONDS))
        return True

    def run(self) -> None:
        logger.info("camera %s: reader started for %s", self.camera.id, redact_source(self.camera.source))
        self._emit()
        number = 0
        while not self._stopping():
            outcome = self._connect(number)
            if outcome is None:
                break
            self._finish(outcome)
            if outcome.final or self._sleep(self._next_delay()):
                break
            number += 1
            with self._lock:
                self._reconnects += 1
                self._machine.transition(CameraState.CONNECTING, Reason.of(R.RECONNECTING, n=number))
            self._m_reconnects.inc()
            self._emit()
        self._shutdown()

    def _connect(self, number: int) -> _Outcome | None:
        """One connection attempt, watched to its end. An unexpected failure here (a bug, no
        thread left to start) becomes an ``error`` status and a retry, never a dead reader that
        still says ``online``."""
        try:
            return self._watch(self._launch(number))
        except Exception as exc:
            logger.exception("camera %s: reader failed unexpectedly; retrying", self.camera.id)
            with self._lock:
                attempt = self._attempt
            if attempt is not None:
                attempt.cancel.set()
            return _Outcome(CameraState.ERROR, Reason.of(R.FAILED, detail=f"{type(exc).__name__}: {exc}"))

    def _launch(self, number: int) -> _Attempt:
        attempt = _Attempt(number)
        with self._lock:
            self._attempt = attempt
            self._frame_dt = None
        thread = threading.Thread(
            target=self._pump, args=(attempt,), name=f"ioc-source-{self.camera.id}-{number}", daemon=True
        )
        thread.start()
        return attempt

    def _watch(self, attempt: _Attempt) -> _Outcome | None:
        """Poll the attempt until it fails, ends or stalls; ``None`` when asked to stop."""
        while not self._sleep(POLL_SECONDS):
            with self._lock:
                frames, last = attempt.frames, attempt.last_frame_at
            if frames and self._machine.state is CameraState.CONNECTING:
                self._go_online()
            if attempt.done.is_set():
                return self._ended(attempt)
            limit = self._stall_s if frames else self._open_timeout_s + self._stall_s
            silent = time.monotonic() - (last if last is not None else attempt.started_at)
            if silent > limit:
                attempt.cancel.set()
                code = R.NO_FRAME if frames else R.NO_FIRST_FRAME
                return _Outcome(CameraState.STALLED, Reason.of(code, n=silent))
        attempt.cancel.set()
        return None

    def _ended(self, attempt: _Attempt) -> _Outcome:
        err = attempt.error
        if err is not None:
            return _Outcome(CameraState.ERROR if err.fatal else CameraState.OFFLINE, err.reason)
        if self._kind is SourceKind.FILE:
            return _Outcome(CameraState.OFFLINE, Reason.of(R.EOF), final=not self.camera.loop)
        return _Outcome(CameraState.OFFLINE, Reason.of(R.ENDED))

    def _go_online(self) -> None:
        with self._lock:
            self._machine.transition(CameraState.ONLINE, Reason.of(R.RECEIVING))
            self._online_since = time.monotonic()
        self._m_up.set(1)
        self._emit()

    def _finish(self, outcome: _Outcome) -> None:
        with self._lock:
            self._machine.transition(outcome.state, outcome.reason)
            self._fps = 0.0 if self._fps is not None else None
        self._m_up.set(0)
        self._m_fps.set(0)
        self._emit()

    def _next_delay(self) -> float:
        with self._lock:
            since, self._online_since = self._online_since, None
        if since is not None and time.monotonic() - since >= self._healthy_s:
            self._backoff.reset()
        delay = self._backoff.next_delay()
        logger.info("camera %s: reconnecting in %.2f s", self.camera.id, delay)
        return delay

    def _shutdown(self) -> None:
        with self._lock:
            attempt = self._attempt
            changed = self._machine.state is not CameraState.OFFLINE
            if changed:
                self._machine.transition(CameraState.OFFLINE, Reason.of(R.STOPPED))
        if attempt is not None:
            attempt.cancel.set()
        self._m_up.set(0)
        self._m_fps.set(0)
        if changed:
            self._emit(logging.INFO)  # asked to stop: not a problem worth a warning
        logger.info("camera %s: reader stopped", self.camera.id)

    def _emit(self, level: int | None = None) -> None:
        """Log the status change (a warning when the camera is not getting frames) and report it."""
        status = self.snapshot()
        if level is None:
            quiet = status.state in (CameraState.ONLINE, CameraState.CONNECTING)
            level = logging.INFO if quiet else logging.WARNING
        logger.log(level, "camera %s: %s (%s)", self.camera.id, status.state.value, status.reason)
        try:
            self._on_status(status)
        except Exception:
            logger.exception("camera %s: status callback failed", self.camera.id)

    # ---- source thread (one per attempt) ----------------------------------------------------

    def _pump(self, attempt: _Attempt) -> None:
        try:
            frames = read_video_frames(
                self.camera.source,
                loop=self.camera.loop,
                open_timeout_s=self._open_timeout_s,
                read_timeout_s=self._stall_s + READ_TIMEOUT_MARGIN_S,
                cancel=attempt.cancel,
            )
            for frame in frames:
                if attempt.cancel.is_set():
                    break
                self._deliver(attempt, frame)
        except SourceError as exc:
            attempt.error = exc
        except Exception as exc:  # a decoder bug must not kill the camera for good
            logger.exception("camera %s: unexpected source failure", self.camera.id)
            detail = f"{type(exc).__name__}: {exc}"
            attempt.error = SourceError(self.camera.source, Reason.of(R.OTHER, detail=detail))
        finally:
            attempt.done.set()

    def _deliver(self, attempt: _Attempt, decoded: VideoFrame) -> None:
        """Put ``decoded`` into the slot as it is: converted only if the pipeline takes it."""
        now = time.monotonic()
        with self._lock:
            if self._last_frame_at is not None and attempt.frames:
                dt = max(now - self._last_frame_at, 1e-6)
                prev = self._frame_dt
                self._frame_dt = dt if prev is None else prev + FPS_SMOOTHING * (dt - prev)
                self._fps = 1.0 / self._frame_dt
            index = self._index
            self._index += 1
            self._last_frame_at = now
            attempt.frames += 1
            attempt.last_frame_at = now
            fps = self._fps
        picture = AvPicture(decoded, self.camera.id)
        self.slot.put(Frame.lazy(self.camera.id, picture, timestamp=now, wall_time=time.time(), index=index))
        self._m_read.inc()
        if fps is not None:
            self._m_fps.set(fps)
