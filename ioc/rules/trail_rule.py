"""What the per-track motion rules share (``speeding``, ``stopped_vehicle``, ``wrong_way``).

Each keeps, per track, a trail of anchor positions (``motion.Trails``) and a small state of its own.
On every frame it updates both for each eligible detection and asks the rule's ``_step`` for a
value; a track inside the rule's zone (or anywhere, without one) with a value is a STATE hit.
A track unseen for ``track.lost_track_seconds`` + ``PRUNE_MARGIN_SECONDS`` is forgotten.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ioc.rules.base import PRUNE_MARGIN_SECONDS, TrackRow, eligible, inside_zone, rows, state_hit
from ioc.rules.motion import Trail, Trails
from ioc.rules.per_track import PerTrackRule, R, S
from ioc.types import Detections, RuleHit

if TYPE_CHECKING:
    from ioc.config.models import CameraConfig


class TrailRule(PerTrackRule[R, S]):
    """Base of a per-track motion rule: subclasses say ``rule_type`` and implement ``_new_state``
    and ``_step``."""

    rule_type = ""

    def __init__(self, camera: CameraConfig, rule: R, trail_seconds: float) -> None:
        super().__init__(camera, rule)
        self._trails = Trails(trail_seconds, camera.track.lost_track_seconds + PRUNE_MARGIN_SECONDS)

    def evaluate(self, dets: Detections, timestamp: float) -> list[RuleHit]:
        mine = eligible(dets, self._camera, self._rule)
        hits: list[RuleHit] = []
        for row, inside in zip(rows(mine), inside_zone(self._zone, mine), strict=True):
            trail = self._trails.add(row.track_id, timestamp, row.anchor)
            state = self._states.get(row.track_id)
            if state is None:
                state = self._states[row.track_id] = self._new_state()
            value = self._step(state, trail, row, timestamp)
            if inside and value is not None:
                amount, unit = value
                zone = self._rule.zone
                hits.append(state_hit(self._rule.id, self.rule_type, row, timestamp, zone, amount, unit))
        for tid in self._trails.prune(timestamp):
            self._states.pop(tid, None)
        return hits

    def reset(self) -> None:
        self._trails.reset()
        self._states.clear()

    def _new_state(self) -> S:
        raise NotImplementedError

    def _step(self, state: S, trail: Trail, row: TrackRow, timestamp: float) -> tuple[float, str] | None:
        """Update ``state`` from the track's trail; the hit's (value, unit) when the rule holds now."""
        raise NotImplementedError
