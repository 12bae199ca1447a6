"""Live pictures across processes: two ``ioc worker`` processes and the real
``ioc serve --no-engine`` on a private Redis. The API node serves the picture of the worker that
runs the camera; kill -9 that worker → its picture expires (404, not a frozen picture), and once
the camera has moved the API node serves the new worker's picture."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import httpx
import numpy as np
import pytest

from ioc.cluster.frames import frame_key, frame_ttl_seconds
from ioc.settings import load_settings
from tests.cluster.conftest import RedisServer
from tests.cluster.processes import Cluster, Node, admin_token, eventually, write_config
from tests.ingest.clips import write_clip

pytestmark = pytest.mark.slow

LEASE_SECONDS = 6.0  # longer than a picture lives (2 s), so the dead worker's picture expires first


@pytest.fixture
def cluster(tmp_path: Path, redis_server: RedisServer, pg_url: str) -> Iterator[Cluster]:
    clip = write_clip(tmp_path / "sweep.mp4", frames=60)
    running = Cluster(
        tmp_path, redis_server.url, pg_url, write_config(tmp_path / "cameras.yaml", clip), LEASE_SECONDS
    )
    try:
        yield running
    finally:
        running.stop()


def _frame(api: Node, token: str, camera: str) -> httpx.Response:
    url = f"http://127.0.0.1:{api.port}/api/cameras/{camera}/frame.jpg"
    return httpx.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=10)


def _holder(workers: list[Node], camera: str) -> str | None:
    return next((w.name for w in workers if camera in w.health().get("cameras", {})), None)


def test_the_api_node_serves_the_picture_of_whichever_worker_runs_the_camera(
    cluster: Cluster, redis_server: RedisServer
) -> None:
    assert frame_ttl_seconds(load_settings().live_frame_seconds) < LEASE_SECONDS - 2
    api = cluster.api()
    token = admin_token(api)
    workers = [cluster.worker("w1"), cluster.worker("w2")]
    first = eventually(lambda: _holder(workers, "east"), 30, "east running on a worker")
    served = eventually(lambda: (r := _frame(api, token, "east")).status_code == 200 and r, 30, "a picture")
    picture = cv2.imdecode(np.frombuffer(served.content, np.uint8), cv2.IMREAD_COLOR)
    assert picture is not None and picture.shape == (240, 320, 3)  # the clip's size, as in one process
    assert served.headers["cache-control"] == "no-store"
    redis = redis_server.client()
    assert redis.hget(frame_key("ioc", "east"), "node") == first

    victim = next(w for w in workers if w.name == first)
    survivor = next(w for w in workers if w.name != first)
    victim.kill()
    killed_at = time.monotonic()
    gone = eventually(lambda: (r := _frame(api, token, "east")).status_code == 404 and r, 10, "expired")
    expired_after = time.monotonic() - killed_at
    assert gone.json()["detail"] == "no frame from camera 'east' yet"

    def new_picture() -> httpx.Response | None:
        reply = _frame(api, token, "east")
        node = redis.hget(frame_key("ioc", "east"), "node")
        return reply if reply.status_code == 200 and node == survivor.name else None

    moved = eventually(new_picture, LEASE_SECONDS + 20, f"east's picture from {survivor.name}")
    print(f"live picture: expired {expired_after:.1f} s after the kill, back after "
          f"{time.monotonic() - killed_at:.1f} s from {survivor.name}")  # fmt: skip
    assert cv2.imdecode(np.frombuffer(moved.content, np.uint8), cv2.IMREAD_COLOR).shape == (240, 320, 3)
    assert _holder([survivor], "east") == survivor.name
    metrics = survivor.get("/metrics").text
    assert 'ioc_live_frames_total{camera="east",outcome="sent"}' in metrics
