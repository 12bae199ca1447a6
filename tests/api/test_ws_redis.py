"""The API node on the Redis bus: a camera-worker node publishes to real Redis, the dashboard
resumes over /ws and alerts show up over REST — the same contract as the embedded bus."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from ioc.bus.redis_bus import RedisBus
from ioc.messages import Alert
from tests.api.conftest import Api, build_api
from tests.factories import make_alert

URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def redis_api(tmp_path: Path) -> Iterator[tuple[Api, RedisBus]]:
    try:
        client = redis.Redis.from_url(URL, socket_timeout=2)
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis not reachable at {URL}: {exc}")
    prefix = f"ioc-test-{uuid.uuid4().hex[:10]}"
    worker = RedisBus(URL, None, prefix=prefix, consume=False)
    try:
        for api in build_api(
            tmp_path, bus_factory=lambda store: RedisBus(URL, store, prefix=prefix, node="api")
        ):
            yield api, worker
    finally:
        worker.close()
        client.delete(f"{prefix}:bus", f"{prefix}:seq")
        client.close()


def test_worker_node_alerts_reach_ws_and_rest_with_resume(redis_api: tuple[Api, RedisBus]) -> None:
    api, worker = redis_api

    def publish(*alerts: Alert) -> list[int]:
        seqs: list[int] = [worker.publish(a).seq for a in alerts]  # type: ignore[misc,union-attr]
        deadline = time.monotonic() + 10
        while api.store.max_seq() < seqs[-1] and time.monotonic() < deadline:
            time.sleep(0.01)  # the API node consumes and stores asynchronously
        return seqs

    with api.client.websocket_connect(f"/ws?token={api.tokens['operator']}") as ws:
        ws.receive_json()
        publish(make_alert(0))
        last = ws.receive_json()["seq"]
    missed = publish(*(make_alert(n) for n in range(1, 21)))
    with api.client.websocket_connect(f"/ws?token={api.tokens['traffic']}&last_seq={last}") as ws:
        assert ws.receive_json()["last_seq"] == last
        publish(make_alert(21, category="traffic"))
        got = ws.receive_json()
        assert (got["id"], got["seq"]) == ("gate-a21", missed[-1] + 1)  # 20 security alerts never sent
    with api.client.websocket_connect(f"/ws?token={api.tokens['operator']}&last_seq={last}") as ws:
        ws.receive_json()
        assert [ws.receive_json()["seq"] for _ in range(21)] == [*missed, missed[-1] + 1]
    ack = api.client.post("/api/alerts/gate-a5/ack", headers=api.auth("operator")).json()
    assert ack["seq"] == missed[-1] + 2  # the status change went out through Redis too
    api.flush()
    detail = api.client.get("/api/alerts/gate-a5", headers=api.auth("operator")).json()
    assert detail["alert"]["status"] == "acknowledged"
