"""Loitering: a tracked object staying inside a zone for at least ``min_dwell_seconds``.

Dwell is measured from stream timestamps, never frame counts, so dropped frames do not shorten
or lengthen it. A track that steps out briefly, or is lost and found again with the same id,
keeps its dwell while the gap between sightings inside stays under the camera's
``track.lost_track_seconds``; a longer absence starts the dwell again (see ``zone_presence``).
Every frame the object is inside with dwell ≥ the threshold yields a STATE hit, value = dwell
seconds (unit ``s``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from ioc.config.rule_base import ZoneRuleBase
from ioc.messages import LocalizedText
from ioc.rules.family import RuleFamily, Subject, seconds
from ioc.rules.zone_presence import ZoneTimeRule
from ioc.types import RuleHit

if TYPE_CHECKING:
    from ioc.config.models import CameraConfig


class LoiteringRule(ZoneRuleBase):
    type: Literal["loitering"]
    min_dwell_seconds: float = Field(..., gt=0, description="Time inside the zone before it is loitering")


class Loitering(ZoneTimeRule):
    def __init__(self, camera: CameraConfig, rule: LoiteringRule) -> None:
        super().__init__(camera, rule, "loitering", rule.min_dwell_seconds)


def _text(hit: RuleHit, s: Subject) -> LocalizedText:
    n = seconds(hit)
    return LocalizedText(
        vi=f"Lảng vảng quá lâu ({n} giây): {s.object_vi} tại {s.place} ({s.camera_id})",
        en=f"Loitering ({n} s): {s.object_en} in {s.place} ({s.camera_id})",
    )


FAMILY = RuleFamily(
    type="loitering",
    config=LoiteringRule,
    build=Loitering,
    text=_text,
    label=LocalizedText(vi="Lảng vảng", en="Loitering"),
    unit="s",
)
