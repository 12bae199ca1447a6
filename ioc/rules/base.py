"""What every rule family shares: the ``Rule`` protocol, eligibility filtering, per-track memory.

A rule sees the tracked detections of one frame and the frame's stream time; it returns
``RuleHit`` values and keeps whatever per-track state it needs between frames. Rules are pure:
no I/O, no wall clock, no locks (one thread owns a camera's rules).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

from ioc.config.rule_base import RuleBase
from ioc.geometry import points_in_polygon
from ioc.types import Detections, HitKind, RuleHit

if TYPE_CHECKING:
    from ioc.config.models import CameraConfig, Zone

PRUNE_MARGIN_SECONDS = 1.0
"""Per-track state is dropped once a track has been unseen for ``lost_track_seconds`` + this."""

TIME_EPSILON = 1e-6
"""Thresholds compare stream times with this tolerance so 0.1 + 0.2 style sums do not miss by 1 ulp."""


class Rule(Protocol):
    """One configured rule with its per-track state."""

    @property
    def rule_id(self) -> str: ...

    def evaluate(self, dets: Detections, timestamp: float) -> list[RuleHit]:
        """Hits for this frame. ``timestamp`` is stream seconds, non-decreasing between calls."""
        ...

    def reset(self) -> None:
        """Forget all per-track state (the stream restarted)."""
        ...


def eligible(dets: Detections, camera: CameraConfig, rule: RuleBase) -> Detections:
    """The detections a rule applies to: its classes, at least its confidence, and tracked."""
    if len(dets) == 0:
        return dets
    classes = np.asarray(camera.rule_classes(rule), dtype=object)
    mask = (
        np.isin(dets.class_name, classes) & (dets.confidence >= rule.min_confidence) & (dets.tracker_id >= 0)
    )
    return dets[mask]


def inside_zone(zone: Zone | None, dets: Detections) -> np.ndarray[tuple[int], np.dtype[np.bool_]]:
    """Which detections have their anchor inside ``zone`` (all of them when ``zone`` is None)."""
    if zone is None:
        return np.ones(len(dets), dtype=bool)
    return points_in_polygon(zone.polygon, dets.anchor)


def without_masked(dets: Detections, masks: tuple[Zone, ...]) -> Detections:
    """``dets`` minus the detections whose anchor falls inside any of ``masks``."""
    if len(dets) == 0 or not masks:
        return dets
    masked = np.zeros(len(dets), dtype=bool)
    for mask in masks:
        masked |= points_in_polygon(mask.polygon, dets.anchor)
    return dets[~masked]


@dataclass(frozen=True, slots=True)
class TrackRow:
    """One eligible detection, unpacked for per-track rule logic."""

    track_id: int
    object_class: str
    confidence: float
    bbox: tuple[float, float, float, float]
    anchor: tuple[float, float]


def rows(dets: Detections) -> Iterator[TrackRow]:
    """Iterate detections as ``TrackRow`` values (one per object)."""
    anchors = dets.anchor
    for i in range(len(dets)):
        x1, y1, x2, y2 = (float(v) for v in dets.xyxy[i])
        yield TrackRow(
            track_id=int(dets.tracker_id[i]),
            object_class=str(dets.class_name[i]),
            confidence=float(dets.confidence[i]),
            bbox=(x1, y1, x2, y2),
            anchor=(float(anchors[i, 0]), float(anchors[i, 1])),
        )


def state_hit(
    rule_id: str,
    rule_type: str,
    row: TrackRow,
    timestamp: float,
    zone_id: str | None,
    value: float,
    unit: str = "s",
) -> RuleHit:
    """A STATE hit about one track; ``value`` in ``unit`` (seconds by default)."""
    return RuleHit(
        rule_id=rule_id,
        rule_type=rule_type,
        kind=HitKind.STATE,
        track_id=row.track_id,
        object_class=row.object_class,
        confidence=row.confidence,
        bbox=row.bbox,
        timestamp=timestamp,
        zone_id=zone_id,
        value=round(value, 3),
        value_unit=unit,
    )
