"""Snapshot rendering: zones, lines, boxes and a header drawn on a copy of the frame; JPEG files.

``annotate`` is shared with the live camera tiles. ``SnapshotWriter.write`` never raises into the
pipeline: a disk or encoder failure is logged and the alert simply carries no snapshot.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from ioc.config.models import CameraConfig
from ioc.messages import Severity
from ioc.types import ZONE_TRACK, Detections, Frame, RuleHit

logger = logging.getLogger(__name__)

Image = npt.NDArray[np.uint8]
Color = tuple[int, int, int]  # BGR

JPEG_QUALITY = 85
ZONE_COLOR: Color = (0, 200, 255)
LINE_COLOR: Color = (255, 160, 0)
BOX_COLOR: Color = (230, 230, 230)
HEADER_BG: Color = (32, 32, 32)
TEXT_COLOR: Color = (255, 255, 255)
SEVERITY_COLOR: dict[Severity, Color] = {
    Severity.INFO: (255, 170, 0),
    Severity.WARNING: (0, 160, 255),
    Severity.CRITICAL: (0, 0, 230),
}
FONT = cv2.FONT_HERSHEY_SIMPLEX


class _Pen:
    """Pixel scale for one image: converts normalised points and sizes strokes and text."""

    def __init__(self, image: Image) -> None:
        self.h, self.w = int(image.shape[0]), int(image.shape[1])
        unit = max(1.0, min(self.w, self.h) / 480.0)
        self.thin = max(1, round(unit))
        self.thick = max(2, round(3 * unit))
        self.font_scale = 0.5 * unit
        self.font_thick = max(1, round(unit))

    def px(self, x: float, y: float) -> tuple[int, int]:
        return (round(x * (self.w - 1)), round(y * (self.h - 1)))

    def poly(self, points: tuple[tuple[float, float], ...]) -> npt.NDArray[np.int32]:
        return np.asarray([self.px(x, y) for x, y in points], dtype=np.int32)

    def text_height(self) -> int:
        (_, th), base = cv2.getTextSize("Ag", FONT, self.font_scale, self.font_thick)
        return int(th + base + 2 * (self.thin + 1))

    def label(self, image: Image, text: str, org: tuple[int, int], bg: Color) -> None:
        """Text on a filled box whose bottom-left is ``org``, kept inside the image."""
        (tw, th), base = cv2.getTextSize(text, FONT, self.font_scale, self.font_thick)
        pad = self.thin + 1
        x = min(max(org[0], 0), max(self.w - tw - 2 * pad, 0))
        y = min(max(org[1], th + base + 2 * pad), self.h - 1)
        cv2.rectangle(image, (x, y - th - base - 2 * pad), (x + tw + 2 * pad, y), bg, -1)
        cv2.putText(
            image,
            text,
            (x + pad, y - base - pad),
            FONT,
            self.font_scale,
            TEXT_COLOR,
            self.font_thick,
            cv2.LINE_AA,
        )


def _zones(out: Image, pen: _Pen, camera: CameraConfig) -> None:
    """Translucent zone fills, outlines and names, drawn into ``out`` (our own copy)."""
    overlay = out.copy()
    for zone in camera.zones:
        cv2.fillPoly(overlay, [pen.poly(zone.polygon)], ZONE_COLOR)
    cv2.addWeighted(overlay, 0.25, out, 0.75, 0.0, dst=out)
    for zone in camera.zones:
        pts = pen.poly(zone.polygon)
        cv2.polylines(out, [pts], True, ZONE_COLOR, pen.thin + 1, cv2.LINE_AA)
        top = pts[np.argmin(pts[:, 1])]
        pen.label(out, zone.name or zone.id, (int(top[0]), int(top[1])), (0, 120, 160))


def _lines(image: Image, pen: _Pen, camera: CameraConfig) -> None:
    for line in camera.lines:
        a, b = pen.px(*line.points[0]), pen.px(*line.points[1])
        cv2.line(image, a, b, LINE_COLOR, pen.thin + 1, cv2.LINE_AA)
        dx, dy = b[0] - a[0], b[1] - a[1]
        length = max(np.hypot(dx, dy), 1.0)
        # The "in" side is where cross(b - a, p - a) > 0: the normal (-dy, dx) in pixels (y down).
        arrow = 0.07 * min(pen.w, pen.h)
        mid = ((a[0] + b[0]) // 2, (a[1] + b[1]) // 2)
        tip = (round(mid[0] - dy / length * arrow), round(mid[1] + dx / length * arrow))
        cv2.arrowedLine(image, mid, tip, LINE_COLOR, pen.thick, cv2.LINE_AA, tipLength=0.4)
        pen.label(image, "in", (tip[0] + pen.thin, tip[1] + pen.thin), (140, 90, 0))
        pen.label(image, line.name or line.id, (a[0], a[1] - pen.thick), (140, 90, 0))


def _boxes(image: Image, pen: _Pen, dets: Detections) -> None:
    for i in range(len(dets)):
        x1, y1, x2, y2 = (float(v) for v in dets.xyxy[i])
        p1, p2 = pen.px(x1, y1), pen.px(x2, y2)
        cv2.rectangle(image, p1, p2, BOX_COLOR, pen.thin, cv2.LINE_AA)
        tid = int(dets.tracker_id[i])
        text = f"{dets.class_name[i]} #{tid}" if tid >= 0 else str(dets.class_name[i])
        pen.label(image, text, (p1[0], p1[1] - 1), (70, 70, 70))


def _highlight(image: Image, pen: _Pen, hit: RuleHit, severity: Severity) -> None:
    color = SEVERITY_COLOR[severity]
    p1, p2 = pen.px(hit.bbox[0], hit.bbox[1]), pen.px(hit.bbox[2], hit.bbox[3])
    cv2.rectangle(image, p1, p2, color, pen.thick, cv2.LINE_AA)
    who = hit.object_class if hit.track_id == ZONE_TRACK else f"{hit.object_class} #{hit.track_id}"
    text = f"{hit.rule_id}: {who}"
    if hit.direction is not None:
        text += f" {hit.direction}"
    if hit.value is not None:
        unit = hit.value_unit or ""
        text += f" (count {hit.value:g})" if unit == "count" else f" {hit.value:g} {unit}".rstrip()
    below = p2[1] + pen.thick + pen.text_height()
    pen.label(image, text, (p1[0], below if below < pen.h else p1[1] - pen.thick), color)


def _clock_text(wall_time: float, tz: tzinfo) -> str:
    """``2026-11-24 12:08:48 UTC+07:00`` (``UTC`` when the zone has no offset)."""
    local = datetime.fromtimestamp(wall_time, tz=tz)
    offset = local.utcoffset() or timedelta(0)
    if not offset:
        return local.strftime("%Y-%m-%d %H:%M:%S UTC")
    sign, minutes = ("+" if offset > timedelta(0) else "-"), int(abs(offset).total_seconds()) // 60
    return local.strftime("%Y-%m-%d %H:%M:%S") + f" UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def _header(
    image: Image, pen: _Pen, camera: CameraConfig, frame: Frame, hit: RuleHit | None, tz: tzinfo
) -> None:
    """A dark strip across the top: camera, rule, local time; the text shrinks to fit the width."""
    when = _clock_text(frame.wall_time, tz)
    parts = [camera.id, *([f"{hit.rule_type} / {hit.rule_id}"] if hit else []), when]
    text = "  |  ".join(parts)
    margin = 6 * pen.thin
    scale = pen.font_scale * 1.2
    # OpenCV sizes text in coarse steps, so shrink until the measured width fits.
    while scale > 0.2 and cv2.getTextSize(text, FONT, scale, pen.font_thick)[0][0] > pen.w - 2 * margin:
        scale *= 0.95
    (_, th), base = cv2.getTextSize(text, FONT, scale, pen.font_thick)
    height = th + base + 4 * pen.thin + 4
    cv2.rectangle(image, (0, 0), (pen.w - 1, height), HEADER_BG, -1)
    org = (margin, height - base - 2 * pen.thin)
    cv2.putText(image, text, org, FONT, scale, TEXT_COLOR, pen.font_thick, cv2.LINE_AA)


def annotate(
    frame: Frame,
    dets: Detections,
    camera: CameraConfig,
    highlight: RuleHit | None = None,
    tz: tzinfo = UTC,
) -> Image:
    """A copy of ``frame.image`` with zones, lines, every box, the highlighted hit and a header
    whose clock is in ``tz`` (the site's time zone)."""
    pen = _Pen(frame.image)
    image = frame.image.copy()
    _zones(image, pen, camera)
    _lines(image, pen, camera)
    _boxes(image, pen, dets)
    if highlight is not None:
        rule = next((r for r in camera.rules if r.id == highlight.rule_id), None)
        _highlight(image, pen, highlight, rule.severity if rule else Severity.WARNING)
    _header(image, pen, camera, frame, highlight, tz)
    return image


class SnapshotWriter:
    """Writes annotated JPEGs under ``root/<camera>/<yyyy-mm-dd>/`` and returns their URLs."""

    def __init__(self, root: Path, tz: tzinfo = UTC) -> None:
        self._root = root
        self._tz = tz

    @property
    def tz(self) -> tzinfo:
        """The time zone of the clock drawn on snapshots (folders stay by UTC date)."""
        return self._tz

    @property
    def root(self) -> Path:
        return self._root

    def write(
        self,
        frame: Frame,
        dets: Detections,
        camera: CameraConfig,
        hit: RuleHit | None,
        alert_id: str,
        state: str,
    ) -> str | None:
        """Render and save one snapshot; the URL ``/snapshots/...``, or None when it failed."""
        day = datetime.fromtimestamp(frame.wall_time, tz=UTC).strftime("%Y-%m-%d")
        name = f"{alert_id}-{state}.jpg"
        path = self._root / camera.id / day / name
        try:
            image = annotate(frame, dets, camera, hit, self._tz)
            ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
            if not ok:
                raise ValueError("JPEG encoder refused the image")
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".jpg.tmp")
            tmp.write_bytes(buf.tobytes())
            os.replace(tmp, path)
        except (OSError, ValueError, cv2.error) as exc:
            logger.error("camera %s: snapshot %s not written: %s", camera.id, path, exc)
            return None
        return f"/snapshots/{camera.id}/{day}/{name}"
