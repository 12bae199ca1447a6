"""Live camera pictures in a cluster: the Redis keys, and an API node's side (reading them).

Workers publish (``ioc.cluster.frame_publisher``) the live tile of each camera they run — the very
picture ``ioc serve`` serves in one process: the latest processed frame, annotated, same size and
JPEG quality — and API nodes serve ``GET /api/cameras/{id}/frame.jpg`` from Redis. Keys
(``<prefix>`` is ``ioc``):

- ``<prefix>:frame:<camera>``: a hash — ``jpeg`` (the picture), ``node``, ``token`` (the lease's
  fencing token) and ``index`` (the frame's index). Only the newest picture exists: each write
  replaces it. Its time to live is :func:`frame_ttl_seconds` of the publishing interval (2 × the
  interval + 1 s: 2 s at the default 0.5 s), renewed while its worker runs the camera, so a
  picture whose worker died or stopped the camera is gone within that time: an API node never
  serves a stale picture as live.
- ``<prefix>:watch:<camera>``: set for ``WATCH_SECONDS`` by an API node each time it is asked for
  the camera's picture. Workers publish only watched cameras, so a site with no wall open costs
  no encoding and no Redis traffic (40 cameras at 2 pictures/s of ~108 kB would be ~0.3 of a CPU
  core of annotating and encoding, and ~8.6 MB/s into Redis, around the clock:
  ``benchmarks/live_frames.py``).

Writes are fenced in Redis: one Lua script checks that the camera's lease
(``<prefix>:lease:<camera>``) is still ``<node>|<token>`` before writing, so a worker that lost
the lease (frozen, cut off) cannot overwrite the holder's picture.

A camera that was not watched has no picture when the first request comes: the API node then
waits up to ``first_wait_seconds`` for the worker's next publishing tick instead of answering 404
at once (the wall would retry only seconds later).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import redis

logger = logging.getLogger(__name__)

WATCH_SECONDS = 10.0
"""A camera stays watched this long after an API node was last asked for its picture."""

POLL_SECONDS = 0.1
"""How often an API node looks again while it waits for a first picture."""


class FramesUnavailableError(RuntimeError):
    """Live pictures cannot be read now (Redis does not answer); the API answers 503."""


def frame_key(prefix: str, camera_id: str) -> str:
    return f"{prefix}:frame:{camera_id}"


def watch_key(prefix: str, camera_id: str) -> str:
    return f"{prefix}:watch:{camera_id}"


def frame_ttl_seconds(interval_seconds: float) -> float:
    """How long a published picture lives unless renewed: a little over two publishing ticks."""
    return 2 * interval_seconds + 1.0


def first_wait_seconds(interval_seconds: float) -> float:
    """How long an API node waits for the first picture of a camera nobody watched: two ticks and
    the encoding (at most 3 s); 0 when workers publish no pictures."""
    return 0.0 if interval_seconds <= 0 else min(2 * interval_seconds + 0.5, 3.0)


class LiveFrames:
    """An API node's source of live pictures (``AppContext.frames``); thread-safe."""

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "ioc",
        first_wait_seconds: float = 1.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.prefix = prefix
        self._first_wait_seconds = first_wait_seconds
        self._sleep = sleep
        self._watch_ms = int(WATCH_SECONDS * 1000)
        self._client = redis.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=1.0)
        self._failing = False

    def latest_frame_jpeg(self, camera_id: str) -> bytes | None:
        """The camera's newest published picture, or None when there is none (not watched until
        now and none came within the first wait, camera not running, picture expired). Marks the
        camera watched. Raises :class:`FramesUnavailableError` when Redis does not answer."""
        try:
            jpeg, was_watched = self._read_and_watch(camera_id)
            if jpeg is None and not was_watched:
                jpeg = self._wait_first(camera_id)
        except redis.RedisError as exc:
            if not self._failing:
                logger.warning("live pictures: Redis does not answer (%s)", exc)
            self._failing = True
            raise FramesUnavailableError("live pictures are unavailable: Redis does not answer") from None
        self._failing = False
        return jpeg

    def close(self) -> None:
        self._client.close()

    def _read_and_watch(self, camera_id: str) -> tuple[bytes | None, bool]:
        pipe = self._client.pipeline(transaction=False)
        pipe.hget(frame_key(self.prefix, camera_id), "jpeg")
        pipe.set(watch_key(self.prefix, camera_id), b"1", px=self._watch_ms, get=True)
        jpeg, previous = pipe.execute()
        return jpeg, previous is not None

    def _wait_first(self, camera_id: str) -> bytes | None:
        key = frame_key(self.prefix, camera_id)
        deadline = time.monotonic() + self._first_wait_seconds
        while time.monotonic() < deadline:
            self._sleep(POLL_SECONDS)
            jpeg: bytes | None = self._client.hget(key, "jpeg")  # type: ignore[assignment]
            if jpeg is not None:
                return jpeg
        return None
