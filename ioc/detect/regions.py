"""Region-based detection: what the model sees is crops of the full-resolution frame, not the frame.

A frame shrunk to the model's input (``detect.imgsz``, 320 by default) throws away the pixels that
matter: a parked pickup of 95×140 px in a 768×576 frame is 40×58 px at 320 and scores 0.2. Cut a
320 px square around it from the full-resolution frame instead and the same model at the same input
size sees it at its real size. That is what this module plans and undoes:

- ``plan_regions``: squares (pixel coordinates of the frame) around boxes of interest (motion,
  moving tracks, objects due for a re-check, low-confidence candidates), each grown by a margin,
  at least ``min_side`` (the model input, so small objects are never upscaled past their pixels),
  merged while they overlap, clamped inside the frame. ``None`` means "look at the whole frame
  instead": too many regions, or one that would need most of the frame anyway.
- ``crop``: the pixels of one region (a view, no copy).
- ``whole``: drops the boxes a crop's inner sides cut through (a neighbour, not what the crop is for).
- ``to_frame``: detections made on a crop, mapped back to normalised frame coordinates.
- ``merge``: detections from overlapping crops merged: class-aware NMS, plus suppression of a box
  mostly contained in a better one of the same class (an object cut by a crop's edge).

Pure numpy: no model, no clock, no state.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ioc.types import Detections, FloatArray

DEFAULT_MARGIN = 0.5
"""A region around a box is the box grown by this fraction of its longest side (context for the model)."""

DEFAULT_MAX_REGIONS = 4
"""More regions than this in one frame: one full-frame pass is cheaper."""

FULL_FRAME_AREA_RATIO = 0.6
"""Regions covering more than this share of the frame: look at the whole frame instead."""

CONTAINED_RATIO = 0.8
"""A box whose area lies this much inside a better box of the same class is a duplicate."""


@dataclass(frozen=True, slots=True, order=True)
class Region:
    """A square (or, for frames smaller than the model input, the clamped rectangle) in frame pixels."""

    x1: int
    y1: int
    x2: int
    y2: int

    @property
    def width(self) -> int:
        return self.x2 - self.x1

    @property
    def height(self) -> int:
        return self.y2 - self.y1

    @property
    def area(self) -> int:
        return self.width * self.height

    def overlaps(self, other: Region) -> bool:
        return self.x1 < other.x2 and other.x1 < self.x2 and self.y1 < other.y2 and other.y1 < self.y2

    def normalised(self, width: int, height: int) -> tuple[float, float, float, float]:
        return (self.x1 / width, self.y1 / height, self.x2 / width, self.y2 / height)


def _square(cx: float, cy: float, side: float, width: int, height: int) -> Region:
    """A square of ``side`` centred on (cx, cy), shifted (not shrunk) to lie inside the frame."""
    w = round(min(side, width))
    h = round(min(side, height))
    x1 = round(min(max(cx - w / 2.0, 0.0), width - w))
    y1 = round(min(max(cy - h / 2.0, 0.0), height - h))
    return Region(x1, y1, x1 + w, y1 + h)


def around(
    box: Sequence[float], width: int, height: int, *, min_side: int, margin: float = DEFAULT_MARGIN
) -> Region:
    """The region around one pixel box ``(x1, y1, x2, y2)``."""
    x1, y1, x2, y2 = (float(v) for v in box)
    side = max(float(min_side), max(x2 - x1, y2 - y1) * (1.0 + margin))
    return _square((x1 + x2) / 2.0, (y1 + y2) / 2.0, side, width, height)


def _union(a: Region, b: Region, width: int, height: int, min_side: int) -> Region:
    x1, y1 = min(a.x1, b.x1), min(a.y1, b.y1)
    x2, y2 = max(a.x2, b.x2), max(a.y2, b.y2)
    side = max(float(min_side), x2 - x1, y2 - y1)
    return _square((x1 + x2) / 2.0, (y1 + y2) / 2.0, side, width, height)


def _covers_frame(region: Region, width: int, height: int) -> bool:
    """A region that had to be clamped to the frame's short side in both directions."""
    return region.width >= width and region.height >= height


def plan_regions(
    boxes: Sequence[Sequence[float]],
    width: int,
    height: int,
    *,
    min_side: int,
    margin: float = DEFAULT_MARGIN,
    max_regions: int = DEFAULT_MAX_REGIONS,
) -> list[Region] | None:
    """Merged regions around pixel ``boxes``; ``None`` when a full-frame pass is the better plan.

    Overlapping regions are merged into the square around both until none overlap. An empty
    ``boxes`` gives an empty list (nothing to look at).
    """
    if width <= 0 or height <= 0:
        raise ValueError(f"frame size must be positive, got {width}×{height}")
    regions = [around(b, width, height, min_side=min_side, margin=margin) for b in boxes]
    merged = True
    while merged:
        merged = False
        for i in range(len(regions)):
            for j in range(i + 1, len(regions)):
                if regions[i].overlaps(regions[j]):
                    regions[i] = _union(regions[i], regions[j], width, height, min_side)
                    del regions[j]
                    merged = True
                    break
            if merged:
                break
    if len(regions) > max_regions:
        return None
    if any(_covers_frame(r, width, height) for r in regions):
        return None
    if sum(r.area for r in regions) > FULL_FRAME_AREA_RATIO * width * height:
        return None
    return sorted(regions)


def crop(image: npt.NDArray[np.uint8], region: Region) -> npt.NDArray[np.uint8]:
    """The pixels of ``region`` (a view into ``image``)."""
    return image[region.y1 : region.y2, region.x1 : region.x2]


EDGE_PIXELS = 2.0
"""A box within this many pixels of a crop side that is not also the frame's side was cut by the crop."""


def whole(dets: Detections, region: Region, width: int, height: int) -> Detections:
    """``dets`` (normalised to ``region``) without the boxes the crop cut: those touching a side of
    the region that lies inside the frame. What a region is cut around is inside it with a margin;
    what its sides cut through is a neighbour, seen whole by its own region or the next pass."""
    if len(dets) == 0:
        return dets
    ex, ey = EDGE_PIXELS / region.width, EDGE_PIXELS / region.height
    cut = np.zeros(len(dets), dtype=bool)
    if region.x1 > 0:
        cut |= dets.xyxy[:, 0] <= ex
    if region.y1 > 0:
        cut |= dets.xyxy[:, 1] <= ey
    if region.x2 < width:
        cut |= dets.xyxy[:, 2] >= 1.0 - ex
    if region.y2 < height:
        cut |= dets.xyxy[:, 3] >= 1.0 - ey
    return dets[~cut]


def to_frame(dets: Detections, region: Region, width: int, height: int) -> Detections:
    """Detections normalised to ``region`` → normalised to the whole frame (a new value)."""
    if len(dets) == 0:
        return dets
    scale = np.array([region.width, region.height, region.width, region.height], dtype=np.float32)
    offset = np.array([region.x1, region.y1, region.x1, region.y1], dtype=np.float32)
    frame = np.array([width, height, width, height], dtype=np.float32)
    xyxy = np.clip((dets.xyxy * scale + offset) / frame, 0.0, 1.0).astype(np.float32)
    return Detections(
        xyxy=xyxy,
        confidence=dets.confidence,
        class_id=dets.class_id,
        class_name=dets.class_name,
        tracker_id=dets.tracker_id,
    )


def _areas(xyxy: FloatArray) -> FloatArray:
    area = np.maximum(xyxy[:, 2] - xyxy[:, 0], 0) * np.maximum(xyxy[:, 3] - xyxy[:, 1], 0)
    return np.asarray(area, dtype=np.float32)


def _intersections(box: FloatArray, others: FloatArray) -> FloatArray:
    w = np.minimum(box[2], others[:, 2]) - np.maximum(box[0], others[:, 0])
    h = np.minimum(box[3], others[:, 3]) - np.maximum(box[1], others[:, 1])
    return np.asarray(np.maximum(w, 0) * np.maximum(h, 0), dtype=np.float32)


def merge(dets: Detections, *, iou: float, contained: float = CONTAINED_RATIO) -> Detections:
    """Drop duplicates across crops: for each class, keep the most confident box and remove the
    ones that overlap it by ``iou`` or more, or lie ``contained`` of their area inside it."""
    n = len(dets)
    if n < 2:
        return dets
    order = np.argsort(-dets.confidence, kind="stable")
    areas = _areas(dets.xyxy)
    keep = np.ones(n, dtype=bool)
    for pos, i in enumerate(order):
        if not keep[i]:
            continue
        rest = order[pos + 1 :]
        rest = rest[keep[rest] & (dets.class_name[rest] == dets.class_name[i])]
        if len(rest) == 0:
            continue
        inter = _intersections(dets.xyxy[i], dets.xyxy[rest])
        union = areas[i] + areas[rest] - inter
        overlap = inter / np.maximum(union, 1e-9)
        inside = inter / np.maximum(areas[rest], 1e-9)
        keep[rest[(overlap >= iou) | (inside >= contained)]] = False
    return dets[np.sort(np.nonzero(keep)[0])]
