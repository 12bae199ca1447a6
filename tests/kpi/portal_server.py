"""A real local HTTP server playing a public-service portal for the pull-connector tests.

Each GET takes the next scripted answer: ``("ok", records)`` (filtered by ``updated_since`` like a
real portal, oldest first), ``("500", None)``, ``("malformed", None)`` or ``("slow", seconds)``.
With the script empty it answers ``ok`` with every record. Every request's query and headers are
kept for the assertions.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse


@dataclass
class Portal:
    records: list[dict[str, Any]] = field(default_factory=list)
    script: list[tuple[str, Any]] = field(default_factory=list)
    requests: list[tuple[dict[str, str], dict[str, str]]] = field(default_factory=list)
    url: str = ""

    def answer(self, query: dict[str, str]) -> tuple[int, bytes, float]:
        kind, arg = self.script.pop(0) if self.script else ("ok", None)
        if kind == "500":
            return 500, b"internal error", 0.0
        if kind == "malformed":
            return 200, b'[{"id": "HS-1", ', 0.0
        if kind == "slow":
            return 200, b"[]", float(arg)
        since = query.get("updated_since")
        rows = sorted(self.records, key=_updated)
        if since:
            rows = [r for r in rows if _updated(r) >= since]
        return 200, json.dumps({"items": rows}).encode(), 0.0


def _updated(record: dict[str, Any]) -> str:
    """Our records' ``updated_at``, or an Open311 request's ``updated_datetime``."""
    return str(record.get("updated_at") or record.get("updated_datetime") or record["requested_datetime"])


@contextmanager
def portal_server(portal: Portal) -> Iterator[Portal]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            query = {k: v[0] for k, v in parse_qs(urlparse(self.path).query).items()}
            portal.requests.append((query, dict(self.headers)))
            status, body, delay = portal.answer(query)
            time.sleep(delay)
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout test)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    portal.url = f"http://127.0.0.1:{server.server_address[1]}/dossiers"
    try:
        yield portal
    finally:
        server.shutdown()
        server.server_close()
