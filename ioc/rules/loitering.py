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
from ioc.rules.zone_presence import ZoneTimeRule


class Loitering(ZoneTimeRule):
    def __init__(self, camera: CameraConfig, rule: LoiteringRule) -> None:
        super().__init__(camera, rule, rule.min_dwell_seconds)
