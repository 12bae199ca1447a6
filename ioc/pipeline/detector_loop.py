"""Detection as a shared service: one loop per process (per model) serves every camera.

Readers fill latest-frame slots. For each camera the loop takes the newest frame at most
``detect.fps`` times a second and asks that camera's ``DetectionPlanner`` what it needs: nothing,
full-resolution crops around motion and moving tracks, a re-check of stationary objects, a whole
frame, or just a *hold* (the frame goes to the worker without the detector so stationary objects
stay visible to rules). See ``planner.py``.

Fair scheduling when the detector is the bottleneck: each camera has at most one pending plan
(a newer frame replaces it: latest frame wins). Busy plans (something moves) go first; quiet ones
(re-checks of a still scene or of stationary objects) wait, but never longer than
``max_quiet_wait_seconds`` before they are served like busy ones, oldest first. Every wait is
observed in ``ioc_detector_wait_seconds``. Plans are run in batches (bounded size, bounded wait) by
``execute.run_plans`` and each camera's detections go to its worker's bounded queue.

Frames that skip the detector are not processed further: rules only ever see handed-on frames,
whose timestamps keep dwell and cooldown right however many frames were skipped.

Live (``run``), planning and inference overlap: a planning thread takes frames and plans them
(the motion gate of every camera) while the detector thread runs the previous batch, since the
inference releases the GIL. A camera with a plan in the detector is not planned again until that
plan is done (its planner needs the result: the motion reference, the re-check times). ``collect``
and ``detect`` remain the one-thread steps, used by tests with an injected clock.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from ioc import metrics
from ioc.config.models import CameraConfig
from ioc.detect.base import Detector
from ioc.pipeline.execute import run_plans
from ioc.pipeline.planner import DetectionPlanner, MotionGate, Plan, Reason
from ioc.types import Coverage, Detections, Frame, TrackHint

__all__ = ["CameraFeed", "DetectionSink", "DetectorLoop", "FrameSource", "MotionGate", "Reason"]

logger = logging.getLogger(__name__)

ERROR_PAUSE_SECONDS = 0.5
"""After an unexpected failure the loop waits this long before going on (no busy error loop)."""

MAX_QUIET_WAIT_SECONDS = 1.0
"""A quiet plan (re-check) that has waited this long is served before busy ones: no starvation."""


class DetectionSink(Protocol):
    """Where a camera's detected frames go (a ``CameraWorker``)."""

    @property
    def camera(self) -> CameraConfig: ...

    def submit(self, frame: Frame, detections: Detections, coverage: Coverage | None = None) -> bool: ...

    def track_hints(self) -> tuple[TrackHint, ...]: ...


class FrameSource(Protocol):
    """Where a camera's newest frame comes from (a ``LatestFrameSlot``)."""

    def take(self, timeout: float) -> Frame | None: ...


@dataclass(frozen=True, slots=True)
class CameraFeed:
    """One camera as the detector loop sees it: where frames come from and where they go."""

    source: FrameSource
    sink: DetectionSink

    @property
    def camera(self) -> CameraConfig:
        return self.sink.camera


@dataclass(frozen=True, slots=True)
class Pending:
    """A camera's plan waiting for the detector, and since when (loop clock) the camera has waited."""

    feed: CameraFeed
    plan: Plan
    since: float

    @property
    def reason(self) -> Reason:
        return self.plan.reason

    @property
    def frame(self) -> Frame:
        return self.plan.frame


@dataclass(slots=True)
class _CameraState:
    planner: DetectionPlanner
    due_at: float = float("-inf")  # loop clock from which the next frame may be taken (fps cap)
    pending: Pending | None = None
    in_flight: bool = False  # a plan of this camera is in the detector now


class DetectorLoop:
    """Collects the plans of many cameras and runs them through one detector, busiest first."""

    def __init__(
        self,
        detector: Detector,
        feeds: Sequence[CameraFeed],
        *,
        max_batch: int = 8,
        max_wait_seconds: float = 0.05,
        tick_seconds: float = 0.005,
        max_quiet_wait_seconds: float = MAX_QUIET_WAIT_SECONDS,
        gate: MotionGate | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, got {max_batch}")
        self._detector = detector
        self._feeds = tuple(feeds)
        self._max_batch = max_batch
        self._max_wait = max_wait_seconds
        self._max_quiet_wait = max_quiet_wait_seconds
        self._tick = tick_seconds
        self._clock = clock
        self._state = {f.camera.id: _CameraState(DetectionPlanner(f.camera, gate)) for f in self._feeds}
        self._rotation = 0
        self._lock = threading.Lock()
        self._planned = threading.Condition(self._lock)
        self.frames_detected = 0
        self.batches = 0

    @property
    def camera_ids(self) -> tuple[str, ...]:
        return tuple(f.camera.id for f in self._feeds)

    def run(self, stop_event: threading.Event) -> None:
        """Thread body: detect and hand out batches, while a second thread plans, until ``stop_event``."""
        logger.info("detector %s: serving cameras %s", self._detector.name, ", ".join(self.camera_ids))
        planner = threading.Thread(
            target=self._plan_forever, args=(stop_event,), name=f"plan-{self._detector.name}", daemon=True
        )
        planner.start()
        try:
            while not stop_event.wait(0):
                try:
                    batch = self._next_batch(stop_event)
                    if batch:
                        self._run_batch(batch)
                except Exception:  # the loop serves every camera: it must outlive any one failure
                    logger.exception("detector %s: loop iteration failed; going on", self._detector.name)
                    stop_event.wait(ERROR_PAUSE_SECONDS)
        finally:
            with self._planned:
                self._planned.notify_all()
            planner.join(timeout=5.0)
        logger.info(
            "detector %s: stopped after %d frames in %d batches",
            self._detector.name,
            self.frames_detected,
            self.batches,
        )

    def _plan_forever(self, stop_event: threading.Event) -> None:
        """Planning thread: take and plan each camera's newest frame while the detector works."""
        while not stop_event.wait(self._tick):
            try:
                self._poll_concurrently()
            except Exception:
                logger.exception("detector %s: planning failed; going on", self._detector.name)
                stop_event.wait(ERROR_PAUSE_SECONDS)

    def _next_batch(self, stop_event: threading.Event) -> list[Pending]:
        """Wait for planned work, then at most ``max_wait_seconds`` for more; mark it in flight."""
        with self._planned:
            first_at: float | None = None
            while not stop_event.is_set():
                waiting = self._waiting()
                if waiting:
                    first_at = self._clock() if first_at is None else first_at
                    if self._batch_ready(waiting, first_at):
                        chosen = self._select(waiting)
                        for p in chosen:
                            self._state[p.feed.camera.id].in_flight = True
                        return chosen
                self._planned.wait(self._tick if waiting else 0.1)
            return []

    def _run_batch(self, batch: list[Pending]) -> None:
        try:
            started = self._clock()
            results = self._infer(batch)
            with self._lock:
                self._hand_out_all(batch, results, started)
        finally:
            with self._lock:
                for p in batch:
                    self._state[p.feed.camera.id].in_flight = False

    # -- choosing frames --------------------------------------------------------------------

    def collect(self, stop_event: threading.Event) -> list[Pending]:
        """The plans to run next: at most one per camera and ``max_batch`` in all, busiest first.

        Waits (in ``tick_seconds`` steps) until at least one plan is pending, then at most
        ``max_wait_seconds`` more for other cameras, or until the stop event is set. Hold plans
        (no detector) are handed to their workers on the way.
        """
        first_at: float | None = None
        while True:
            self._poll()
            waiting = self._waiting()
            if waiting:
                first_at = self._clock() if first_at is None else first_at
                if self._batch_ready(waiting, first_at):
                    return self._select(waiting)
            if stop_event.wait(self._tick):
                return self._select(waiting)

    def _waiting(self) -> list[Pending]:
        return [s.pending for s in self._state.values() if s.pending is not None]

    def _batch_ready(self, waiting: list[Pending], first_at: float) -> bool:
        """A full batch, or the first plan has waited ``max_wait_seconds`` for company."""
        full = len(waiting) >= min(self._max_batch, len(self._feeds))
        return full or self._clock() - first_at >= self._max_wait

    def _select(self, waiting: list[Pending]) -> list[Pending]:
        now = self._clock()

        def order(p: Pending) -> tuple[int, float]:
            urgent = p.reason.busy or now - p.since >= self._max_quiet_wait
            return (0 if urgent else 1, p.since)

        chosen = sorted(waiting, key=order)[: self._max_batch]
        for p in chosen:
            self._state[p.feed.camera.id].pending = None
        return chosen

    def _poll(self) -> None:
        """One-thread planning: every camera whose turn it is, in rotating order."""
        for feed in self._rotated():
            if self._due(feed):
                plan = self._plan_guarded(feed)
                if plan is not None:
                    self._accept(feed, plan)

    def _poll_concurrently(self) -> None:
        """Planning beside a running detector: plans are made outside the lock, then accepted
        unless the camera's previous plan went to the detector meanwhile (then this one is stale)."""
        for feed in self._rotated():
            with self._lock:
                if not self._due(feed):
                    continue
            plan = self._plan_guarded(feed)
            if plan is None:
                continue
            with self._planned:
                if self._state[feed.camera.id].in_flight:
                    continue
                self._accept(feed, plan)
                self._planned.notify()

    def _rotated(self) -> list[CameraFeed]:
        n = len(self._feeds)
        order = [self._feeds[(self._rotation + k) % n] for k in range(n)]
        self._rotation = (self._rotation + 1) % max(n, 1)
        return order

    def _due(self, feed: CameraFeed) -> bool:
        state = self._state[feed.camera.id]
        return not state.in_flight and self._clock() >= state.due_at

    def _plan_guarded(self, feed: CameraFeed) -> Plan | None:
        """``_plan``, but a failure on one camera's frame skips that frame, not every camera."""
        try:
            return self._plan(feed)
        except Exception:
            camera_id = feed.camera.id
            logger.exception("camera %s: frame could not be prepared for the detector; skipped", camera_id)
            metrics.PIPELINE_ERRORS.labels(camera=camera_id, stage="gate").inc()
            self._taken(self._state[camera_id], feed.camera)  # counted against the fps cap: no log flood
            return None

    def _plan(self, feed: CameraFeed) -> Plan | None:
        """Take the camera's newest frame, if any, and plan it (None: no frame, or nothing to do)."""
        camera = feed.camera
        state = self._state[camera.id]
        frame = feed.source.take(0.0)
        if frame is None:
            return None
        self._taken(state, camera)
        if state.planner.camera is not camera:
            state.planner.reconfigure(camera)  # the worker took a new config (hot reload)
        plan = state.planner.plan(frame, feed.sink.track_hints())
        if plan is None:
            metrics.DETECTOR_SKIPPED.labels(camera=camera.id).inc()
        return plan

    def _taken(self, state: _CameraState, camera: CameraConfig) -> None:
        """A frame was taken: the next is due one period after this one was, so polling delays do
        not add up and a camera gets its ``detect.fps`` where the detector keeps up; but never
        sooner than half a period from now (no burst after a long wait)."""
        now, period = self._clock(), 1.0 / camera.detect.fps
        on_time = now - state.due_at < period
        state.due_at = max(state.due_at + period, now + period / 2) if on_time else now + period

    def _accept(self, feed: CameraFeed, plan: Plan) -> None:
        """A hold goes to the worker now (replacing an older waiting plan: frames stay in order);
        a detector plan waits, replacing the camera's older one (latest frame wins)."""
        state = self._state[feed.camera.id]
        if not plan.runs_detector:
            state.pending = None
            self._hand_out(feed, plan, Detections.empty())
            return
        now = self._clock()
        since = state.pending.since if state.pending is not None else now
        if state.pending is not None:
            logger.debug("camera %s: frame %d replaces a waiting one", feed.camera.id, plan.frame.index)
        state.pending = Pending(feed, plan, since)

    # -- running the detector ---------------------------------------------------------------

    def detect(self, batch: Sequence[Pending]) -> None:
        """Run the detector on ``batch`` and hand out the results (one-thread use)."""
        if batch:
            started = self._clock()
            self._hand_out_all(batch, self._infer(batch), started)

    def _infer(self, batch: Sequence[Pending]) -> list[Detections] | None:
        """The detector's answer per plan; None (counted, logged) when the detector failed."""
        if not batch:
            return None
        try:
            return run_plans(self._detector, [p.plan for p in batch])
        except Exception:
            cameras = [p.feed.camera.id for p in batch]
            logger.exception("detector %s failed on cameras %s", self._detector.name, ", ".join(cameras))
            for camera_id in cameras:
                metrics.PIPELINE_ERRORS.labels(camera=camera_id, stage="detect").inc()
            return None

    def _hand_out_all(
        self, batch: Sequence[Pending], results: list[Detections] | None, started: float
    ) -> None:
        """Hand each camera its detections; the wait observed is from planned to detector start."""
        if results is None:
            return
        self.frames_detected += len(batch)
        self.batches += 1
        for pending, dets in zip(batch, results, strict=True):
            priority = "busy" if pending.reason.busy else "quiet"
            metrics.DETECTOR_WAIT.labels(priority=priority).observe(max(started - pending.since, 0.0))
            self._hand_out(pending.feed, pending.plan, dets)

    def _hand_out(self, feed: CameraFeed, plan: Plan, dets: Detections) -> None:
        self._state[feed.camera.id].planner.done(plan)
        metrics.DETECTOR_FRAMES.labels(camera=feed.camera.id, reason=plan.reason.value).inc()
        logger.debug("camera %s: frame %d handed on (%s)", feed.camera.id, plan.frame.index, plan.reason)
        feed.sink.submit(plan.frame, dets, plan.coverage)
