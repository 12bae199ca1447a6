"""Redis Streams bus: camera workers on many nodes publish, API nodes consume.

- ``publish``/``send`` run one Lua script: ``INCR`` the seq key and ``XADD`` the message with that
  seq, the camera's fencing token and the sending node, so the stream order is the seq order even
  with many publishers. With a delivery id the script remembers the seq it gave (an hour), and a
  second send of the same id (a worker's retry) adds nothing. An alert is refused (``NOSEQ``)
  until an API node has seeded the seq key from its store: a Redis that restarted empty must not
  hand out seqs that are already stored.
- Each API node reads the stream through its own consumer group (``<prefix>-<node>``; node names
  are unique per API process): the group remembers where the node stopped, so alerts published
  while it was down are stored when it comes back. Each process is a new consumer of its group;
  entries a dead process read but never acknowledged are taken over with ``XAUTOCLAIM`` once idle
  for ``claim_idle_ms``, and the dead consumer is then removed.
- After a read failure (Redis down) the node re-creates its group if Redis lost it (reading the
  new stream from its start) and re-seeds the seq.
- A message whose fencing token is older than one already seen for its camera comes from a worker
  that lost the camera's lease; it is dropped and counted (``ioc_fenced_messages_total``).
- Consumed alerts are stored (idempotent by seq: nodes sharing PostgreSQL store each once) and then
  offered to the node's subscribers — the same store-then-fan-out order as ``MemoryBus``, which
  keeps resume gap-free. An alert the store refuses (PostgreSQL down) is neither acknowledged nor
  offered: it stays pending and is reclaimed and stored once the store is back. Entries are
  stored a read (up to 200) at a time, the alerts in one transaction (one commit per burst, not
  per alert), and acknowledged with one ``XACK`` per read; a node that dies between delivering
  and acknowledging has them reclaimed: stored again idempotently, and offered again (clients
  merge alerts by ``id``).
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
import uuid
from typing import Any

import redis

from ioc import metrics
from ioc.bus.base import Message
from ioc.bus.fanout import Fanout
from ioc.bus.subscription import DEFAULT_QUEUE_SIZE, Subscription
from ioc.cluster.leases import lease_holders
from ioc.messages import Alert, CameraStatus, FlowCount, KpiSnapshot
from ioc.store.base import Store

logger = logging.getLogger(__name__)

_PUBLISH = """
if ARGV[7] == '1' then
  local sent = redis.call('GET', KEYS[3])
  if sent then return sent end
end
local seq = ''
if ARGV[2] == '1' then
  if redis.call('EXISTS', KEYS[2]) == 0 then
    return redis.error_reply('NOSEQ the alert sequence is not seeded yet (no API node on this Redis)')
  end
  seq = tostring(redis.call('INCR', KEYS[2]))
end
redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], '*',
           'seq', seq, 'm', ARGV[1], 'fence', ARGV[4], 'node', ARGV[5])
if ARGV[7] == '1' then redis.call('SET', KEYS[3], seq, 'EX', ARGV[6]) end
return seq
"""

_SEED = """
local current = tonumber(redis.call('GET', KEYS[1]) or '-1')
if current < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) end
return redis.call('GET', KEYS[1])
"""

DELIVERY_TTL_SECONDS = 3_600
"""How long Redis remembers a delivery id (a worker's resend within it is not stored twice): about
70 MB of keys at 200 alerts/s; a worker that died with messages sent but not yet removed from its
spool and restarts later than this may show those again."""

_TYPES: dict[str, type[Alert] | type[CameraStatus] | type[KpiSnapshot] | type[FlowCount]] = {
    "alert": Alert,
    "camera_status": CameraStatus,
    "kpi": KpiSnapshot,
    "flow": FlowCount,
}


class RedisBusError(RuntimeError):
    pass


class FenceBook:
    """The newest fencing token seen per camera; older ones are from a worker that lost the lease."""

    def __init__(self) -> None:
        self._newest: dict[str, int] = {}

    def admit(self, camera_id: str, token: int) -> bool:
        newest = self._newest.get(camera_id, 0)
        if token < newest:
            return False
        self._newest[camera_id] = token
        return True


def decode_entry(fields: dict[str, str]) -> Message:
    """One stream entry back into its wire model (with the seq the script assigned)."""
    body = json.loads(fields["m"])
    model = _TYPES.get(body.get("type", ""))
    if model is None:
        raise ValueError(f"unknown message type {body.get('type')!r}")
    if fields.get("seq"):
        body["seq"] = int(fields["seq"])
    return model.model_validate(body)


def connect(url: str, *, timeout_s: float = 5.0) -> redis.Redis:
    """A client (decoded strings) that fails fast when Redis is down; nothing is sent yet."""
    return redis.Redis.from_url(
        url, decode_responses=True, socket_timeout=timeout_s, socket_connect_timeout=min(timeout_s, 2.0)
    )


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
        claim_idle_ms: int = 10_000,
        check: bool = True,
    ) -> None:
        self.prefix = prefix
        self.stream = f"{prefix}:bus"
        self.seq_key = f"{prefix}:seq"
        self.node = node or socket.gethostname()
        self.group = f"{prefix}-{self.node}"
        self.consumer = f"{self.node}-{uuid.uuid4().hex[:8]}"
        self._maxlen = maxlen
        self._block_ms = block_ms
        self._claim_idle_ms = claim_idle_ms
        self._store = store
        self._queue_size = queue_size
        self._fanout = Fanout()
        self._fences = FenceBook()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._last_seq = store.max_seq() if store is not None else 0
        self._pub = connect(url)
        if check:
            try:
                self._pub.ping()
            except redis.RedisError as exc:
                raise RedisBusError(f"cannot reach Redis at {url}: {exc}") from exc
        self._script = self._pub.register_script(_PUBLISH)
        self._seed = self._pub.register_script(_SEED)
        self._thread: threading.Thread | None = None
        if consume:
            if store is None:
                raise ValueError("a consuming RedisBus needs a store (the source for resume)")
            self._sub = connect(url, timeout_s=block_ms / 1000 + 5)
            self._recover(start_id="$")
            self._thread = threading.Thread(target=self._consume, name="redis-bus", daemon=True)
            self._thread.start()

    @property
    def last_seq(self) -> int:
        with self._lock:
            return self._last_seq

    def publish(self, message: Message) -> Message:
        seq = self.send(message)
        if seq is not None:
            return message.model_copy(update={"seq": seq})
        return message

    def send(self, message: Message, *, fence: int | None = None, delivery: str | None = None) -> int | None:
        """XADD ``message`` stamped with ``fence`` (its camera's token) and this node's name; the
        alert's seq back. With a ``delivery`` id, a second send of the same id adds nothing and
        returns the first seq. Raises ``redis.RedisError`` (``NOSEQ``: no API node seeded yet)."""
        is_alert = isinstance(message, Alert)
        body = message.model_dump_json(exclude={"seq"} if is_alert else None)
        seq = self._script(
            keys=[self.stream, self.seq_key, f"{self.prefix}:sent:{delivery or ''}"],
            args=[
                body,
                "1" if is_alert else "0",
                self._maxlen,
                "" if fence is None else fence,
                self.node,
                DELIVERY_TTL_SECONDS,
                "1" if delivery else "0",
            ],
        )
        return int(seq) if is_alert and seq else None

    def subscribe(self, after_seq: int | None = None, *, queue_size: int | None = None) -> Subscription:
        assert self._store is not None, "subscribe needs a consuming RedisBus"
        sub = Subscription(
            after_seq, self._store.messages_after, self._fanout.remove, queue_size or self._queue_size
        )
        self._fanout.add(sub)
        return sub

    def readiness(self) -> dict[str, object]:
        """For ``/readyz``: whether Redis answers, and which worker holds each camera's lease."""
        try:
            self._pub.ping()
            holders = lease_holders(self._pub, self.prefix)
        except redis.RedisError as exc:
            return {"redis": False, "redis_error": str(exc)}
        return {"redis": True, "leases": holders}

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self._block_ms / 1000 + 5)
            self._sub.close()
        self._pub.close()

    # -- consuming ----------------------------------------------------------------------------
    def _recover(self, start_id: str) -> None:
        """Make sure our consumer group exists and the alert seq is at least what is stored.

        At start the group begins at the stream's end (``$``: what came before is in the store).
        After a read failure it begins at ``0``: if Redis came back empty, everything in the new
        stream is new to us."""
        try:
            self._sub.xgroup_create(self.stream, self.group, id=start_id, mkstream=True)
            logger.info("redis bus: created consumer group %s on %s", self.group, self.stream)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        assert self._store is not None
        self._seed(keys=[self.seq_key], args=[self._store.max_seq()])

    def _consume(self) -> None:
        healthy = True
        next_claim = 0.0
        while not self._stop.is_set():
            try:
                if not healthy:
                    self._recover(start_id="0")
                    healthy = True
                    logger.info("redis bus: reading %s again", self.stream)
                if time.monotonic() >= next_claim:
                    self._reclaim()
                    next_claim = time.monotonic() + self._claim_idle_ms / 2000
                self._read()
            except redis.RedisError as exc:
                if healthy:
                    logger.warning("redis bus: %s; retrying every second", exc)
                healthy = False
                self._stop.wait(1.0)

    def _read(self) -> None:
        batches: Any = self._sub.xreadgroup(
            self.group, self.consumer, {self.stream: ">"}, count=200, block=self._block_ms
        )
        for _stream, items in batches or []:
            self._handle(items)

    def _reclaim(self) -> None:
        """Take over entries a dead consumer of our group read but never acknowledged."""
        cursor = "0-0"
        while True:
            reply: Any = self._sub.xautoclaim(
                self.stream, self.group, self.consumer, self._claim_idle_ms, start_id=cursor, count=200
            )
            cursor, entries = reply[0], reply[1]
            metrics.BUS_RECLAIMED.inc(len(entries))
            self._handle(entries)
            if cursor == "0-0" or not entries:
                break
        self._forget_idle_consumers()

    def _forget_idle_consumers(self) -> None:
        consumers: Any = self._sub.xinfo_consumers(self.stream, self.group)
        for info in consumers:
            idle = info.get("idle", 0)
            if info["name"] != self.consumer and info.get("pending", 0) == 0 and idle > self._claim_idle_ms:
                self._sub.xgroup_delconsumer(self.stream, self.group, info["name"])

    def _handle(self, entries: list[tuple[str, dict[str, str] | None]]) -> None:
        """One read: decode and admit each entry, store the alerts of the whole burst in one
        transaction, offer what was stored in stream order, then acknowledge with one ``XACK``
        every entry done with. Entries the store refused stay pending (reclaimed after
        ``claim_idle_ms``)."""
        done: list[str] = []
        ready: list[tuple[str, Message]] = []
        for entry_id, fields in entries:
            message = self._admit_entry(entry_id, fields)
            if message is None:
                done.append(entry_id)
            else:
                ready.append((entry_id, message))
        stored = self._store_all([message for _, message in ready])
        for (entry_id, _), message in zip(ready, stored, strict=True):
            if message is not None:
                self._offer(message)
                done.append(entry_id)
        if done:
            self._sub.xack(self.stream, self.group, *done)

    def _admit_entry(self, entry_id: str, fields: dict[str, str] | None) -> Message | None:
        """The entry's message, or None when there is nothing to deliver (trimmed, unreadable,
        fenced off): acknowledged as it is."""
        if not fields:  # None: a pending entry trimmed from the stream
            return None
        try:
            message = decode_entry(fields)
        except ValueError as exc:
            logger.error("redis bus: dropping unreadable entry %s: %s", entry_id, exc)
            return None
        return message if self._admitted(message, fields) else None

    def _admitted(self, message: Message, fields: dict[str, str]) -> bool:
        fence = fields.get("fence")
        if not fence or isinstance(message, KpiSnapshot):
            return True
        if self._fences.admit(message.camera_id, int(fence)):
            return True
        metrics.FENCED.labels(message.camera_id).inc()
        logger.warning(
            "camera %s: dropped a %s from %s: fencing token %s is stale (the camera moved to another worker)",
            message.camera_id,
            message.type,
            fields.get("node", "?"),
            fence,
        )
        return False

    def _store_all(self, messages: list[Message]) -> list[Message | None]:
        """Each message as stored (alerts merged with their row); None where the store failed.
        The burst is tried in one transaction first, then, if that fails, one by one, so that
        one message the store refuses does not hold back the others."""
        if not messages:
            return []
        try:
            return self._store_burst(messages)
        except Exception as exc:
            if len(messages) > 1:
                logger.warning("redis bus: storing %d messages at once failed (%s)", len(messages), exc)
                return [self._store_one(m) for m in messages]
            logger.warning("redis bus: storing a %s failed (%s); retrying later", messages[0].type, exc)
            return [None]

    def _store_burst(self, messages: list[Message]) -> list[Message | None]:
        assert self._store is not None
        alerts = [m for m in messages if isinstance(m, Alert)]
        merged = iter(self._store.save_alerts(alerts) if alerts else [])
        out: list[Message | None] = []
        for message in messages:
            if isinstance(message, FlowCount):
                self._store.save_flow(message)
            out.append(next(merged) if isinstance(message, Alert) else message)
        return out

    def _store_one(self, message: Message) -> Message | None:
        assert self._store is not None
        try:
            if isinstance(message, Alert):
                return self._store.save_alert(message)
            if isinstance(message, FlowCount):
                self._store.save_flow(message)
        except Exception as exc:
            logger.warning("redis bus: storing a %s failed (%s); retrying later", message.type, exc)
            return None
        return message

    def _offer(self, message: Message) -> None:
        if isinstance(message, Alert) and message.seq is not None:
            with self._lock:
                self._last_seq = max(self._last_seq, message.seq)
        self._fanout.offer(message)
