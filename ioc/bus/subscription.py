"""One subscriber's view of the bus: replay from the store, then live messages, with no gap.

The subscription registers for live messages *before* it reads the store, buffers what arrives
meanwhile, replays the stored alerts after ``after_seq`` and then drains the buffer, skipping
alerts it already replayed. Live messages reach it on its own event loop through the bus's
:class:`ioc.bus.fanout.Fanout` (one loop wake-up per burst) and wait in a bounded buffer; when
that buffer is full the subscription is marked slow and ends with :class:`SlowConsumerError` —
the publisher never waits. A consumer takes everything buffered at once (:meth:`next_batch`), so
one that fell behind catches up without one loop round-trip per message.
"""
from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Callable

from ioc.bus.base import Message
from ioc.messages import Alert

logger = logging.getLogger(__name__)

REPLAY_PAGE = 500
DEFAULT_QUEUE_SIZE = 1000


class SlowConsumerError(RuntimeError):
    """The subscriber fell more than its queue size behind the live stream."""


class Subscription:
    """Async iterator of bus messages. Create it on the event loop that will consume it."""

    def __init__(
        self,
        after_seq: int | None,
        replay: Callable[[int, int], list[Alert]] | None,
        unregister: Callable[[Subscription], None],
        queue_size: int = DEFAULT_QUEUE_SIZE,
    ) -> None:
        self.loop = asyncio.get_running_loop()
        self.queue_size = queue_size
        self._after_seq = after_seq
        self._replay = replay
        self._unregister = unregister
        self._buffer: deque[Message] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._overflow = asyncio.Event()
        self._closed = False
        self._batches: AsyncGenerator[list[Message], None] | None = None
        self._taken: deque[Message] = deque()

    @property
    def overflowed(self) -> asyncio.Event:
        """Set (on the loop) the moment a live message found the buffer full."""
        return self._overflow

    def push(self, message: Message) -> None:
        """On the subscription's loop (the fan-out's drain); never blocks."""
        if self._closed or self._overflow.is_set():
            return
        if len(self._buffer) >= self.queue_size:
            logger.warning("bus subscriber fell %d messages behind; cutting it off", self.queue_size)
            self._overflow.set()
        else:
            self._buffer.append(message)
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._unregister(self)

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Message:
        while not self._taken:
            self._taken.extend(await self.next_batch())
        return self._taken.popleft()

    async def next_batch(self) -> list[Message]:
        """Everything there is now, in order (at least one message; a replay page at a time while
        replaying): a consumer that fell behind catches up in one step, not one per message. What
        the batch holds no longer counts against the buffer's bound."""
        if self._batches is None:
            self._batches = self._all_batches()
        return await anext(self._batches)

    async def aclose(self) -> None:
        if self._batches is not None:
            await self._batches.aclose()
        self.close()

    async def _all_batches(self) -> AsyncGenerator[list[Message], None]:
        try:
            last = -1
            if self._after_seq is not None and self._replay is not None:
                last = self._after_seq
                async for page in self._replayed(self._after_seq):
                    last = page[-1].seq or last
                    yield list(page)
            while True:
                batch = await self._take_live()
                if last >= 0:
                    batch = [m for m in batch if not _replayed_already(m, last)]
                if batch:
                    yield batch
        finally:
            self.close()

    async def _replayed(self, after: int) -> AsyncIterator[list[Alert]]:
        assert self._replay is not None
        while True:
            page = await asyncio.to_thread(self._replay, after, REPLAY_PAGE)
            if page:
                yield page
            if len(page) < REPLAY_PAGE:
                return
            after = page[-1].seq or after

    async def _take_live(self) -> list[Message]:
        while not self._buffer:
            if self._overflow.is_set():
                raise SlowConsumerError("subscriber queue full")
            self._waiter = self.loop.create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        if self._overflow.is_set():
            raise SlowConsumerError("subscriber queue full")
        batch = list(self._buffer)
        self._buffer.clear()
        return batch


def _replayed_already(message: Message, last: int) -> bool:
    return isinstance(message, Alert) and message.seq is not None and message.seq <= last
