"""Detection as a shared service: one loop per process (per model) serves every camera.

Readers fill latest-frame slots. For each camera the loop asks, at most ``detect.fps`` times a
second, whether the newest frame needs the detector: it does when the picture moved (a cheap
64×36 grey difference against the last frame detected), when the camera still has live tracks,
or when ``detect.recheck_seconds`` passed since its last detection (still objects). Frames that
need it are gathered into one batch (bounded size, bounded wait), grouped by input size, run
through ``Detector.detect`` and handed to each camera's worker through its bounded queue.

Frames that skip the detector are not processed further: rules only ever see detected frames,
whose timestamps keep dwell and cooldown right however many frames were skipped.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np
import numpy.typing as npt

from ioc import metrics
from ioc.config.models import CameraConfig
from ioc.detect.base import Detector
from ioc.types import Detections, Frame

logger = logging.getLogger(__name__)

ERROR_PAUSE_SECONDS = 0.5
"""After an unexpected failure the loop waits this long before going on (no busy error loop)."""

GreyImage = npt.NDArray[np.uint8]


class DetectionSink(Protocol):
    """Where a camera's detected frames go (a ``CameraWorker``)."""

    @property
    def camera(self) -> CameraConfig: ...

    def submit(self, frame: Frame, detections: Detections) -> bool: ...

    def has_live_tracks(self, at: float) -> bool: ...


class FrameSource(Protocol):
    """Where a camera's newest frame comes from (a ``LatestFrameSlot``)."""

    def take(self, timeout: float) -> Frame | None: ...


class Reason(enum.StrEnum):
    """Why a frame goes to the detector."""

    FIRST = "first"
    MOTION = "motion"
    TRACKS = "tracks"
    RECHECK = "recheck"


@dataclass(frozen=True, slots=True)
class MotionGate:
    """Changed-pixel ratio between two downscaled, blurred grey frames."""

    width: int = 64
    height: int = 36
    pixel_threshold: int = 18
    min_changed_ratio: float = 0.003

    def thumbnail(self, image: npt.NDArray[np.uint8]) -> GreyImage:
        grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
        small = cv2.resize(grey, (self.width, self.height), interpolation=cv2.INTER_AREA)
        return np.asarray(cv2.GaussianBlur(small, (3, 3), 0), dtype=np.uint8)

    def changed_ratio(self, before: GreyImage, after: GreyImage) -> float:
        diff = cv2.absdiff(before, after)
        return float(np.count_nonzero(diff > self.pixel_threshold)) / float(diff.size)

    def moved(self, before: GreyImage, after: GreyImage) -> bool:
        return self.changed_ratio(before, after) >= self.min_changed_ratio


def detection_reason(
    *, moved: bool | None, live_tracks: bool, since_last_detect: float | None, recheck_seconds: float
) -> Reason | None:
    """Why this frame needs the detector, or None when it can skip it.

    ``moved`` is None when there is no reference frame yet; ``since_last_detect`` is None when
    the camera was never detected.
    """
    if moved is None or since_last_detect is None:
        return Reason.FIRST
    if moved:
        return Reason.MOTION
    if live_tracks:
        return Reason.TRACKS
    if since_last_detect >= recheck_seconds:
        return Reason.RECHECK
    return None


@dataclass(frozen=True, slots=True)
class CameraFeed:
    """One camera as the detector loop sees it: where frames come from and where they go."""

    source: FrameSource
    sink: DetectionSink

    @property
    def camera(self) -> CameraConfig:
        return self.sink.camera


@dataclass(frozen=True, slots=True)
class _Pending:
    feed: CameraFeed
    frame: Frame
    thumbnail: GreyImage
    reason: Reason


@dataclass(frozen=True, slots=True)
class _GateState:
    taken_at: float  # loop clock when a frame was last taken from the slot
    reference: GreyImage | None = None  # thumbnail of the last frame detected
    detected_ts: float | None = None  # stream time of the last frame detected


class DetectorLoop:
    """Collects frames that need detection from many cameras and runs them in batches."""

    def __init__(
        self,
        detector: Detector,
        feeds: Sequence[CameraFeed],
        *,
        max_batch: int = 8,
        max_wait_seconds: float = 0.05,
        tick_seconds: float = 0.005,
        gate: MotionGate | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, got {max_batch}")
        self._detector = detector
        self._feeds = tuple(feeds)
        self._max_batch = max_batch
        self._max_wait = max_wait_seconds
        self._tick = tick_seconds
        self._gate = gate or MotionGate()
        self._clock = clock
        self._state: dict[str, _GateState] = {f.camera.id: _GateState(float("-inf")) for f in self._feeds}
        self._rotation = 0
        self.frames_detected = 0
        self.batches = 0

    @property
    def camera_ids(self) -> tuple[str, ...]:
        return tuple(f.camera.id for f in self._feeds)

    def run(self, stop_event: threading.Event) -> None:
        """Thread body: batch, detect, hand out, until ``stop_event`` is set."""
        logger.info("detector %s: serving cameras %s", self._detector.name, ", ".join(self.camera_ids))
        while not stop_event.wait(0):
            try:
                batch = self.collect(stop_event)
                if batch:
                    self.detect(batch)
            except Exception:  # the loop serves every camera: it must outlive any one failure
                logger.exception("detector %s: loop iteration failed; going on", self._detector.name)
                stop_event.wait(ERROR_PAUSE_SECONDS)
        logger.info(
            "detector %s: stopped after %d frames in %d batches",
            self._detector.name,
            self.frames_detected,
            self.batches,
        )

    # -- choosing frames --------------------------------------------------------------------

    def collect(self, stop_event: threading.Event) -> list[_Pending]:
        """Frames that need the detector: at most one per camera and ``max_batch`` in all.

        Waits (in ``tick_seconds`` steps) until at least one frame is found, then at most
        ``max_wait_seconds`` more for other cameras, or until the stop event is set.
        """
        batch: list[_Pending] = []
        first_at: float | None = None
        while True:
            self._poll(batch)
            if batch and first_at is None:
                first_at = self._clock()
            if len(batch) >= min(self._max_batch, len(self._feeds)):
                return batch
            if first_at is not None and self._clock() - first_at >= self._max_wait:
                return batch
            if stop_event.wait(self._tick):
                return batch

    def _poll(self, batch: list[_Pending]) -> None:
        in_batch = {p.feed.camera.id for p in batch}
        n = len(self._feeds)
        for k in range(n):
            feed = self._feeds[(self._rotation + k) % n]
            if len(batch) >= self._max_batch:
                break
            if feed.camera.id in in_batch:
                continue
            pending = self._take_guarded(feed)
            if pending is not None:
                batch.append(pending)
                in_batch.add(feed.camera.id)
        self._rotation = (self._rotation + 1) % max(n, 1)

    def _take_guarded(self, feed: CameraFeed) -> _Pending | None:
        """``_take``, but a failure on one camera's frame skips that frame, not every camera."""
        try:
            return self._take(feed)
        except Exception:
            camera_id = feed.camera.id
            logger.exception("camera %s: frame could not be prepared for the detector; skipped", camera_id)
            metrics.PIPELINE_ERRORS.labels(camera=camera_id, stage="gate").inc()
            state = self._state[camera_id]  # count the failed frame against the fps cap: no log flood
            self._state[camera_id] = _GateState(self._clock(), state.reference, state.detected_ts)
            return None

    def _take(self, feed: CameraFeed) -> _Pending | None:
        camera = feed.camera
        state = self._state[camera.id]
        now = self._clock()
        if now - state.taken_at < 1.0 / camera.detect.fps:
            return None
        frame = feed.source.take(0.0)
        if frame is None:
            return None
        self._state[camera.id] = _GateState(now, state.reference, state.detected_ts)
        thumb = self._gate.thumbnail(frame.image)
        reference = state.reference
        comparable = reference is not None and reference.shape == thumb.shape
        moved = self._gate.moved(reference, thumb) if reference is not None and comparable else None
        since = None if state.detected_ts is None else frame.timestamp - state.detected_ts
        if since is not None and since < 0:
            since = None  # the stream restarted (file looped, camera reconnected)
        reason = detection_reason(
            moved=moved,
            live_tracks=feed.sink.has_live_tracks(frame.timestamp),
            since_last_detect=since,
            recheck_seconds=camera.detect.recheck_seconds,
        )
        if reason is None:
            metrics.DETECTOR_SKIPPED.labels(camera=camera.id).inc()
            return None
        logger.debug("camera %s: frame %d to the detector (%s)", camera.id, frame.index, reason)
        return _Pending(feed, frame, thumb, reason)

    # -- running the detector ---------------------------------------------------------------

    def detect(self, batch: Sequence[_Pending]) -> None:
        """Run the detector on ``batch`` (grouped by input size) and hand out the results."""
        groups: dict[int, list[_Pending]] = {}
        for pending in batch:
            groups.setdefault(pending.feed.camera.detect.imgsz, []).append(pending)
        for imgsz, group in sorted(groups.items()):
            results = self._run_group(imgsz, group)
            if results is None:
                continue
            for pending, dets in zip(group, results, strict=True):
                cam = pending.feed.camera.id
                state = self._state[cam]
                self._state[cam] = _GateState(state.taken_at, pending.thumbnail, pending.frame.timestamp)
                pending.feed.sink.submit(pending.frame, dets)

    def _run_group(self, imgsz: int, group: list[_Pending]) -> list[Detections] | None:
        cameras = [p.feed.camera for p in group]
        classes = tuple(sorted({c for cam in cameras for c in cam.detect.classes}))
        confidence = min(cam.detect.confidence for cam in cameras)
        images = [p.frame.image for p in group]
        try:
            results = self._detector.detect(images, imgsz=imgsz, confidence=confidence, classes=classes)
        except Exception:
            logger.exception(
                "detector %s failed on cameras %s", self._detector.name, ", ".join(c.id for c in cameras)
            )
            for camera in cameras:
                metrics.PIPELINE_ERRORS.labels(camera=camera.id, stage="detect").inc()
            return None
        if len(results) != len(group):
            logger.error(
                "detector %s returned %d results for %d images (cameras %s)",
                self._detector.name,
                len(results),
                len(group),
                ", ".join(c.id for c in cameras),
            )
            return None
        self.frames_detected += len(group)
        self.batches += 1
        return results
