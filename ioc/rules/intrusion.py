"""Intrusion: a tracked object's anchor (bottom-centre) inside a forbidden zone.

Once the object has been inside for at least ``min_seconds`` of stream time (0 = at once), every
frame it is seen inside yields a STATE hit whose ``value`` is the seconds inside. Presence
survives short gaps (see ``zone_presence``), so a missed detection does not restart the clock.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from ioc.config.rule_base import ZoneRuleBase
from ioc.messages import LocalizedText
from ioc.rules.family import RuleFamily, Subject
from ioc.rules.zone_presence import ZoneTimeRule
from ioc.types import RuleHit

if TYPE_CHECKING:
    from ioc.config.models import CameraConfig


class IntrusionRule(ZoneRuleBase):
    type: Literal["intrusion"]
    min_seconds: float = Field(0.0, ge=0, description="Object must be inside this long before alerting")


class Intrusion(ZoneTimeRule):
    def __init__(self, camera: CameraConfig, rule: IntrusionRule) -> None:
        super().__init__(camera, rule, "intrusion", rule.min_seconds)


def _text(hit: RuleHit, s: Subject) -> LocalizedText:
    return LocalizedText(
        vi=f"Xâm nhập khu vực cấm: {s.object_vi} tại {s.place} ({s.camera_id})",
        en=f"Intrusion into {s.place}: {s.object_en} ({s.camera_id})",
    )


FAMILY = RuleFamily(
    type="intrusion",
    config=IntrusionRule,
    build=Intrusion,
    text=_text,
    label=LocalizedText(vi="Xâm nhập vùng cấm", en="Intrusion"),
    unit="s",
)
