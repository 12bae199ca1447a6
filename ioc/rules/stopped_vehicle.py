"""Stopped vehicle: a vehicle standing still inside a (no-stopping) zone for ``min_stopped_seconds``.

Speed is measured over at least ``WINDOW_SECONDS`` of the track's trail (``motion``): normalised
image units per second, or km/h on the ground when the camera has a ``calibration``.
``max_speed`` defaults to ``DEFAULT_MAX_SPEED`` (0.01 units/s) or ``DEFAULT_MAX_KMH`` (3 km/h).

Per track, exactly:

1. Until the trail spans ``WINDOW_SECONDS`` the speed is unknown and the state is kept.
2. Hysteresis. A moving track becomes *stopped* when its speed is below ``max_speed``; its
   stop is dated from the start of that window (it was already still then). A stopped track
   moves again only when its speed has stayed above ``MOVE_FACTOR`` × ``max_speed`` on every
   measurement for at least ``MOVE_CONFIRM_SECONDS``, so detector jitter, or one bad box (a
   crop cutting the vehicle, an occluding bus), on a parked car does not restart the clock. A
   vehicle that stops, goes and stops again gets a fresh clock for the second stop.
3. Hits. Every frame a stopped track's anchor is inside the zone and it has been stopped at
   least ``min_stopped_seconds``, a STATE hit with ``value`` = seconds stopped (unit ``s``).
4. Memory: a track unseen longer than ``track.lost_track_seconds`` + ``PRUNE_MARGIN_SECONDS``
   is forgotten; shorter gaps (flicker, an occluding bus) keep it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from ioc.config.rule_base import OptionalZoneRuleBase
from ioc.messages import LocalizedText
from ioc.rules.base import TIME_EPSILON, TrackRow
from ioc.rules.family import RuleFamily, Subject, seconds
from ioc.rules.motion import Ground, Persistent, Sample, Trail, speed
from ioc.rules.trail_rule import TrailRule
from ioc.types import RuleHit

if TYPE_CHECKING:
    from ioc.config.models import CameraConfig

WINDOW_SECONDS = 1.0
MOVE_FACTOR = 1.5
MOVE_CONFIRM_SECONDS = 0.5
DEFAULT_MAX_SPEED = 0.01
DEFAULT_MAX_KMH = 3.0


class StoppedVehicleRule(OptionalZoneRuleBase):
    type: Literal["stopped_vehicle"]
    min_stopped_seconds: float = Field(..., gt=0, description="Stationary this long inside the zone")
    max_speed: float | None = Field(
        None,
        gt=0,
        description="Below this = stationary: normalised units/s, or km/h when calibrated "
        f"(default {DEFAULT_MAX_SPEED} or {DEFAULT_MAX_KMH} km/h)",
    )


@dataclass(slots=True)
class _State:
    stopped_since: float | None = None
    moving: Persistent = field(default_factory=lambda: Persistent(MOVE_CONFIRM_SECONDS))

    def observe(self, speed: float, window_start: float, now: float, max_speed: float) -> None:
        if self.stopped_since is None:
            if speed < max_speed:
                self.stopped_since = window_start
            return
        if self.moving.update(speed > max_speed * MOVE_FACTOR, now):
            self.stopped_since = None
            self.moving.update(False, now)


class StoppedVehicle(TrailRule[StoppedVehicleRule, _State]):
    rule_type = "stopped_vehicle"

    def __init__(self, camera: CameraConfig, rule: StoppedVehicleRule) -> None:
        super().__init__(camera, rule, WINDOW_SECONDS)
        cal = camera.calibration
        self._ground = Ground(cal.matrix()) if cal is not None else None
        default = DEFAULT_MAX_KMH if cal is not None else DEFAULT_MAX_SPEED
        self._max_speed = rule.max_speed if rule.max_speed is not None else default

    def _new_state(self) -> _State:
        return _State()

    def _speed(self, trail: Trail) -> tuple[float, Sample] | None:
        if self._ground is not None:
            return self._ground.speed_kmh(trail, WINDOW_SECONDS)
        return speed(trail, WINDOW_SECONDS)

    def _step(self, state: _State, trail: Trail, row: TrackRow, timestamp: float) -> tuple[float, str] | None:
        """Seconds stopped, once that reaches ``min_stopped_seconds``."""
        measured = self._speed(trail)
        if measured is not None:
            value, start = measured
            state.observe(value, start.t, timestamp, self._max_speed)
        since = state.stopped_since
        if since is not None and timestamp - since + TIME_EPSILON >= self._rule.min_stopped_seconds:
            return timestamp - since, "s"
        return None


def _text(hit: RuleHit, s: Subject) -> LocalizedText:
    n = seconds(hit)
    return LocalizedText(
        vi=f"Dừng xe sai quy định ({n} giây): {s.object_vi} tại {s.place} ({s.camera_id})",
        en=f"Stopped vehicle ({n} s): {s.object_en} in {s.place} ({s.camera_id})",
    )


FAMILY = RuleFamily(
    type="stopped_vehicle",
    config=StoppedVehicleRule,
    build=StoppedVehicle,
    text=_text,
    label=LocalizedText(vi="Dừng xe sai quy định", en="Stopped vehicle"),
    unit="s",
)
