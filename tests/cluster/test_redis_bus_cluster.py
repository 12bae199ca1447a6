"""The Redis bus as a cluster uses it, on a private Redis: delivery ids make resends idempotent,
alerts wait until an API node seeded the seq, stale fencing tokens are dropped, a dead consumer's
pending entries are reclaimed, an API node recovers by itself when Redis restarts empty, and an
alert the store could not take (PostgreSQL connection lost) is stored when it is back."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
import redis
from prometheus_client import REGISTRY

from ioc.bus.redis_bus import RedisBus
from ioc.store.postgres import PostgresStore
from ioc.store.sqlite import SqliteStore
from tests.cluster.conftest import RedisServer
from tests.factories import make_alert, make_camera_status


def _eventually(condition: Callable[[], bool], seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


@pytest.fixture
def store(tmp_path: Path) -> SqliteStore:
    return SqliteStore(tmp_path / "api.db")


def test_alerts_wait_for_a_seeded_seq_and_a_resend_is_stored_once(
    redis_server: RedisServer, store: SqliteStore
) -> None:
    worker = RedisBus(redis_server.url, None, node="w1", consume=False)
    with pytest.raises(redis.ResponseError, match="NOSEQ"):
        worker.send(make_alert(0), fence=1, delivery="d0")
    worker.send(make_camera_status(), fence=1)  # statuses need no seq
    api = RedisBus(redis_server.url, store, node="api")
    try:
        first = worker.send(make_alert(0), fence=1, delivery="d0")
        again = worker.send(make_alert(0), fence=1, delivery="d0")  # the reply was lost: resent
        other = worker.send(make_alert(1), fence=1, delivery="d1")
        assert (first, again, other) == (1, 1, 2)
        assert _eventually(lambda: store.max_seq() == 2)
        assert redis_server.client().xlen(api.stream) == 3
    finally:
        api.close()
        worker.close()


def test_messages_with_a_stale_fencing_token_are_dropped(
    redis_server: RedisServer, store: SqliteStore
) -> None:
    api = RedisBus(redis_server.url, store, node="api")
    old = RedisBus(redis_server.url, None, node="old", consume=False)
    new = RedisBus(redis_server.url, None, node="new", consume=False)
    fenced = REGISTRY.get_sample_value("ioc_fenced_messages_total", {"camera": "gate"}) or 0.0
    try:
        old.send(make_alert(0, camera_id="gate"), fence=10)
        new.send(make_alert(1, camera_id="gate"), fence=11)  # the camera moved to "new"
        old.send(make_alert(2, camera_id="gate"), fence=10)  # "old" has not noticed yet
        old.send(make_alert(3, camera_id="yard"), fence=10)  # another camera's tokens are its own
        assert _eventually(lambda: store.max_seq() >= 4 and api.last_seq == 4)
        assert [a.id for a in store.messages_after(0, 10)] == ["gate-a0", "gate-a1", "yard-a3"]
        after = REGISTRY.get_sample_value("ioc_fenced_messages_total", {"camera": "gate"})
        assert after == fenced + 1
    finally:
        for bus in (api, old, new):
            bus.close()


def test_a_dead_consumers_pending_entries_are_reclaimed(
    redis_server: RedisServer, store: SqliteStore
) -> None:
    api = RedisBus(redis_server.url, store, node="api", claim_idle_ms=300)
    api.close()  # created the group; a crashed process left the entries below read but unacknowledged
    worker = RedisBus(redis_server.url, None, node="w", consume=False)
    for n in range(3):
        worker.send(make_alert(n))
    client = redis_server.client()
    client.xreadgroup(api.group, "api-crashed", {api.stream: ">"}, count=10)
    assert client.xpending(api.stream, api.group)["pending"] == 3
    reclaimed = REGISTRY.get_sample_value("ioc_bus_reclaimed_total") or 0.0
    restarted = RedisBus(redis_server.url, store, node="api", claim_idle_ms=300)
    try:
        assert _eventually(lambda: store.max_seq() == 3)
        assert REGISTRY.get_sample_value("ioc_bus_reclaimed_total") == reclaimed + 3
        assert _eventually(lambda: client.xpending(api.stream, api.group)["pending"] == 0)
        names = lambda: {c["name"] for c in client.xinfo_consumers(api.stream, api.group)}  # noqa: E731
        assert _eventually(lambda: "api-crashed" not in names())
    finally:
        restarted.close()
        worker.close()


def test_an_api_node_recovers_when_redis_restarts_empty(
    redis_server: RedisServer, store: SqliteStore
) -> None:
    api = RedisBus(redis_server.url, store, node="api")
    worker = RedisBus(redis_server.url, None, node="w", consume=False)
    try:
        for n in range(3):
            worker.send(make_alert(n), delivery=f"d{n}")
        assert _eventually(lambda: store.max_seq() == 3)
        redis_server.stop()
        redis_server.start()  # empty: no stream, no group, no seq
        assert _eventually(lambda: redis_server.client().get(api.seq_key) == "3", 15)  # re-seeded
        seq = worker.send(make_alert(3), delivery="d3")
        assert seq == 4
        assert _eventually(lambda: store.max_seq() == 4)
        assert [a.seq for a in store.messages_after(0, 10)] == [1, 2, 3, 4]
    finally:
        api.close()
        worker.close()


def test_alerts_the_store_refused_are_stored_once_it_is_back(redis_server: RedisServer, pg_url: str) -> None:
    """PostgreSQL drops the API node's connection (as in a server restart): the alert that found
    out stays pending and is stored on the next try; the store reconnects by itself."""
    store = PostgresStore(pg_url)
    api = RedisBus(redis_server.url, store, node="api", claim_idle_ms=300)
    worker = RedisBus(redis_server.url, None, node="w", consume=False)
    try:
        worker.send(make_alert(0))
        assert _eventually(lambda: store.max_seq() == 1)
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (store._conn.info.backend_pid,))
        for n in range(1, 4):
            worker.send(make_alert(n))
        stored = lambda: [a.seq for a in store.messages_after(0, 10)]  # noqa: E731
        assert _eventually(lambda: stored() == [1, 2, 3, 4])
        client = redis_server.client()
        assert _eventually(lambda: client.xpending(api.stream, api.group)["pending"] == 0)
    finally:
        api.close()
        worker.close()
        store.close()
