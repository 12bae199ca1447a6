"""Intrusion: a tracked object's anchor (bottom-centre) inside a forbidden zone.

Once the object has been inside for at least ``min_seconds`` of stream time (0 = at once), every
frame it is seen inside yields a STATE hit whose ``value`` is the seconds inside. Presence
survives short gaps (see ``zone_presence``), so a missed detection does not restart the clock.
"""

from __future__ import annotations

from ioc.config.models import CameraConfig, IntrusionRule
from ioc.rules.zone_presence import ZoneTimeRule


class Intrusion(ZoneTimeRule):
    def __init__(self, camera: CameraConfig, rule: IntrusionRule) -> None:
        super().__init__(camera, rule, rule.min_seconds)
