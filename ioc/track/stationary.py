"""Which tracked objects are stationary (a parked car, a person standing still).

An object is stationary once it has been tracked for at least ``stationary_seconds`` and every
box centre in that window lies within ``STATIONARY_TOLERANCE`` of its size from the newest one
(detector jitter on a still object is a few per cent of its size; walking moves it by its width in
a second). It stops being stationary as soon as a sighting falls outside that tolerance.

A stationary object no longer keeps its camera at full detection rate: the planner only re-checks
it every ``detect.stationary_recheck_seconds``, and between re-checks the tracker *holds* it (its
last box is fed back as a detection when the frame's examined regions did not cover it), so it
keeps its id for as long as it stays, and rules see it on every processed frame.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

STATIONARY_TOLERANCE = 0.15
"""Largest centre displacement, as a fraction of the box's longer side, that still counts as not moving."""


@dataclass(frozen=True, slots=True)
class _Sighting:
    timestamp: float
    cx: float
    cy: float
    size: float


class StationaryMonitor:
    """Per-object movement history of one camera (normalised box coordinates, stream seconds)."""

    def __init__(self, stationary_seconds: float) -> None:
        self._seconds = stationary_seconds
        self._history: dict[int, deque[_Sighting]] = {}
        self._stationary: set[int] = set()

    def update(self, object_id: int, xyxy: tuple[float, float, float, float], timestamp: float,
               width: int, height: int) -> bool:  # fmt: skip
        """Record a sighting (pixels from normalised ``xyxy``); True when the object is stationary now."""
        x1, y1, x2, y2 = xyxy[0] * width, xyxy[1] * height, xyxy[2] * width, xyxy[3] * height
        now = _Sighting(timestamp, (x1 + x2) / 2.0, (y1 + y2) / 2.0, max(x2 - x1, y2 - y1, 1.0))
        history = self._history.setdefault(object_id, deque())
        history.append(now)
        while len(history) > 1 and now.timestamp - history[1].timestamp >= self._seconds:
            history.popleft()  # keep one sighting at least ``seconds`` old, no older ones
        limit = STATIONARY_TOLERANCE * now.size
        still = all(abs(s.cx - now.cx) <= limit and abs(s.cy - now.cy) <= limit for s in history)
        if not still:
            while len(history) > 1:  # it moved: stationary time counts again from here
                history.popleft()
        long_enough = now.timestamp - history[0].timestamp >= self._seconds
        if still and long_enough:
            self._stationary.add(object_id)
        else:
            self._stationary.discard(object_id)
        return object_id in self._stationary

    def is_stationary(self, object_id: int) -> bool:
        return object_id in self._stationary

    def forget(self, keep: set[int]) -> None:
        """Drop the history of objects not in ``keep`` (retired tracks)."""
        for obj in [o for o in self._history if o not in keep]:
            del self._history[obj]
            self._stationary.discard(obj)

    def reset(self) -> None:
        self._history.clear()
        self._stationary.clear()
