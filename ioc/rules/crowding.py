"""Crowding and congestion: at least ``min_count`` objects inside a zone for ``min_seconds``.

Two families share this module: ``crowding`` (people gathering in a square) and ``congestion``
(a queue of vehicles in a lane). Both are about the zone as a whole, not one object: hits carry
``track_id`` = ``ZONE_TRACK``, the union of the counted boxes, the most common class among them,
and ``value`` = the count (unit ``count``).

Exactly, per frame at stream time t:

1. Membership. A track counts while its anchor was seen inside the zone within the last
   ``track.lost_track_seconds`` and it has not since been seen outside: a person missed by the
   detector for a frame still counts; one seen walking out stops counting at once.
2. Crowded since. When the count reaches ``min_count`` the crowd is dated from t (unless it is
   already dated). It stays dated while every stretch below ``min_count`` lasts less than
   ``track.lost_track_seconds`` (time hysteresis: a count wavering at the threshold neither
   restarts the clock nor ends the alert); a longer stretch below clears it.
3. Hits. A frame whose count is ≥ ``min_count`` with t − crowded-since ≥ ``min_seconds`` yields
   one STATE hit. The alert lifecycle keeps one alert open across frames, and ends it when no
   hit came for ``alerts.end_after_seconds`` (the crowd dispersed).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from ioc.config.rule_base import OptionalZoneRuleBase
from ioc.messages import LocalizedText
from ioc.rules.base import TIME_EPSILON, TrackRow, eligible, inside_zone, rows
from ioc.rules.family import RuleFamily, Subject
from ioc.types import ZONE_TRACK, Detections, HitKind, RuleHit

if TYPE_CHECKING:
    from ioc.config.models import CameraConfig


class CrowdingRule(OptionalZoneRuleBase):
    type: Literal["crowding"]
    min_count: int = Field(..., ge=1, description="At least this many objects inside the zone")
    min_seconds: float = Field(0.0, ge=0, description="For at least this long before alerting")


class CongestionRule(OptionalZoneRuleBase):
    type: Literal["congestion"]
    min_count: int = Field(..., ge=1, description="At least this many vehicles inside the zone")
    min_seconds: float = Field(30.0, ge=0, description="For at least this long before alerting")


@dataclass(frozen=True, slots=True)
class _Member:
    row: TrackRow
    seen_at: float


class ZoneCount:
    """One zone-count rule (crowding or congestion)."""

    def __init__(self, camera: CameraConfig, rule: CrowdingRule | CongestionRule, rule_type: str) -> None:
        self._camera = camera
        self._rule = rule
        self._type = rule_type
        self._zone = camera.zone_or_none(rule.zone)
        self._gap = camera.track.lost_track_seconds
        self._members: dict[int, _Member] = {}
        self._since: float | None = None
        self._last_full: float | None = None

    @property
    def rule_id(self) -> str:
        return self._rule.id

    @property
    def count(self) -> int:
        return len(self._members)

    def evaluate(self, dets: Detections, timestamp: float) -> list[RuleHit]:
        mine = eligible(dets, self._camera, self._rule)
        for row, inside in zip(rows(mine), inside_zone(self._zone, mine), strict=True):
            if inside:
                self._members[row.track_id] = _Member(row, timestamp)
            else:
                self._members.pop(row.track_id, None)
        self._members = {t: m for t, m in self._members.items() if timestamp - m.seen_at < self._gap}
        full = len(self._members) >= self._rule.min_count
        if full:
            self._since = timestamp if self._since is None else self._since
            self._last_full = timestamp
        elif self._last_full is not None and timestamp - self._last_full >= self._gap:
            self._since = self._last_full = None
        if (
            full
            and self._since is not None
            and timestamp - self._since + TIME_EPSILON >= self._rule.min_seconds
        ):
            return [self._hit(timestamp)]
        return []

    def reset(self) -> None:
        self._members.clear()
        self._since = self._last_full = None

    def _hit(self, timestamp: float) -> RuleHit:
        counted = [m.row for m in self._members.values()]
        boxes = [r.bbox for r in counted]
        bbox = (
            min(b[0] for b in boxes),
            min(b[1] for b in boxes),
            max(b[2] for b in boxes),
            max(b[3] for b in boxes),
        )
        return RuleHit(
            rule_id=self._rule.id,
            rule_type=self._type,
            kind=HitKind.STATE,
            track_id=ZONE_TRACK,
            object_class=Counter(r.object_class for r in counted).most_common(1)[0][0],
            confidence=round(sum(r.confidence for r in counted) / len(counted), 3),
            bbox=bbox,
            timestamp=timestamp,
            zone_id=self._rule.zone,
            value=float(len(counted)),
            value_unit="count",
        )


class Crowding(ZoneCount):
    def __init__(self, camera: CameraConfig, rule: CrowdingRule) -> None:
        super().__init__(camera, rule, "crowding")


class Congestion(ZoneCount):
    def __init__(self, camera: CameraConfig, rule: CongestionRule) -> None:
        super().__init__(camera, rule, "congestion")


def _crowd_text(hit: RuleHit, s: Subject) -> LocalizedText:
    n = int(hit.value or 0)
    return LocalizedText(
        vi=f"Tụ tập đông người ({n} {s.object_vi}) tại {s.place} ({s.camera_id})",
        en=f"Crowd forming ({n} × {s.object_en}) in {s.place} ({s.camera_id})",
    )


def _congestion_text(hit: RuleHit, s: Subject) -> LocalizedText:
    n = int(hit.value or 0)
    return LocalizedText(
        vi=f"Ùn tắc giao thông ({n} xe) tại {s.place} ({s.camera_id})",
        en=f"Congestion ({n} vehicles) in {s.place} ({s.camera_id})",
    )


CROWDING = RuleFamily(
    type="crowding",
    config=CrowdingRule,
    build=Crowding,
    text=_crowd_text,
    label=LocalizedText(vi="Tụ tập đông người", en="Crowding"),
    unit="count",
)
CONGESTION = RuleFamily(
    type="congestion",
    config=CongestionRule,
    build=Congestion,
    text=_congestion_text,
    label=LocalizedText(vi="Ùn tắc giao thông", en="Congestion"),
    unit="count",
)
