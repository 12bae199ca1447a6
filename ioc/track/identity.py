"""Object identity that survives the tracker: the one place id switches are mended.

ByteTrack gives an object a new id when it loses it for a moment (another walker passes in front,
the detector flickers, a crowd disperses) and then finds it again somewhere its Kalman prediction
did not expect. Rules that keyed on that id would restart dwell times and raise second alerts for
an object already alerted. ``IdentityMap`` turns tracker ids into *object ids* that rules key on:

- a tracker id seen before keeps its object id, also when the frames came more slowly than
  ``continue_seconds`` (a busy detector, a stationary object held between re-checks): the tracker
  kept that track, so it is the same object;
- a new tracker id continues a recently lost object when one fits: same class, last seen no more
  than ``continue_seconds`` ago (``track.lost_track_seconds``), not on this frame under another id,
  last seen inside the picture (an object whose box touched the frame's edge walked out of view: a
  newcomer entering there is someone else), and whose last box centre is within
  ``CONTINUE_DISTANCE`` box sizes of the new one (the nearest wins, in pixels so aspect ratio does
  not skew it);
- otherwise it is a new object, numbered from 1 per camera.

Objects unseen for longer than ``continue_seconds`` are forgotten.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ioc.types import Detections

CONTINUE_DISTANCE = 1.5
"""How far (in sizes of the lost box: its longer side) a new track may be from a lost object's last
position and still continue it."""

EDGE_MARGIN = 0.01
"""A box within this fraction of the frame size from an edge touches it (the object may have left)."""


@dataclass(frozen=True, slots=True)
class _Object:
    tracker_id: int
    class_name: str
    box: tuple[float, float, float, float]  # pixels
    last_seen: float
    at_edge: bool  # the box touched the frame's edge: a lost object there has left the view


class IdentityMap:
    """Tracker ids → object ids for one camera; used from that camera's worker thread only."""

    def __init__(self, continue_seconds: float) -> None:
        self._continue_seconds = continue_seconds
        self._objects: dict[int, _Object] = {}
        self._by_tracker: dict[int, int] = {}
        self._next_id = 1
        self.continued = 0
        """How many new tracker ids were continued as an earlier object (for metrics and tests)."""

    def assign(self, dets: Detections, timestamp: float, width: int, height: int) -> Detections:
        """``dets`` with ``tracker_id`` replaced by object ids (a new value)."""
        tracker_ids = [int(t) for t in dets.tracker_id]
        self._forget(timestamp, keep=set(tracker_ids))
        scale = np.array([width, height, width, height], dtype=np.float64)
        boxes = [tuple(float(v) for v in row * scale) for row in dets.xyxy.astype(np.float64)]
        present = {self._by_tracker[t] for t in tracker_ids if t in self._by_tracker}
        out: list[int] = []
        for tid, box, name in zip(tracker_ids, boxes, dets.class_name.tolist(), strict=True):
            if tid < 0:
                out.append(tid)
                continue
            obj = self._by_tracker.get(tid)
            if obj is None:
                obj = self._continue(str(name), box, timestamp, present) or self._new()
                self._by_tracker[tid] = obj
                present.add(obj)
            edge = _touches_edge(box, width, height)
            self._objects[obj] = _Object(tid, str(name), (box[0], box[1], box[2], box[3]), timestamp, edge)
            out.append(obj)
        return Detections(
            xyxy=dets.xyxy,
            confidence=dets.confidence,
            class_id=dets.class_id,
            class_name=dets.class_name,
            tracker_id=np.asarray(out, dtype=np.int64).reshape(-1),
        )

    def _new(self) -> int:
        obj = self._next_id
        self._next_id += 1
        return obj

    def _continue(
        self, name: str, box: tuple[float, ...], timestamp: float, present: set[int]
    ) -> int | None:
        cx, cy = (box[0] + box[2]) / 2.0, (box[1] + box[3]) / 2.0
        best: tuple[float, int] | None = None
        for obj, seen in self._objects.items():
            if obj in present or seen.class_name != name or seen.last_seen >= timestamp or seen.at_edge:
                continue
            if timestamp - seen.last_seen > self._continue_seconds:
                continue
            x1, y1, x2, y2 = seen.box
            size = max(x2 - x1, y2 - y1, 1.0)
            distance = math.hypot(cx - (x1 + x2) / 2.0, cy - (y1 + y2) / 2.0) / size
            if distance <= CONTINUE_DISTANCE and (best is None or distance < best[0]):
                best = (distance, obj)
        if best is None:
            return None
        obj = best[1]
        self._by_tracker.pop(self._objects[obj].tracker_id, None)
        self.continued += 1
        return obj

    def _forget(self, timestamp: float, keep: set[int]) -> None:
        """Drop objects unseen for ``continue_seconds``, except those whose tracker id is matched now:
        the tracker kept that track through the gap (frames came slowly), so it is the same object."""
        stale = [
            o
            for o, s in self._objects.items()
            if timestamp - s.last_seen > self._continue_seconds and s.tracker_id not in keep
        ]
        for obj in stale:
            self._by_tracker.pop(self._objects.pop(obj).tracker_id, None)

    def reset(self) -> None:
        """Forget everything (the stream restarted); object ids keep counting up."""
        self._objects.clear()
        self._by_tracker.clear()


def _touches_edge(box: tuple[float, ...], width: int, height: int) -> bool:
    mx, my = EDGE_MARGIN * width, EDGE_MARGIN * height
    return box[0] <= mx or box[1] <= my or box[2] >= width - mx or box[3] >= height - my
