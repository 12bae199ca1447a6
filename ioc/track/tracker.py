"""Multi-object tracking: Ultralytics' BYTETracker driven directly with numpy.

``Tracker.update(dets, frame)`` returns a NEW ``Detections`` holding only detections that belong to
a confirmed track on this frame, each with its ``tracker_id`` set; detections the tracker has not
confirmed (a new object's first sighting after the first frame, low-score leftovers) are dropped,
because every downstream rule keys its state on the track id. Boxes, confidences and class names
are the detector's own (not the Kalman-smoothed box).

Time: ``TrackConfig.lost_track_seconds`` is the contract. BYTETracker counts frames, so a lost track
is retired here once ``lost_track_seconds`` of stream time (``Frame.timestamp``) have passed since it
was last matched, whatever the frame rate did meanwhile. BYTETracker's own frame-count expiry
(``track_buffer``) is set from ``lost_track_seconds × frame_rate`` times a safety factor, so it only
acts if timestamps stop advancing.

What rules receive: ``tracker_id`` holds the *object id* from ``identity.IdentityMap`` (stable across
tracker id switches and short occlusions), and stationary objects that the frame's examined regions
did not cover (``Coverage``) are *held*: their last box is fed to ByteTrack again as a detection, so
they keep their id and rules keep seeing them between re-checks (see ``stationary``). ``hints()`` is
what the detector's planner reads: every live or recently lost object, stationary or not.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, replace
from types import SimpleNamespace
from typing import Any

import numpy as np
import numpy.typing as npt
from ultralytics.trackers.byte_tracker import BYTETracker

from ioc.config.models import TrackConfig
from ioc.track.identity import IdentityMap
from ioc.track.stationary import StationaryMonitor
from ioc.types import Coverage, Detections, FloatArray, Frame, TrackHint

logger = logging.getLogger(__name__)

# ByteTrack score thresholds (Ultralytics' bytetrack.yaml defaults).
TRACK_HIGH_THRESH = 0.25
TRACK_LOW_THRESH = 0.1
NEW_TRACK_THRESH = 0.25
# track_buffer = lost_track_seconds × frame_rate × this; time-based expiry normally acts first.
FRAME_BUFFER_FACTOR = 4
DEFAULT_STATIONARY_SECONDS = 3.0
ASSOCIATION_BUFFER = 1.0
"""ByteTrack associates by box overlap (IoU). At the 5 frames/s a camera is detected at, a walker
moves half their width between frames and a car more, so consecutive boxes barely overlap and
tracks broke into new ids every frame. Boxes are grown by this fraction of their size (about their
centre) for association only, the "buffered IoU" idea; the boxes handed on are the detector's own."""


@dataclass(frozen=True, slots=True)
class _TrackerInput:
    """What BYTETracker reads from a detector result: pixel xywh (centre), conf, cls, index-able."""

    xywh: FloatArray
    xyxy: FloatArray
    conf: FloatArray
    cls: FloatArray

    def __len__(self) -> int:
        return len(self.conf)

    def __getitem__(self, mask: npt.NDArray[np.bool_]) -> _TrackerInput:
        return _TrackerInput(self.xywh[mask], self.xyxy[mask], self.conf[mask], self.cls[mask])

    @classmethod
    def from_detections(cls, dets: Detections, width: int, height: int) -> _TrackerInput:
        scale = np.array([width, height, width, height], dtype=np.float32)
        xyxy = dets.xyxy.astype(np.float32) * scale
        centre = (xyxy[:, :2] + xyxy[:, 2:]) / 2.0
        size = (xyxy[:, 2:] - xyxy[:, :2]) * (1.0 + ASSOCIATION_BUFFER)
        return cls(
            xywh=np.concatenate([centre, size], axis=1).astype(np.float32),
            xyxy=xyxy,
            conf=dets.confidence.astype(np.float32),
            cls=dets.class_id.astype(np.float32),
        )


def _byte_args(track: TrackConfig, frame_rate: float) -> SimpleNamespace:
    if frame_rate <= 0 or not math.isfinite(frame_rate):
        raise ValueError(f"Tracker frame_rate: expected frames per second > 0, got {frame_rate}")
    buffer = max(1, math.ceil(track.lost_track_seconds * frame_rate)) * FRAME_BUFFER_FACTOR
    return SimpleNamespace(
        tracker_type="bytetrack",
        track_high_thresh=TRACK_HIGH_THRESH,
        track_low_thresh=TRACK_LOW_THRESH,
        new_track_thresh=NEW_TRACK_THRESH,
        track_buffer=buffer,
        match_thresh=track.match_threshold,
        fuse_score=True,
    )


@dataclass(frozen=True, slots=True)
class _Seen:
    """The latest knowledge of one object (for holding it and for the planner's hints)."""

    class_id: int
    class_name: str
    confidence: float
    xyxy: tuple[float, float, float, float]
    last_seen: float
    checked_at: float


class Tracker:
    """One camera's tracker. Used from that camera's worker thread only."""

    def __init__(
        self, track: TrackConfig, frame_rate: float, stationary_seconds: float = DEFAULT_STATIONARY_SECONDS
    ) -> None:
        self._config = track
        self._frame_rate = frame_rate
        self._byte = BYTETracker(_byte_args(track, frame_rate))  # type: ignore[no-untyped-call]
        self._last_seen: dict[int, float] = {}
        self._identity = IdentityMap(track.lost_track_seconds)
        self._stationary = StationaryMonitor(stationary_seconds)
        self._objects: dict[int, _Seen] = {}
        self._hints: tuple[TrackHint, ...] = ()
        self._last_ts: float | None = None

    @property
    def continued(self) -> int:
        """Tracker id switches mended so far (new tracker ids that continued an earlier object)."""
        return self._identity.continued

    def hints(self) -> tuple[TrackHint, ...]:
        """Live and recently lost objects after the latest ``update`` (an immutable snapshot)."""
        return self._hints

    def update(self, dets: Detections, frame: Frame, coverage: Coverage | None = None) -> Detections:
        """Associate ``dets`` (normalised) with tracks; return the confirmed ones with object ids set.

        ``coverage`` is the part of the frame the detector examined (default: all of it);
        stationary objects outside it are held at their last box.
        """
        if self._last_ts is not None and frame.timestamp < self._last_ts:
            self._restart()
        self._last_ts = frame.timestamp
        self._expire_lost(frame)
        held = self._held(coverage or Coverage.full(), dets)
        n_real = len(dets)
        both = Detections.concat([dets, held])
        boxes = _TrackerInput.from_detections(both, frame.width, frame.height)
        rows = self._byte.update(boxes, None)  # ByteTrack reads no pixels: the frame is never converted
        matched, real = self._matched(both, rows, n_real)
        alive = {t.track_id for t in (*self._byte.tracked_stracks, *self._byte.lost_stracks)}
        self._last_seen = {tid: t for tid, t in self._last_seen.items() if tid in alive}
        for tid in matched.tracker_id.tolist():
            self._last_seen[int(tid)] = frame.timestamp
        out = self._identity.assign(matched, frame.timestamp, frame.width, frame.height)
        self._remember(out, real, frame)
        return out

    def _held(self, coverage: Coverage, dets: Detections) -> Detections:
        """Stationary objects the detector did not look at closely on this frame, at their last box.

        A stationary object is released (left to the detector) when this frame's coverage vouches
        for it: a region that held all of it, or a whole frame in which it is large enough (shrunk
        to the model input, a small parked car may not be seen). One that a detection of its class
        overlaps by ``HELD_OVERLAP_IOU`` is not held either (the detection carries it); a passer-by
        overlapping it less does not take its place."""
        keep = [
            s
            for obj, s in self._objects.items()
            if self._stationary.is_stationary(obj)
            and not coverage.covers(s.xyxy)
            and not _overlapped(s, dets)
        ]
        if not keep:
            return Detections.empty()
        return Detections(
            xyxy=np.array([s.xyxy for s in keep], dtype=np.float32).reshape(-1, 4),
            confidence=np.array([s.confidence for s in keep], dtype=np.float32),
            class_id=np.array([s.class_id for s in keep], dtype=np.int64),
            class_name=np.array([s.class_name for s in keep], dtype=object),
            tracker_id=np.full(len(keep), -1, dtype=np.int64),
        )

    def _matched(self, dets: Detections, rows: Any, n_real: int) -> tuple[Detections, npt.NDArray[np.bool_]]:
        """Rows are ``[x1, y1, x2, y2, track_id, score, cls, idx]``; idx indexes ``dets``.

        Returns the matched detections (detector order) and which of them are real (not held)."""
        table = np.asarray(rows, dtype=np.float64).reshape(-1, 8)
        index = table[:, 7].astype(np.int64)
        order = np.argsort(index, kind="stable")  # keep the detector's order
        matched = replace(dets[index[order]], tracker_id=table[order, 4].astype(np.int64))
        return matched, index[order] < n_real

    def _remember(self, out: Detections, real: npt.NDArray[np.bool_], frame: Frame) -> None:
        ts = frame.timestamp
        for i, obj in enumerate(out.tracker_id.tolist()):
            box = tuple(float(v) for v in out.xyxy[i])
            xyxy = (box[0], box[1], box[2], box[3])
            before = self._objects.get(obj)
            checked = ts if bool(real[i]) or before is None else before.checked_at
            self._objects[obj] = _Seen(
                int(out.class_id[i]), str(out.class_name[i]), float(out.confidence[i]), xyxy, ts, checked
            )
            self._stationary.update(obj, xyxy, ts, frame.width, frame.height)
        limit = self._config.lost_track_seconds
        self._objects = {o: s for o, s in self._objects.items() if ts - s.last_seen <= limit}
        self._stationary.forget(set(self._objects))
        self._hints = tuple(
            TrackHint(
                object_id=obj,
                class_name=s.class_name,
                xyxy=s.xyxy,
                stationary=self._stationary.is_stationary(obj),
                lost=s.last_seen < ts,
                last_seen=s.last_seen,
                checked_at=s.checked_at,
            )
            for obj, s in sorted(self._objects.items())
        )

    def _restart(self) -> None:
        """Stream time went back (a file looped, a camera reconnected): start tracking afresh."""
        self._byte = BYTETracker(_byte_args(self._config, self._frame_rate))  # type: ignore[no-untyped-call]
        self._last_seen.clear()
        self._identity.reset()
        self._stationary.reset()
        self._objects.clear()
        self._hints = ()

    def _expire_lost(self, frame: Frame) -> None:
        """Before associating ``frame``: retire lost tracks unmatched for over ``lost_track_seconds``."""
        byte, now, limit = self._byte, frame.timestamp, self._config.lost_track_seconds
        expired = [t for t in byte.lost_stracks if now - self._last_seen.get(t.track_id, now) > limit]
        if expired:
            for strack in expired:
                strack.mark_removed()
            gone = {t.track_id for t in expired}
            byte.lost_stracks = [t for t in byte.lost_stracks if t.track_id not in gone]
            byte.removed_stracks.extend(expired)
            logger.debug("camera %s: retired lost tracks %s", frame.camera_id, sorted(gone))



HELD_OVERLAP_IOU = 0.5
"""A detection of the same class overlapping a stationary object's last box this much carries it."""


def _overlapped(seen: _Seen, dets: Detections) -> bool:
    if len(dets) == 0:
        return False
    same = dets.xyxy[dets.class_name == seen.class_name]
    if len(same) == 0:
        return False
    x1, y1, x2, y2 = seen.xyxy
    w = np.minimum(x2, same[:, 2]) - np.maximum(x1, same[:, 0])
    h = np.minimum(y2, same[:, 3]) - np.maximum(y1, same[:, 1])
    inter = np.maximum(w, 0) * np.maximum(h, 0)
    areas = (same[:, 2] - same[:, 0]) * (same[:, 3] - same[:, 1])
    iou = inter / np.maximum((x2 - x1) * (y2 - y1) + areas - inter, 1e-9)
    return bool(np.any(iou >= HELD_OVERLAP_IOU))
