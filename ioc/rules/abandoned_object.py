"""Abandoned object: a bag that stays put with no person near it for ``min_seconds``.

The rule's ``classes`` are the objects to watch (required, and never ``person``); owners are every
``person`` detection of the frame (``ioc check`` requires ``person`` in the camera's
``detect.classes``). Per object track, exactly:

1. Settled. The object settles where it is first seen; when its anchor moves more than
   ``STILL_DISTANCE`` (normalised) from the settling point it settles again there, now (it is
   being carried).
2. Unattended. When no person's anchor is within ``owner_distance`` of the object's anchor the
   object is unattended from now (unless it already was); a person within that distance clears it.
   A ``person`` box overlapping the object's own box by ``SELF_IOU`` or more is not an owner: it
   is the detector calling the object itself a person (a bag or a plush toy, small in the model's
   input, is often scored as both), and it would otherwise attend the object for ever.
3. Hits. Abandoned seconds = t − max(settled at, unattended since). Every frame the object is
   inside the zone with abandoned seconds ≥ ``min_seconds``, a STATE hit with that ``value``
   (unit ``s``).
4. Memory: a track unseen longer than ``track.lost_track_seconds`` + ``PRUNE_MARGIN_SECONDS`` is
   forgotten; shorter detector flicker keeps its clocks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
from pydantic import Field

from ioc.config.rule_base import OptionalZoneRuleBase
from ioc.geometry import Point
from ioc.messages import LocalizedText
from ioc.rules.base import (
    PRUNE_MARGIN_SECONDS,
    TIME_EPSILON,
    TrackRow,
    eligible,
    inside_zone,
    rows,
    state_hit,
)
from ioc.rules.family import RuleFamily, Subject, seconds
from ioc.rules.per_track import PerTrackRule
from ioc.types import Detections, FloatArray, RuleHit

if TYPE_CHECKING:
    from ioc.config.models import CameraConfig

STILL_DISTANCE = 0.02
OWNER_CLASS = "person"
SELF_IOU = 0.5
"""A ``person`` box overlapping the watched object's box this much is that object, misnamed."""


class AbandonedObjectRule(OptionalZoneRuleBase):
    type: Literal["abandoned_object"]
    min_seconds: float = Field(..., gt=0, description="Still and unattended this long before alerting")
    owner_distance: float = Field(
        0.08, gt=0, le=1, description="A person's anchor closer than this (normalised) attends the object"
    )

    def camera_problems(self, camera: CameraConfig) -> list[str]:
        if OWNER_CLASS not in camera.detect.classes:
            wanted = list(camera.detect.classes)
            return [f"type: abandoned_object needs 'person' in detect.classes to see owners, got {wanted}"]
        if self.classes is None:
            return ["classes: abandoned_object needs the object classes to watch, e.g. [backpack, suitcase]"]
        if OWNER_CLASS in self.classes:
            return ["classes: abandoned_object watches objects, not 'person'; list the bag classes"]
        return []


@dataclass(slots=True)
class _State:
    point: Point
    settled_at: float
    last_seen: float
    unattended_since: float | None = None


class AbandonedObject(PerTrackRule[AbandonedObjectRule, _State]):
    def __init__(self, camera: CameraConfig, rule: AbandonedObjectRule) -> None:
        super().__init__(camera, rule)
        self._forget_after = camera.track.lost_track_seconds + PRUNE_MARGIN_SECONDS

    def evaluate(self, dets: Detections, timestamp: float) -> list[RuleHit]:
        mine = eligible(dets, self._camera, self._rule)
        people = dets.class_name == OWNER_CLASS
        owners, owner_boxes = dets.anchor[people], dets.xyxy[people]
        hits: list[RuleHit] = []
        for row, inside in zip(rows(mine), inside_zone(self._zone, mine), strict=True):
            state = self._observe(row, timestamp, self._attended(row, owners, owner_boxes))
            started = (
                state.settled_at
                if state.unattended_since is None
                else max(state.settled_at, state.unattended_since)
            )
            alone = timestamp - started
            if (
                inside
                and state.unattended_since is not None
                and alone + TIME_EPSILON >= self._rule.min_seconds
            ):
                hits.append(
                    state_hit(self._rule.id, "abandoned_object", row, timestamp, self._rule.zone, alone)
                )
        stale = [t for t, s in self._states.items() if timestamp - s.last_seen > self._forget_after]
        for tid in stale:
            del self._states[tid]
        return hits

    def reset(self) -> None:
        self._states.clear()

    def _attended(self, row: TrackRow, owners: FloatArray, owner_boxes: FloatArray) -> bool:
        if len(owners) == 0:
            return False
        distances = np.hypot(owners[:, 0] - row.anchor[0], owners[:, 1] - row.anchor[1])
        near = distances < self._rule.owner_distance
        return bool(np.any(near & (_iou(row.bbox, owner_boxes) < SELF_IOU)))

    def _observe(self, row: TrackRow, timestamp: float, attended: bool) -> _State:
        state = self._states.get(row.track_id)
        if state is None or math.dist(state.point, row.anchor) > STILL_DISTANCE:
            unattended = None if state is None else state.unattended_since
            state = _State(row.anchor, timestamp, timestamp, unattended)
            self._states[row.track_id] = state
        state.last_seen = timestamp
        if attended:
            state.unattended_since = None
        elif state.unattended_since is None:
            state.unattended_since = timestamp
        return state


def _iou(box: tuple[float, float, float, float], boxes: FloatArray) -> FloatArray:
    x1, y1, x2, y2 = box
    w = np.clip(np.minimum(x2, boxes[:, 2]) - np.maximum(x1, boxes[:, 0]), 0.0, None)
    h = np.clip(np.minimum(y2, boxes[:, 3]) - np.maximum(y1, boxes[:, 1]), 0.0, None)
    inter = w * h
    union = (x2 - x1) * (y2 - y1) + (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]) - inter
    return np.asarray(inter / np.maximum(union, 1e-12), dtype=np.float64)


def _text(hit: RuleHit, s: Subject) -> LocalizedText:
    n = seconds(hit)
    return LocalizedText(
        vi=f"Đồ vật bị bỏ lại ({n} giây): {s.object_vi} tại {s.place} ({s.camera_id})",
        en=f"Abandoned {s.object_en} ({n} s) in {s.place} ({s.camera_id})",
    )


FAMILY = RuleFamily(
    type="abandoned_object",
    config=AbandonedObjectRule,
    build=AbandonedObject,
    text=_text,
    label=LocalizedText(vi="Đồ vật bị bỏ lại", en="Abandoned object"),
    unit="s",
)
