"""Speeding: a vehicle faster than ``max_kmh`` on the ground, measured through the camera's calibration.

Needs the camera's ``calibration`` (``ioc check`` refuses a speeding rule without one). Per track:

1. Speed. The anchor trail (``motion``) is mapped to the ground plane in metres; the speed is the
   ground distance between the current anchor and the newest anchor at least ``WINDOW_SECONDS``
   older, over the stream time between them (smoothed over ≥ 1 s of travel; no frame counts).
   Until the trail spans the window the speed is unknown and the state is kept.
2. Hysteresis. A track starts speeding when its speed has exceeded ``max_kmh`` on every
   measurement for at least ``CONFIRM_SECONDS`` (one bad box cannot make a speed), and stops only
   when it falls below ``max_kmh`` − max(``HYSTERESIS_KMH``, ``HYSTERESIS_FRACTION`` × ``max_kmh``).
3. Hits. Every frame a speeding track's anchor is inside the zone, a STATE hit whose ``value``
   is the measured speed in km/h (one decimal). The alert's start carries the speed measured when
   it started; updates carry later measurements.
4. Memory: as every per-track rule, forgotten after ``track.lost_track_seconds`` +
   ``PRUNE_MARGIN_SECONDS`` unseen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from ioc.config.rule_base import OptionalZoneRuleBase
from ioc.messages import LocalizedText
from ioc.rules.base import TrackRow
from ioc.rules.family import RuleFamily, Subject
from ioc.rules.motion import Ground, Persistent, Trail
from ioc.rules.trail_rule import TrailRule
from ioc.types import RuleHit

if TYPE_CHECKING:
    from ioc.config.models import CameraConfig

WINDOW_SECONDS = 1.0
HYSTERESIS_KMH = 2.0
HYSTERESIS_FRACTION = 0.05
CONFIRM_SECONDS = 0.5


class SpeedingRule(OptionalZoneRuleBase):
    type: Literal["speeding"]
    max_kmh: float = Field(..., gt=0, le=400, description="Speed limit in km/h")

    def camera_problems(self, camera: CameraConfig) -> list[str]:
        if camera.calibration is None:
            return ["type: speeding needs the camera's calibration (image_points and world_points)"]
        return []


@dataclass(slots=True)
class _State:
    speeding: bool = False
    kmh: float | None = None
    over: Persistent = field(default_factory=lambda: Persistent(CONFIRM_SECONDS))


class Speeding(TrailRule[SpeedingRule, _State]):
    rule_type = "speeding"

    def __init__(self, camera: CameraConfig, rule: SpeedingRule) -> None:
        if camera.calibration is None:
            raise ValueError(f"camera {camera.id!r} rule {rule.id!r}: speeding needs a calibration")
        super().__init__(camera, rule, WINDOW_SECONDS)
        self._ground = Ground(camera.calibration.matrix())
        self._release = rule.max_kmh - max(HYSTERESIS_KMH, HYSTERESIS_FRACTION * rule.max_kmh)

    def _new_state(self) -> _State:
        return _State()

    def _step(self, state: _State, trail: Trail, row: TrackRow, timestamp: float) -> tuple[float, str] | None:
        measured = self._ground.speed_kmh(trail, WINDOW_SECONDS)
        if measured is not None:
            state.kmh = measured[0]
            over = state.over.update(state.kmh > self._rule.max_kmh, timestamp)
            if not state.speeding and over:
                state.speeding = True
            elif state.speeding and state.kmh < self._release:
                state.speeding = False
        if state.speeding and state.kmh is not None:
            return round(state.kmh, 1), "km/h"
        return None


def _text(hit: RuleHit, s: Subject) -> LocalizedText:
    kmh = f"{hit.value or 0.0:.0f}"
    return LocalizedText(
        vi=f"Quá tốc độ ({kmh} km/h): {s.object_vi} tại {s.place} ({s.camera_id})",
        en=f"Speeding ({kmh} km/h): {s.object_en} in {s.place} ({s.camera_id})",
    )


FAMILY = RuleFamily(
    type="speeding",
    config=SpeedingRule,
    build=Speeding,
    text=_text,
    label=LocalizedText(vi="Quá tốc độ", en="Speeding"),
    unit="km/h",
)
