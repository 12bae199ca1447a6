"""Do two detectors agree? Recall and box agreement of a candidate against a reference.

Used to decide whether FP16 may stand in for FP32 (and the on-device pipeline for Ultralytics'
predict), and INT8 for FP32 on the CPU (``precision``, with its own thresholds). Per image and per
class, reference boxes are taken best-confidence first and each is matched to the still-unmatched
candidate box of the same class with the highest IoU, if that IoU is at least ``match_iou``. Recall
is matched / reference boxes, precision matched / candidate boxes (1.0 when there are none to
match); ``mean_iou`` and ``worst_iou`` are over matched pairs, ``max_corner_delta`` is the largest
difference of a matched pair's normalised coordinates; ``mean_confidence_drift`` the mean of
candidate minus reference confidence over matched pairs (negative: the candidate is less sure) and
``mean_abs_confidence_drift`` its absolute value.
``holds`` says whether the candidate is good enough to replace the reference.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import numpy.typing as npt

from ioc.types import Detections

MATCH_IOU = 0.5
MIN_RECALL = 0.98
MIN_PRECISION = 0.98
MIN_MEAN_IOU = 0.95


@dataclass(frozen=True, slots=True)
class Agreement:
    """How far a candidate's detections agree with a reference's, over a set of images."""

    frames: int
    reference_boxes: int
    candidate_boxes: int
    matched: int
    recall: float
    precision: float
    mean_iou: float
    worst_iou: float
    max_corner_delta: float
    mean_confidence_drift: float
    mean_abs_confidence_drift: float

    @property
    def holds(self) -> bool:
        """Recall, precision and mean IoU all at or above the ``MIN_*`` thresholds."""
        return self.recall >= MIN_RECALL and self.precision >= MIN_PRECISION and self.mean_iou >= MIN_MEAN_IOU

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)

    def summary(self) -> str:
        return (
            f"recall {self.recall:.3f}, precision {self.precision:.3f} "
            f"({self.matched}/{self.reference_boxes} reference, {self.candidate_boxes} candidate boxes), "
            f"IoU mean {self.mean_iou:.3f} worst {self.worst_iou:.3f}, "
            f"max corner delta {self.max_corner_delta:.4f}: {'holds' if self.holds else 'DOES NOT HOLD'}"
        )


def iou_matrix(a: npt.NDArray[np.float32], b: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    """IoU of every box in ``a`` (n, 4 xyxy) with every box in ``b`` (m, 4 xyxy): (n, m)."""
    a64, b64 = a.astype(np.float64)[:, None, :], b.astype(np.float64)[None, :, :]
    wh = np.clip(np.minimum(a64[..., 2:], b64[..., 2:]) - np.maximum(a64[..., :2], b64[..., :2]), 0.0, None)
    inter = wh[..., 0] * wh[..., 1]
    area_a = (a64[..., 2] - a64[..., 0]) * (a64[..., 3] - a64[..., 1])
    area_b = (b64[..., 2] - b64[..., 0]) * (b64[..., 3] - b64[..., 1])
    union = area_a + area_b - inter
    out: npt.NDArray[np.float64] = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    return out


def _match(ref: Detections, cand: Detections, match_iou: float) -> list[tuple[int, int, float]]:
    """(reference index, candidate index, IoU) of each matched pair in one image."""
    ious = iou_matrix(ref.xyxy, cand.xyxy)
    same_class = ref.class_id[:, None] == cand.class_id[None, :]
    ious = np.where(same_class, ious, 0.0)
    taken = np.zeros(len(cand), dtype=bool)
    pairs = []
    for r in np.argsort(-ref.confidence, kind="stable"):
        row = np.where(taken, -1.0, ious[r])
        c = int(np.argmax(row)) if len(row) else -1
        if c >= 0 and row[c] >= match_iou:
            taken[c] = True
            pairs.append((int(r), c, float(row[c])))
    return pairs


def compare(
    reference: Sequence[Detections], candidate: Sequence[Detections], *, match_iou: float = MATCH_IOU
) -> Agreement:
    """Agreement of ``candidate`` with ``reference``, image by image (same order, same length)."""
    if len(reference) != len(candidate):
        raise ValueError(f"compare: {len(reference)} reference images but {len(candidate)} candidate images")
    ious: list[float] = []
    drifts: list[float] = []
    delta = 0.0
    for ref, cand in zip(reference, candidate, strict=True):
        for r, c, iou in _match(ref, cand, match_iou):
            ious.append(iou)
            drifts.append(float(cand.confidence[c]) - float(ref.confidence[r]))
            delta = max(delta, float(np.abs(ref.xyxy[r] - cand.xyxy[c]).max()))
    n_ref = sum(len(d) for d in reference)
    n_cand = sum(len(d) for d in candidate)
    return Agreement(
        frames=len(reference),
        reference_boxes=n_ref,
        candidate_boxes=n_cand,
        matched=len(ious),
        recall=len(ious) / n_ref if n_ref else 1.0,
        precision=len(ious) / n_cand if n_cand else 1.0,
        mean_iou=float(np.mean(ious)) if ious else (1.0 if n_ref == n_cand == 0 else 0.0),
        worst_iou=min(ious) if ious else (1.0 if n_ref == n_cand == 0 else 0.0),
        max_corner_delta=delta,
        mean_confidence_drift=float(np.mean(drifts)) if drifts else 0.0,
        mean_abs_confidence_drift=float(np.mean(np.abs(drifts))) if drifts else 0.0,
    )
