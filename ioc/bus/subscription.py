"""One subscriber's view of the bus: replay from the store, then live messages, with no gap.

The subscription registers for live messages *before* it reads the store, buffers what arrives
meanwhile, replays the stored alerts after ``after_seq`` and then drains the buffer, skipping
alerts it already replayed. Live messages are offered from any thread through the subscriber's
event loop (``call_soon_threadsafe``) into a bounded queue; when that queue is full the
subscription is marked slow and ends with :class:`SlowConsumerError` — the publisher never waits.
"""

from __future__ import annotations

import asyncio
import logging
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
        self._after_seq = after_seq
        self._replay = replay
        self._unregister = unregister
        self._queue: asyncio.Queue[Message] = asyncio.Queue(maxsize=queue_size)
        self._overflow = asyncio.Event()
        self._closed = False
        self._iter: AsyncGenerator[Message, None] | None = None

    @property
    def overflowed(self) -> asyncio.Event:
        """Set (on the loop) the moment a live message found the queue full."""
        return self._overflow

    def offer_threadsafe(self, message: Message) -> None:
        """Called by the bus from any thread; never blocks."""
        if self._closed:
            return
        try:
            self.loop.call_soon_threadsafe(self._offer, message)
        except RuntimeError:  # loop already closed: the subscriber is gone
            self._closed = True

    def _offer(self, message: Message) -> None:
        if self._closed or self._overflow.is_set():
            return
        try:
            self._queue.put_nowait(message)
        except asyncio.QueueFull:
            logger.warning("bus subscriber fell %d messages behind; cutting it off", self._queue.maxsize)
            self._overflow.set()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._unregister(self)

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Message:
        if self._iter is None:
            self._iter = self._messages()
        return await anext(self._iter)

    async def aclose(self) -> None:
        if self._iter is not None:
            await self._iter.aclose()
        self.close()

    async def _messages(self) -> AsyncGenerator[Message, None]:
        try:
            last = -1
            if self._after_seq is not None and self._replay is not None:
                last = self._after_seq
                async for alert in self._replayed(self._after_seq):
                    last = alert.seq if alert.seq is not None else last
                    yield alert
            while True:
                message = await self._next_live()
                if isinstance(message, Alert) and message.seq is not None and message.seq <= last:
                    continue
                yield message
        finally:
            self.close()

    async def _replayed(self, after: int) -> AsyncIterator[Alert]:
        assert self._replay is not None
        while True:
            page = await asyncio.to_thread(self._replay, after, REPLAY_PAGE)
            for alert in page:
                yield alert
            if len(page) < REPLAY_PAGE:
                return
            after = page[-1].seq or after

    async def _next_live(self) -> Message:
        if self._overflow.is_set():
            raise SlowConsumerError("subscriber queue full")
        get = asyncio.ensure_future(self._queue.get())
        cut = asyncio.ensure_future(self._overflow.wait())
        try:
            done, _ = await asyncio.wait({get, cut}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (get, cut):
                if not task.done():
                    task.cancel()
        if get in done:
            return get.result()
        raise SlowConsumerError("subscriber queue full")
