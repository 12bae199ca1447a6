"""Live pictures through a real (private) Redis: a worker's publisher and an API node's reader,
ticked by hand. Only watched cameras are published; a picture is encoded only when its camera
processed a new frame; a worker that lost the lease cannot overwrite the holder's picture; a
picture nobody renews expires; the API route serves it with the one-process route's headers and
rules, and answers 404 / 503 in the usual error shape."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from ioc.cluster.frame_publisher import LiveFramePublisher
from ioc.cluster.frames import FramesUnavailableError, LiveFrames, frame_key, frame_ttl_seconds
from ioc.cluster.leases import CameraLeases
from ioc.cluster.node import HeldCamera
from ioc.types import LiveTile
from tests.api.conftest import Api, build_api
from tests.cluster.conftest import RedisServer

INTERVAL = 0.05  # pictures live frame_ttl_seconds(INTERVAL) = 1.1 s


@dataclass
class Tiles:
    """A camera runner's live-tile seam: the frame index it is at, and what it was asked."""

    index: int | None = None
    asked: list[int | None] = field(default_factory=list)
    encoded: int = 0
    _tile: LiveTile | None = None

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def live_tile(self, camera_id: str, after_index: int | None = None) -> LiveTile | None:
        self.asked.append(after_index)
        if self.index is None or self.index == after_index:
            return None
        if self._tile is None or self._tile.index != self.index:
            self.encoded += 1
            self._tile = LiveTile(self.index, time.monotonic(), f"jpeg {camera_id} {self.index}".encode())
        return self._tile


@dataclass
class Worker:
    leases: CameraLeases
    publisher: LiveFramePublisher
    held: list[HeldCamera] = field(default_factory=list)

    def take(self, camera_id: str, tiles: Tiles) -> int:
        token = self.leases.acquire(camera_id)
        assert token is not None, f"{camera_id} is held by another node"
        self.held.append(HeldCamera(camera_id, token, tiles))
        return token


def _worker(server: RedisServer, node: str) -> Worker:
    held: list[HeldCamera] = []
    publisher = LiveFramePublisher(server.client(), node, lambda: held, interval_seconds=INTERVAL)
    return Worker(CameraLeases(server.client(), node, 30.0), publisher, held)


def _reader(server: RedisServer, first_wait_seconds: float = 0.0) -> LiveFrames:
    return LiveFrames(server.url, first_wait_seconds=first_wait_seconds)


def _count(camera: str, outcome: str) -> float:
    value = REGISTRY.get_sample_value("ioc_live_frames_total", {"camera": camera, "outcome": outcome})
    return value or 0.0


def test_only_watched_cameras_are_published_and_only_new_frames_encoded(redis_server: RedisServer) -> None:
    worker, reader = _worker(redis_server, "node-a"), _reader(redis_server)
    tiles = Tiles(index=7)
    worker.take("cam-watch", tiles)
    assert worker.publisher.tick() == {}  # nobody watches: the runner is not even asked
    assert tiles.asked == [] and tiles.encoded == 0
    assert reader.latest_frame_jpeg("cam-watch") is None  # the first request starts the watch
    sent_before = _count("cam-watch", "sent")
    bytes_before = REGISTRY.get_sample_value("ioc_live_frame_bytes_total", {"camera": "cam-watch"}) or 0.0
    assert worker.publisher.tick() == {"cam-watch": "sent"}
    assert reader.latest_frame_jpeg("cam-watch") == b"jpeg cam-watch 7"
    assert worker.publisher.tick() == {"cam-watch": "kept"}  # nothing new: expiry extended only
    assert (tiles.asked, tiles.encoded) == ([None, 7], 1)
    tiles.index = 8
    assert worker.publisher.tick() == {"cam-watch": "sent"}
    assert reader.latest_frame_jpeg("cam-watch") == b"jpeg cam-watch 8"
    assert _count("cam-watch", "sent") - sent_before == 2
    sent_bytes = REGISTRY.get_sample_value("ioc_live_frame_bytes_total", {"camera": "cam-watch"})
    assert sent_bytes == bytes_before + 2 * len(b"jpeg cam-watch 7")


def test_a_worker_that_lost_the_lease_cannot_overwrite_the_holders_picture(redis_server: RedisServer) -> None:
    a, b, reader = _worker(redis_server, "node-a"), _worker(redis_server, "node-b"), _reader(redis_server)
    reader.latest_frame_jpeg("cam-fence")  # watched
    a_token = a.take("cam-fence", Tiles(index=1))
    assert a.publisher.tick() == {"cam-fence": "sent"}
    assert a.leases.release("cam-fence", a_token)  # the camera moves to b (a has not noticed)
    b.take("cam-fence", Tiles(index=50))
    assert b.publisher.tick() == {"cam-fence": "sent"}
    fenced_before = _count("cam-fence", "fenced")
    a.held[0].runner.index = 2  # type: ignore[attr-defined]
    assert a.publisher.tick() == {"cam-fence": "fenced"}  # a new picture from a stale worker: refused
    a.held[0].runner.index = 3  # type: ignore[attr-defined]
    assert a.publisher.tick() == {"cam-fence": "fenced"}
    assert reader.latest_frame_jpeg("cam-fence") == b"jpeg cam-fence 50"
    assert redis_server.client().hget(frame_key("ioc", "cam-fence"), "node") == "node-b"
    assert _count("cam-fence", "fenced") - fenced_before == 2


def test_a_picture_nobody_renews_expires_and_a_late_tick_sends_it_again(redis_server: RedisServer) -> None:
    worker, reader = _worker(redis_server, "node-a"), _reader(redis_server)
    reader.latest_frame_jpeg("cam-ttl")
    tiles = Tiles(index=4)
    worker.take("cam-ttl", tiles)
    assert worker.publisher.tick() == {"cam-ttl": "sent"}
    ttl_ms = redis_server.client().pttl(frame_key("ioc", "cam-ttl"))
    assert 0 < ttl_ms <= frame_ttl_seconds(INTERVAL) * 1000
    time.sleep(frame_ttl_seconds(INTERVAL) + 0.2)  # the worker died, or stalled
    assert reader.latest_frame_jpeg("cam-ttl") is None
    assert worker.publisher.tick() == {"cam-ttl": "gone"}  # a late tick: nothing to extend
    assert worker.publisher.tick() == {"cam-ttl": "sent"}  # sent again, from the cached tile
    assert reader.latest_frame_jpeg("cam-ttl") == b"jpeg cam-ttl 4" and tiles.encoded == 1


def test_the_first_request_waits_for_the_workers_next_tick(redis_server: RedisServer) -> None:
    worker = _worker(redis_server, "node-a")
    worker.take("cam-first", Tiles(index=1))
    naps: list[float] = []

    def tick_while_waiting(seconds: float) -> None:  # the worker's tick lands during the wait
        naps.append(seconds)
        worker.publisher.tick()

    reader = LiveFrames(redis_server.url, first_wait_seconds=5.0, sleep=tick_while_waiting)
    assert reader.latest_frame_jpeg("cam-first") == b"jpeg cam-first 1"
    assert len(naps) == 1
    missing = LiveFrames(redis_server.url, first_wait_seconds=0.3)
    assert missing.latest_frame_jpeg("cam-nobody-runs") is None  # waited, nothing came
    assert missing.latest_frame_jpeg("cam-nobody-runs") is None  # watched now: no second wait


@pytest.fixture
def api_node(tmp_path: Path, redis_server: RedisServer) -> Iterator[Api]:
    """The API of a node without an engine, reading live pictures from Redis."""
    yield from build_api(tmp_path, frames=_reader(redis_server))


def test_an_api_node_serves_the_workers_picture_like_the_one_process_route(
    api_node: Api, redis_server: RedisServer
) -> None:
    worker = _worker(redis_server, "node-a")
    client, auth = api_node.client, api_node.auth
    worker.take("street", Tiles(index=3))
    empty = client.get("/api/cameras/street/frame.jpg", headers=auth("traffic"))
    assert (empty.status_code, empty.json()["detail"]) == (404, "no frame from camera 'street' yet")
    worker.publisher.tick()
    r = client.get("/api/cameras/street/frame.jpg", headers=auth("traffic"))
    assert (r.status_code, r.headers["content-type"], r.content) == (200, "image/jpeg", b"jpeg street 3")
    assert r.headers["cache-control"] == "no-store"
    assert client.get("/api/cameras/street/frame.jpg", headers=auth("police")).status_code == 404  # category
    assert client.get("/api/cameras/street/frame.jpg").status_code == 401
    assert client.get("/api/cameras/nowhere/frame.jpg", headers=auth("traffic")).status_code == 404
    redis_server.stop()
    down = client.get("/api/cameras/street/frame.jpg", headers=auth("traffic"))
    assert down.status_code == 503
    assert down.json()["detail"] == "live pictures are unavailable: Redis does not answer"


def test_reading_while_redis_is_down_raises_a_clear_error(redis_server: RedisServer) -> None:
    reader = _reader(redis_server)
    redis_server.stop()
    with pytest.raises(FramesUnavailableError, match="Redis does not answer"):
        reader.latest_frame_jpeg("gate")
