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
from ioc.types import Detections, FloatArray, Frame

logger = logging.getLogger(__name__)

# ByteTrack score thresholds (Ultralytics' bytetrack.yaml defaults).
TRACK_HIGH_THRESH = 0.25
TRACK_LOW_THRESH = 0.1
NEW_TRACK_THRESH = 0.25
# track_buffer = lost_track_seconds × frame_rate × this; time-based expiry normally acts first.
FRAME_BUFFER_FACTOR = 4


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
        size = xyxy[:, 2:] - xyxy[:, :2]
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


class Tracker:
    """One camera's tracker. Used from that camera's worker thread only."""

    def __init__(self, track: TrackConfig, frame_rate: float) -> None:
        self._config = track
        self._byte = BYTETracker(_byte_args(track, frame_rate))  # type: ignore[no-untyped-call]
        self._last_seen: dict[int, float] = {}

    def update(self, dets: Detections, frame: Frame) -> Detections:
        """Associate ``dets`` (normalised) with tracks; return the confirmed ones with ids set."""
        self._expire_lost(frame)
        rows = self._byte.update(_TrackerInput.from_detections(dets, frame.width, frame.height), frame.image)
        out = self._matched(dets, rows)
        alive = {t.track_id for t in (*self._byte.tracked_stracks, *self._byte.lost_stracks)}
        self._last_seen = {tid: t for tid, t in self._last_seen.items() if tid in alive}
        for tid in out.tracker_id.tolist():
            self._last_seen[int(tid)] = frame.timestamp
        return out

    def _matched(self, dets: Detections, rows: Any) -> Detections:
        """Rows are ``[x1, y1, x2, y2, track_id, score, cls, idx]``; idx indexes ``dets``."""
        table = np.asarray(rows, dtype=np.float64).reshape(-1, 8)
        index = table[:, 7].astype(np.int64)
        order = np.argsort(index, kind="stable")  # keep the detector's order
        return replace(dets[index[order]], tracker_id=table[order, 4].astype(np.int64))

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
