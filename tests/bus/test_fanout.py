"""Fanout: a burst of messages costs one hand-off to each event loop, every subscriber gets every
message in order, a subscriber gets only what was offered after it joined, a closed loop is let go."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ioc.bus.base import Message
from ioc.bus.fanout import Fanout
from ioc.bus.subscription import Subscription
from tests.factories import make_alert, make_kpi


class RecordingLoop:
    """Stands in for an event loop: keeps what the relay schedules, runs it when told."""

    def __init__(self) -> None:
        self.scheduled: list[Callable[[], Any]] = []

    def call_soon_threadsafe(self, callback: Callable[[], Any]) -> None:
        self.scheduled.append(callback)

    def run_scheduled(self) -> int:
        ran, self.scheduled = self.scheduled, []
        for callback in ran:
            callback()
        return len(ran)


@dataclass(eq=False)
class Recorder:
    loop: Any
    got: list[Message] = field(default_factory=list)

    def push(self, message: Message) -> None:
        self.got.append(message)


def test_a_burst_is_one_hand_off_per_loop_and_everyone_gets_it_in_order() -> None:
    fanout = Fanout()
    loop_a, loop_b = RecordingLoop(), RecordingLoop()
    subs = [Recorder(loop_a), Recorder(loop_a), Recorder(loop_b)]
    for sub in subs:
        fanout.add(sub)  # type: ignore[arg-type]
    burst = [make_alert(n) for n in range(100)]
    for message in burst:
        fanout.offer(message)
    assert (len(loop_a.scheduled), len(loop_b.scheduled)) == (1, 1)
    loop_a.run_scheduled()
    loop_b.run_scheduled()
    assert all(sub.got == burst for sub in subs)
    fanout.offer(burst[0])  # the inbox was drained: the next message schedules again
    assert len(loop_a.scheduled) == 1


def test_a_subscriber_gets_only_what_was_offered_after_it_joined() -> None:
    fanout = Fanout()
    loop = RecordingLoop()
    early, late = Recorder(loop), Recorder(loop)
    fanout.add(early)  # type: ignore[arg-type]
    before = make_kpi()
    fanout.offer(before)
    fanout.add(late)  # type: ignore[arg-type]
    after = make_alert(1)
    fanout.offer(after)
    fanout.remove(early)  # type: ignore[arg-type]
    loop.run_scheduled()
    assert early.got == [before, after]  # offered while it was a member
    assert late.got == [after]
    assert len(fanout) == 1


def test_offering_with_no_subscribers_schedules_nothing() -> None:
    fanout = Fanout()
    loop = RecordingLoop()
    sub = Recorder(loop)
    fanout.add(sub)  # type: ignore[arg-type]
    fanout.remove(sub)  # type: ignore[arg-type]
    fanout.offer(make_kpi())
    assert loop.scheduled == [] and len(fanout) == 0


def test_a_closed_loop_is_let_go_without_an_error() -> None:
    fanout = Fanout()

    async def subscribe() -> Subscription:
        sub = Subscription(None, None, fanout.remove)
        fanout.add(sub)
        return sub

    sub = asyncio.run(subscribe())  # its loop is closed once run() returns
    fanout.offer(make_kpi())
    fanout.offer(make_kpi())
    fanout.remove(sub)
    assert len(fanout) == 0


def test_messages_from_another_thread_reach_real_subscriptions_in_order() -> None:
    fanout = Fanout()
    burst = [make_alert(n) for n in range(500)]

    async def scenario() -> list[list[Message]]:
        subs = [Subscription(None, None, fanout.remove, queue_size=1000) for _ in range(3)]
        for sub in subs:
            fanout.add(sub)
        publisher = threading.Thread(target=lambda: [fanout.offer(m) for m in burst])
        publisher.start()

        async def take(sub: Subscription) -> list[Message]:
            got: list[Message] = []
            async for message in sub:
                got.append(message)
                if len(got) == len(burst):
                    break
            return got

        try:
            return await asyncio.wait_for(asyncio.gather(*(take(s) for s in subs)), 10)
        finally:
            publisher.join()

    assert asyncio.run(scenario()) == [burst] * 3
    assert len(fanout) == 0  # each subscription left when its iteration ended
