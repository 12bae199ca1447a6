"""MemoryBus: strictly increasing seq from many threads, store-then-fan-out, gap-free resume, slow
subscribers cut off without slowing the others."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from ioc.bus.base import Message
from ioc.bus.memory import BusClosedError, MemoryBus
from ioc.bus.subscription import SlowConsumerError, Subscription
from ioc.messages import Alert
from ioc.store.sqlite import SqliteStore
from tests.factories import make_alert, make_camera_status, make_kpi


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    s = SqliteStore(tmp_path / "ioc.db")
    yield s
    s.close()


@pytest.fixture
def bus(store: SqliteStore) -> Iterator[MemoryBus]:
    b = MemoryBus(store)
    yield b
    b.close()


async def _take(sub: Subscription, n: int, timeout: float = 10.0) -> list[Message]:
    async def take() -> list[Message]:
        out: list[Message] = []
        async for message in sub:
            out.append(message)
            if len(out) == n:
                break
        return out

    return await asyncio.wait_for(take(), timeout)


def test_seq_is_strictly_increasing_across_threads(bus: MemoryBus, store: SqliteStore) -> None:
    per_thread: dict[int, list[int]] = {}

    def worker(t: int) -> None:
        seqs = []
        for n in range(100):
            published = bus.publish(make_alert(n, camera_id=f"cam{t}"))
            assert isinstance(published, Alert) and published.seq is not None
            seqs.append(published.seq)
        per_thread[t] = seqs

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    bus.close()  # flushes the dispatcher into the store
    assert all(seqs == sorted(seqs) for seqs in per_thread.values())
    assert sorted(s for seqs in per_thread.values() for s in seqs) == list(range(1, 401))
    assert [a.seq for a in store.messages_after(0, 1000)] == list(range(1, 401))


def test_non_alerts_pass_unchanged_and_are_not_stored(bus: MemoryBus, store: SqliteStore) -> None:
    status, kpi = make_camera_status(), make_kpi()
    assert bus.publish(status) is status
    assert bus.publish(kpi) is kpi
    bus.close()
    assert store.max_seq() == 0


def test_seq_continues_after_restart(store: SqliteStore) -> None:
    first = MemoryBus(store)
    for n in range(3):
        first.publish(make_alert(n))
    first.close()
    second = MemoryBus(store)
    try:
        assert second.publish(make_alert(9)).seq == 4  # type: ignore[union-attr]
    finally:
        second.close()
    with pytest.raises(BusClosedError):
        second.publish(make_alert(10))


def test_resume_while_publishing_has_no_gap_and_no_duplicate(bus: MemoryBus) -> None:
    for n in range(50):
        bus.publish(make_alert(n))

    async def scenario() -> list[int | None]:
        sub = bus.subscribe(after_seq=10)
        publisher = threading.Thread(target=lambda: [bus.publish(make_alert(n)) for n in range(50, 250)])
        publisher.start()
        try:
            got = await _take(sub, 240)
        finally:
            publisher.join()
            sub.close()
        return [m.seq for m in got if isinstance(m, Alert)]

    assert asyncio.run(scenario()) == list(range(11, 251))


def test_live_only_subscription_gets_everything_published_after(bus: MemoryBus) -> None:
    async def scenario() -> list[Message]:
        sub = bus.subscribe()
        published = [bus.publish(make_camera_status()), bus.publish(make_alert(1)), bus.publish(make_kpi())]
        got = await _take(sub, 3)
        sub.close()
        assert got == published
        return got

    asyncio.run(scenario())
    assert bus.subscriber_count() == 0


def test_slow_subscriber_is_cut_and_others_keep_receiving(store: SqliteStore) -> None:
    bus = MemoryBus(store, queue_size=5)

    async def scenario() -> None:
        slow, fast = bus.subscribe(), bus.subscribe()
        received: list[Message] = []

        async def read_fast() -> None:
            async for m in fast:
                received.append(m)
                if len(received) == 50:
                    return

        reader = asyncio.create_task(read_fast())
        for i in range(50):
            while len(received) < i - 2:  # paced by the fast reader; the slow one never reads
                await asyncio.sleep(0.001)
            bus.publish(make_kpi())
        await asyncio.wait_for(reader, 10)
        assert slow.overflowed.is_set()
        with pytest.raises(SlowConsumerError):
            await anext(slow)
        assert len(received) == 50
        fast.close()

    try:
        asyncio.run(scenario())
    finally:
        bus.close()


class GatedStore(SqliteStore):
    """Holds every save until ``gate`` opens and records how many alerts each save carried;
    with ``refuse_bursts`` a save of more than one alert fails."""

    def __init__(self, path: Path, refuse_bursts: bool = False) -> None:
        super().__init__(path)
        self.gate = threading.Event()
        self.entered = threading.Event()
        self.sizes: list[int] = []
        self.refuse_bursts = refuse_bursts

    def save_alerts(self, alerts: Sequence[Alert]) -> list[Alert]:
        self.entered.set()
        self.gate.wait(10)
        self.sizes.append(len(alerts))
        if self.refuse_bursts and len(alerts) > 1:
            raise OSError("burst refused")
        return super().save_alerts(alerts)


@pytest.mark.parametrize("refuse_bursts", [False, True])
def test_a_backlog_is_stored_as_one_burst_and_offered_in_order(tmp_path: Path, refuse_bursts: bool) -> None:
    store = GatedStore(tmp_path / "ioc.db", refuse_bursts)
    bus = MemoryBus(store)

    async def scenario() -> list[Message]:
        sub = bus.subscribe()
        bus.publish(make_alert(0))  # the dispatcher takes it and waits at the gate
        assert await asyncio.to_thread(store.entered.wait, 10)
        for n in range(1, 31):
            bus.publish(make_alert(n))
        bus.publish(make_kpi())
        store.gate.set()
        got = await _take(sub, 32)
        sub.close()
        return got

    try:
        got = asyncio.run(scenario())
    finally:
        bus.close()
    assert [m.seq for m in got if isinstance(m, Alert)] == list(range(1, 32))
    assert got[-1].type == "kpi"
    assert [a.seq for a in store.messages_after(0, 100)] == list(range(1, 32))
    if refuse_bursts:  # the burst failed, then each alert was stored alone
        assert store.sizes == [1, 30] + [1] * 30
    else:
        assert store.sizes == [1, 30]
    store.close()
