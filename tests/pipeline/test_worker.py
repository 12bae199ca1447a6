"""The camera worker: per-camera filtering, track → rules → events, publishing, live tile, thread."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from ioc import metrics
from ioc.events.lifecycle import AlertLifecycle
from ioc.messages import Alert, AlertState
from ioc.pipeline.worker import TILE_INTERVAL_SECONDS, CameraWorker, camera_filter
from ioc.rules.engine import RuleEngine
from ioc.track.tracker import Tracker
from tests.factories import make_camera, make_detections, make_frame

ZONE = {"id": "yard", "polygon": [[0.5, 0.0], [1.0, 0.0], [1.0, 1.0], [0.5, 1.0]]}


def _camera(**fields: Any) -> Any:
    fields.setdefault("detect", {"classes": ["person", "car"], "confidence": 0.5})
    return make_camera(
        zones=[ZONE],
        rules=[{"id": "enter", "type": "intrusion", "zone": "yard", "classes": ["person"]}],
        **fields,
    )


@pytest.mark.parametrize(
    ("names", "confidences", "kept"),
    [
        (["person", "car"], [0.9, 0.9], 2),
        (["person", "dog"], [0.9, 0.9], 1),  # not in detect.classes
        (["person", "car"], [0.49, 0.5], 1),  # below detect.confidence
        ([], [], 0),
    ],
)
def test_camera_filter(names: list[str], confidences: list[float], kept: int) -> None:
    boxes = [(0.1 * i, 0.1, 0.1 * i + 0.05, 0.3) for i in range(len(names))]
    dets = make_detections(boxes, class_name=names, confidence=confidences, tracker_id=-1)
    got = camera_filter(_camera(), dets)
    assert len(got) == kept
    assert set(got.class_name.tolist()) <= {"person", "car"}


def test_camera_filter_drops_masked_anchors_before_tracking() -> None:
    masks = [{"id": "billboard", "polygon": [[0.0, 0.0], [0.3, 0.0], [0.3, 0.3], [0.0, 0.3]]}]
    dets = make_detections(anchors=[(0.1, 0.2), (0.6, 0.8)], tracker_id=-1)
    got = camera_filter(_camera(masks=masks), dets)
    assert got.anchor.tolist() == [pytest.approx([0.6, 0.8])]


def _walk(worker: CameraWorker, xs: list[float], dt: float = 0.2) -> list[Alert]:
    """A person whose feet move along ``xs`` (normalised), one detected frame per ``dt`` seconds."""
    alerts: list[Alert] = []
    for i, x in enumerate(xs):
        dets = make_detections(anchors=[(x, 0.8)], size=(0.08, 0.3), tracker_id=-1)
        alerts += worker.process(make_frame(i * dt, index=i), dets)
    return alerts


def test_process_runs_track_rules_events_and_publishes() -> None:
    published: list[object] = []
    worker = CameraWorker.build(_camera(), publish=published.append, snapshots=None, frame_rate=5)
    alerts = _walk(worker, [0.30 + 0.03 * i for i in range(15)])  # crosses x = 0.5 on frame 7
    assert [(a.rule_id, a.state) for a in alerts] == [("enter", AlertState.START)]
    assert alerts[0].started_at.timestamp() == pytest.approx(1_767_225_600.0 + 1.4)
    assert alerts[0].source_time_s is None  # live: only replay stamps file time
    assert published == alerts
    assert worker.processed == 15
    ended = worker.flush()
    assert [a.state for a in ended] == [AlertState.END]
    assert published == alerts + ended


def test_replay_mode_stamps_source_time() -> None:
    worker = CameraWorker.build(
        _camera(), publish=lambda _a: None, snapshots=None, frame_rate=5, stamp_source_time=True
    )
    alerts = _walk(worker, [0.46, 0.49, 0.52])
    assert [a.source_time_s for a in alerts] == [0.4]


def test_track_hints_name_the_objects_and_when_they_were_seen() -> None:
    worker = CameraWorker.build(_camera(), publish=lambda _a: None, snapshots=None, frame_rate=5)
    assert worker.track_hints() == ()
    _walk(worker, [0.2, 0.25])
    (hint,) = worker.track_hints()
    assert (hint.object_id, hint.class_name, hint.lost, hint.stationary) == (1, "person", False, False)
    assert hint.last_seen == hint.checked_at == pytest.approx(0.2)


def test_a_failing_publisher_does_not_stop_the_worker() -> None:
    def broken(_alert: Alert) -> None:
        raise ConnectionError("bus down")

    worker = CameraWorker.build(_camera(), publish=broken, snapshots=None, frame_rate=5)
    assert len(_walk(worker, [0.6, 0.62])) == 1


def test_latest_jpeg_is_encoded_lazily_and_at_most_twice_a_second() -> None:
    worker = CameraWorker.build(_camera(), publish=lambda _a: None, snapshots=None, frame_rate=5)
    assert worker.latest_jpeg(now=0.0) is None
    _walk(worker, [0.2])
    first = worker.latest_jpeg(now=10.0)
    assert first is not None and first[:2] == b"\xff\xd8"
    _walk(worker, [0.2, 0.3])  # newer frames arrive
    assert worker.latest_jpeg(now=10.0 + TILE_INTERVAL_SECONDS / 2) is first  # too soon: cached
    second = worker.latest_jpeg(now=10.0 + TILE_INTERVAL_SECONDS)
    assert second is not None and second is not first


def test_live_tile_is_encoded_only_when_a_newer_frame_was_processed(monkeypatch: pytest.MonkeyPatch) -> None:
    import ioc.pipeline.worker as worker_module

    drawn: list[int] = []
    real_annotate = worker_module.annotate

    def counting_annotate(frame: Any, *args: Any, **kwargs: Any) -> Any:
        drawn.append(frame.index)
        return real_annotate(frame, *args, **kwargs)

    monkeypatch.setattr(worker_module, "annotate", counting_annotate)
    worker = CameraWorker.build(_camera(), publish=lambda _a: None, snapshots=None, frame_rate=5)
    assert worker.live_tile(now=0.0) is None  # nothing processed yet
    _walk(worker, [0.2])
    first = worker.live_tile(now=10.0)
    assert first is not None and first.jpeg == worker.latest_jpeg(now=10.0)
    assert worker.live_tile(after_index=first.index, now=20.0) is None  # nothing new: not encoded
    assert worker.live_tile(now=20.0) is first  # the caller lost it: the cached tile, not encoded
    assert drawn == [first.index]
    _walk(worker, [0.2, 0.3])  # frames 0 and 1
    second = worker.live_tile(after_index=first.index, now=20.0)
    assert second is not None and second.index > first.index and drawn == [first.index, second.index]


def test_run_processes_the_queue_and_ends_open_alerts_on_stop() -> None:
    published: list[object] = []
    worker = CameraWorker.build(_camera(), publish=published.append, snapshots=None, frame_rate=5)
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,))
    thread.start()
    for i, x in enumerate([0.6, 0.62]):
        dets = make_detections(anchors=[(x, 0.8)], size=(0.08, 0.3), tracker_id=-1)
        while not worker.submit(make_frame(i * 0.2, index=i), dets):
            stop.wait(0.01)
    deadline = threading.Event()
    while worker.processed < 2 and not deadline.wait(0.01):
        pass
    stop.set()
    thread.join(timeout=2.0)
    assert not thread.is_alive()
    states = [a.state for a in published if isinstance(a, Alert)]
    assert states == [AlertState.START, AlertState.END]
    assert worker.dropped == 0


class _Clock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(("silent", "ends"), [(0.5, False), (2.9, False), (3.0, True), (600.0, True)])
def test_alerts_end_when_frames_stop_coming(silent: float, ends: bool) -> None:
    camera = _camera(
        detect={"classes": ["person"], "recheck_seconds": 2.0}, alerts={"end_after_seconds": 2.0}
    )
    clock = _Clock()
    published: list[Alert] = []
    worker = CameraWorker(
        camera,
        tracker=Tracker(camera.track, 5),
        rules=RuleEngine(camera),
        lifecycle=AlertLifecycle(camera, None),
        publish=published.append,
        clock=clock,
    )
    assert worker.expire_idle() == []  # nothing processed yet
    started = _walk(worker, [0.6, 0.62, 0.64])  # in the yard from t = 0 to 0.4; then the camera dies
    assert [a.state for a in started] == [AlertState.START]
    clock.now += silent  # idle limit: max(recheck 2.0, end_after 2.0) + 1.0 margin = 3.0 s
    ended = worker.expire_idle()
    assert [a.state for a in ended] == ([AlertState.END] if ends else [])
    if ends:
        assert ended[0].ended_at == _camera_time(0.4)  # the last time the condition held
        assert ended[0].updated_at == _camera_time(0.4 + silent)
        assert published == started + ended
        assert worker.expire_idle() == []  # ended once


def _camera_time(t: float) -> datetime:
    return datetime.fromtimestamp(make_frame(t).wall_time, tz=UTC)


def test_run_ends_alerts_of_a_silent_camera_without_waiting_for_stop() -> None:
    camera = _camera(
        detect={"classes": ["person"], "recheck_seconds": 0.1}, alerts={"end_after_seconds": 0.5}
    )
    published: list[Alert] = []
    worker = CameraWorker.build(camera, publish=published.append, snapshots=None, frame_rate=5)
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), kwargs={"poll_seconds": 0.05})
    thread.start()
    try:
        for i, x in enumerate([0.6, 0.62]):
            dets = make_detections(anchors=[(x, 0.8)], size=(0.08, 0.3), tracker_id=-1)
            while not worker.submit(make_frame(i * 0.2, index=i), dets):
                stop.wait(0.01)
        deadline = time.monotonic() + 3.0  # the idle limit is 0.5 + 1.0 s
        while len(published) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert [a.state for a in published] == [AlertState.START, AlertState.END]
    finally:
        stop.set()
        thread.join(timeout=2.0)


class _BrokenTracker(Tracker):
    def update(self, dets: Any, frame: Any) -> Any:
        raise ValueError("tracker bug")


def test_a_frame_that_fails_in_the_worker_is_counted_and_the_worker_goes_on() -> None:
    camera = _camera(id="broken-track")
    worker = CameraWorker(
        camera,
        tracker=_BrokenTracker(camera.track, 5),
        rules=RuleEngine(camera),
        lifecycle=AlertLifecycle(camera, None),
        publish=lambda _a: None,
    )
    errors = metrics.PIPELINE_ERRORS.labels(camera="broken-track", stage="worker")
    before = errors._value.get()
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), kwargs={"poll_seconds": 0.02})
    thread.start()
    try:
        dets = make_detections(anchors=[(0.6, 0.8)], size=(0.08, 0.3), tracker_id=-1)
        for i in range(2):
            assert worker.submit(make_frame(i * 0.2, camera_id="broken-track", index=i), dets)
            deadline = time.monotonic() + 2.0
            while errors._value.get() - before < i + 1 and time.monotonic() < deadline:
                time.sleep(0.01)
        assert errors._value.get() - before == 2
        assert thread.is_alive()
    finally:
        stop.set()
        thread.join(timeout=2.0)


@pytest.mark.parametrize(
    ("local_hour", "fires"),
    [pytest.param(23, True, id="23h-local-inside"), pytest.param(12, False, id="12h-local-outside")],
)
def test_rule_schedules_use_frame_wall_time_in_the_site_zone(local_hour: int, fires: bool) -> None:
    hcm = ZoneInfo("Asia/Ho_Chi_Minh")
    rule = {"id": "night", "type": "intrusion", "zone": "yard", "schedule": {"from": "22:00", "to": "05:30"}}
    camera = make_camera(zones=[ZONE], rules=[rule], detect={"classes": ["person"], "confidence": 0.5})
    worker = CameraWorker.build(camera, publish=lambda _a: None, snapshots=None, frame_rate=5, tz=hcm)
    # 23:00 and 12:00 in Ho Chi Minh City are 16:00 and 05:00 UTC: read in UTC, both would flip
    wall = datetime(2026, 12, 1, local_hour, 0, tzinfo=hcm).timestamp()
    dets = make_detections(anchors=[(0.8, 0.8)], size=(0.08, 0.3), tracker_id=-1)
    frames = [make_frame(i * 0.2, wall_time=wall + i * 0.2) for i in range(3)]
    alerts = [a for frame in frames for a in worker.process(frame, dets)]
    assert bool(alerts) is fires
