"""The shared detector loop: motion gate, why a frame is detected, batching, fps cap, hand-off."""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np
import pytest

from ioc import metrics
from ioc.ingest.slot import LatestFrameSlot
from ioc.pipeline.detector_loop import CameraFeed, DetectorLoop, MotionGate, Reason
from ioc.pipeline.worker import CameraWorker
from tests.factories import BlobDetector, make_camera, make_detections, make_frame


def _scene(box: tuple[int, int, int, int] | None, *, noise: int = 0, seed: int = 0) -> np.ndarray[Any, Any]:
    image = np.full((360, 640, 3), 40, dtype=np.uint8)
    if box is not None:
        x1, y1, x2, y2 = box
        image[y1:y2, x1:x2] = 220
    if noise:
        rng = np.random.default_rng(seed)
        jitter = rng.integers(-noise, noise + 1, size=image.shape)
        image = np.clip(image.astype(np.int16) + jitter, 0, 255).astype(np.uint8)
    return image


@pytest.mark.parametrize(
    ("before", "after", "moved"),
    [
        (_scene(None), _scene(None), False),
        (_scene(None), _scene(None, noise=6, seed=1), False),  # sensor noise is not motion
        (_scene((100, 100, 140, 200)), _scene((100, 100, 140, 200)), False),
        (_scene((100, 100, 140, 200)), _scene((130, 100, 170, 200)), True),  # a person steps aside
        (_scene(None), _scene((300, 150, 330, 230)), True),  # someone appears
    ],
)
def test_motion_gate(before: np.ndarray[Any, Any], after: np.ndarray[Any, Any], moved: bool) -> None:
    gate = MotionGate()
    assert gate.moved(gate.thumbnail(before), gate.thumbnail(after)) is moved


class _Clock:
    """The loop's monotonic clock, moved by the test (and by ``step`` on every reading)."""

    def __init__(self, step: float = 0.0) -> None:
        self.now = 100.0
        self.step = step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def _feed(camera_id: str, **detect: Any) -> tuple[LatestFrameSlot, CameraWorker, CameraFeed]:
    camera = make_camera(id=camera_id, detect={"fps": 5, "classes": ["person"], **detect})
    slot = LatestFrameSlot(camera_id)
    worker = CameraWorker.build(camera, publish=lambda _a: None, snapshots=None)
    return slot, worker, CameraFeed(slot, worker)


def _put(slot: LatestFrameSlot, t: float, image: np.ndarray[Any, Any], index: int = 0) -> None:
    slot.put(make_frame(t, camera_id=slot.camera_id, image=image, index=index))


def test_one_batch_grouped_by_input_size() -> None:
    feeds = [_feed("a"), _feed("b"), _feed("c", imgsz=640)]
    detector = BlobDetector()
    loop = DetectorLoop(detector, [f for _, _, f in feeds], clock=_Clock())
    for i, (slot, _, _) in enumerate(feeds):
        _put(slot, 0.0, _scene((50 + 100 * i, 100, 90 + 100 * i, 200)))
    batch = loop.collect(threading.Event())
    assert sorted(p.feed.camera.id for p in batch) == ["a", "b", "c"]
    loop.detect(batch)
    assert sorted(detector.batches) == [1, 2]  # imgsz 320: a+b together; imgsz 640: c alone
    for _, worker, _ in feeds:
        worker.run(_stop_soon(worker))
        assert worker.processed == 1


def _stop_soon(worker: CameraWorker) -> threading.Event:
    """An event set after 0.3 s: enough for run() to drain the queue, then it returns."""
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    return stop


def test_batch_size_is_bounded() -> None:
    feeds = [_feed(f"cam{i}") for i in range(5)]
    loop = DetectorLoop(BlobDetector(), [f for _, _, f in feeds], max_batch=2, clock=_Clock(step=0.01))
    for slot, _, _ in feeds:
        _put(slot, 0.0, _scene((100, 100, 140, 200)))
    sizes = [len(loop.collect(threading.Event())) for _ in range(3)]
    assert sizes == [2, 2, 1]


def test_still_scene_is_skipped_until_recheck() -> None:
    slot, worker, feed = _feed("still", recheck_seconds=2.0)
    clock = _Clock()
    loop = DetectorLoop(BlobDetector(), [feed], clock=clock, max_wait_seconds=0.0, tick_seconds=0.001)
    image = _scene(None)  # nothing in view: no tracks either
    reasons = []
    for k in range(12):  # 5 fps for 2.2 s of stream time
        clock.now += 0.25
        _put(slot, 0.2 * k, image, index=k)
        stop = threading.Event()
        threading.Timer(0.02, stop.set).start()
        batch = loop.collect(stop)
        reasons.append(batch[0].reason if batch else None)
        if batch:
            loop.detect(batch)
    assert reasons[0] is Reason.FIRST
    assert reasons[1:10] == [None] * 9
    assert reasons[10] is Reason.RECHECK  # 2.0 s after the first detection
    assert worker.dropped == 0


def test_live_tracks_keep_a_still_object_detected() -> None:
    slot, worker, feed = _feed("tracks")
    clock = _Clock()
    loop = DetectorLoop(BlobDetector(), [feed], clock=clock, max_wait_seconds=0.0)
    image = _scene((200, 100, 260, 260))  # a person standing still
    stop = threading.Event()
    for k in range(4):
        clock.now += 0.25
        _put(slot, 0.2 * k, image, index=k)
        batch = loop.collect(stop)
        assert len(batch) == 1
        assert batch[0].reason is (Reason.FIRST if k == 0 else Reason.TRACKS)
        loop.detect(batch)
        assert worker.drain() == 1  # the owner thread's job, done inline here
    assert [h.lost for h in worker.track_hints()] == [False]


def test_fps_cap_leaves_frames_in_the_slot() -> None:
    slot, _, feed = _feed("capped", fps=2)
    clock = _Clock()
    loop = DetectorLoop(BlobDetector(), [feed], clock=clock, max_wait_seconds=0.0, tick_seconds=0.001)
    _put(slot, 0.0, _scene((100, 100, 140, 200)))
    assert len(loop.collect(threading.Event())) == 1
    clock.now += 0.3  # under 1 / 2 fps
    _put(slot, 0.3, _scene((140, 100, 180, 200)))
    stop = threading.Event()
    threading.Timer(0.05, stop.set).start()
    assert loop.collect(stop) == []
    assert slot.peek() is not None
    clock.now += 0.3
    assert len(loop.collect(threading.Event())) == 1


def test_worker_queue_never_blocks_and_counts_drops() -> None:
    _, worker, _ = _feed("slow")
    dets = make_detections([(0.1, 0.1, 0.2, 0.4)], tracker_id=-1)
    results = [worker.submit(make_frame(i * 0.2, camera_id="slow", index=i), dets) for i in range(5)]
    assert results == [True, True, False, False, False]
    assert worker.dropped == 3


def test_run_stops_promptly() -> None:
    slot, _, feed = _feed("idle")
    loop = DetectorLoop(BlobDetector(), [feed])
    stop = threading.Event()
    thread = threading.Thread(target=loop.run, args=(stop,))
    thread.start()
    _put(slot, 0.0, _scene((100, 100, 140, 200)))
    stop.set()
    thread.join(timeout=1.0)
    assert not thread.is_alive()


class _BrokenSource:
    """A frame source whose every ``take`` fails (a reader bug, a corrupt frame)."""

    def __init__(self) -> None:
        self.calls = 0

    def take(self, timeout: float) -> None:
        self.calls += 1
        raise RuntimeError("corrupt frame")


@pytest.mark.parametrize("broken", ["raising source", "empty image"])
def test_one_bad_camera_does_not_stop_detection_for_the_others(broken: str) -> None:
    bad_slot, bad_worker, bad_feed = _feed("bad")
    source = _BrokenSource()
    if broken == "raising source":
        bad_feed = CameraFeed(source, bad_worker)
    else:
        _put(bad_slot, 0.0, np.zeros((0, 0, 3), dtype=np.uint8))  # cv2 refuses to resize it
    good_slot, good_worker, good_feed = _feed("good")
    loop = DetectorLoop(BlobDetector(), [bad_feed, good_feed], max_wait_seconds=0.0)
    stop = threading.Event()
    thread = threading.Thread(target=loop.run, args=(stop,))
    thread.start()
    try:
        _put(good_slot, 0.0, _scene((100, 100, 140, 200)))
        deadline = time.monotonic() + 2.0
        while good_worker.drain() == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert good_worker.processed == 1
        assert thread.is_alive()
    finally:
        stop.set()
        thread.join(timeout=1.0)
    assert bad_worker.processed == 0
    assert metrics.PIPELINE_ERRORS.labels(camera="bad", stage="gate")._value.get() >= 1
    if broken == "raising source":
        assert 1 <= source.calls <= 12  # retried at the camera's fps (5), not every tick


class _FailingDetector(BlobDetector):
    def detect(self, images: Any, **kwargs: Any) -> Any:
        raise RuntimeError("inference failed")


def test_a_failing_detector_is_counted_per_camera_and_hands_out_nothing() -> None:
    feeds = [_feed("fail-a"), _feed("fail-b")]
    loop = DetectorLoop(_FailingDetector(), [f for _, _, f in feeds], clock=_Clock())
    before = [
        metrics.PIPELINE_ERRORS.labels(camera=c, stage="detect")._value.get() for c in ("fail-a", "fail-b")
    ]
    for slot, _, _ in feeds:
        _put(slot, 0.0, _scene((100, 100, 140, 200)))
    loop.detect(loop.collect(threading.Event()))
    after = [
        metrics.PIPELINE_ERRORS.labels(camera=c, stage="detect")._value.get() for c in ("fail-a", "fail-b")
    ]
    assert [b - a for a, b in zip(before, after, strict=True)] == [1, 1]
    assert [worker.drain() for _, worker, _ in feeds] == [0, 0]


class _GatedDetector(BlobDetector):
    """A detector that holds its first call until the test lets it go."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.release = threading.Event()
        self.calls = 0

    def detect(self, images: Any, **kwargs: Any) -> Any:
        self.calls += 1
        if self.calls == 1:
            self.entered.set()
            assert self.release.wait(5.0)
        return super().detect(images, **kwargs)


class _CountingSource:
    """A frame source that hands out a fresh moving frame on every ``take`` and counts them."""

    def __init__(self, camera_id: str) -> None:
        self.camera_id = camera_id
        self.takes = 0

    def take(self, timeout: float) -> Any:
        self.takes += 1
        x = 100 + 40 * (self.takes % 2)
        return make_frame(0.2 * self.takes, camera_id=self.camera_id, image=_scene((x, 100, x + 40, 200)))


def _wait_for(condition: Any, seconds: float = 3.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    return bool(condition())


def test_cameras_are_planned_while_the_detector_runs_and_the_busy_one_waits_for_its_result() -> None:
    a_worker, b_worker = (_feed(c)[1] for c in ("pa", "pb"))
    a, b = _CountingSource("pa"), _CountingSource("pb")
    detector = _GatedDetector()
    loop = DetectorLoop(detector, [CameraFeed(a, a_worker), CameraFeed(b, b_worker)], max_batch=1)
    stop = threading.Event()
    thread = threading.Thread(target=loop.run, args=(stop,))
    thread.start()
    try:
        assert detector.entered.wait(3.0)
        first = "pa" if a.takes else "pb"
        held, other = (a, b) if first == "pa" else (b, a)
        takes_in_flight = held.takes
        # the detector is stuck on one camera's frame: the other camera is planned meanwhile …
        assert _wait_for(lambda: other.takes >= 2)
        # … while the camera whose frame is in the detector is not planned again until it is done
        assert held.takes == takes_in_flight
        detector.release.set()
        assert _wait_for(lambda: held.takes > takes_in_flight)
        assert _wait_for(lambda: a_worker.drain() + b_worker.drain() >= 2 or loop.frames_detected >= 2)
    finally:
        detector.release.set()
        stop.set()
        thread.join(timeout=2.0)
    assert not thread.is_alive()


@pytest.mark.parametrize("poll_every", [0.05, 0.15, 0.21])
def test_a_camera_gets_its_fps_however_late_the_polls_come_but_never_more(poll_every: float) -> None:
    """Polls that come late (a loaded machine) do not add up: the next frame is due one period
    after the last was, so a 5 fps camera gets 5 frames a second, not one per two polls."""
    worker = _feed("cadence")[1]
    source = _CountingSource("cadence")
    clock = _Clock()
    loop = DetectorLoop(BlobDetector(), [CameraFeed(source, worker)], clock=clock)
    stop = threading.Event()
    stop.set()  # collect polls once and returns
    seconds = 6.0
    for _ in range(round(seconds / poll_every)):
        loop.detect(loop.collect(stop))
        clock.now += poll_every
    polls_per_second = 1.0 / poll_every
    assert source.takes / seconds == pytest.approx(min(5.0, polls_per_second), rel=0.1)
