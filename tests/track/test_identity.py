"""Object identity across tracker id switches, occlusions and crossings (synthetic tracks)."""

from __future__ import annotations

import numpy as np
import pytest

from ioc.config.models import TrackConfig
from ioc.track.identity import IdentityMap
from ioc.track.stationary import StationaryMonitor
from ioc.track.tracker import Tracker
from ioc.types import Coverage, Detections
from tests.factories import make_detections, make_frame


def _dets(rows: list[tuple[int, float, str]]) -> Detections:
    """(tracker id, x of a 0.06-wide box, class) rows."""
    dets = make_detections([(x, 0.4, x + 0.06, 0.8) for _, x, _ in rows], tracker_id=-1)
    return Detections(
        xyxy=dets.xyxy,
        confidence=dets.confidence,
        class_id=dets.class_id,
        class_name=np.asarray([c for _, _, c in rows], dtype=object),
        tracker_id=np.asarray([t for t, _, _ in rows], dtype=np.int64),
    )


@pytest.mark.parametrize(
    ("second", "gap", "same"),
    [
        ((7, 0.32, "person"), 0.6, True),  # a new tracker id where the lost one was: continued
        ((7, 0.32, "person"), 2.0, False),  # lost too long ago (lost_track_seconds 1.5)
        ((7, 0.32, "car"), 0.6, False),  # another class
        ((7, 0.80, "person"), 0.6, False),  # too far away
        ((1, 0.32, "person"), 0.6, True),  # the tracker found it itself
    ],
)
def test_a_new_tracker_id_continues_a_lost_object(
    second: tuple[int, float, str], gap: float, same: bool
) -> None:
    ids = IdentityMap(continue_seconds=1.5)
    first = ids.assign(_dets([(1, 0.30, "person")]), 0.0, 640, 360)
    ids.assign(Detections.empty(), gap / 2, 640, 360)  # occluded meanwhile
    again = ids.assign(_dets([second]), gap, 640, 360)
    assert bool(again.tracker_id[0] == first.tracker_id[0]) is same


def test_someone_entering_where_another_walked_out_of_view_is_someone_else() -> None:
    ids = IdentityMap(continue_seconds=1.5)
    leaving = ids.assign(_dets([(1, 0.94, "person")]), 0.0, 640, 360)  # box reaches x 1.0: the edge
    entering = ids.assign(_dets([(2, 0.93, "person")]), 0.8, 640, 360)
    assert entering.tracker_id[0] != leaving.tracker_id[0]


def test_a_lost_object_is_continued_once_and_the_nearest_wins() -> None:
    ids = IdentityMap(continue_seconds=1.5)
    a, b = ids.assign(_dets([(1, 0.30, "person"), (2, 0.50, "person")]), 0.0, 640, 360).tracker_id.tolist()
    out = ids.assign(_dets([(2, 0.50, "person"), (8, 0.33, "person"), (9, 0.36, "person")]), 0.4, 640, 360)
    assert out.tracker_id.tolist()[:2] == [b, a]  # 8 is nearest to where 1 was
    assert out.tracker_id[2] not in (a, b)  # 9 is someone new
    assert ids.continued == 1


def test_tracker_keeps_the_object_id_when_a_walker_occludes_it() -> None:
    """A person standing at x 0.5 is hidden for 0.6 s; ByteTrack's id for them may change, the
    object id does not."""
    tracker = Tracker(TrackConfig(lost_track_seconds=1.5), frame_rate=5)
    seen: list[int] = []
    for k in range(30):
        t = k * 0.2
        hidden = 10 <= k < 13
        x = 0.5 + (0.05 if k >= 13 else 0.0)  # found again a little further on
        rows = [] if hidden else [(x, 0.4, x + 0.06, 0.8)]
        out = tracker.update(make_detections(rows, tracker_id=-1), make_frame(t))
        seen.extend(out.tracker_id.tolist())
    assert len(set(seen)) == 1


@pytest.mark.parametrize(
    ("path", "stationary_at_end"),
    [
        ([(0.5, 0.4)] * 20, True),  # parked for 4 s
        ([(0.5 + 0.002 * (k % 2), 0.4) for k in range(20)], True),  # detector jitter
        ([(0.3 + 0.02 * k, 0.4) for k in range(20)], False),  # walking
        ([(0.5, 0.4)] * 10, False),  # still, but only for 1.8 s
        ([(0.5, 0.4)] * 17 + [(0.6, 0.4)] * 3, False),  # starts moving again
    ],
)
def test_stationary_after_three_seconds_without_moving(
    path: list[tuple[float, float]], stationary_at_end: bool
) -> None:
    monitor = StationaryMonitor(stationary_seconds=3.0)
    result = False
    for k, (x, y) in enumerate(path):
        result = monitor.update(1, (x, y, x + 0.1, y + 0.3), k * 0.2, 640, 360)
    assert result is stationary_at_end


def test_a_stationary_object_is_held_between_rechecks_and_released_by_a_region() -> None:
    tracker = Tracker(TrackConfig(lost_track_seconds=1.5), frame_rate=5, stationary_seconds=1.0)
    car = [(0.6, 0.5, 0.8, 0.7)]
    for k in range(8):  # seen for 1.4 s: stationary
        out = tracker.update(make_detections(car, tracker_id=-1), make_frame(k * 0.2))
    object_id = int(out.tracker_id[0])
    assert tracker.hints()[0].stationary
    for k in range(8, 30):  # 4.4 s of frames where the detector looked only elsewhere
        elsewhere = Coverage(((0.0, 0.0, 0.3, 0.3),))
        out = tracker.update(Detections.empty(), make_frame(k * 0.2), elsewhere)
        assert out.tracker_id.tolist() == [object_id]  # held: rules still see it
    gone = Coverage(((0.5, 0.4, 0.9, 0.8),))  # a re-check crop around it finds nothing: it left
    for k in range(30, 40):
        out = tracker.update(Detections.empty(), make_frame(k * 0.2), gone)
    assert len(out) == 0


def test_a_tracker_id_keeps_its_object_across_a_gap_longer_than_continue_seconds() -> None:
    """Frames came slowly (a busy detector): the tracker kept the track, so it is the same object."""
    ids = IdentityMap(continue_seconds=1.5)
    first = ids.assign(_dets([(4, 0.30, "person")]), 10.0, 1280, 720)
    later = ids.assign(_dets([(4, 0.30, "person")]), 12.5, 1280, 720)
    assert later.tracker_id.tolist() == first.tracker_id.tolist()
    assert ids.continued == 0


def test_a_stationary_object_held_between_slow_frames_keeps_its_id_and_stays_stationary() -> None:
    """A parked car held between re-checks; under load the next frame comes 2 s after the last
    hold (more than lost_track_seconds 1.5): it stays one stationary object, its camera is not
    sent back to full detection rate."""
    tracker = Tracker(TrackConfig(), frame_rate=25)
    car = [(0.70, 0.70, 0.86, 0.83)]
    for i in range(20):  # 4 s of sightings: stationary
        out = tracker.update(make_detections(car), make_frame(i * 0.2, width=1280, height=720))
    (obj,) = out.tracker_id.tolist()
    for ts in (4.8, 5.8, 6.8):  # holds: the detector looked elsewhere
        tracker.update(Detections.empty(), make_frame(ts, width=1280, height=720), Coverage(()))
    out = tracker.update(make_detections(car), make_frame(8.84, width=1280, height=720))
    assert out.tracker_id.tolist() == [obj]
    assert [h.stationary for h in tracker.hints()] == [True]
