"""Builds a camera's rules from its config and evaluates them frame by frame.

``RuleEngine(camera).evaluate(dets, timestamp)`` is pure computation: no I/O, no wall clock, no
locks (one thread owns a camera's engine). Disabled rules are never built. If stream time goes
backwards (a file source looped, a camera clock was reset) every rule forgets its per-track
state, because dwell and cooldown measured across the jump would be meaningless.
"""

from __future__ import annotations

import logging
from collections.abc import Collection

from ioc.config.models import CameraConfig, IntrusionRule, LineCrossingRule, LoiteringRule, RuleBase
from ioc.rules.base import Rule
from ioc.rules.intrusion import Intrusion
from ioc.rules.line_crossing import LineCrossing
from ioc.rules.loitering import Loitering
from ioc.types import Detections, RuleHit

logger = logging.getLogger(__name__)


def _build(camera: CameraConfig, rule: RuleBase) -> Rule:
    """The rule family object for one configured rule."""
    if isinstance(rule, IntrusionRule):
        return Intrusion(camera, rule)
    if isinstance(rule, LoiteringRule):
        return Loitering(camera, rule)
    if isinstance(rule, LineCrossingRule):
        return LineCrossing(camera, rule)
    raise ValueError(
        f"camera {camera.id!r} rule {rule.id!r}: no rule family for {type(rule).__name__}; "
        "known: intrusion, line_crossing, loitering"
    )


class RuleEngine:
    """All enabled rules of one camera."""

    def __init__(self, camera: CameraConfig) -> None:
        self._camera = camera
        self._rules: tuple[Rule, ...] = tuple(_build(camera, r) for r in camera.rules if r.enabled)
        self._last_timestamp: float | None = None

    @property
    def rules(self) -> tuple[Rule, ...]:
        return self._rules

    def keep(self, previous: RuleEngine, rule_ids: Collection[str]) -> None:
        """Hot reload: take over ``previous``'s rule objects, with their per-track state, for the
        rules in ``rule_ids`` (their config and everything they read are unchanged)."""
        old = {rule.rule_id: rule for rule in previous.rules if rule.rule_id in rule_ids}
        self._rules = tuple(old.get(rule.rule_id, rule) for rule in self._rules)
        self._last_timestamp = previous._last_timestamp

    def evaluate(self, dets: Detections, timestamp: float) -> list[RuleHit]:
        """Hits of every enabled rule on this frame, in config order."""
        if self._last_timestamp is not None and timestamp < self._last_timestamp:
            logger.warning(
                "camera %s: stream time went back from %.3f to %.3f s; rule state reset",
                self._camera.id,
                self._last_timestamp,
                timestamp,
            )
            for rule in self._rules:
                rule.reset()
        self._last_timestamp = timestamp
        hits: list[RuleHit] = []
        for rule in self._rules:
            hits.extend(rule.evaluate(dets, timestamp))
        return hits
