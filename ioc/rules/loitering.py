"""Loitering: a tracked object staying inside a zone for at least ``min_dwell_seconds``.

Dwell is measured from stream timestamps, never frame counts, so dropped frames do not shorten
or lengthen it. A track that steps out briefly, or is lost and found again with the same id,
keeps its dwell while the gap between sightings inside stays under the camera's
``track.lost_track_seconds``; a longer absence starts the dwell again (see ``zone_presence``).
Every frame the object is inside with dwell ≥ the threshold yields a STATE hit, value = dwell
seconds (unit ``s``).
"""

from __future__ import annotations

from ioc.config.models import CameraConfig, LoiteringRule
from ioc.rules.base import TIME_EPSILON, eligible, rows, state_hit
from ioc.rules.zone_presence import ZonePresence
from ioc.types import Detections, RuleHit


class Loitering:
    def __init__(self, camera: CameraConfig, rule: LoiteringRule) -> None:
        self._camera = camera
        self._rule = rule
        self._presence = ZonePresence(camera.zone(rule.zone), camera.track.lost_track_seconds)

    @property
    def rule_id(self) -> str:
        return self._rule.id

    def evaluate(self, dets: Detections, timestamp: float) -> list[RuleHit]:
        mine = eligible(dets, self._camera, self._rule)
        inside = self._presence.update(mine, list(rows(mine)), timestamp)
        return [
            state_hit(self._rule.id, "loitering", item.row, timestamp, self._rule.zone, item.seconds)
            for item in inside
            if item.seconds + TIME_EPSILON >= self._rule.min_dwell_seconds
        ]

    def reset(self) -> None:
        self._presence.reset()

    @property
    def tracked(self) -> int:
        """How many tracks this rule remembers (for tests of pruning)."""
        return len(self._presence)
