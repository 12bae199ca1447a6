"""A client that stops reading is cut off (close 4008, counted) while a fast one keeps receiving,
over a real uvicorn server and real TCP sockets."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from prometheus_client import REGISTRY
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from ioc.api.context import ApiOptions
from tests.api.conftest import Api, build_api
from tests.factories import make_kpi

pytestmark = pytest.mark.slow

MESSAGES = 300


def _cut_total() -> float:
    return REGISTRY.get_sample_value("ioc_ws_clients_cut_total") or 0.0


@contextlib.contextmanager
def running(api: Api) -> Iterator[int]:
    """The app under a real uvicorn server in a thread; yields the port."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(
        uvicorn.Config(api.app, ws="websockets-sansio", log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def _client(port: int, token: str, *, slow: bool) -> ClientConnection:
    """No compression, so bytes on the wire are what the server queued. The slow client has a
    tiny receive buffer and stops reading after one queued frame."""
    s = socket.socket()
    if slow:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    return connect(
        f"ws://127.0.0.1:{port}/ws?token={token}",
        sock=s,
        max_queue=1 if slow else 16,
        max_size=None,
        compression=None,
    )


class Reader(threading.Thread):
    def __init__(self, ws: ClientConnection) -> None:
        super().__init__(daemon=True)
        self.ws = ws
        self.got: list[str] = []
        self.stop = threading.Event()

    def run(self) -> None:
        with contextlib.suppress(ConnectionClosed):
            while not self.stop.is_set():
                with contextlib.suppress(TimeoutError):
                    self.got.append(str(self.ws.recv(timeout=0.2)))


def _drain(ws: ClientConnection) -> int:
    n = 0
    with contextlib.suppress(ConnectionClosed):
        while True:
            ws.recv(timeout=20)
            n += 1
    return n


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    yield from build_api(
        tmp_path, ApiOptions(heartbeat_seconds=30, ws_queue_size=8, ws_close_timeout_seconds=10)
    )


def test_slow_client_is_cut_off_and_fast_client_keeps_receiving(api: Api) -> None:
    cut_before = _cut_total()
    with running(api) as port:
        token = api.tokens["operator"]
        with _client(port, token, slow=True) as slow, _client(port, token, slow=False) as fast:
            assert '"welcome"' in str(slow.recv(timeout=5))
            assert '"welcome"' in str(fast.recv(timeout=5))
            reader = Reader(fast)
            reader.start()
            deadline = time.monotonic() + 30
            for i in range(MESSAGES):
                # paced by the fast client (never more than 4 behind), so only the slow one lags
                while len(reader.got) < i - 4 and time.monotonic() < deadline:
                    time.sleep(0.001)
                api.bus.publish(make_kpi(values=200, label_chars=150))  # ~70 kB each
            while _cut_total() == cut_before and time.monotonic() < deadline:
                time.sleep(0.05)
            assert _cut_total() == cut_before + 1
            slow_count = _drain(slow)  # what was in flight, then the close frame
            assert slow.close_code == 4008
            assert slow_count < MESSAGES
            while len(reader.got) < MESSAGES and time.monotonic() < deadline:
                time.sleep(0.05)
            reader.stop.set()
            reader.join(timeout=5)
    assert len(reader.got) == MESSAGES
    assert all('"type":"kpi"' in m for m in reader.got)
