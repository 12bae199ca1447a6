"""Intrusion: a tracked object's anchor (bottom-centre) inside a forbidden zone.

Once the object has been inside for at least ``min_seconds`` of stream time (0 = at once), every
frame it is seen inside yields a STATE hit whose ``value`` is the seconds inside. Presence
survives short gaps (see ``zone_presence``), so a missed detection does not restart the clock.
"""

from __future__ import annotations

from ioc.config.models import CameraConfig, IntrusionRule
from ioc.rules.base import TIME_EPSILON, eligible, rows, state_hit
from ioc.rules.zone_presence import ZonePresence
from ioc.types import Detections, RuleHit


class Intrusion:
    def __init__(self, camera: CameraConfig, rule: IntrusionRule) -> None:
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
            state_hit(self._rule.id, "intrusion", item.row, timestamp, self._rule.zone, item.seconds)
            for item in inside
            if item.seconds + TIME_EPSILON >= self._rule.min_seconds
        ]

    def reset(self) -> None:
        self._presence.reset()

    @property
    def tracked(self) -> int:
        """How many tracks this rule remembers (for tests of pruning)."""
        return len(self._presence)
