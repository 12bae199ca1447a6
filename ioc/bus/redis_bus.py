"""Redis Streams bus: camera workers on many nodes publish, API nodes consume.

- ``publish`` runs one Lua script: ``INCR`` the seq key and ``XADD`` the message with that seq, so
  the stream order is the seq order even with many publishers.
- Each API node reads the stream through its own consumer group (``<prefix>-<node>``): the group
  remembers where the node stopped, so alerts published while it was down are stored when it
  comes back, and entries it took but did not acknowledge (a crash) are read again first.
- Consumed alerts are stored (idempotent by seq: nodes sharing PostgreSQL store each once) and then
  offered to the node's subscribers — the same store-then-fan-out order as ``MemoryBus``, which
  keeps resume gap-free.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from typing import Any

import redis

from ioc.bus.base import Message
from ioc.bus.memory import Fanout, deliver
from ioc.bus.subscription import DEFAULT_QUEUE_SIZE, Subscription
from ioc.messages import Alert, CameraStatus, FlowCount, KpiSnapshot
from ioc.store.base import Store

logger = logging.getLogger(__name__)

_PUBLISH = """
local seq = ''
if ARGV[2] == '1' then seq = tostring(redis.call('INCR', KEYS[2])) end
redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], '*', 'seq', seq, 'm', ARGV[1])
return seq
"""

_TYPES: dict[str, type[Alert] | type[CameraStatus] | type[KpiSnapshot] | type[FlowCount]] = {
    "alert": Alert,
    "camera_status": CameraStatus,
    "kpi": KpiSnapshot,
    "flow": FlowCount,
}


class RedisBusError(RuntimeError):
    pass


def decode_entry(fields: dict[str, str]) -> Message:
    """One stream entry back into its wire model (with the seq the script assigned)."""
    body = json.loads(fields["m"])
    model = _TYPES.get(body.get("type", ""))
    if model is None:
        raise ValueError(f"unknown message type {body.get('type')!r}")
    if fields.get("seq"):
        body["seq"] = int(fields["seq"])
    return model.model_validate(body)


class RedisBus:
    """``consume=False`` for a publisher-only node (camera workers); API nodes pass a store."""

    def __init__(
        self,
        url: str,
        store: Store | None,
        *,
        prefix: str = "ioc",
        node: str | None = None,
        consume: bool = True,
        queue_size: int = DEFAULT_QUEUE_SIZE,
        maxlen: int = 100_000,
        block_ms: int = 500,
    ) -> None:
        self.stream = f"{prefix}:bus"
        self.seq_key = f"{prefix}:seq"
        self.group = f"{prefix}-{node or socket.gethostname()}"
        self._maxlen = maxlen
        self._block_ms = block_ms
        self._store = store
        self._queue_size = queue_size
        self._fanout = Fanout()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._last_seq = store.max_seq() if store is not None else 0
        try:
            self._pub = redis.Redis.from_url(url, decode_responses=True, socket_timeout=5)
            self._pub.ping()
        except redis.RedisError as exc:
            raise RedisBusError(f"cannot reach Redis at {url}: {exc}") from exc
        self._script = self._pub.register_script(_PUBLISH)
        self._thread: threading.Thread | None = None
        if consume:
            if store is None:
                raise ValueError("a consuming RedisBus needs a store (the source for resume)")
            self._sub = redis.Redis.from_url(url, decode_responses=True, socket_timeout=block_ms / 1000 + 5)
            self._ensure_group()
            self._thread = threading.Thread(target=self._consume, name="redis-bus", daemon=True)
            self._thread.start()

    @property
    def last_seq(self) -> int:
        with self._lock:
            return self._last_seq

    def publish(self, message: Message) -> Message:
        is_alert = isinstance(message, Alert)
        body = message.model_dump_json(exclude={"seq"} if is_alert else None)
        seq = self._script(
            keys=[self.stream, self.seq_key], args=[body, "1" if is_alert else "0", self._maxlen]
        )
        if is_alert:
            return message.model_copy(update={"seq": int(seq)})
        return message

    def subscribe(self, after_seq: int | None = None, *, queue_size: int | None = None) -> Subscription:
        assert self._store is not None, "subscribe needs a consuming RedisBus"
        sub = Subscription(
            after_seq, self._store.messages_after, self._fanout.remove, queue_size or self._queue_size
        )
        self._fanout.add(sub)
        return sub

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self._block_ms / 1000 + 5)
            self._sub.close()
        self._pub.close()

    # -- consuming ----------------------------------------------------------------------------
    def _ensure_group(self) -> None:
        try:
            self._sub.xgroup_create(self.stream, self.group, id="$", mkstream=True)
            logger.info("redis bus: created consumer group %s on %s", self.group, self.stream)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def _consume(self) -> None:
        pending_first = True
        while not self._stop.is_set():
            start = "0" if pending_first else ">"
            try:
                batches: Any = self._sub.xreadgroup(
                    self.group, self.group, {self.stream: start}, count=200, block=self._block_ms
                )
            except redis.RedisError as exc:
                logger.warning("redis bus: read failed (%s); retrying in 1 s", exc)
                self._stop.wait(1.0)
                continue
            entries = [entry for _stream, items in batches or [] for entry in items]
            if pending_first and not entries:
                pending_first = False
            for entry_id, fields in entries:
                self._handle(entry_id, fields)

    def _handle(self, entry_id: str, fields: dict[str, str] | None) -> None:
        if fields:  # None: a pending entry trimmed from the stream
            try:
                message = decode_entry(fields)
            except ValueError as exc:
                logger.error("redis bus: dropping unreadable entry %s: %s", entry_id, exc)
            else:
                assert self._store is not None
                deliver(message, self._store, self._fanout.offer)
                if isinstance(message, Alert) and message.seq is not None:
                    with self._lock:
                        self._last_seq = max(self._last_seq, message.seq)
        self._sub.xack(self.stream, self.group, entry_id)
