"""Batch pre- and post-processing for YOLO detectors in torch ops, on whatever device the frames are.

Preprocessing (``letterbox``) matches Ultralytics' predict-time ``LetterBox`` (minimum rectangle,
centred, pad value 114, bilinear resize): ``imgsz`` is first rounded up to the stride (32), as
Ultralytics does; each input of size (h, w) is scaled by ``r = min(imgsz / h, imgsz / w)`` to
``(max(round(w·r), 1), max(round(h·r), 1))`` and placed centred on a canvas whose sides are the
largest resized sides in the batch rounded up to the stride; channels go BGR → RGB and values
0–255 → 0–1. For a batch of same-size frames this is exactly Ultralytics' rectangle; a batch of
mixed sizes shares one canvas (Ultralytics pads those to imgsz² instead, which changes no box).
The resize runs in float32 on the device (Ultralytics: OpenCV on uint8), so pixels differ from
Ultralytics' by about one grey level at most.

Inputs are uint8 ``(H, W, 3)`` BGR tensors: uploaded frames, or regions of them cut without a copy
(``Crop``: one frame's index and a pixel box ``x1, y1, x2, y2``, right/bottom exclusive).

Postprocessing (``select`` then ``to_host``) follows Ultralytics' ``non_max_suppression`` with its
defaults: per anchor the best class; kept when its score is above ``confidence`` and the class is
wanted; class-aware NMS per input; at most ``MAX_DETECTIONS`` per input, best first. The whole
batch goes through one ``torchvision.ops.batched_nms`` call on the device; the kept rows then
cross to the host in one copy, where boxes are mapped back through the letterbox and normalised
to the input's own size (a crop's boxes are relative to the crop). Ultralytics' cap of 30,000
candidates per image before NMS is not applied (a cap that only trims boxes far below any
useful confidence).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import torch
import torch.nn.functional as F
import torchvision  # type: ignore[import-untyped]

STRIDE = 32
PAD_VALUE = 114
MAX_DETECTIONS = 300


@dataclass(frozen=True, slots=True)
class Crop:
    """A region of one frame of the batch: pixel box, right and bottom edges exclusive."""

    image_index: int
    x1: int
    y1: int
    x2: int
    y2: int

    def problem(self, shapes: Sequence[tuple[int, ...]]) -> str | None:
        """Why this crop cannot be cut from frames of these ``(H, W, …)`` shapes (None: it can)."""
        if not 0 <= self.image_index < len(shapes):
            return f"image_index {self.image_index} is not one of the {len(shapes)} frames"
        h, w = shapes[self.image_index][:2]
        if not (0 <= self.x1 < self.x2 <= w and 0 <= self.y1 < self.y2 <= h):
            return f"box ({self.x1}, {self.y1}, {self.x2}, {self.y2}) is empty or outside the {w}×{h} frame"
        return None


@dataclass(frozen=True, slots=True)
class Placed:
    """How one input was placed on the canvas: its size, the scale, the resized size, the offset."""

    width: int
    height: int
    scale: float
    resized_width: int
    resized_height: int
    left: int
    top: int


@dataclass(frozen=True, slots=True)
class Kept:
    """Detections that survived NMS, on the device: canvas-pixel xyxy, score, model class, input."""

    xyxy: torch.Tensor
    score: torch.Tensor
    model_class: torch.Tensor
    input_index: torch.Tensor


@dataclass(frozen=True, slots=True)
class HostDetections:
    """One input's detections on the host: xyxy normalised to the input, score, model class."""

    xyxy: npt.NDArray[np.float32]
    score: npt.NDArray[np.float32]
    model_class: npt.NDArray[np.int64]


def stride_size(imgsz: int) -> int:
    """``imgsz`` rounded up to a multiple of the stride (what Ultralytics feeds the model)."""
    if imgsz < 1:
        raise ValueError(f"imgsz must be positive, got {imgsz}")
    return math.ceil(imgsz / STRIDE) * STRIDE


def plan(sizes: Sequence[tuple[int, int]], imgsz: int) -> tuple[tuple[int, int], list[Placed]]:
    """Canvas ``(height, width)`` and each input's placement, for inputs of ``(height, width)``."""
    size = stride_size(imgsz)
    resized = []
    for h, w in sizes:
        r = min(size / h, size / w)
        resized.append((r, max(round(w * r), 1), max(round(h * r), 1)))
    out_w = math.ceil(max(s[1] for s in resized) / STRIDE) * STRIDE
    out_h = math.ceil(max(s[2] for s in resized) / STRIDE) * STRIDE
    placed = [
        Placed(w, h, r, rw, rh, (out_w - rw) // 2, (out_h - rh) // 2)
        for (h, w), (r, rw, rh) in zip(sizes, resized, strict=True)
    ]
    return (out_h, out_w), placed


def check_crops(shapes: Sequence[tuple[int, ...]], crops: Sequence[Crop]) -> None:
    """ValueError naming the first crop that cannot be cut from frames of these shapes."""
    for i, crop in enumerate(crops):
        problem = crop.problem(shapes)
        if problem is not None:
            raise ValueError(f"crops[{i}]: {problem}")


def cut(frames: Sequence[torch.Tensor], crops: Sequence[Crop]) -> list[torch.Tensor]:
    """Views of ``frames`` (uint8 HWC, on any device) for each crop; ValueError on a bad crop."""
    check_crops([tuple(f.shape) for f in frames], crops)
    return [frames[c.image_index][c.y1 : c.y2, c.x1 : c.x2] for c in crops]


def cut_host(images: Sequence[npt.NDArray[np.uint8]], crops: Sequence[Crop]) -> list[npt.NDArray[np.uint8]]:
    """The same crops as ``cut``, as numpy views (for detectors that take host frames)."""
    check_crops([i.shape for i in images], crops)
    return [images[c.image_index][c.y1 : c.y2, c.x1 : c.x2] for c in crops]


def letterbox(
    inputs: Sequence[torch.Tensor], imgsz: int, dtype: torch.dtype
) -> tuple[torch.Tensor, list[Placed]]:
    """``(N, 3, H, W)`` RGB 0–1 batch of ``dtype`` on the inputs' device, and each placement."""
    if not inputs:
        raise ValueError("letterbox needs at least one input")
    (out_h, out_w), placed = plan([(int(t.shape[0]), int(t.shape[1])) for t in inputs], imgsz)
    batch = torch.full(
        (len(inputs), 3, out_h, out_w), PAD_VALUE / 255.0, dtype=dtype, device=inputs[0].device
    )
    for i, (frame, p) in enumerate(zip(inputs, placed, strict=True)):
        batch[i, :, p.top : p.top + p.resized_height, p.left : p.left + p.resized_width] = _resized(frame, p)
    return batch, placed


def _resized(frame: torch.Tensor, p: Placed) -> torch.Tensor:
    """One uint8 HWC BGR input as float32 CHW RGB 0–1 at its resized size."""
    chw = frame.permute(2, 0, 1).flip(0).unsqueeze(0).to(torch.float32)
    if (p.resized_height, p.resized_width) != (p.height, p.width):
        chw = F.interpolate(
            chw, size=(p.resized_height, p.resized_width), mode="bilinear", align_corners=False
        )
    return chw[0] / 255.0


def select(raw: torch.Tensor, *, confidence: float, iou: float, wanted: torch.Tensor | None) -> Kept:
    """NMS over a model output ``(N, 4 + classes, anchors)`` (centre-x, centre-y, w, h, scores).

    ``wanted`` is a bool mask over model classes (None: all). Rows come back grouped by input,
    best first within each input.
    """
    pred = raw.transpose(1, 2).float()
    score, cls = pred[..., 4:].max(dim=2)
    mask = score > confidence
    if wanted is not None:
        mask &= wanted[cls]
    image, anchor = mask.nonzero(as_tuple=True)
    xywh = pred[image, anchor, :4]
    xyxy = torch.cat([xywh[:, :2] - xywh[:, 2:] / 2, xywh[:, :2] + xywh[:, 2:] / 2], dim=1)
    score, cls = score[image, anchor], cls[image, anchor]
    groups = image * (raw.shape[1] - 4) + cls  # NMS per (input, class)
    order = torchvision.ops.batched_nms(xyxy, score, groups, iou)  # best first
    order = order[torch.sort(image[order], stable=True).indices]
    return Kept(xyxy[order], score[order], cls[order], image[order])


def to_host(kept: Kept, placed: Sequence[Placed]) -> list[HostDetections]:
    """One copy to the host, then per input: undo the letterbox, normalise, clip, cap at 300."""
    columns = [kept.xyxy, kept.score[:, None], kept.model_class[:, None], kept.input_index[:, None]]
    rows = torch.cat([c.float() for c in columns], dim=1).cpu().numpy()
    index = rows[:, 6].astype(np.int64)
    bounds = np.searchsorted(index, np.arange(len(placed) + 1))
    return [_host(rows[bounds[i] : bounds[i + 1]][:MAX_DETECTIONS], p) for i, p in enumerate(placed)]


def _host(rows: npt.NDArray[np.float32], p: Placed) -> HostDetections:
    offset = np.array([p.left, p.top, p.left, p.top], dtype=np.float32)
    size = np.array([p.width, p.height, p.width, p.height], dtype=np.float32)
    xyxy = np.clip((rows[:, :4] - offset) / p.scale / size, 0.0, 1.0).astype(np.float32)
    return HostDetections(xyxy.reshape(-1, 4), rows[:, 4].astype(np.float32), rows[:, 5].astype(np.int64))
