"""The latest-frame slot: a one-frame buffer between a camera reader and its consumers.

The reader never waits: a frame that nobody took before the next one arrived is overwritten and
counted in ``ioc_frames_dropped_total``. Latency stays bounded when the consumer is slower than
the camera, instead of drifting further and further behind.
"""

from __future__ import annotations

import threading

from ioc import metrics
from ioc.types import Frame


class LatestFrameSlot:
    """One-slot buffer for one camera. Thread-safe; ``put`` never blocks on a consumer."""

    def __init__(self, camera_id: str) -> None:
        self._camera_id = camera_id
        self._cond = threading.Condition(threading.Lock())
        self._latest: Frame | None = None
        self._pending = False
        self._dropped = 0
        self._dropped_metric = metrics.FRAMES_DROPPED.labels(camera=camera_id)

    @property
    def camera_id(self) -> str:
        return self._camera_id

    @property
    def dropped(self) -> int:
        """Frames overwritten before anyone took them."""
        with self._cond:
            return self._dropped

    def put(self, frame: Frame) -> None:
        """Store ``frame`` as the newest; an untaken older frame is dropped and counted."""
        if frame.camera_id != self._camera_id:
            raise ValueError(
                f"slot for camera {self._camera_id!r} was given a frame of camera {frame.camera_id!r}"
            )
        with self._cond:
            dropped = self._pending
            if dropped:
                self._dropped += 1
            self._latest = frame
            self._pending = True
            self._cond.notify_all()
        if dropped:
            self._dropped_metric.inc()

    def take(self, timeout: float) -> Frame | None:
        """The newest frame not taken yet, waiting up to ``timeout`` seconds; ``None`` if none came."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._pending, timeout=max(timeout, 0.0)):
                return None
            self._pending = False
            return self._latest

    def peek(self) -> Frame | None:
        """The newest frame, taken or not, without consuming it (live tiles, snapshots)."""
        with self._cond:
            return self._latest
