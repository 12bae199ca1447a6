"""How well a candidate detector agrees with a reference on the same frames.

Used to judge an INT8 model against the FP32 model it came from (and, in the throughput
benchmark, each backend against PyTorch at imgsz 640). Per frame, reference boxes are matched to
candidate boxes greedily: the most confident reference box first takes the unmatched candidate box
of the same class name with the highest IoU, if that IoU is at least ``min_iou`` (default 0.5).
Over all frames:

- ``recall``: matched reference boxes / reference boxes (1.0 when the reference found nothing);
- ``precision``: matched candidate boxes / candidate boxes (1.0 when the candidate found nothing);
- ``mean_iou``: mean IoU of the matched pairs (1.0 when nothing matched: no disagreement measured);
- ``mean_confidence_drift``: mean of candidate minus reference confidence over matched pairs
  (negative: the candidate is less sure), and ``mean_abs_confidence_drift`` its absolute value.

Boxes are normalised xyxy, as in ``Detections``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import numpy.typing as npt

from ioc.types import Detections, FloatArray

DEFAULT_MIN_IOU = 0.5


@dataclass(frozen=True, slots=True)
class Agreement:
    """Candidate vs reference over a set of frames (see the module docstring)."""

    frames: int
    reference_boxes: int
    candidate_boxes: int
    matched: int
    recall: float
    precision: float
    mean_iou: float
    mean_confidence_drift: float
    mean_abs_confidence_drift: float

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class _FrameMatch:
    ious: list[float]
    drifts: list[float]


def box_iou(boxes_a: FloatArray, boxes_b: FloatArray) -> npt.NDArray[np.float64]:
    """IoU matrix (len(a), len(b)) of xyxy boxes."""
    a = np.asarray(boxes_a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(boxes_b, dtype=np.float64).reshape(-1, 4)
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    out: npt.NDArray[np.float64] = np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)
    return out


def match_frame(reference: Detections, candidate: Detections, min_iou: float) -> _FrameMatch:
    """Greedy same-class matching of one frame (most confident reference box first)."""
    iou = box_iou(reference.xyxy, candidate.xyxy)
    same = reference.class_name[:, None] == candidate.class_name[None, :]
    iou = np.where(same, iou, 0.0)
    taken = np.zeros(len(candidate), dtype=bool)
    ious: list[float] = []
    drifts: list[float] = []
    for r in np.argsort(-reference.confidence, kind="stable"):
        row = np.where(taken, -1.0, iou[r])
        c = int(row.argmax()) if len(row) else -1
        if c < 0 or row[c] < min_iou:
            continue
        taken[c] = True
        ious.append(float(row[c]))
        drifts.append(float(candidate.confidence[c]) - float(reference.confidence[r]))
    return _FrameMatch(ious, drifts)


def compare(
    reference: Sequence[Detections], candidate: Sequence[Detections], *, min_iou: float = DEFAULT_MIN_IOU
) -> Agreement:
    """Agreement of ``candidate`` with ``reference``, frame by frame (same order, same length)."""
    if len(reference) != len(candidate):
        raise ValueError(f"reference has {len(reference)} frames but candidate has {len(candidate)}")
    ious: list[float] = []
    drifts: list[float] = []
    for ref, cand in zip(reference, candidate, strict=True):
        m = match_frame(ref, cand, min_iou)
        ious += m.ious
        drifts += m.drifts
    n_ref = sum(len(d) for d in reference)
    n_cand = sum(len(d) for d in candidate)
    return Agreement(
        frames=len(reference),
        reference_boxes=n_ref,
        candidate_boxes=n_cand,
        matched=len(ious),
        recall=len(ious) / n_ref if n_ref else 1.0,
        precision=len(ious) / n_cand if n_cand else 1.0,
        mean_iou=float(np.mean(ious)) if ious else 1.0,
        mean_confidence_drift=float(np.mean(drifts)) if drifts else 0.0,
        mean_abs_confidence_drift=float(np.mean(np.abs(drifts))) if drifts else 0.0,
    )
