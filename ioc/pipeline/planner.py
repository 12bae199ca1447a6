"""What the detector should look at in a camera's newest frame: nothing, some regions, or all of it.

One ``DetectionPlanner`` per camera, used by the live detector loop and by ``ioc replay`` alike, so
a dry run on footage makes the same choices the wall will. It is pure: stream time from the frame,
no clock, no I/O. For each frame offered (at most ``detect.fps`` a second) it answers:

- **full frame** (``regions is None``): the first frame; every ``detect.recheck_seconds`` (a
  re-check); or when the regions below would be too many or cover most of the frame.
- **regions** around what needs looking at, cut from the full-resolution frame (``regions.py``):
  *motion* (blobs where the picture changed since the last detected frame), *moving tracks*
  (live or just-lost objects that are not stationary: they may have moved on) and *stationary
  objects due for a re-check* (every ``detect.stationary_recheck_seconds``).
- **hold** (``regions == ()``, no detector): nothing moved and nothing is due, but the camera
  tracks stationary objects; the frame goes to the worker anyway about once a second
  (``HOLD_SECONDS``), so rules keep seeing a parked car and its alert stays open, at no
  detector cost.
- **skip** (``None``): nothing to do.

A parked car is therefore one crop every few seconds, not a full-rate camera; a quiet street costs
a full-frame pass every ``recheck_seconds``. With ``detect.regions: false`` the planner sends
whole frames whenever something moved or a track is live (the behaviour before regions).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from ioc.config.models import CameraConfig
from ioc.detect.regions import Region, plan_regions
from ioc.types import Coverage, Frame, TrackHint

GreyImage = npt.NDArray[np.uint8]

HOLD_SECONDS = 1.0
"""A camera with stationary objects and nothing else to do still hands its worker a frame this often
(or twice per ``alerts.end_after_seconds`` if that is shorter), without running the detector."""


FULL_FRAME_MIN_PIXELS = 64.0
"""A whole-frame pass vouches for a stationary object's absence only when the object would be at
least this many pixels (longer side) in the model's input; smaller ones wait for a crop."""


class Reason(enum.StrEnum):
    """Why a frame goes to the detector (or, for ``HOLD``, to the worker without it)."""

    FIRST = "first"
    MOTION = "motion"
    TRACKS = "tracks"
    STATIONARY = "stationary"
    RECHECK = "recheck"
    HOLD = "hold"

    @property
    def busy(self) -> bool:
        """Something moves: these frames come first when the detector is the bottleneck."""
        return self in (Reason.FIRST, Reason.MOTION, Reason.TRACKS)


@dataclass(frozen=True, slots=True)
class MotionGate:
    """Where the picture changed between two downscaled, blurred grey frames."""

    width: int = 160
    height: int = 90
    pixel_threshold: int = 18
    min_changed_ratio: float = 0.003
    min_blob_pixels: int = 4

    def thumbnail_of(self, frame: Frame) -> GreyImage:
        """``thumbnail`` of a frame, read from a subsampled grey picture (never a full conversion)."""
        step = max(1, min(frame.width // (2 * self.width), frame.height // (2 * self.height)))
        return self.thumbnail(frame.luma_sampled(step))

    def thumbnail(self, image: npt.NDArray[np.uint8]) -> GreyImage:
        grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
        small = cv2.resize(grey, (self.width, self.height), interpolation=cv2.INTER_AREA)
        return np.asarray(cv2.GaussianBlur(small, (3, 3), 0), dtype=np.uint8)

    def _mask(self, before: GreyImage, after: GreyImage) -> npt.NDArray[np.uint8]:
        return np.asarray(cv2.absdiff(before, after) > self.pixel_threshold, dtype=np.uint8)

    def changed_ratio(self, before: GreyImage, after: GreyImage) -> float:
        mask = self._mask(before, after)
        return float(np.count_nonzero(mask)) / float(mask.size)

    def moved(self, before: GreyImage, after: GreyImage) -> bool:
        return self.changed_ratio(before, after) >= self.min_changed_ratio

    def boxes(self, before: GreyImage, after: GreyImage, width: int, height: int) -> list[tuple[float, ...]]:
        """Pixel boxes (in a ``width``×``height`` frame) around the changed blobs; [] when nothing moved."""
        mask = self._mask(before, after)
        if float(np.count_nonzero(mask)) / float(mask.size) < self.min_changed_ratio:
            return []
        mask = np.asarray(cv2.dilate(mask, np.ones((3, 3), dtype=np.uint8)), dtype=np.uint8)
        n, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        sx, sy = width / self.width, height / self.height
        out: list[tuple[float, ...]] = []
        for x, y, w, h, area in stats[1:n].tolist():
            if area >= self.min_blob_pixels:
                out.append((x * sx, y * sy, (x + w) * sx, (y + h) * sy))
        return out


@dataclass(frozen=True, slots=True)
class Plan:
    """The planner's answer for one frame."""

    camera: CameraConfig
    frame: Frame
    reason: Reason
    regions: tuple[Region, ...] | None  # None: whole frame; (): no detector (hold)
    thumbnail: GreyImage
    motion: tuple[tuple[float, ...], ...] = ()  # pixel boxes where the picture changed

    @property
    def runs_detector(self) -> bool:
        return self.regions is None or len(self.regions) > 0

    @property
    def coverage(self) -> Coverage:
        w, h = self.frame.width, self.frame.height
        moved = tuple((b[0] / w, b[1] / h, b[2] / w, b[3] / h) for b in self.motion)
        if self.regions is None:
            scale = min(1.0, self.camera.detect.imgsz / max(w, h, 1))
            return Coverage(None, scale, w, h, FULL_FRAME_MIN_PIXELS, moved)
        return Coverage(tuple(r.normalised(w, h) for r in self.regions), moved=moved)


def _pixels(xyxy: tuple[float, float, float, float], width: int, height: int) -> tuple[float, ...]:
    return (xyxy[0] * width, xyxy[1] * height, xyxy[2] * width, xyxy[3] * height)


class DetectionPlanner:
    """The detection strategy of one camera; owned by whoever feeds its detector (one thread)."""

    def __init__(self, camera: CameraConfig, gate: MotionGate | None = None) -> None:
        self._camera = camera
        self._gate = gate or MotionGate()
        self._reference: GreyImage | None = None
        self._last_full: float | None = None
        self._last_handed: float | None = None
        self._hold_seconds = min(HOLD_SECONDS, camera.alerts.end_after_seconds / 2.0)

    @property
    def camera(self) -> CameraConfig:
        return self._camera

    def reconfigure(self, camera: CameraConfig) -> None:
        """Plan with ``camera``'s new settings from the next frame on (hot reload); the motion
        reference and re-check times carry over."""
        self._camera = camera
        self._hold_seconds = min(HOLD_SECONDS, camera.alerts.end_after_seconds / 2.0)

    def plan(self, frame: Frame, hints: Sequence[TrackHint]) -> Plan | None:
        """What to do with ``frame``, given the camera's tracked objects; None to skip it."""
        detect = self._camera.detect
        thumb = self._gate.thumbnail_of(frame)
        ts = frame.timestamp
        if self._needs_restart(thumb, ts):
            return Plan(self._camera, frame, Reason.FIRST, None, thumb)
        assert self._reference is not None and self._last_full is not None
        if ts - self._last_full >= detect.recheck_seconds:
            return Plan(self._camera, frame, Reason.RECHECK, None, thumb)
        live = [h for h in hints if ts - h.last_seen <= self._camera.track.lost_track_seconds]
        moving = [h for h in live if not h.stationary]
        due = [h for h in live if h.stationary and ts - h.checked_at >= detect.stationary_recheck_seconds]
        motion = self._gate.boxes(self._reference, thumb, frame.width, frame.height)
        reason = self._reason(motion, moving, due, live)
        if reason is None:
            return self._hold(frame, thumb, live)
        if not detect.regions:
            return Plan(self._camera, frame, reason, None, thumb, tuple(motion))
        boxes = [*motion, *(_pixels(h.xyxy, frame.width, frame.height) for h in (*moving, *due))]
        regions = plan_regions(
            boxes, frame.width, frame.height, min_side=detect.imgsz, max_regions=detect.max_regions
        )
        chosen = None if regions is None else tuple(regions)
        return Plan(self._camera, frame, reason, chosen, thumb, tuple(motion))

    def done(self, plan: Plan) -> None:
        """Record that ``plan`` was carried out (detector run, frame handed to the worker)."""
        ts = plan.frame.timestamp
        if plan.regions is None:
            self._last_full = ts
        if plan.runs_detector:
            self._reference = plan.thumbnail
        self._last_handed = ts

    def _needs_restart(self, thumb: GreyImage, ts: float) -> bool:
        ref, last = self._reference, self._last_full
        if ref is None or last is None or ref.shape != thumb.shape:
            return True
        return ts < last  # the stream restarted (file looped, camera reconnected)

    def _reason(
        self,
        motion: list[tuple[float, ...]],
        moving: list[TrackHint],
        due: list[TrackHint],
        live: list[TrackHint],
    ) -> Reason | None:
        if motion:
            return Reason.MOTION
        if moving:
            return Reason.TRACKS
        if not self._camera.detect.regions and live:
            return Reason.TRACKS  # whole-frame mode: any live track keeps the camera detected
        if due:
            return Reason.STATIONARY
        return None

    def _hold(self, frame: Frame, thumb: GreyImage, live: list[TrackHint]) -> Plan | None:
        if not live or self._last_handed is None:
            return None
        if frame.timestamp - self._last_handed < self._hold_seconds:
            return None
        return Plan(self._camera, frame, Reason.HOLD, (), thumb)
