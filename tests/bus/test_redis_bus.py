"""RedisBus against the real Redis at 127.0.0.1:6379: publish on one connection (a camera-worker
node), consume on others (API nodes), store-then-fan-out, catch-up after a node restart."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
import redis

from ioc.bus.base import Message
from ioc.bus.redis_bus import RedisBus, RedisBusError
from ioc.messages import Alert, CameraStatus, KpiSnapshot
from ioc.store.sqlite import SqliteStore
from tests.factories import make_alert, make_camera_status, make_kpi

URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def prefix() -> Iterator[str]:
    try:
        client = redis.Redis.from_url(URL, socket_timeout=2)
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis not reachable at {URL}: {exc}")
    name = f"ioc-test-{uuid.uuid4().hex[:10]}"
    yield name
    client.delete(f"{name}:bus", f"{name}:seq")
    client.close()


def _wait_for(predicate: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate() and time.monotonic() < deadline:  # type: ignore[operator]
        time.sleep(0.02)


async def _take(bus: RedisBus, after: int | None, n: int, publish: list[Message]) -> list[Message]:
    sub = bus.subscribe(after_seq=after)
    worker = RedisBus(URL, None, prefix=bus.stream.split(":")[0], consume=False)
    try:
        for m in publish:
            worker.publish(m)
        out: list[Message] = []
        async with asyncio.timeout(10):
            async for message in sub:
                out.append(message)
                if len(out) == n:
                    break
        return out
    finally:
        sub.close()
        worker.close()


def test_publish_on_one_node_consume_on_two(tmp_path: Path, prefix: str) -> None:
    stores = [SqliteStore(tmp_path / f"api{i}.db") for i in range(2)]
    api = [RedisBus(URL, s, prefix=prefix, node=f"api{i}") for i, s in enumerate(stores)]
    worker = RedisBus(URL, None, prefix=prefix, consume=False)
    try:
        seqs = [worker.publish(make_alert(n)).seq for n in range(20)]  # type: ignore[union-attr]
        assert seqs == list(range(1, 21))
        assert worker.publish(make_kpi()).type == "kpi"
        for s in stores:
            _wait_for(lambda s=s: s.max_seq() == 20)  # type: ignore[misc]
            assert [a.id for a in s.messages_after(0, 100)] == [f"gate-a{n}" for n in range(20)]
        assert [b.last_seq for b in api] == [20, 20]
    finally:
        worker.close()
        for b in api:
            b.close()
        for s in stores:
            s.close()


def test_subscribers_get_replay_then_live_in_order(tmp_path: Path, prefix: str) -> None:
    store = SqliteStore(tmp_path / "api.db")
    api = RedisBus(URL, store, prefix=prefix, node="api")
    try:
        first = RedisBus(URL, None, prefix=prefix, consume=False)
        for n in range(5):
            first.publish(make_alert(n))
        first.close()
        _wait_for(lambda: store.max_seq() == 5)
        live = [make_camera_status(), make_alert(5), make_kpi(), make_alert(6)]
        got = asyncio.run(_take(api, 2, 7, live))
        # alerts in seq order, none twice; statuses/KPIs are live-only and may overtake replay
        assert [m.seq for m in got if isinstance(m, Alert)] == [3, 4, 5, 6, 7]
        assert {type(m) for m in got if not isinstance(m, Alert)} == {CameraStatus, KpiSnapshot}
        assert got[:3] == store.messages_after(2, 3)
    finally:
        api.close()
        store.close()


def test_node_catches_up_on_what_it_missed_while_down(tmp_path: Path, prefix: str) -> None:
    store = SqliteStore(tmp_path / "api.db")
    worker = RedisBus(URL, None, prefix=prefix, consume=False)
    try:
        RedisBus(URL, store, prefix=prefix, node="api").close()  # first start creates the group
        for n in range(3):
            worker.publish(make_alert(n))
        assert store.max_seq() == 0
        api = RedisBus(URL, store, prefix=prefix, node="api")
        _wait_for(lambda: store.max_seq() == 3)
        api.close()
        assert [a.seq for a in store.messages_after(0, 10)] == [1, 2, 3]
    finally:
        worker.close()
        store.close()


def test_unreachable_redis_is_a_clear_error() -> None:
    with pytest.raises(RedisBusError, match=re.escape("cannot reach Redis at redis://127.0.0.1:1")):
        RedisBus("redis://127.0.0.1:1/0", None, consume=False)


class RefusingStore(SqliteStore):
    """Refuses to store the alerts whose id is in ``refused`` (a disk error, a poison row)."""

    refused: frozenset[str] = frozenset()

    def save_alerts(self, alerts: Sequence[Alert]) -> list[Alert]:
        bad = [a.id for a in alerts if a.id in self.refused]
        if bad:
            raise OSError(f"cannot store {bad}")
        return super().save_alerts(alerts)


def test_one_refused_alert_does_not_hold_back_the_rest_of_its_burst(tmp_path: Path, prefix: str) -> None:
    store = RefusingStore(tmp_path / "api.db")
    store.refused = frozenset({"gate-a3"})
    worker = RedisBus(URL, None, prefix=prefix, consume=False)
    try:
        RedisBus(URL, store, prefix=prefix, node="api").close()  # creates the group and seeds the seq
        for n in range(8):  # published while the node is down: it reads them as one burst
            worker.publish(make_alert(n))
        api = RedisBus(URL, store, prefix=prefix, node="api")
        _wait_for(lambda: len(store.messages_after(0, 100)) == 7)
        api.close()
        assert [a.id for a in store.messages_after(0, 100)] == [f"gate-a{n}" for n in range(8) if n != 3]
        pending = redis.Redis.from_url(URL).xpending(f"{prefix}:bus", f"{prefix}-api")
        assert pending["pending"] == 1  # the refused one: reclaimed and tried again later
    finally:
        worker.close()
        store.close()
