"""Alert messages in Vietnamese and English: each rule family's text (``registry``) about a hit.

The family gets the object's class in both languages and the display name of its zone or line;
a hit of a type this build does not know gets a generic text naming its rule.
"""

from __future__ import annotations

from ioc.config.models import CameraConfig
from ioc.messages import AlertState, LocalizedText
from ioc.rules.family import Subject
from ioc.rules.registry import family_named
from ioc.types import RuleHit

CLASS_VI: dict[str, str] = {
    "person": "người",
    "bicycle": "xe đạp",
    "car": "ô tô",
    "motorcycle": "xe máy",
    "bus": "xe buýt",
    "truck": "xe tải",
    "train": "tàu hỏa",
    "dog": "chó",
    "backpack": "ba lô",
    "handbag": "túi xách",
    "suitcase": "va li",
}

def class_vi(name: str) -> str:
    """Vietnamese name of a COCO class; the English name where the table has none."""
    return CLASS_VI.get(name, name)


def _place(camera: CameraConfig, hit: RuleHit) -> str:
    """Display name of the hit's zone or line (its id when unnamed or not in the config)."""
    if hit.zone_id is not None:
        zone = next((z for z in camera.zones if z.id == hit.zone_id), None)
        return (zone.name if zone else None) or hit.zone_id
    if hit.line_id is not None:
        line = next((ln for ln in camera.lines if ln.id == hit.line_id), None)
        return (line.name if line else None) or hit.line_id
    return hit.rule_id


def describe(camera: CameraConfig, hit: RuleHit, state: AlertState) -> LocalizedText:
    """The human message for one alert message about ``hit``."""
    subject = Subject(hit.object_class, class_vi(hit.object_class), _place(camera, hit), camera.id)
    family = family_named(hit.rule_type)
    if family is not None:
        text = family.text(hit, subject)
        vi, en = text.vi, text.en
    else:
        vi = f"Cảnh báo {hit.rule_id}: {subject.object_vi} ({camera.id})"
        en = f"Alert {hit.rule_id}: {subject.object_en} ({camera.id})"
    if state is AlertState.END:
        return LocalizedText(vi=f"Đã kết thúc — {vi}", en=f"Ended — {en}")
    return LocalizedText(vi=vi, en=en)
