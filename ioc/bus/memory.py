"""In-process bus: the embedded default for one ``ioc serve`` process.

``publish`` is called from camera worker threads. It assigns the alert's seq under a lock and
hands the message to one dispatcher thread, which stores alerts (the store is the source for
resume) and then offers every message to the subscribers. Storing before fan-out is what makes
resume gap-free: a message a subscriber did not get live is already in the store when it replays.
Flow counts are stored too (``GET /api/flows``); camera status and KPIs are live only. The
dispatcher takes what has queued up (up to ``DISPATCH_BATCH`` messages) at once and stores its
alerts in one transaction: a burst costs one commit, not one per alert.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
from collections.abc import Callable

from ioc.bus.base import Message
from ioc.bus.fanout import Fanout
from ioc.bus.subscription import DEFAULT_QUEUE_SIZE, Subscription
from ioc.messages import Alert, FlowCount
from ioc.store.base import Store

logger = logging.getLogger(__name__)

DISPATCH_BATCH = 200


class BusClosedError(RuntimeError):
    pass


class MemoryBus:
    def __init__(self, store: Store, queue_size: int = DEFAULT_QUEUE_SIZE) -> None:
        self._store = store
        self._queue_size = queue_size
        self._seq_lock = threading.Lock()
        self._seq = store.max_seq()
        self._fanout = Fanout()
        # Unbounded on purpose: alerts are rare and must not be dropped; the dispatcher only stores.
        self._pending: queue.SimpleQueue[Message | None] = queue.SimpleQueue()
        self._closed = False
        self._thread = threading.Thread(target=self._dispatch, name="bus-dispatch", daemon=True)
        self._thread.start()

    @property
    def last_seq(self) -> int:
        with self._seq_lock:
            return self._seq

    def publish(self, message: Message) -> Message:
        with self._seq_lock:
            if self._closed:
                raise BusClosedError("publish on a closed bus")
            if isinstance(message, Alert):
                self._seq += 1
                message = message.model_copy(update={"seq": self._seq})
            self._pending.put(message)
        return message

    def subscribe(self, after_seq: int | None = None, *, queue_size: int | None = None) -> Subscription:
        sub = Subscription(
            after_seq, self._store.messages_after, self._fanout.remove, queue_size or self._queue_size
        )
        self._fanout.add(sub)
        return sub

    def readiness(self) -> dict[str, object]:
        return {}

    def subscriber_count(self) -> int:
        return len(self._fanout)

    def close(self) -> None:
        """Stop taking messages, store and deliver what was published, stop the dispatcher."""
        with self._seq_lock:
            if self._closed:
                return
            self._closed = True
            self._pending.put(None)  # stop marker
        self._thread.join(timeout=10)

    def _dispatch(self) -> None:
        while True:
            batch = [self._pending.get()]
            with contextlib.suppress(queue.Empty):
                while len(batch) < DISPATCH_BATCH and batch[-1] is not None:
                    batch.append(self._pending.get_nowait())
            deliver_batch([m for m in batch if m is not None], self._store, self._fanout.offer)
            if batch[-1] is None:  # the stop marker is the last thing ever queued
                return


def deliver_batch(messages: list[Message], store: Store, offer: Callable[[Message], None]) -> None:
    """:func:`deliver` for each, in order, the alerts stored in one transaction first; if that
    fails, one by one (each failure logged, each message still offered)."""
    alerts = [m for m in messages if isinstance(m, Alert)]
    if len(alerts) < 2:
        for message in messages:
            deliver(message, store, offer)
        return
    try:
        merged = iter(store.save_alerts(alerts))
    except Exception as exc:
        logger.warning("storing %d alerts at once failed (%s); storing them one by one", len(alerts), exc)
        for message in messages:
            deliver(message, store, offer)
        return
    for message in messages:
        if isinstance(message, Alert):
            offer(next(merged))
        else:
            deliver(message, store, offer)


def deliver(message: Message, store: Store, offer: Callable[[Message], None]) -> None:
    """Store an alert (getting back its merged row) or a flow count, then offer it live. A store
    failure is logged and the message still goes out live: a dashboard should see an alert even if
    the disk is full."""
    try:
        if isinstance(message, Alert):
            message = store.save_alert(message)
        elif isinstance(message, FlowCount):
            store.save_flow(message)
    except Exception:
        logger.exception("storing a bus message failed; delivering it live only")
    offer(message)
