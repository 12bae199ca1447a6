"""The camera worker: the one owner of a camera's tracker, rule state and alert lifecycle.

It is handed (frame, detections) pairs by the shared detector loop (live) or by ``replay`` (files)
and runs track → rules → events, passing every Alert to a publish callable (``Bus.publish``).
Nothing else touches its state, so it needs no locks except around the live tile, which the API
reads from another thread.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, tzinfo

import cv2
import numpy as np

from ioc import metrics
from ioc.config.models import CameraConfig
from ioc.events.lifecycle import AlertLifecycle
from ioc.events.snapshot import SnapshotWriter, annotate
from ioc.messages import Alert, AlertState, FlowCount
from ioc.pipeline.flows import FlowCounter
from ioc.rules.base import without_masked
from ioc.rules.engine import RuleEngine
from ioc.track.tracker import Tracker
from ioc.types import Coverage, Detections, Frame, LiveTile, TrackHint

logger = logging.getLogger(__name__)

Publish = Callable[[Alert | FlowCount], object]

TILE_INTERVAL_SECONDS = 0.5
"""A live tile is re-encoded at most this often (about twice a second), and only when asked for."""

TILE_JPEG_QUALITY = 75
QUEUE_SIZE = 2
"""Detected frames waiting for a worker; more would only add latency (latest frame wins)."""

IDLE_MARGIN_SECONDS = 1.0
"""A healthy camera hands its worker a frame at least every ``detect.recheck_seconds``; silence
longer than that (or than ``alerts.end_after_seconds``) plus this margin means the camera or the
detector is down, and the worker ends the alerts that would have ended on a frame."""


@dataclass(frozen=True, slots=True)
class DetectedFrame:
    """A frame with the detector's output for it (already filtered for this camera)."""

    frame: Frame
    detections: Detections
    coverage: Coverage | None = None


def camera_filter(camera: CameraConfig, dets: Detections) -> Detections:
    """Keep this camera's classes at or above its confidence (the detector output is shared), minus
    detections whose anchor is inside one of the camera's ``masks`` (never tracked, never drawn)."""
    if len(dets) == 0:
        return dets
    classes = np.asarray(camera.detect.classes, dtype=object)
    mask = np.isin(dets.class_name, classes) & (dets.confidence >= camera.detect.confidence)
    return without_masked(dets[mask], camera.masks)


class CameraWorker:
    """track → rules → events for one camera. ``process`` must be called from one thread only."""

    def __init__(
        self,
        camera: CameraConfig,
        *,
        tracker: Tracker,
        rules: RuleEngine,
        lifecycle: AlertLifecycle,
        publish: Publish,
        stamp_source_time: bool = False,
        queue_size: int = QUEUE_SIZE,
        clock: Callable[[], float] = time.monotonic,
        tz: tzinfo = UTC,
    ) -> None:
        self._camera = camera
        self._tz = tz
        self._tracker = tracker
        self._rules = rules
        self._lifecycle = lifecycle
        self._publish = publish
        self._stamp_source_time = stamp_source_time
        self._queue: queue.Queue[DetectedFrame] = queue.Queue(maxsize=queue_size)
        self._dropped = 0
        self._processed = 0
        self._latest: DetectedFrame | None = None
        self._clock = clock
        self._latest_at = float("-inf")  # clock reading when ``_latest`` was processed
        alerts = camera.alerts
        self._idle_seconds = (
            max(camera.detect.recheck_seconds, alerts.end_after_seconds) + IDLE_MARGIN_SECONDS
        )
        self._tile: LiveTile | None = None
        self._tile_lock = threading.Lock()
        self._flows = FlowCounter(camera)
        self._pending_camera: CameraConfig | None = None  # hot reload, applied by the owner thread
        self._pending_lock = threading.Lock()
        self._processed_metric = metrics.FRAMES_PROCESSED.labels(camera=camera.id)
        self._dropped_metric = metrics.WORKER_DROPPED.labels(camera=camera.id)
        self._errors_metric = metrics.PIPELINE_ERRORS.labels(camera=camera.id, stage="worker")
        self._stationary_metric = metrics.STATIONARY_OBJECTS.labels(camera=camera.id)
        self._tracked_metric = metrics.TRACKED_OBJECTS.labels(camera=camera.id)
        self._continued_metric = metrics.IDS_CONTINUED.labels(camera=camera.id)

    @classmethod
    def build(
        cls,
        camera: CameraConfig,
        *,
        publish: Publish,
        snapshots: SnapshotWriter | None,
        frame_rate: float | None = None,
        stamp_source_time: bool = False,
        tz: tzinfo | None = None,
    ) -> CameraWorker:
        """A worker with a fresh tracker, rule engine and lifecycle built from ``camera``.

        ``frame_rate`` is the rate frames will arrive at (default: the camera's ``detect.fps``);
        ``tz`` the site's time zone for rule schedules and the tile clock (default: the snapshot
        writer's, else UTC).
        """
        rate = frame_rate if frame_rate is not None else camera.detect.fps
        if tz is None:
            tz = snapshots.tz if snapshots is not None else UTC
        return cls(
            camera,
            tracker=Tracker(camera.track, rate, camera.detect.stationary_seconds),
            rules=RuleEngine(camera, tz),
            lifecycle=AlertLifecycle(camera, snapshots),
            publish=publish,
            stamp_source_time=stamp_source_time,
            tz=tz,
        )

    @property
    def camera(self) -> CameraConfig:
        return self._camera

    @property
    def camera_id(self) -> str:
        return self._camera.id

    @property
    def dropped(self) -> int:
        """Detected frames dropped because this worker was still busy with earlier ones."""
        return self._dropped

    @property
    def processed(self) -> int:
        return self._processed

    def track_hints(self) -> tuple[TrackHint, ...]:
        """The objects this camera tracks, for the detection planner (safe to read from any thread)."""
        return self._tracker.hints()

    # -- the owner thread -------------------------------------------------------------------

    def process(self, frame: Frame, detections: Detections, coverage: Coverage | None = None) -> list[Alert]:
        """Run one handed-on frame through track → rules → events; publish and return its alerts.

        ``coverage`` is what the detector examined (default: the whole frame); stationary objects
        outside it are held by the tracker.
        """
        self._apply_reconfigure()
        mine = camera_filter(self._camera, detections)
        continued = self._tracker.continued
        with metrics.STAGE_SECONDS.labels(stage="track").time():
            tracked = self._tracker.update(mine, frame, coverage)
        self._track_metrics(continued)
        with metrics.STAGE_SECONDS.labels(stage="rules").time():
            hits = self._rules.evaluate(tracked, frame.timestamp, frame.wall_time)
        with metrics.STAGE_SECONDS.labels(stage="events").time():
            alerts = self._lifecycle.step(hits, frame, tracked)
        self._emit_flows(self._flows.step(hits, frame), frame)
        self._latest = DetectedFrame(frame, tracked)
        self._latest_at = self._clock()
        self._processed += 1
        self._processed_metric.inc()
        return self._emit(alerts, frame)

    def _track_metrics(self, continued_before: int) -> None:
        hints = self._tracker.hints()
        self._tracked_metric.set(sum(1 for h in hints if not h.lost))
        self._stationary_metric.set(sum(1 for h in hints if h.stationary and not h.lost))
        mended = self._tracker.continued - continued_before
        if mended:
            self._continued_metric.inc(mended)

    def flush(self) -> list[Alert]:
        """End every open alert at the last processed frame (shutdown, end of file)."""
        latest = self._latest
        if latest is None:
            return []
        self._emit_flows(self._flows.flush(), latest.frame)
        return self._emit(self._lifecycle.flush(latest.frame), latest.frame)

    def expire_idle(self) -> list[Alert]:
        """When no frame has come for a while (camera or detector down), end the open alerts whose
        condition has not held for ``alerts.end_after_seconds``, at the stream time the silence
        has reached (last frame's time + time since it was processed)."""
        latest = self._latest
        if latest is None or self._lifecycle.open_count == 0:
            return []
        silent = self._clock() - self._latest_at
        if silent < self._idle_seconds:
            return []
        frame = latest.frame
        alerts = self._lifecycle.expire(frame.timestamp + silent, frame.wall_time + silent)
        if alerts:
            logger.info(
                "camera %s: no frame for %.1f s; ended %d alerts", self.camera_id, silent, len(alerts)
            )
        return self._emit(alerts, frame)

    def _emit(self, alerts: list[Alert], frame: Frame) -> list[Alert]:
        if self._stamp_source_time:
            stamp = round(frame.timestamp, 3)
            alerts = [a.model_copy(update={"source_time_s": stamp}) for a in alerts]
        for alert in alerts:
            try:
                self._publish(alert)
            except Exception:
                logger.exception("camera %s: publishing alert %s failed", self.camera_id, alert.id)
                continue
            if not self._stamp_source_time and alert.state is AlertState.START:
                metrics.FRAME_TO_ALERT.observe(max(time.time() - frame.wall_time, 0.0))
        return alerts

    def _emit_flows(self, flows: list[FlowCount], frame: Frame) -> None:
        for flow in flows:
            if self._stamp_source_time:
                flow = flow.model_copy(update={"source_time_s": round(frame.timestamp, 3)})
            try:
                self._publish(flow)
            except Exception:
                logger.exception("camera %s: publishing flow of rule %s failed", self.camera_id, flow.rule_id)

    # -- hot reload -------------------------------------------------------------------------

    def reconfigure(self, camera: CameraConfig) -> None:
        """Switch to ``camera`` (same id) before the next frame; thread-safe, applied by the owner
        thread (``ioc.pipeline.reconfigure`` says what is kept)."""
        with self._pending_lock:
            self._pending_camera = camera

    def _apply_reconfigure(self) -> None:
        with self._pending_lock:
            camera, self._pending_camera = self._pending_camera, None
        if camera is None:
            return
        from ioc.pipeline.reconfigure import rebuild

        latest = self._latest.frame if self._latest is not None else None
        try:
            parts = rebuild(
                self._camera, camera, self._tracker, self._rules, self._lifecycle, self._flows, latest,
                tz=self._tz,
            )
        except Exception:
            logger.exception("camera %s: applying the new config failed; the old one stays", self.camera_id)
            self._errors_metric.inc()
            return
        self._camera, self._tracker, self._rules = camera, parts.tracker, parts.rules
        self._idle_seconds = (
            max(camera.detect.recheck_seconds, camera.alerts.end_after_seconds) + IDLE_MARGIN_SECONDS
        )
        if latest is not None:
            self._emit_flows(parts.flows, latest)
            self._emit(parts.alerts, latest)

    # -- the queue between the detector loop and the owner thread ---------------------------

    def submit(self, frame: Frame, detections: Detections, coverage: Coverage | None = None) -> bool:
        """Queue a detected frame for the owner thread. Never blocks; a full queue drops (counted)."""
        try:
            self._queue.put_nowait(DetectedFrame(frame, detections, coverage))
        except queue.Full:
            self._dropped += 1
            self._dropped_metric.inc()
            logger.debug("camera %s: worker behind, detected frame %d dropped", self.camera_id, frame.index)
            return False
        return True

    def drain(self) -> int:
        """Process what is queued now, on the calling thread (which must be the owner). Returns the count."""
        done = 0
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return done
            self.process(item.frame, item.detections, item.coverage)
            done += 1

    def run(self, stop_event: threading.Event, poll_seconds: float = 0.1) -> None:
        """Owner-thread body: process queued frames until ``stop_event``; then end open alerts."""
        logger.info("camera %s: worker started", self.camera_id)
        while not stop_event.wait(0):
            try:
                item = self._queue.get(timeout=poll_seconds)
            except queue.Empty:
                self._apply_reconfigure()
                self._expire_idle_guarded()
                continue
            try:
                self.process(item.frame, item.detections, item.coverage)
            except Exception:
                logger.exception("camera %s: frame %d failed in the worker", self.camera_id, item.frame.index)
                self._errors_metric.inc()
        try:
            self.flush()
        except Exception:
            logger.exception("camera %s: flushing open alerts failed", self.camera_id)
        logger.info("camera %s: worker stopped after %d frames", self.camera_id, self._processed)

    def _expire_idle_guarded(self) -> None:
        try:
            self.expire_idle()
        except Exception:
            logger.exception("camera %s: ending idle alerts failed", self.camera_id)

    # -- live tile (read from API threads) --------------------------------------------------

    def latest_jpeg(self, now: float | None = None) -> bytes | None:
        """The latest processed frame with boxes, zones and lines drawn, as JPEG.

        Encoded lazily when asked for, and at most once per ``TILE_INTERVAL_SECONDS``.
        """
        tile = self.live_tile(now=now)
        return None if tile is None else tile.jpeg

    def live_tile(self, after_index: int | None = None, now: float | None = None) -> LiveTile | None:
        """The live tile (see :meth:`latest_jpeg`) with the index of the frame it shows; None before
        the first processed frame, or when the latest processed frame is ``after_index`` (nothing
        new since the tile the caller has: nothing is encoded)."""
        latest = self._latest
        if latest is None or latest.frame.index == after_index:
            return None
        clock = time.monotonic() if now is None else now
        with self._tile_lock:
            tile = self._tile
            fresh = tile is not None and (
                tile.index == latest.frame.index or clock - tile.encoded_at < TILE_INTERVAL_SECONDS
            )
            if tile is not None and fresh:
                return None if tile.index == after_index else tile
            image = annotate(latest.frame, latest.detections, self._camera, tz=self._tz)
            ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, TILE_JPEG_QUALITY])
            if not ok:
                logger.warning("camera %s: could not encode the live tile", self.camera_id)
                return tile
            self._tile = LiveTile(latest.frame.index, clock, buf.tobytes())
            return self._tile
