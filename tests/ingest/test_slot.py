"""The latest-frame slot: never blocks the producer, newest frame wins, every drop is counted."""

from __future__ import annotations

import threading
import time

import pytest

from ioc import metrics
from ioc.ingest import LatestFrameSlot
from tests.factories import make_frame


def _dropped_metric(camera: str) -> float:
    return metrics.FRAMES_DROPPED.labels(camera=camera)._value.get()


@pytest.mark.parametrize(("puts", "dropped"), [(1, 0), (2, 1), (5, 4), (100, 99)])
def test_put_overwrites_untaken_frames_and_counts_drops(puts: int, dropped: int) -> None:
    camera = f"slot-drops-{puts}"
    slot = LatestFrameSlot(camera)
    before = _dropped_metric(camera)
    for i in range(puts):
        slot.put(make_frame(float(i), camera_id=camera, index=i))
    taken = slot.take(timeout=0.0)
    assert taken is not None and taken.index == puts - 1
    assert slot.dropped == dropped
    assert _dropped_metric(camera) - before == dropped


def test_taken_frames_are_not_counted_as_dropped() -> None:
    slot = LatestFrameSlot("slot-taken")
    for i in range(5):
        slot.put(make_frame(float(i), camera_id="slot-taken", index=i))
        frame = slot.take(timeout=0.0)
        assert frame is not None and frame.index == i
    assert slot.dropped == 0


def test_take_returns_none_after_timeout_and_each_frame_only_once() -> None:
    slot = LatestFrameSlot("slot-once")
    started = time.monotonic()
    assert slot.take(timeout=0.2) is None
    assert 0.15 <= time.monotonic() - started < 1.0
    slot.put(make_frame(1.0, camera_id="slot-once"))
    assert slot.take(timeout=0.0) is not None
    assert slot.take(timeout=0.05) is None


def test_peek_does_not_consume() -> None:
    slot = LatestFrameSlot("slot-peek")
    assert slot.peek() is None
    slot.put(make_frame(1.0, camera_id="slot-peek", index=7))
    peeked = slot.peek()
    assert peeked is not None and peeked.index == 7
    assert slot.take(timeout=0.0) is peeked
    assert slot.peek() is peeked  # still the newest frame for live tiles


def test_take_wakes_up_when_a_frame_arrives() -> None:
    slot = LatestFrameSlot("slot-wake")
    frame = make_frame(2.0, camera_id="slot-wake")
    timer = threading.Timer(0.1, slot.put, args=(frame,))
    started = time.monotonic()
    timer.start()
    try:
        assert slot.take(timeout=5.0) is frame
    finally:
        timer.join()
    assert time.monotonic() - started < 2.0


def test_put_never_blocks_while_a_consumer_waits() -> None:
    slot = LatestFrameSlot("slot-fast")
    consumer = threading.Thread(target=slot.take, args=(0.5,))
    consumer.start()
    started = time.monotonic()
    for i in range(2000):
        slot.put(make_frame(float(i), camera_id="slot-fast", index=i))
    elapsed = time.monotonic() - started
    consumer.join()
    assert elapsed < 1.0
    assert slot.dropped >= 1998


def test_frame_of_another_camera_is_refused() -> None:
    slot = LatestFrameSlot("slot-a")
    with pytest.raises(ValueError, match=r"slot for camera 'slot-a' was given a frame of camera 'slot-b'"):
        slot.put(make_frame(0.0, camera_id="slot-b"))
