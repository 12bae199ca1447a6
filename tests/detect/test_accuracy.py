"""Agreement of a candidate detector's output with a reference's (FP16 vs FP32, pipeline vs Ultralytics)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from ioc.config.coco import COCO_CLASSES
from ioc.detect.accuracy import compare, iou_matrix
from ioc.types import Detections

Box = tuple[float, float, float, float]


def _dets(rows: Sequence[tuple[str, float, Box]]) -> Detections:
    return Detections(
        xyxy=np.array([r[2] for r in rows], dtype=np.float32).reshape(-1, 4),
        confidence=np.array([r[1] for r in rows], dtype=np.float32),
        class_id=np.array([COCO_CLASSES.index(r[0]) for r in rows], dtype=np.int64),
        class_name=np.array([r[0] for r in rows], dtype=object),
        tracker_id=np.full(len(rows), -1, dtype=np.int64),
    )


A: Box = (0.1, 0.1, 0.3, 0.5)
B: Box = (0.5, 0.5, 0.9, 0.9)
A_SHIFTED: Box = (0.11, 0.1, 0.31, 0.5)  # IoU 0.905 with A
FAR: Box = (0.6, 0.0, 0.7, 0.1)


@pytest.mark.parametrize(
    ("reference", "candidate", "recall", "precision", "holds"),
    [
        ([[("person", 0.9, A), ("car", 0.8, B)]], [[("car", 0.8, B), ("person", 0.9, A)]], 1.0, 1.0, True),
        ([[("person", 0.9, A)]], [[]], 0.0, 1.0, False),
        ([[]], [[("person", 0.9, A)]], 1.0, 0.0, False),
        ([[("person", 0.9, A)]], [[("car", 0.9, A)]], 0.0, 0.0, False),  # class must agree
        ([[("person", 0.9, A)]], [[("person", 0.9, FAR)]], 0.0, 0.0, False),
        ([[("person", 0.9, A)]], [[("person", 0.9, A_SHIFTED)]], 1.0, 1.0, False),  # mean IoU 0.905 < 0.95
        (  # one candidate box cannot match two reference boxes
            [[("person", 0.9, A), ("person", 0.5, A_SHIFTED)]],
            [[("person", 0.9, A)]],
            0.5,
            1.0,
            False,
        ),
        ([[], []], [[], []], 1.0, 1.0, True),
        (
            [[("person", 0.9, A)], [("car", 0.5, B)]],
            [[("person", 0.9, A)], [("car", 0.6, B)]],
            1.0,
            1.0,
            True,
        ),
    ],
)
def test_compare(
    reference: list[list[tuple[str, float, Box]]],
    candidate: list[list[tuple[str, float, Box]]],
    recall: float,
    precision: float,
    holds: bool,
) -> None:
    result = compare([_dets(r) for r in reference], [_dets(c) for c in candidate])
    assert (result.recall, result.precision, result.holds) == pytest.approx((recall, precision, holds))


def test_box_agreement_figures() -> None:
    reference = [_dets([("person", 0.9, A), ("car", 0.8, B)])]
    result = compare(reference, [_dets([("person", 0.9, A_SHIFTED), ("car", 0.7, B)])])
    shifted_iou = 0.076 / 0.084
    assert (result.reference_boxes, result.candidate_boxes, result.matched) == (2, 2, 2)
    assert result.mean_iou == pytest.approx((1.0 + shifted_iou) / 2, abs=1e-6)
    assert result.worst_iou == pytest.approx(shifted_iou, abs=1e-6)
    assert result.max_corner_delta == pytest.approx(0.01, abs=1e-6)
    assert result.summary().startswith("recall 1.000, precision 1.000 (2/2 reference, 2 candidate boxes)")
    assert result.summary().endswith(": holds")  # mean IoU 0.952 >= 0.95


def test_iou_matrix() -> None:
    a = np.array([A, B], dtype=np.float32)
    b = np.array([A, FAR, (0.0, 0.0, 0.0, 0.0)], dtype=np.float32)
    assert np.allclose(iou_matrix(a, b), [[1.0, 0.0, 0.0], [0.0, 0.0, 0.0]])


def test_different_image_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="1 reference images but 2 candidate images"):
        compare([Detections.empty()], [Detections.empty(), Detections.empty()])


def test_frames_and_confidence_drift_over_matched_pairs() -> None:
    """Drift is candidate minus reference confidence; unmatched boxes do not count."""
    reference = [_dets([("person", 0.9, A), ("car", 0.5, B)]), _dets([("person", 0.6, FAR)])]
    candidate = [_dets([("person", 0.8, A), ("car", 0.6, B)]), _dets([])]
    result = compare(reference, candidate)
    assert (result.frames, result.matched) == (2, 2)
    assert result.mean_confidence_drift == pytest.approx(0.0, abs=1e-6)  # -0.1 and +0.1
    assert result.mean_abs_confidence_drift == pytest.approx(0.1, abs=1e-6)
    assert result.as_dict()["mean_abs_confidence_drift"] == result.mean_abs_confidence_drift


def test_most_confident_reference_box_matches_first() -> None:
    """Two reference boxes compete for one candidate box: the more confident one gets it."""
    reference = [_dets([("person", 0.4, A_SHIFTED), ("person", 0.9, A)])]
    result = compare(reference, [_dets([("person", 0.9, A)])])
    assert (result.matched, result.mean_iou, result.mean_confidence_drift) == (1, pytest.approx(1.0), 0.0)


def test_nothing_matched_has_no_drift() -> None:
    result = compare([_dets([("person", 0.9, A)])], [_dets([])])
    assert (result.mean_confidence_drift, result.mean_abs_confidence_drift) == (0.0, 0.0)
