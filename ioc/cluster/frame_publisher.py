"""A worker's live-picture publisher: the live tile of each watched camera it runs, into Redis.

Every ``interval_seconds`` (``IOC_LIVE_FRAME_SECONDS``, 0.5 s: about the wall's tile refresh) one
tick:

1. reads the watch keys of the cameras this node runs (one ``MGET``; none watched: done);
2. for each watched camera asks its runner for the live tile *newer than the frame it last sent*:
   only a camera that processed a frame since then is encoded (on this thread, not the camera's);
3. sends the new pictures, and for the cameras with nothing new only extends the expiry of the
   picture already there, in one pipeline of fenced scripts (see ``ioc.cluster.frames``).

Outcomes are counted per camera in ``ioc_live_frames_total`` (``sent``, ``kept``, ``fenced``) and
the bytes sent in ``ioc_live_frame_bytes_total``. A picture that expired meanwhile (a late tick)
is sent again on the next tick, from the runner's cached tile (no new encoding). Redis errors are
logged once per outage; the publisher carries on with the next tick.
"""

from __future__ import annotations

import enum
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import redis

from ioc import metrics
from ioc.cluster.frames import frame_key, frame_ttl_seconds, watch_key
from ioc.cluster.leases import lease_key
from ioc.cluster.node import HeldCamera
from ioc.types import LiveTile

logger = logging.getLogger(__name__)

_PUT = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] .. '|' .. ARGV[2] then return -1 end
redis.call('HSET', KEYS[2], 'jpeg', ARGV[4], 'node', ARGV[1], 'token', ARGV[2], 'index', ARGV[5])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return 1
"""

_KEEP = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] .. '|' .. ARGV[2] then return -1 end
if redis.call('HGET', KEYS[2], 'token') ~= ARGV[2] then return 0 end
return redis.call('PEXPIRE', KEYS[2], ARGV[3])
"""
"""Extends the picture's life only if it is still this lease's picture; 0 when it is gone."""


class Outcome(enum.StrEnum):
    """What became of one camera's picture in a tick (the ``outcome`` label, but for ``gone``)."""

    SENT = "sent"
    """A new picture replaced the camera's previous one."""
    KEPT = "kept"
    """Nothing new: the picture already there lives on."""
    GONE = "gone"
    """Nothing new, and the picture had expired (a late tick): sent again next tick."""
    FENCED = "fenced"
    """Refused: another worker holds the camera's lease now."""


@dataclass(frozen=True, slots=True)
class _Sent:
    token: int
    index: int


@dataclass(frozen=True, slots=True)
class _Write:
    camera: HeldCamera
    tile: LiveTile | None  # None: only extend the picture already there


class LiveFramePublisher:
    """Publishes the live pictures of ``cameras()`` (the node's held cameras) that API nodes watch."""

    def __init__(
        self,
        client: redis.Redis,
        node: str,
        cameras: Callable[[], Sequence[HeldCamera]],
        *,
        interval_seconds: float,
        prefix: str = "ioc",
    ) -> None:
        self.node = node
        self.prefix = prefix
        self.interval_seconds = interval_seconds
        self._client = client
        self._cameras = cameras
        self._ttl_ms = int(frame_ttl_seconds(interval_seconds) * 1000)
        self._put = client.register_script(_PUT)
        self._keep = client.register_script(_KEEP)
        self._sent: dict[str, _Sent] = {}
        self._failing = False

    def run(self, stop: threading.Event) -> None:
        while not stop.wait(self.interval_seconds):
            try:
                self.tick()
            except redis.RedisError as exc:
                if not self._failing:
                    logger.warning("worker %s: live pictures not sent: Redis (%s)", self.node, exc)
                self._failing = True
            except Exception:
                logger.exception("worker %s: live pictures not sent", self.node)
            else:
                self._failing = False

    def tick(self) -> dict[str, Outcome]:
        """One round (see the module docstring); returns each written camera's outcome."""
        held = list(self._cameras())
        self._sent = {c: s for c, s in self._sent.items() if any(h.camera_id == c for h in held)}
        if not held:
            return {}
        watched = self._client.mget([watch_key(self.prefix, h.camera_id) for h in held])
        writes = [w for h, seen in zip(held, watched, strict=True) if seen is not None for w in self._plan(h)]
        if not writes:
            return {}
        pipe = self._client.pipeline(transaction=False)
        for write in writes:
            self._queue(pipe, write)
        results = pipe.execute()
        return {w.camera.camera_id: self._note(w, int(r)) for w, r in zip(writes, results, strict=True)}

    def _plan(self, camera: HeldCamera) -> list[_Write]:
        sent = self._sent.get(camera.camera_id)
        after = sent.index if sent is not None and sent.token == camera.token else None
        tile = camera.runner.live_tile(camera.camera_id, after)
        if tile is None and after is None:
            return []  # no frame processed yet
        return [_Write(camera, tile)]

    def _queue(self, pipe: redis.client.Pipeline, write: _Write) -> None:
        camera = write.camera
        keys = [lease_key(self.prefix, camera.camera_id), frame_key(self.prefix, camera.camera_id)]
        args: list[str | int | bytes] = [self.node, camera.token, self._ttl_ms]
        if write.tile is None:
            self._keep(keys=keys, args=args, client=pipe)
        else:
            self._put(keys=keys, args=[*args, write.tile.jpeg, write.tile.index], client=pipe)

    def _note(self, write: _Write, result: int) -> Outcome:
        camera_id = write.camera.camera_id
        if result < 0:
            outcome = Outcome.FENCED
        elif result == 0:
            outcome = Outcome.GONE
            self._sent.pop(camera_id, None)
        elif write.tile is None:
            outcome = Outcome.KEPT
        else:
            outcome = Outcome.SENT
            self._sent[camera_id] = _Sent(write.camera.token, write.tile.index)
            metrics.LIVE_FRAME_BYTES.labels(camera=camera_id).inc(len(write.tile.jpeg))
        if outcome is not Outcome.GONE:
            metrics.LIVE_FRAMES.labels(camera=camera_id, outcome=outcome.value).inc()
        return outcome
