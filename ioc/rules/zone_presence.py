"""Continuous presence of tracks inside a polygon zone, in stream seconds.

Shared by intrusion and loitering. A track's presence starts the first time its anchor is seen
inside the zone. It continues while every gap between two sightings inside the zone is shorter than
``gap_seconds`` (the camera's ``track.lost_track_seconds``) — whether the track stepped out of the
zone for a moment, was missed by the detector, or frames were dropped. A gap of ``gap_seconds`` or
more starts the presence again from the next sighting. Presence seconds are
``timestamp - entered_at``; frame counts are never used.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from ioc.config.rule_base import ZoneRuleBase
from ioc.geometry import points_in_polygon
from ioc.rules.base import PRUNE_MARGIN_SECONDS, TIME_EPSILON, TrackRow, eligible, rows, state_hit
from ioc.types import Detections, RuleHit

if TYPE_CHECKING:
    from ioc.config.models import CameraConfig, Zone


@dataclass(frozen=True, slots=True)
class Presence:
    entered_at: float
    last_inside_at: float


@dataclass(frozen=True, slots=True)
class Inside:
    """A track seen inside the zone on this frame, with its continuous presence so far."""

    row: TrackRow
    seconds: float


class ZonePresence:
    """Per-track presence in one zone. Owned by one rule, so by one camera thread."""

    def __init__(self, zone: Zone, gap_seconds: float) -> None:
        self._polygon = zone.polygon
        self._gap_seconds = gap_seconds
        self._tracks: dict[int, Presence] = {}

    def update(self, dets: Detections, rows: list[TrackRow], timestamp: float) -> list[Inside]:
        """Record this frame's sightings; return the tracks inside the zone now."""
        inside_mask = points_in_polygon(self._polygon, dets.anchor)
        result: list[Inside] = []
        for row, inside in zip(rows, inside_mask, strict=True):
            if not inside:
                continue
            prev = self._tracks.get(row.track_id)
            if prev is None or timestamp - prev.last_inside_at >= self._gap_seconds:
                presence = Presence(entered_at=timestamp, last_inside_at=timestamp)
            else:
                presence = replace(prev, last_inside_at=timestamp)
            self._tracks[row.track_id] = presence
            result.append(Inside(row=row, seconds=timestamp - presence.entered_at))
        self._prune(timestamp)
        return result

    def _prune(self, timestamp: float) -> None:
        limit = self._gap_seconds + PRUNE_MARGIN_SECONDS
        stale = [tid for tid, p in self._tracks.items() if timestamp - p.last_inside_at > limit]
        for tid in stale:
            del self._tracks[tid]

    def reset(self) -> None:
        self._tracks.clear()

    def __len__(self) -> int:
        return len(self._tracks)


class ZoneTimeRule:
    """A rule that fires STATE hits for every frame an object has been inside a zone at least
    ``threshold_seconds`` (value = seconds inside). Intrusion and loitering are this rule with
    different thresholds and names."""

    def __init__(
        self, camera: CameraConfig, rule: ZoneRuleBase, rule_type: str, threshold_seconds: float
    ) -> None:
        self._camera = camera
        self._rule = rule
        self._type = rule_type
        self._threshold = threshold_seconds
        self._presence = ZonePresence(camera.zone(rule.zone), camera.track.lost_track_seconds)

    @property
    def rule_id(self) -> str:
        return self._rule.id

    def evaluate(self, dets: Detections, timestamp: float) -> list[RuleHit]:
        mine = eligible(dets, self._camera, self._rule)
        inside = self._presence.update(mine, list(rows(mine)), timestamp)
        return [
            state_hit(self._rule.id, self._type, item.row, timestamp, self._rule.zone, item.seconds)
            for item in inside
            if item.seconds + TIME_EPSILON >= self._threshold
        ]

    def reset(self) -> None:
        self._presence.reset()

    @property
    def tracked(self) -> int:
        """How many tracks this rule remembers (for tests of pruning)."""
        return len(self._presence)
