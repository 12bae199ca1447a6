"""ASGI middleware of the HTTP API: security headers and the request body limit.

``SecurityHeaders`` adds to every HTTP response (API, dashboard, docs, errors):

- ``Content-Security-Policy`` :data:`CSP`: scripts, styles, images, fonts and connections from
  this server only (``ws:``/``wss:`` to it included), no inline script or style element, no
  plugins, and ``frame-ancestors 'none'``: the wall cannot be framed by another page;
- ``X-Frame-Options: DENY`` (for older browsers), ``X-Content-Type-Options: nosniff``,
  ``Referrer-Policy: no-referrer``, ``Cross-Origin-Opener-Policy: same-origin``,
  ``Permissions-Policy`` turning off camera, microphone and geolocation;
- ``Strict-Transport-Security`` when the request came over HTTPS (directly or, through a trusted
  proxy, ``X-Forwarded-Proto: https``).

``RejectNul`` answers 400 to an HTTP request whose path or query string holds a NUL byte (``%00``):
no file, user or camera has one, and PostgreSQL refuses it in text.

``BodyLimit`` refuses a request whose body is larger than ``max_bytes`` with 413 before the route
reads it: at once from ``Content-Length``, or as soon as a chunked body passes the limit (raised as
a 413 ``HTTPException`` from ``receive``, so the route's error handler answers it).
"""

from __future__ import annotations

import json

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
)
HSTS = (b"strict-transport-security", b"max-age=31536000")


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = HEADERS + ((HSTS,) if scope.get("scheme") == "https" else ())

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                added = [(n, v) for n, v in extra if n not in present]
                message = {**message, "headers": [*message.get("headers", []), *added]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _too_large_detail(max_bytes: int) -> str:
    return f"request body too large: at most {max_bytes} bytes"


class RejectNul:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (
            "\x00" in scope.get("path", "") or b"%00" in scope.get("query_string", b"")
        ):
            body = json.dumps({"detail": "NUL byte (%00) in the request URL", "errors": []}).encode()
            await _send_json(send, 400, body)
            return
        await self.app(scope, receive, send)


async def _send_json(send: Send, status: int, body: bytes) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._refuse(send)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise HTTPException(413, _too_large_detail(self.max_bytes))
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except HTTPException as exc:
            if started or exc.status_code != 413:
                raise
            await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        body = json.dumps({"detail": _too_large_detail(self.max_bytes), "errors": []}).encode()
        await _send_json(send, 413, body)
