"""Tracker glue on synthetic detections: ids, gaps, time-based expiry, returned values."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from ioc.config.models import TrackConfig
from ioc.track.tracker import Tracker
from ioc.types import Detections
from tests.factories import Box, make_detections, make_frame

FPS = 10.0


def _dets(boxes: Sequence[Box], names: Sequence[str] | None = None) -> Detections:
    if not boxes:
        return Detections.empty()
    return make_detections(list(boxes), class_name=list(names or ["person"] * len(boxes)), tracker_id=-1)


def _box(x: float, y: float = 0.4, w: float = 0.08, h: float = 0.2) -> Box:
    return (x, y, x + w, y + h)


def _run(tracker: Tracker, frames: Sequence[tuple[float, Sequence[Box]]]) -> list[Detections]:
    return [tracker.update(_dets(boxes), make_frame(t, index=i)) for i, (t, boxes) in enumerate(frames)]


def _ids(out: Detections) -> list[int]:
    return [int(t) for t in out.tracker_id]


def test_ids_stay_stable_on_smooth_motion_and_differ_between_objects() -> None:
    tracker = Tracker(TrackConfig(), frame_rate=FPS)
    frames = [(i / FPS, [_box(0.1 + 0.01 * i), _box(0.7 - 0.01 * i, y=0.1)]) for i in range(30)]
    outs = _run(tracker, frames)
    first = _ids(outs[0])
    assert len(set(first)) == 2 and all(t > 0 for t in first)
    for out in outs:
        assert _ids(out) == first  # same ids, detector order kept


@pytest.mark.parametrize(
    ("gap_frames", "lost_seconds", "same_id"),
    [
        (1, 1.5, True),  # one missed frame: the id survives
        (5, 1.5, True),  # 0.5 s missing < 1.5 s
        (25, 1.5, False),  # 2.5 s missing > 1.5 s: a new id
        (3, 0.2, False),  # 0.3 s missing > 0.2 s
    ],
)
def test_gap_keeps_or_retires_the_id(gap_frames: int, lost_seconds: float, same_id: bool) -> None:
    tracker = Tracker(TrackConfig(lost_track_seconds=lost_seconds), frame_rate=FPS)
    seen = [(i / FPS, [_box(0.2 + 0.005 * i)]) for i in range(10)]
    gap = [((10 + i) / FPS, []) for i in range(gap_frames)]
    back_i = 10 + gap_frames
    back = [(i / FPS, [_box(0.2 + 0.005 * i)]) for i in (back_i, back_i + 1)]
    outs = _run(tracker, seen + gap + back)
    before = _ids(outs[9])
    after = _ids(outs[-1])
    assert len(before) == 1 and len(after) == 1
    assert (before == after) is same_id
    assert all(len(o) == 0 for o in outs[10 : 10 + gap_frames])


@pytest.mark.parametrize(("gap_seconds", "same_id"), [(1.0, True), (2.0, False)])
def test_expiry_follows_stream_seconds_not_frame_count(gap_seconds: float, same_id: bool) -> None:
    """Dropped frames: one empty frame, then the object again after ``gap_seconds`` of stream time."""
    tracker = Tracker(TrackConfig(lost_track_seconds=1.5), frame_rate=FPS)
    seen = [(i / FPS, [_box(0.3)]) for i in range(5)]
    frames = [*seen, (0.5, []), (0.4 + gap_seconds, [_box(0.3)]), (0.5 + gap_seconds, [_box(0.3)])]
    outs = _run(tracker, frames)
    assert (_ids(outs[4]) == _ids(outs[-1])) is same_id


def test_new_object_is_returned_once_confirmed_and_unconfirmed_are_dropped() -> None:
    tracker = Tracker(TrackConfig(), frame_rate=FPS)
    frames = [(i / FPS, [_box(0.1 + 0.01 * i)] + ([_box(0.6, y=0.1)] if i >= 5 else [])) for i in range(8)]
    outs = _run(tracker, frames)
    assert [len(o) for o in outs] == [1, 1, 1, 1, 1, 1, 2, 2]
    assert len(set(_ids(outs[7]))) == 2


def test_returns_new_value_with_detector_boxes_and_class_names() -> None:
    tracker = Tracker(TrackConfig(), frame_rate=FPS)
    dets = _dets([_box(0.1), _box(0.5, y=0.1)], names=["car", "bus"])
    snapshot = dets.xyxy.copy()
    out = tracker.update(dets, make_frame(0.0))
    assert out is not dets
    assert np.array_equal(dets.tracker_id, [-1, -1])  # input untouched
    assert np.array_equal(dets.xyxy, snapshot)
    assert list(out.class_name) == ["car", "bus"]
    assert np.allclose(out.xyxy, snapshot)
    assert np.allclose(out.confidence, dets.confidence)


def test_empty_input_gives_empty_output() -> None:
    tracker = Tracker(TrackConfig(), frame_rate=FPS)
    out = tracker.update(Detections.empty(), make_frame(0.0))
    assert len(out) == 0 and out.xyxy.shape == (0, 4)


@pytest.mark.parametrize("frame_rate", [0.0, -5.0, float("nan"), float("inf")])
def test_bad_frame_rate_is_refused(frame_rate: float) -> None:
    with pytest.raises(ValueError, match="frame_rate"):
        Tracker(TrackConfig(), frame_rate=frame_rate)


def test_trackers_number_ids_independently() -> None:
    a, b = Tracker(TrackConfig(), frame_rate=FPS), Tracker(TrackConfig(), frame_rate=FPS)
    out_a = a.update(_dets([_box(0.1)]), make_frame(0.0))
    out_b = b.update(_dets([_box(0.1)]), make_frame(0.0))
    assert _ids(out_a) == _ids(out_b) == [1]
