"""What every rule with per-track state shares: its camera, config, zone and a state per track.

``TrailRule`` (speeding, stopped_vehicle, wrong_way) and ``abandoned_object`` build on it; each
keeps its own evaluation and pruning.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Generic, TypeVar

from ioc.config.rule_base import OptionalZoneRuleBase

if TYPE_CHECKING:
    from ioc.config.models import CameraConfig

R = TypeVar("R", bound=OptionalZoneRuleBase)
S = TypeVar("S")


class PerTrackRule(Generic[R, S]):
    """A rule of ``camera`` configured by ``rule``, with one ``S`` state per track id."""

    def __init__(self, camera: CameraConfig, rule: R) -> None:
        self._camera = camera
        self._rule = rule
        self._zone = camera.zone_or_none(rule.zone)
        self._states: dict[int, S] = {}

    @property
    def rule_id(self) -> str:
        return self._rule.id

    @property
    def tracked(self) -> int:
        return len(self._states)
