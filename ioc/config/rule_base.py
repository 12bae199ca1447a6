"""Config building blocks every rule family shares: ids, coordinates, ``RuleBase``, ``schedule``.

A rule family's own config model lives in its module under ``ioc/rules/`` and derives from
``RuleBase`` (or ``ZoneRuleBase`` when it watches a zone). This module imports nothing from
``ioc.rules`` or ``ioc.config.models``, so both can import it.

``schedule`` (every rule type): ``{days: [mon, …], from: "HH:MM", to: "HH:MM"}`` in the site's
time zone. The window opens at ``from`` on each listed day and closes at ``to``; when ``to`` is
not later than ``from`` the window runs over midnight and closes at ``to`` on the next day (so
``days: [fri], from: "22:00", to: "05:30"`` covers Friday 22:00 to Saturday 05:30). ``days``
defaults to every day. ``from`` equal to ``to`` is refused (say nothing to run all day).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from ioc.config.coco import COCO_CLASSES
from ioc.messages import Severity

if TYPE_CHECKING:
    from ioc.config.models import CameraConfig

Id = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", description="Identifier")]
Coord = Annotated[float, Field(ge=0.0, le=1.0)]
NormPoint = tuple[Coord, Coord]
_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def _clock_time(v: str) -> str:
    if not _CLOCK.match(v):
        raise ValueError(f"expected a time of day as \"HH:MM\" (00:00 to 23:59), got {v!r}")
    return v


ClockTime = Annotated[str, AfterValidator(_clock_time), Field(description="HH:MM, 24-hour")]


MAX_TEXT = 2048
"""Longest string anywhere in the config (names, sources, paths); lists have their own limits."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, str_max_length=MAX_TEXT)


def check_classes(classes: tuple[str, ...] | None) -> tuple[str, ...] | None:
    if classes is None:
        return None
    unknown = [c for c in classes if c not in COCO_CLASSES]
    if unknown:
        raise ValueError(
            f"unknown class {unknown[0]!r}: expected COCO class names such as 'person', 'car', 'bus'"
        )
    return classes


class Weekday(enum.StrEnum):
    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"


WEEK: tuple[Weekday, ...] = tuple(Weekday)


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


class Schedule(Strict):
    """When a rule runs: a daily window on some days, in the site's time zone."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    days: tuple[Weekday, ...] = Field(WEEK, min_length=1, description="Days the window opens on")
    start: ClockTime = Field(..., alias="from", description="Window opens, HH:MM")
    end: ClockTime = Field(..., alias="to", description="Window closes, HH:MM; not after `from` = next day")

    @model_validator(mode="after")
    def _not_empty(self) -> Schedule:
        if self.start == self.end:
            raise ValueError(f"from and to are both {self.start!r}: the window would be empty")
        return self

    @property
    def overnight(self) -> bool:
        return _minutes(self.end) <= _minutes(self.start)

    def active(self, local: datetime) -> bool:
        """Whether local time ``local`` (aware, in the site's zone) falls inside a window."""
        now = local.hour * 60 + local.minute + local.second / 60.0
        start, end = _minutes(self.start), _minutes(self.end)
        today = WEEK[local.weekday()]
        if not self.overnight:
            return today in self.days and start <= now < end
        yesterday = WEEK[(local - timedelta(days=1)).weekday()]
        return (today in self.days and now >= start) or (yesterday in self.days and now < end)


class RuleBase(Strict):
    id: Id
    enabled: bool = Field(True, description="Turn the rule off without deleting it")
    classes: tuple[str, ...] | None = Field(
        None, description="Object classes the rule applies to; default: the camera's detect.classes"
    )
    severity: Severity = Field(Severity.WARNING, description="info | warning | critical")
    min_confidence: float = Field(0.0, ge=0, le=1, description="Ignore detections below this confidence")
    cooldown_seconds: float | None = Field(
        None, ge=0, description="Overrides the camera's alerts.cooldown_seconds for this rule"
    )
    schedule: Schedule | None = Field(
        None, description="Run only in this window ({days, from, to}, site time zone); default: always"
    )

    _classes = field_validator("classes")(check_classes)

    def references(self) -> Sequence[tuple[str, str]]:
        """``(kind, id)`` of the zones and lines this rule names (``kind`` is ``zone`` or ``line``)."""
        return ()

    def camera_problems(self, camera: CameraConfig) -> list[str]:
        """Family-specific checks against the rule's camera, as ``field: message`` (no prefix)."""
        return []


class ZoneRuleBase(RuleBase):
    """A rule watching the tracks whose anchor is inside one zone."""

    zone: Id = Field(..., description="Zone id")

    def references(self) -> Sequence[tuple[str, str]]:
        return (("zone", self.zone),)


class OptionalZoneRuleBase(RuleBase):
    """A rule watching one zone, or the whole picture when ``zone`` is left out."""

    zone: Id | None = Field(None, description="Zone id; default: the whole picture")

    def references(self) -> Sequence[tuple[str, str]]:
        return (("zone", self.zone),) if self.zone is not None else ()


__all__ = [
    "WEEK",
    "ClockTime",
    "Coord",
    "Id",
    "NormPoint",
    "OptionalZoneRuleBase",
    "RuleBase",
    "Schedule",
    "Strict",
    "Weekday",
    "ZoneRuleBase",
    "check_classes",
]
