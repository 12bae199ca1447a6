"""Per-track trails of anchors in stream time, for rules that judge motion (speed, heading, stillness).

A ``Trails`` keeps, per track, the anchors seen over the last ``keep_seconds`` (plus the newest
one older than that, so a window reaching back exactly ``keep_seconds`` always has a start). A
track unseen for ``forget_after`` seconds is dropped, trail and all. Gaps (detector flicker,
dropped frames, motion-gated frames) need no care: every measure divides by the time between the
two samples it uses, never by a number of frames.

``back(trail, seconds)`` is the newest sample at least ``seconds`` older than the newest one: the
start of a window of at least that much travel time (None until the trail spans it).
``back_by_distance(trail, distance)`` is the newest sample at least ``distance`` away from the
newest one (None until the track has travelled that far).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from ioc.geometry import Point, project


@dataclass(frozen=True, slots=True)
class Sample:
    t: float
    point: Point


@dataclass(slots=True)
class Trail:
    samples: deque[Sample] = field(default_factory=deque)

    @property
    def newest(self) -> Sample:
        return self.samples[-1]

    @property
    def last_seen(self) -> float:
        return self.samples[-1].t


class Trails:
    """Trails of one rule's tracks. Owned by one rule, so by one camera thread."""

    def __init__(self, keep_seconds: float, forget_after: float) -> None:
        self._keep = keep_seconds
        self._forget_after = forget_after
        self._trails: dict[int, Trail] = {}

    def add(self, track_id: int, t: float, point: Point) -> Trail:
        """Record a sighting; return the track's trail (newest sample last)."""
        trail = self._trails.setdefault(track_id, Trail())
        trail.samples.append(Sample(t, point))
        while len(trail.samples) >= 2 and t - trail.samples[1].t >= self._keep:
            trail.samples.popleft()
        return trail

    def prune(self, timestamp: float) -> list[int]:
        """Forget tracks unseen for longer than ``forget_after``; return their ids."""
        stale = [tid for tid, tr in self._trails.items() if timestamp - tr.last_seen > self._forget_after]
        for tid in stale:
            del self._trails[tid]
        return stale

    def get(self, track_id: int) -> Trail | None:
        return self._trails.get(track_id)

    def reset(self) -> None:
        self._trails.clear()

    def __len__(self) -> int:
        return len(self._trails)


def back(trail: Trail, seconds: float) -> Sample | None:
    newest = trail.newest
    for sample in reversed(trail.samples):
        if newest.t - sample.t >= seconds - 1e-9:
            return sample
    return None


def back_by_distance(trail: Trail, distance: float) -> Sample | None:
    newest = trail.newest
    for sample in reversed(trail.samples):
        if math.dist(sample.point, newest.point) >= distance:
            return sample
    return None


def speed(trail: Trail, window_seconds: float) -> tuple[float, Sample] | None:
    """Image speed (normalised units per second) over at least ``window_seconds``, and the window start."""
    start = back(trail, window_seconds)
    if start is None:
        return None
    newest = trail.newest
    return math.dist(start.point, newest.point) / (newest.t - start.t), start


class Ground:
    """Image (normalised) → ground plane (metres), through a camera's calibration homography."""

    def __init__(self, matrix: npt.NDArray[np.float64]) -> None:
        self._h = matrix

    def metres(self, point: Point) -> Point:
        mapped, _ = project(self._h, [point])
        return float(mapped[0, 0]), float(mapped[0, 1])

    def speed_kmh(self, trail: Trail, window_seconds: float) -> tuple[float, Sample] | None:
        """Ground speed in km/h over at least ``window_seconds`` of travel, and the window start."""
        start = back(trail, window_seconds)
        if start is None:
            return None
        newest = trail.newest
        metres = math.dist(self.metres(start.point), self.metres(newest.point))
        return metres / (newest.t - start.t) * 3.6, start


class Persistent:
    """Whether a condition has held on every measurement for at least ``seconds`` of stream time.

    ``update(True, t)`` starts the clock at the first ``True``; any ``False`` resets it. One bad
    box (a crop cutting the object, a bus passing in front) then cannot raise an alert by itself.
    """

    __slots__ = ("_seconds", "_since")

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._since: float | None = None

    def update(self, condition: bool, now: float) -> bool:
        if not condition:
            self._since = None
            return False
        self._since = now if self._since is None else self._since
        return now - self._since + 1e-6 >= self._seconds

    @property
    def since(self) -> float | None:
        return self._since
