"""Helpers for reader tests: a status recorder, frame collection, free ports."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable

from ioc.ingest import CameraReader, LatestFrameSlot
from ioc.messages import CameraState, CameraStatus


def ignore_status(status: CameraStatus) -> None:
    """An ``on_status`` callback for tests that do not look at statuses."""


class Recorder:
    """Collects status changes; ``wait_for`` blocks until a state shows up."""

    def __init__(self) -> None:
        self.statuses: list[CameraStatus] = []
        self._cond = threading.Condition()

    def __call__(self, status: CameraStatus) -> None:
        with self._cond:
            self.statuses.append(status)
            self._cond.notify_all()

    @property
    def states(self) -> list[CameraState]:
        with self._cond:
            return [s.state for s in self.statuses]

    def wait_for(self, state: CameraState, timeout: float, after: int = 0) -> CameraStatus:
        def found() -> CameraStatus | None:
            return next((s for s in self.statuses[after:] if s.state is state), None)

        with self._cond:
            if not self._cond.wait_for(lambda: found() is not None, timeout):
                raise AssertionError(f"no {state.value} status within {timeout} s; saw {self.states}")
            status = found()
            assert status is not None
            return status


ReaderFactory = Callable[..., tuple[CameraReader, Recorder]]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def collect(slot: LatestFrameSlot, seconds: float) -> list[int]:
    """Frame indexes taken from ``slot`` during ``seconds``."""
    deadline = time.monotonic() + seconds
    seen: list[int] = []
    while (remaining := deadline - time.monotonic()) > 0:
        frame = slot.take(timeout=min(remaining, 0.2))
        if frame is not None:
            seen.append(frame.index)
    return seen
