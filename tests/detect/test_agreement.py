"""Agreement of a candidate detector with a reference: matching, recall, IoU, confidence drift."""

from __future__ import annotations

import numpy as np
import pytest

from ioc.detect.agreement import box_iou, compare, match_frame
from ioc.types import Detections
from tests.factories import make_detections

A = (0.10, 0.10, 0.30, 0.50)  # 0.2 x 0.4
A_SHIFTED = (0.12, 0.10, 0.32, 0.50)  # IoU with A: 0.18*0.4 / (2*0.08 - 0.072) = 0.818...
A_HALF = (0.20, 0.10, 0.40, 0.50)  # IoU with A: 1/3
B = (0.60, 0.60, 0.80, 0.90)
EMPTY = Detections.empty()


def dets(
    *boxes: tuple[float, float, float, float], cls: str | list[str] = "person", conf: object = 0.8
) -> Detections:
    if not boxes:
        return EMPTY
    return make_detections(list(boxes), class_name=cls, confidence=conf)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (A, A, 1.0),
        (A, B, 0.0),
        (A, A_HALF, 1 / 3),
        (A, A_SHIFTED, 0.072 / 0.088),
        ((0.0, 0.0, 0.0, 0.0), (0.0, 0.0, 0.0, 0.0), 0.0),  # degenerate boxes: no division by zero
    ],
)
def test_box_iou(a: tuple[float, ...], b: tuple[float, ...], expected: float) -> None:
    got = box_iou(np.array([a], dtype=np.float32), np.array([b], dtype=np.float32))
    assert got.shape == (1, 1) and got[0, 0] == pytest.approx(expected, abs=1e-5)


@pytest.mark.parametrize(
    ("reference", "candidate", "recall", "precision", "matched"),
    [
        pytest.param([dets(A, B)], [dets(A, B)], 1.0, 1.0, 2, id="identical"),
        pytest.param([dets(A, B)], [dets(A)], 0.5, 1.0, 1, id="one-missed"),
        pytest.param([dets(A)], [dets(A, B)], 1.0, 0.5, 1, id="one-extra"),
        pytest.param([dets(A)], [dets(A_HALF)], 0.0, 0.0, 0, id="iou-below-0.5"),
        pytest.param([dets(A)], [dets(A, cls="car")], 0.0, 0.0, 0, id="other-class"),
        pytest.param([dets(A, A)], [dets(A)], 0.5, 1.0, 1, id="one-candidate-matches-once"),
        pytest.param([EMPTY], [EMPTY], 1.0, 1.0, 0, id="nothing-anywhere"),
        pytest.param([EMPTY], [dets(A)], 1.0, 0.0, 0, id="only-candidate"),
        pytest.param([dets(A), dets(B)], [dets(A), EMPTY], 0.5, 1.0, 1, id="per-frame"),
        pytest.param([dets(A), EMPTY], [EMPTY, dets(A)], 0.0, 0.0, 0, id="same-box-other-frame"),
    ],
)
def test_recall_and_precision(
    reference: list[Detections], candidate: list[Detections], recall: float, precision: float, matched: int
) -> None:
    got = compare(reference, candidate)
    assert (got.recall, got.precision, got.matched) == (
        pytest.approx(recall),
        pytest.approx(precision),
        matched,
    )
    assert got.frames == len(reference)
    assert got.reference_boxes == sum(len(d) for d in reference)


def test_mean_iou_and_confidence_drift_over_matched_pairs() -> None:
    reference = [dets(A, B, conf=[0.9, 0.5])]
    candidate = [dets(A_SHIFTED, B, conf=[0.8, 0.6])]
    got = compare(reference, candidate)
    assert got.mean_iou == pytest.approx((0.072 / 0.088 + 1.0) / 2, abs=1e-5)
    assert got.mean_confidence_drift == pytest.approx(0.0, abs=1e-6)  # -0.1 and +0.1
    assert got.mean_abs_confidence_drift == pytest.approx(0.1, abs=1e-6)


def test_most_confident_reference_box_matches_first() -> None:
    """Two reference boxes compete for one candidate: the more confident one gets it."""
    reference = dets(A_SHIFTED, A, conf=[0.4, 0.9])
    m = match_frame(reference, dets(A), 0.5)
    assert m.ious == [pytest.approx(1.0)]  # A (0.9) took it, not A_SHIFTED (0.4)


def test_nothing_matched_reports_no_disagreement_in_iou_and_drift() -> None:
    got = compare([dets(A)], [EMPTY])
    assert (got.mean_iou, got.mean_confidence_drift, got.mean_abs_confidence_drift) == (1.0, 0.0, 0.0)


def test_frame_counts_must_agree() -> None:
    with pytest.raises(ValueError, match="reference has 2 frames but candidate has 1"):
        compare([EMPTY, EMPTY], [EMPTY])
