"""The worker's outbox: everything a worker publishes goes through one sender thread, and what
cannot reach Redis waits on local disk.

- ``Outbox.put`` is called from camera threads and never blocks: it stamps nothing, it queues.
- The sender thread sends in order. When a send fails (Redis unreachable, or not ready: an API
  node has not seeded the alert sequence yet), the message goes to the :class:`DiskSpool`, and so
  does everything after it until the spool is empty again — order is kept.
- Every ``retry_seconds`` the sender tries the spool's head; each message sent is removed, and the
  file is emptied once all are out. A worker restarted with a non-empty spool sends it first.
- Each message carries a delivery id (uuid) made when it was first queued; Redis remembers the
  seq it got for an hour, so a message sent twice (the reply was lost, or the worker died between
  sending and removing it from the spool) is stored and shown once.
- The spool is bounded (``IOC_SPOOL_MAX_MESSAGES``); when full, new messages are dropped, counted
  (``ioc_spool_dropped_total``) and logged. ``ioc_spool_messages`` is what waits now.
"""

from __future__ import annotations

import collections
import json
import logging
import queue
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pydantic import TypeAdapter

from ioc import metrics
from ioc.bus.base import Message
from ioc.messages import BusMessage

logger = logging.getLogger(__name__)

_MESSAGE: TypeAdapter[Message] = TypeAdapter(BusMessage)


@dataclass(frozen=True, slots=True)
class Envelope:
    """A message as a worker sends it: with the camera's fencing token and a delivery id."""

    message: Message
    fence: int | None
    delivery: str

    @classmethod
    def new(cls, message: Message, fence: int | None) -> Envelope:
        return cls(message, fence, uuid.uuid4().hex)

    def to_line(self) -> str:
        body = json.loads(self.message.model_dump_json())
        return json.dumps({"d": self.delivery, "f": self.fence, "m": body}, separators=(",", ":"))

    @classmethod
    def from_line(cls, line: str) -> Envelope:
        raw = json.loads(line)
        return cls(_MESSAGE.validate_python(raw["m"]), raw["f"], raw["d"])


class SendFailedError(Exception):
    """The message did not reach Redis; try again later."""


class DiskSpool:
    """A bounded FIFO of envelopes mirrored in an append-only JSON-lines file."""

    def __init__(self, path: Path, max_messages: int) -> None:
        self.path = path
        self.max_messages = max_messages
        self._items: collections.deque[Envelope] = collections.deque()
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            self._load()
        self._file = path.open("a", encoding="utf-8")
        metrics.SPOOL_MESSAGES.set(len(self._items))

    def _load(self) -> None:
        for n, line in enumerate(self.path.read_text(encoding="utf-8").splitlines(), 1):
            try:
                self._items.append(Envelope.from_line(line))
            except (ValueError, KeyError) as exc:
                logger.error("spool %s line %d: unreadable, skipped (%s)", self.path, n, exc)
        if self._items:
            logger.info("spool %s: %d messages from before the restart to send", self.path, len(self._items))

    def __len__(self) -> int:
        return len(self._items)

    def append(self, envelope: Envelope) -> bool:
        """False (and counted) when the spool is full."""
        if len(self._items) >= self.max_messages:
            metrics.SPOOL_DROPPED.inc()
            logger.error("spool full (%d messages): dropped a %s", self.max_messages, envelope.message.type)
            return False
        self._file.write(envelope.to_line() + "\n")
        self._file.flush()
        self._items.append(envelope)
        metrics.SPOOLED.inc()
        metrics.SPOOL_MESSAGES.set(len(self._items))
        return True

    def head(self) -> Envelope | None:
        return self._items[0] if self._items else None

    def pop(self) -> None:
        self._items.popleft()
        if not self._items:
            self._file.truncate(0)
            self._file.seek(0)
        metrics.SPOOL_MESSAGES.set(len(self._items))

    def close(self) -> None:
        """Keep what is left on disk (it is sent at the next start)."""
        if self._items:
            self._file.seek(0)
            self._file.truncate(0)
            self._file.write("".join(e.to_line() + "\n" for e in self._items))
        self._file.close()


class Outbox:
    """The sender thread between camera threads and Redis (see the module docstring)."""

    def __init__(
        self, send: Callable[[Envelope], None], spool: DiskSpool, *, retry_seconds: float = 1.0
    ) -> None:
        self._send = send
        self._spool = spool
        self._retry = retry_seconds
        self._queue: queue.SimpleQueue[Envelope] = queue.SimpleQueue()
        self._unsent = 0  # queued, or spooled, and not sent yet
        self._idle = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ioc-outbox", daemon=True)

    @property
    def spooled(self) -> int:
        return len(self._spool)

    def start(self) -> None:
        self._thread.start()

    def put(self, envelope: Envelope) -> None:
        with self._idle:
            self._unsent += 1
        self._queue.put(envelope)

    def wait_sent(self, timeout: float) -> bool:
        """Wait until everything put so far has reached Redis (False: timed out, e.g. Redis is
        down and messages wait in the spool)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._unsent == 0, timeout)

    def _sent(self) -> None:
        with self._idle:
            self._unsent -= 1
            if self._unsent == 0:
                self._idle.notify_all()

    def stop(self, drain_seconds: float = 5.0) -> None:
        """Send what is queued (spooling what cannot go), then stop; the spool stays on disk."""
        self._stop.set()
        self._thread.join(timeout=drain_seconds + self._retry)
        if self._thread.is_alive():  # stuck in a send: every spooled line is on disk already
            logger.warning(
                "outbox still sending after %.0f s; %d messages stay spooled", drain_seconds, self.spooled
            )
            return
        self._spool.close()

    def _run(self) -> None:
        while True:
            try:
                envelope: Envelope | None = self._queue.get(timeout=self._retry)
            except queue.Empty:
                envelope = None
            if envelope is not None:
                self._take(envelope)
            elif self._stop.is_set():
                return
            self._flush()

    def _take(self, envelope: Envelope) -> None:
        if len(self._spool) == 0 and self._try(envelope):
            self._sent()
        elif not self._spool.append(envelope):
            self._sent()  # dropped (spool full): counted there

    def _flush(self) -> None:
        while (head := self._spool.head()) is not None and self._try(head):
            self._spool.pop()
            self._sent()

    def _try(self, envelope: Envelope) -> bool:
        try:
            self._send(envelope)
        except SendFailedError as exc:
            if len(self._spool) == 0:
                logger.warning("publishing failed (%s); spooling to %s until it works", exc, self._spool.path)
            return False
        except Exception:
            logger.exception("publishing a %s failed unexpectedly; dropped", envelope.message.type)
            metrics.SPOOL_DROPPED.inc()
        return True
