"""Wrong way: a vehicle travelling against a zone's allowed direction.

Config: ``direction: [[x1, y1], [x2, y2]]`` (allowed travel, from the first point towards the
second), ``max_angle_deg`` (default 90) and ``min_distance`` (normalised, default 0.03).

Per track, exactly:

1. Heading. The track's anchors form a trail (``motion.Trails``, kept for ``TRAIL_SECONDS``). Its
   heading is the vector from the newest anchor at least ``min_distance`` back along the trail to
   the current anchor; until the track has moved that far it has no heading and keeps its state
   (a car waiting at a light is neither right nor wrong).
2. Hysteresis. A track turns *wrong* when its heading has been more than ``max_angle_deg`` off
   the allowed direction on every measurement for at least ``CONFIRM_SECONDS`` (one bad box
   cannot reverse a heading), and turns back only when it is less than ``max_angle_deg`` −
   ``HYSTERESIS_DEG`` off, so a heading wobbling around the limit does not flap.
3. Hits. Every frame a wrong track's anchor is inside the zone yields a STATE hit whose
   ``value`` is the seconds since its heading first went wrong (unit ``s``).
4. Memory. A track unseen for ``track.lost_track_seconds`` + ``PRUNE_MARGIN_SECONDS`` is
   forgotten; a shorter gap (flicker, a dropped frame) keeps trail and state.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from pydantic import Field, field_validator

from ioc.config.rule_base import NormPoint, OptionalZoneRuleBase
from ioc.geometry import Point
from ioc.messages import LocalizedText
from ioc.rules.base import TrackRow
from ioc.rules.family import RuleFamily, Subject, seconds
from ioc.rules.motion import Persistent, Trail, back_by_distance
from ioc.rules.trail_rule import TrailRule
from ioc.types import RuleHit

if TYPE_CHECKING:
    from ioc.config.models import CameraConfig

TRAIL_SECONDS = 10.0
HYSTERESIS_DEG = 10.0
CONFIRM_SECONDS = 0.5


class WrongWayRule(OptionalZoneRuleBase):
    type: Literal["wrong_way"]
    direction: tuple[NormPoint, NormPoint] = Field(
        ..., description="Allowed travel: from the first point towards the second (normalised)"
    )
    max_angle_deg: float = Field(90.0, gt=0, lt=180, description="Travel further off `direction` is wrong")
    min_distance: float = Field(0.03, gt=0, le=1, description="Normalised travel needed to judge a heading")

    @field_validator("direction")
    @classmethod
    def _distinct(cls, v: tuple[NormPoint, NormPoint]) -> tuple[NormPoint, NormPoint]:
        if v[0] == v[1]:
            raise ValueError("direction points must differ")
        return v


def angle_deg(a: Point, b: Point) -> float:
    """Unsigned angle between vectors ``a`` and ``b`` in degrees (0..180)."""
    cos = (a[0] * b[0] + a[1] * b[1]) / (math.hypot(*a) * math.hypot(*b))
    return math.degrees(math.acos(max(-1.0, min(1.0, cos))))


@dataclass(slots=True)
class _State:
    wrong_since: float | None = None
    against: Persistent = field(default_factory=lambda: Persistent(CONFIRM_SECONDS))


class WrongWay(TrailRule[WrongWayRule, _State]):
    rule_type = "wrong_way"

    def __init__(self, camera: CameraConfig, rule: WrongWayRule) -> None:
        super().__init__(camera, rule, TRAIL_SECONDS)
        (x1, y1), (x2, y2) = rule.direction
        self._allowed: Point = (x2 - x1, y2 - y1)

    def _new_state(self) -> _State:
        return _State()

    def _step(self, state: _State, trail: Trail, row: TrackRow, timestamp: float) -> tuple[float, str] | None:
        """Seconds travelling the wrong way, once confirmed."""
        start = back_by_distance(trail, self._rule.min_distance)
        if start is not None:
            anchor = row.anchor
            heading = (anchor[0] - start.point[0], anchor[1] - start.point[1])
            off = angle_deg(heading, self._allowed)
            against = state.against.update(off > self._rule.max_angle_deg, timestamp)
            if state.wrong_since is None and against:
                state.wrong_since = state.against.since
            elif state.wrong_since is not None and off < self._rule.max_angle_deg - HYSTERESIS_DEG:
                state.wrong_since = None
        return None if state.wrong_since is None else (timestamp - state.wrong_since, "s")


def _text(hit: RuleHit, s: Subject) -> LocalizedText:
    return LocalizedText(
        vi=f"Đi ngược chiều ({seconds(hit)} giây): {s.object_vi} tại {s.place} ({s.camera_id})",
        en=f"Wrong-way {s.object_en} ({seconds(hit)} s) in {s.place} ({s.camera_id})",
    )


FAMILY = RuleFamily(
    type="wrong_way",
    config=WrongWayRule,
    build=WrongWay,
    text=_text,
    label=LocalizedText(vi="Đi ngược chiều", en="Wrong way"),
    unit="s",
)
