"""``/ws``: the bus forwarded to a dashboard, filtered by role and subscription, with resume.

Protocol (schema_version 1), all JSON text frames:

- server → ``{"type":"welcome","schema_version":1,"username","role","last_seq"}``; ``last_seq`` is
  the client's resume point when it sent one, otherwise the newest seq on the server;
- then every alert with ``seq > last_seq`` in order (replayed from the store), then live ``alert``,
  ``camera_status`` and ``kpi`` messages, each the wire model from ``ioc.messages``;
- ``{"type":"heartbeat","at","last_seq"}`` every ``heartbeat_seconds``; ``last_seq`` is the newest
  seq this connection has passed (sent or filtered out): a safe resume point;
- client → ``{"type":"subscribe","categories":[…],"cameras":[…]}`` replaces the filters
  (``null`` or absent = everything the role allows);
- close codes: 4401 not authenticated, or the session ended while connected (logout, password or
  role change, user removed, expired or idle: closed within a second of the revocation);
  4403 the page's ``Origin`` is not allowed (the server's own origin and ``IOC_ALLOWED_ORIGINS``
  are; a client sending no ``Origin`` must carry a token); 4400 bad request (bad query
  parameters, a binary frame, a frame that is not JSON, JSON nested deeper than
  ``MAX_JSON_DEPTH`` or longer than ``MAX_FRAME_CHARS``, not a ``subscribe``); 4008 too slow
  (the bounded per-client queue overflowed; counted in ``ioc_ws_clients_cut_total``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool

from ioc.api.auth import COOKIE_NAME, AuthError, Principal, may_receive, principal_from_token
from ioc.api.context import AppContext
from ioc.bus.base import Message
from ioc.bus.subscription import SlowConsumerError, Subscription
from ioc.messages import SCHEMA_VERSION, Alert, CameraStatus, Category, FlowCount
from ioc.metrics import WS_CLIENTS, WS_DROPPED

logger = logging.getLogger(__name__)

router = APIRouter()

CLOSE_UNAUTHENTICATED = 4401
CLOSE_BAD_REQUEST = 4400
CLOSE_TOO_SLOW = 4008
CLOSE_FORBIDDEN_ORIGIN = 4403
MAX_JSON_DEPTH = 8
MAX_FRAME_CHARS = 16_384
MAX_FILTER_ITEMS = 1000


class BadRequestError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Filters:
    """What one client asked for; None means everything its role allows."""

    categories: frozenset[Category] | None = None
    cameras: frozenset[str] | None = None

    @classmethod
    def parse(cls, categories: object, cameras: object) -> Filters:
        return cls(_category_set(_items(categories, "categories")), _str_set(_items(cameras, "cameras")))

    def allows(self, message: Message, camera_category: Category | None) -> bool:
        camera_id = getattr(message, "camera_id", None)
        if self.cameras is not None and camera_id is not None and camera_id not in self.cameras:
            return False
        if self.categories is None:
            return True
        if isinstance(message, Alert | FlowCount):
            return message.category in self.categories
        if isinstance(message, CameraStatus):
            return camera_category in self.categories
        return True


def _items(value: object, name: str) -> list[str] | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        items = [v.strip() for v in value.split(",") if v.strip()]
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        items = [str(v) for v in value]
    else:
        raise BadRequestError(f"{name}: expected a comma-separated string or a list of strings")
    if len(items) > MAX_FILTER_ITEMS:
        raise BadRequestError(f"{name}: at most {MAX_FILTER_ITEMS} items, got {len(items)}")
    return items


def _category_set(values: list[str] | None) -> frozenset[Category] | None:
    if values is None:
        return None
    try:
        return frozenset(Category(v) for v in values)
    except ValueError as exc:
        raise BadRequestError(f"categories: {exc}; expected {[c.value for c in Category]}") from exc


def _str_set(values: list[str] | None) -> frozenset[str] | None:
    return frozenset(values) if values is not None else None


def _last_seq(raw: str | None) -> int | None:
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError as exc:
        raise BadRequestError(f"last_seq: expected an integer, got {raw!r}") from exc
    if value < 0:
        raise BadRequestError(f"last_seq: expected ≥ 0, got {value}")
    return value


class Connection:
    """One client: a subscription pumped into the socket, heartbeats, filter updates."""

    def __init__(
        self, ws: WebSocket, ctx: AppContext, user: Principal, filters: Filters, token: str = ""
    ) -> None:
        self.ws = ws
        self.ctx = ctx
        self.user = user
        self.token = token
        self.filters = filters
        self.last_seq = 0
        self._send_lock = asyncio.Lock()

    async def send(self, payload: str) -> None:
        async with self._send_lock:
            await self.ws.send_text(payload)

    async def pump(self, sub: Subscription) -> None:
        """Forward what the bus has, a batch at a time: each message encoded once for every
        connection (``ctx.wire``), the batch written under one hold of the send lock."""
        while True:
            texts = [self.ctx.wire.text(m) for m in await sub.next_batch() if self._passes(m)]
            if texts:
                async with self._send_lock:
                    for text in texts:
                        await self.ws.send_text(text)

    def _passes(self, message: Message) -> bool:
        """Whether this client gets ``message``; notes an alert's seq as passed either way."""
        if isinstance(message, Alert) and message.seq is not None:
            self.last_seq = max(self.last_seq, message.seq)
        camera_category = (
            self.ctx.live.camera_category(message.camera_id) if isinstance(message, CameraStatus) else None
        )
        return may_receive(self.user, message, camera_category) and self.filters.allows(
            message, camera_category
        )

    async def heartbeat(self) -> None:
        interval = self.ctx.options.heartbeat_seconds
        while True:
            await asyncio.sleep(interval)
            beat = {"type": "heartbeat", "at": datetime.now(UTC).isoformat(), "last_seq": self.last_seq}
            await self.send(json.dumps(beat))

    async def receive(self) -> None:
        while True:
            message = await self.ws.receive()
            if message["type"] == "websocket.disconnect":
                raise WebSocketDisconnect(message.get("code", 1000))
            if message.get("text") is None:
                raise BadRequestError("binary frames are not accepted: send JSON text")
            self.filters = parse_subscribe(str(message["text"]))

    async def guard(self) -> None:
        """Return (raising AuthError) once the session can no longer be used: woken by every
        revocation, and re-checked every ``session_recheck_seconds`` (expiry, idle; marks the
        session in use while the socket is open)."""
        watch = self.ctx.revocations
        seen = watch.seen
        while True:
            with contextlib.suppress(TimeoutError):
                seen = await asyncio.wait_for(watch.wait_past(seen), self.ctx.options.session_recheck_seconds)
            await run_in_threadpool(_principal, self.ctx, self.token)


def _raw_depth(text: str) -> int:
    """Deepest bracket nesting of ``text`` outside strings (checked before parsing)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
            continue
        if char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def parse_subscribe(text: str) -> Filters:
    """A client frame → its filters; ``BadRequestError`` naming what is wrong."""
    if len(text) > MAX_FRAME_CHARS:
        raise BadRequestError(f"frame too long: at most {MAX_FRAME_CHARS} characters")
    if _raw_depth(text) > MAX_JSON_DEPTH:
        raise BadRequestError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        request = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise BadRequestError(f"not JSON: {exc}") from exc
    if not isinstance(request, dict) or request.get("type") != "subscribe":
        raise BadRequestError('expected {"type": "subscribe", "categories": [...], "cameras": [...]}')
    return Filters.parse(request.get("categories"), request.get("cameras"))


def _principal(ctx: AppContext, token: str) -> Principal:
    return principal_from_token(ctx.store, ctx.sessions, ctx.secret, token, ctx.idle_seconds)


def origin_allowed(ws: WebSocket, allowed: list[str]) -> bool:
    """No ``Origin`` (not a browser), the server's own origin (same host and port as the request),
    or one listed in ``IOC_ALLOWED_ORIGINS``."""
    origin = ws.headers.get("origin")
    if origin is None:
        return True
    origin = origin.rstrip("/")
    if origin in allowed:
        return True
    host = ws.headers.get("host", "")
    return origin.partition("://")[2] == host and origin.partition("://")[0] in ("http", "https")


async def _authenticate(ws: WebSocket, ctx: AppContext) -> tuple[Principal, str]:
    token = ws.query_params.get("token") or ws.cookies.get(COOKIE_NAME)
    if not token:
        raise AuthError("not authenticated: pass ?token= or log in for the ioc_token cookie")
    return await run_in_threadpool(_principal, ctx, token), token


@router.websocket("/ws")
async def websocket_endpoint(ws: WebSocket) -> None:
    ctx: AppContext = ws.app.state.ctx
    await ws.accept()
    if not origin_allowed(ws, ctx.settings.allowed_origins):
        await ws.close(CLOSE_FORBIDDEN_ORIGIN, "origin not allowed")
        return
    try:
        user, token = await _authenticate(ws, ctx)
        filters = Filters.parse(ws.query_params.get("categories"), ws.query_params.get("cameras"))
        after = _last_seq(ws.query_params.get("last_seq"))
    except AuthError as exc:
        await ws.close(CLOSE_UNAUTHENTICATED, str(exc))
        return
    except BadRequestError as exc:
        await ws.close(CLOSE_BAD_REQUEST, str(exc)[:120])
        return
    WS_CLIENTS.inc()
    try:
        await _serve(ws, ctx, Connection(ws, ctx, user, filters, token), after)
    finally:
        WS_CLIENTS.dec()


async def _serve(ws: WebSocket, ctx: AppContext, conn: Connection, after: int | None) -> None:
    head = ctx.bus.last_seq
    if after is not None and after > head:
        logger.info(
            "ws client %s resumes from %d, ahead of this server (%d)", conn.user.username, after, head
        )
        after = head  # a reset store: start over from the server's newest seq
    sub = ctx.bus.subscribe(after_seq=after, queue_size=ctx.options.ws_queue_size)
    conn.last_seq = after if after is not None else head
    welcome = {
        "type": "welcome",
        "schema_version": SCHEMA_VERSION,
        "username": conn.user.username,
        "role": conn.user.role.value,
        "last_seq": conn.last_seq,
    }
    tasks: dict[str, asyncio.Task[None]] = {}
    try:
        await conn.send(json.dumps(welcome))
        tasks = {
            "pump": asyncio.create_task(conn.pump(sub)),
            "heartbeat": asyncio.create_task(conn.heartbeat()),
            "receive": asyncio.create_task(conn.receive()),
            "guard": asyncio.create_task(conn.guard()),
            "cut": asyncio.create_task(_wait_set(sub.overflowed)),
        }
        done, _ = await asyncio.wait(tasks.values(), return_when=asyncio.FIRST_COMPLETED)
        sub.close()  # stop buffering for this client before a possibly slow close handshake
        await _finish(ws, ctx, conn, tasks, done)
    except WebSocketDisconnect:
        pass
    finally:
        sub.close()
        for task in tasks.values():
            task.cancel()
        if tasks:
            # asyncio.wait, not gather: a cancellation of this handler must propagate as itself
            await asyncio.wait(tasks.values())
            for task in tasks.values():
                if not task.cancelled():
                    task.exception()  # retrieved: ended tasks are not logged as "never retrieved"


async def _wait_set(event: asyncio.Event) -> None:
    await event.wait()


async def _finish(
    ws: WebSocket,
    ctx: AppContext,
    conn: Connection,
    tasks: dict[str, asyncio.Task[None]],
    done: set[asyncio.Task[None]],
) -> None:
    errors = [t.exception() for t in done if not t.cancelled()]
    too_slow = tasks["cut"] in done or any(isinstance(e, SlowConsumerError) for e in errors)
    bad = next((e for e in errors if isinstance(e, BadRequestError)), None)
    ended = next((e for e in errors if isinstance(e, AuthError)), None)
    if ended is not None:
        logger.info("websocket client %s closed: %s", conn.user.username, ended)
        await _close(ws, ctx, CLOSE_UNAUTHENTICATED, str(ended)[:120])
    elif too_slow:
        WS_DROPPED.inc()
        logger.warning("websocket client %s too slow; cut off at seq %d", conn.user.username, conn.last_seq)
        await _close(ws, ctx, CLOSE_TOO_SLOW, "too slow: reconnect with last_seq to resume")
    elif bad is not None:
        await _close(ws, ctx, CLOSE_BAD_REQUEST, str(bad)[:120])
    else:
        for err in errors:
            if err is not None and not isinstance(err, WebSocketDisconnect):
                logger.error("websocket client %s failed: %r", conn.user.username, err)


async def _close(ws: WebSocket, ctx: AppContext, code: int, reason: str) -> None:
    """Close, but never wait long: a client that stopped reading may never take the close frame."""
    with contextlib.suppress(Exception):
        await asyncio.wait_for(ws.close(code, reason), ctx.options.ws_close_timeout_seconds)
