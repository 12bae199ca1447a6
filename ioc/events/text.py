"""Alert messages in Vietnamese and English, one template per rule type and direction."""

from __future__ import annotations

from ioc.config.models import CameraConfig
from ioc.messages import AlertState, LocalizedText
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

DIRECTION_VI = {"in": "chiều vào", "out": "chiều ra"}
DIRECTION_EN = {"in": "inbound", "out": "outbound"}


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
    cls_en, cls_v, cam, place = hit.object_class, class_vi(hit.object_class), camera.id, _place(camera, hit)
    if hit.rule_type == "intrusion":
        vi = f"Xâm nhập khu vực cấm: {cls_v} tại {place} ({cam})"
        en = f"Intrusion into {place}: {cls_en} ({cam})"
    elif hit.rule_type == "loitering":
        seconds = int(hit.value or 0.0)
        vi = f"Lảng vảng quá lâu ({seconds} giây): {cls_v} tại {place} ({cam})"
        en = f"Loitering ({seconds} s): {cls_en} in {place} ({cam})"
    elif hit.rule_type == "line_crossing":
        d = hit.direction or "in"
        vi = f"Vượt vạch {place} theo {DIRECTION_VI.get(d, d)}: {cls_v} ({cam})"
        en = f"Crossed line {place} {DIRECTION_EN.get(d, d)}: {cls_en} ({cam})"
    else:
        vi = f"Cảnh báo {hit.rule_id}: {cls_v} ({cam})"
        en = f"Alert {hit.rule_id}: {cls_en} ({cam})"
    if state is AlertState.END:
        return LocalizedText(vi=f"Đã kết thúc — {vi}", en=f"Ended — {en}")
    return LocalizedText(vi=vi, en=en)
