"""Two ``ioc worker`` processes and one API process (``ioc serve --no-engine``) on a private Redis
and PostgreSQL, with looping file cameras and the blob detector:

- the cameras are shared one per worker; kill -9 a worker → its camera runs on the other within
  the lease time (+ one tick and the camera's start), and every alert reaches a ``/ws`` client
  exactly once (the client's seqs are the store's seqs, in order, none twice);
- Redis stopped (and started again empty) while alerts happen → the workers spool, and after it
  is back every alert they produced is stored and reaches the ``/ws`` client, none twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ioc.store.postgres import PostgresStore
from tests.cluster.conftest import RedisServer
from tests.cluster.processes import CAMERAS, Cluster, Node, WsClient, admin_token, eventually, write_config
from tests.ingest.clips import write_clip

pytestmark = pytest.mark.slow

LEASE_SECONDS = 4.0


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


def _holders(workers: list[Node]) -> dict[str, str]:
    return {camera: w.name for w in workers for camera in w.health().get("cameras", {})}


def _one_each(workers: list[Node]) -> Callable[[], bool]:
    return lambda: len(_holders(workers)) == 2 and len(set(_holders(workers).values())) == 2


def _alerts_from(ws: WsClient, camera: str, after: float) -> list[dict[str, Any]]:
    return [a for a in ws.snapshot() if a["camera_id"] == camera and a["_received"] > after]


def _stored_seqs(pg_url: str) -> list[int]:
    store = PostgresStore(pg_url)
    try:
        return [a.seq for a in store.messages_after(0, 100_000) if a.seq is not None]
    finally:
        store.close()


def _assert_exactly_once(ws: WsClient, pg_url: str) -> None:
    seqs = [a["seq"] for a in ws.snapshot()]
    assert seqs == sorted(set(seqs)), f"the wall got an alert twice or out of order: {ws.seen}"
    assert seqs == _stored_seqs(pg_url), f"the wall and the store disagree: {ws.seen}"
    messages = [(a["id"], a["state"], a["updated_at"]) for a in ws.snapshot()]
    assert len(messages) == len(set(messages)), "one alert message was published twice"


def _timed(ws: WsClient) -> WsClient:
    """Stamp each alert with when it arrived (for the failover time)."""
    original = ws.alerts

    class Stamped(list[dict[str, Any]]):
        def append(self, item: dict[str, Any]) -> None:
            super().append({**item, "_received": time.monotonic()})

    ws.alerts = Stamped(original)
    return ws


def test_a_killed_workers_camera_resumes_on_the_other_and_no_alert_is_lost_or_doubled(
    cluster: Cluster, pg_url: str
) -> None:
    api = cluster.api()
    ws = _timed(WsClient(api, admin_token(api)))
    workers = [cluster.worker("w1"), cluster.worker("w2")]
    try:
        eventually(_one_each(workers), 30, "one camera per worker")
        eventually(lambda: set(CAMERAS) <= {a["camera_id"] for a in ws.snapshot()}, 30, "alerts from both")
        victim = workers[0]
        camera = next(c for c, w in _holders(workers).items() if w == victim.name)
        victim.kill()
        killed_at = time.monotonic()
        eventually(lambda: _holders(workers[1:]).get(camera) == "w2", LEASE_SECONDS + 3, f"{camera} on w2")
        moved_after = time.monotonic() - killed_at
        eventually(
            lambda: _alerts_from(ws, camera, killed_at), LEASE_SECONDS + 10, f"{camera} alerting again"
        )
        first_alert_after = min(a["_received"] for a in _alerts_from(ws, camera, killed_at)) - killed_at
        print(f"failover: lease moved after {moved_after:.1f} s, next alert after {first_alert_after:.1f} s")
        time.sleep(1.0)  # let in-flight alerts land
        eventually(lambda: ws.snapshot() and ws.snapshot()[-1]["seq"] == max(_stored_seqs(pg_url)),
                   10, "the wall caught up with the store")  # fmt: skip
        _assert_exactly_once(ws, pg_url)
        ready = api.get("/readyz").json()
        assert ready["checks"] == {"store": True, "redis": True}
        assert ready["leases"] == dict.fromkeys(CAMERAS, "w2")
    finally:
        ws.close()


def _metric(node: Node, name: str) -> float:
    total = 0.0
    for line in node.get("/metrics").text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_alerts_made_while_redis_is_down_arrive_after_once(
    cluster: Cluster, redis_server: RedisServer, pg_url: str
) -> None:
    api = cluster.api()
    ws = _timed(WsClient(api, admin_token(api)))
    workers = [cluster.worker("w1"), cluster.worker("w2")]
    try:
        eventually(_one_each(workers), 30, "one camera per worker")
        eventually(lambda: set(CAMERAS) <= {a["camera_id"] for a in ws.snapshot()}, 30, "alerts from both")
        redis_server.stop()
        eventually(
            lambda: all(w.health().get("spooled", 0) >= 2 for w in workers), 30, "both workers spooling"
        )
        time.sleep(2.0)
        redis_server.start()  # empty, as a restart without persistence
        eventually(lambda: all(w.health().get("spooled", 1) == 0 for w in workers), 30, "spools sent")
        produced = lambda: sum(_metric(w, "ioc_alerts_total") for w in workers)  # noqa: E731
        eventually(lambda: len(_stored_seqs(pg_url)) >= produced(), 15, "every alert produced is stored")
        time.sleep(1.0)
        made = produced()
        eventually(lambda: len(_stored_seqs(pg_url)) >= made, 10, "every alert produced is stored")
        eventually(lambda: len(ws.snapshot()) == len(_stored_seqs(pg_url)), 10, "the wall has them all")
        _assert_exactly_once(ws, pg_url)
        assert sum(_metric(w, "ioc_spooled_total") for w in workers) >= 4
        assert sum(_metric(w, "ioc_spool_dropped_total") for w in workers) == 0
        assert _one_each(workers)()  # each worker took its own lease again; no camera moved
    finally:
        ws.close()
