"""Line crossing: count tracked objects whose anchor crosses a line segment, per direction.

Direction convention (exact): with the line's points a → b in image coordinates (y down), a
crossing is ``in`` when ``cross(b − a, p − a)`` for the anchor p goes from negative to positive,
and ``out`` the other way (``ioc.geometry.side_of_line``). Drawn on screen, ``in`` moves towards
the side that a→b turned 90° clockwise points at.

Exact behaviour per track:

1. Hysteresis band. The anchor's signed distance to the (infinite) line is compared with
   ``BAND`` (normalised units). Beyond the band the track has a definite side (−1 / +1); inside
   the band — including exactly on the line — it keeps the side it had. A track first seen
   inside the band has no side until it leaves the band; that first side is never a crossing.
2. Crossing. When the definite side flips, the motion segment from the last anchor seen on the
   old side to the current anchor must intersect the line *segment* a–b (``segments_intersect``);
   passing beside the segment, on its infinite extension, flips the side but counts nothing.
3. Jitter cooldown. A crossing in direction d counts only if the same track has not counted a
   crossing in d within the last ``cooldown`` seconds (the rule's ``cooldown_seconds``, else the
   camera's ``alerts.cooldown_seconds``). So a track that crosses in, back out and in again within
   the cooldown counts ``in`` once (its ``out`` counts once too, under the same rule for ``out``).
4. Counting. Counts are kept for both directions; a hit is emitted only for directions in
   ``rule.directions``. Hit ``value`` is the running count of that direction (unit ``count``).
5. Memory. A track unseen for ``track.lost_track_seconds`` + ``PRUNE_MARGIN_SECONDS`` is forgotten
   (its side and cooldown with it); the tracker has retired its id by then.
6. Speed. On a camera with a ``calibration`` each hit carries ``speed_kmh``: the object's ground
   speed over the last ≥ ``SPEED_WINDOW_SECONDS`` of its path (``motion.Ground``), None while its
   path is shorter; the flow counts average it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from ioc.config.rule_base import Id, RuleBase
from ioc.geometry import Point, segments_intersect
from ioc.messages import LocalizedText, Severity
from ioc.rules.base import PRUNE_MARGIN_SECONDS, TIME_EPSILON, TrackRow, eligible, rows
from ioc.rules.family import RuleFamily, Subject
from ioc.rules.motion import Ground, Trails
from ioc.types import Detections, Direction, HitKind, RuleHit

if TYPE_CHECKING:
    from ioc.config.models import CameraConfig

BAND = 0.01
SPEED_WINDOW_SECONDS = 1.0
"""Half-width of the hysteresis band around the line, in normalised image units."""

DIRECTIONS = tuple(Direction)
DIRECTION_VI = {Direction.IN: "chiều vào", Direction.OUT: "chiều ra"}
DIRECTION_EN = {Direction.IN: "inbound", Direction.OUT: "outbound"}


class LineCrossingRule(RuleBase):
    type: Literal["line_crossing"]
    line: Id = Field(..., description="Line id")
    directions: tuple[Direction, ...] = Field(
        (Direction.IN, Direction.OUT), min_length=1, description="Which crossing directions raise an alert"
    )
    severity: Severity = Field(Severity.INFO, description="info | warning | critical")
    interval_seconds: float = Field(
        60.0, ge=1, le=86400, description="Flow counts per class and direction are reported this often"
    )

    def references(self) -> Sequence[tuple[str, str]]:
        return (("line", self.line),)


@dataclass(frozen=True, slots=True)
class _TrackSide:
    side: int  # -1, +1, or 0 while not yet known
    point: Point  # last anchor seen beyond the band on ``side``
    last_seen: float
    last_in_at: float | None = None
    last_out_at: float | None = None

    def last_counted(self, direction: Direction) -> float | None:
        return self.last_in_at if direction is Direction.IN else self.last_out_at

    def counted(self, direction: Direction, timestamp: float) -> _TrackSide:
        if direction is Direction.IN:
            return replace(self, last_in_at=timestamp)
        return replace(self, last_out_at=timestamp)


class LineCrossing:
    def __init__(self, camera: CameraConfig, rule: LineCrossingRule) -> None:
        self._camera = camera
        self._rule = rule
        line = camera.line(rule.line)
        self._a: Point = line.points[0]
        self._b: Point = line.points[1]
        self._length = math.dist(self._a, self._b)
        cooldown = rule.cooldown_seconds
        self._cooldown = camera.alerts.cooldown_seconds if cooldown is None else cooldown
        self._forget_after = camera.track.lost_track_seconds + PRUNE_MARGIN_SECONDS
        self._tracks: dict[int, _TrackSide] = {}
        cal = camera.calibration
        self._ground = Ground(cal.matrix()) if cal is not None else None
        self._trails = Trails(SPEED_WINDOW_SECONDS, self._forget_after)
        self._counts = dict.fromkeys(DIRECTIONS, 0)

    @property
    def rule_id(self) -> str:
        return self._rule.id

    @property
    def counts(self) -> dict[Direction, int]:
        """Running counts per direction (a copy)."""
        return dict(self._counts)

    @property
    def tracked(self) -> int:
        return len(self._tracks)

    def evaluate(self, dets: Detections, timestamp: float) -> list[RuleHit]:
        mine = eligible(dets, self._camera, self._rule)
        hits: list[RuleHit] = []
        for row in rows(mine):
            if self._ground is not None:
                self._trails.add(row.track_id, timestamp, row.anchor)
            direction = self._observe(row, timestamp)
            if direction is not None and direction in self._rule.directions:
                hits.append(self._hit(row, timestamp, direction))
        self._prune(timestamp)
        return hits

    def reset(self) -> None:
        self._tracks.clear()
        self._trails.reset()

    def _side(self, p: Point) -> int:
        ax, ay = self._a
        bx, by = self._b
        distance = ((bx - ax) * (p[1] - ay) - (by - ay) * (p[0] - ax)) / self._length
        if distance > BAND:
            return 1
        if distance < -BAND:
            return -1
        return 0

    def _observe(self, row: TrackRow, timestamp: float) -> Direction | None:
        """Update the track's side; return the direction of a counted crossing, if any."""
        side = self._side(row.anchor)
        prev = self._tracks.get(row.track_id)
        if prev is None:
            self._tracks[row.track_id] = _TrackSide(side, row.anchor, timestamp)
            return None
        state = replace(prev, last_seen=timestamp)
        counted: Direction | None = None
        if side != 0:
            flipped = prev.side != 0 and side != prev.side
            if flipped and segments_intersect(prev.point, row.anchor, self._a, self._b):
                direction = Direction.IN if side > 0 else Direction.OUT
                if self._cooled_down(prev, direction, timestamp):
                    counted = direction
                    self._counts[direction] += 1
                    state = state.counted(direction, timestamp)
            state = replace(state, side=side, point=row.anchor)
        self._tracks[row.track_id] = state
        return counted

    def _cooled_down(self, state: _TrackSide, direction: Direction, timestamp: float) -> bool:
        last = state.last_counted(direction)
        return last is None or timestamp - last + TIME_EPSILON >= self._cooldown

    def _hit(self, row: TrackRow, timestamp: float, direction: Direction) -> RuleHit:
        return RuleHit(
            rule_id=self._rule.id,
            rule_type="line_crossing",
            kind=HitKind.EVENT,
            track_id=row.track_id,
            object_class=row.object_class,
            confidence=row.confidence,
            bbox=row.bbox,
            timestamp=timestamp,
            line_id=self._rule.line,
            direction=direction,
            value=float(self._counts[direction]),
            value_unit="count",
            speed_kmh=self._speed(row.track_id),
        )

    def _speed(self, track_id: int) -> float | None:
        trail = self._trails.get(track_id)
        if self._ground is None or trail is None:
            return None
        measured = self._ground.speed_kmh(trail, SPEED_WINDOW_SECONDS)
        return None if measured is None else round(measured[0], 1)

    def _prune(self, timestamp: float) -> None:
        stale = [t for t, s in self._tracks.items() if timestamp - s.last_seen > self._forget_after]
        for tid in stale:
            del self._tracks[tid]
        self._trails.prune(timestamp)


def _text(hit: RuleHit, s: Subject) -> LocalizedText:
    d = hit.direction or Direction.IN
    return LocalizedText(
        vi=f"Vượt vạch {s.place} theo {DIRECTION_VI[d]}: {s.object_vi} ({s.camera_id})",
        en=f"Crossed line {s.place} {DIRECTION_EN[d]}: {s.object_en} ({s.camera_id})",
    )


FAMILY = RuleFamily(
    type="line_crossing",
    config=LineCrossingRule,
    build=LineCrossing,
    text=_text,
    label=LocalizedText(vi="Vượt vạch", en="Line crossing"),
    unit="count",
)
