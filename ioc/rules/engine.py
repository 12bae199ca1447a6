"""Builds a camera's rules from its config and evaluates them frame by frame.

``RuleEngine(camera, tz).evaluate(dets, timestamp, wall_time)`` is pure computation: no I/O, no
wall clock of its own, no locks (one thread owns a camera's engine). Exactly:

- Rules are built through the family registry (``registry.family_of``); disabled rules never are.
- Masks: detections whose anchor falls inside any of the camera's ``masks`` are removed before
  any rule sees them (the camera worker already drops them before tracking; this keeps the
  engine right on its own).
- Schedules: a rule with a ``schedule`` runs only while the frame's ``wall_time`` (Unix seconds),
  read in ``tz`` (the site's time zone), is inside its window. Outside it the rule is not
  evaluated (no hits), and when its window closes it forgets its per-track state, so it starts
  afresh when the window opens again. A camera with scheduled rules needs ``wall_time``.
- Hot reload: ``keep(previous, rule_ids)`` takes over the rule objects (per-track and schedule
  state) of unchanged rules from the engine of the old config.
- If stream time goes backwards (a file source looped, a camera clock was reset) every rule
  forgets its per-track state, because dwell and cooldown measured across the jump would be
  meaningless.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from ioc.config.models import CameraConfig
from ioc.config.rule_base import RuleBase
from ioc.rules.base import Rule, without_masked
from ioc.rules.registry import family_of
from ioc.types import Detections, RuleHit

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class _Slot:
    config: RuleBase
    rule: Rule
    active: bool = True


class RuleEngine:
    """All enabled rules of one camera."""

    def __init__(self, camera: CameraConfig, tz: tzinfo = UTC) -> None:
        self._camera = camera
        self._tz = tz
        self._slots = tuple(_Slot(r, family_of(r).build(camera, r)) for r in camera.rules if r.enabled)
        self._scheduled = any(s.config.schedule is not None for s in self._slots)
        self._last_timestamp: float | None = None

    @property
    def rules(self) -> tuple[Rule, ...]:
        return tuple(s.rule for s in self._slots)

    def keep(self, previous: RuleEngine, rule_ids: Collection[str]) -> None:
        """Hot reload: take over ``previous``'s rule objects, with their per-track state (and
        schedule state), for the rules in ``rule_ids`` (their config and everything they read are
        unchanged)."""
        old = {slot.config.id: slot for slot in previous._slots if slot.config.id in rule_ids}
        self._slots = tuple(old.get(slot.config.id, slot) for slot in self._slots)
        self._last_timestamp = previous._last_timestamp

    def evaluate(self, dets: Detections, timestamp: float, wall_time: float | None = None) -> list[RuleHit]:
        """Hits of every enabled rule on this frame, in config order."""
        if self._last_timestamp is not None and timestamp < self._last_timestamp:
            logger.warning(
                "camera %s: stream time went back from %.3f to %.3f s; rule state reset",
                self._camera.id,
                self._last_timestamp,
                timestamp,
            )
            for slot in self._slots:
                slot.rule.reset()
        self._last_timestamp = timestamp
        local = self._local(wall_time)
        visible = without_masked(dets, self._camera.masks)
        hits: list[RuleHit] = []
        for slot in self._slots:
            if self._runs(slot, local):
                hits.extend(slot.rule.evaluate(visible, timestamp))
        return hits

    def _local(self, wall_time: float | None) -> datetime | None:
        if not self._scheduled:
            return None
        if wall_time is None:
            raise ValueError(f"camera {self._camera.id!r} has scheduled rules: evaluate needs wall_time")
        return datetime.fromtimestamp(wall_time, tz=self._tz)

    def _runs(self, slot: _Slot, local: datetime | None) -> bool:
        schedule = slot.config.schedule
        if schedule is None or local is None:
            return True
        active = schedule.active(local)
        if slot.active and not active:
            logger.info(
                "camera %s: rule %s outside its schedule at %s", self._camera.id, slot.config.id, local
            )
            slot.rule.reset()
        elif active and not slot.active:
            logger.info(
                "camera %s: rule %s inside its schedule at %s", self._camera.id, slot.config.id, local
            )
        slot.active = active
        return active
