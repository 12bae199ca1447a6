"""Cluster processes for the fault tests: one API node (the real ``ioc serve --no-engine``), worker
nodes (``worker_proc``: ``run_worker`` with the blob detector), and a ``/ws`` client in a thread."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from websockets.sync.client import connect

from tests.cluster.conftest import free_port

REPO = Path(__file__).resolve().parents[2]
CAMERAS = ("east", "west")


def write_config(path: Path, clip: Path) -> Path:
    """Two cameras on a looping clip; a box crosses the middle line about every 1.8 s."""
    camera = (
        "    source: {clip}\n    detect: {{fps: 5, classes: [person]}}\n    alerts: {{cooldown_seconds: 0}}\n"
        "    lines: [{{id: mid, points: [[0.5, 0.0], [0.5, 1.0]]}}]\n"
        "    rules: [{{id: cross, type: line_crossing, line: mid}}]\n"
    )
    body = "cameras:\n" + "".join(f"  - id: {c}\n" + camera.format(clip=clip) for c in CAMERAS)
    path.write_text(body, encoding="utf-8")
    return path


def eventually(condition: Callable[[], Any], seconds: float, what: str) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"not within {seconds:g} s: {what}")


class Node:
    """One process with its log file; ``kill()`` is kill -9."""

    def __init__(
        self, name: str, args: list[str], env: dict[str, str], log: Path, port: int, cwd: Path = REPO
    ) -> None:
        self.name, self.port, self.log = name, port, log
        self._out = log.open("w")
        self.process = subprocess.Popen(args, env=env, cwd=cwd, stdout=self._out, stderr=subprocess.STDOUT)

    def get(self, path: str) -> httpx.Response:
        return httpx.get(f"http://127.0.0.1:{self.port}{path}", timeout=5)

    def health(self) -> dict[str, Any]:
        try:
            body: dict[str, Any] = self.get("/healthz").json()
        except httpx.HTTPError:
            return {}
        return body

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        self._out.close()


class Cluster:
    """Processes sharing one Redis, one PostgreSQL schema and one data dir (shared snapshots)."""

    def __init__(self, tmp: Path, redis_url: str, pg_url: str, config: Path, lease_seconds: float) -> None:
        self.tmp = tmp
        self.env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "IOC_REDIS_URL": redis_url,
            "IOC_DATABASE_URL": pg_url,
            "IOC_DATA_DIR": str(tmp / "data"),
            "IOC_CONFIG_PATH": str(config),
            "IOC_LEASE_SECONDS": str(lease_seconds),
        }
        self.nodes: list[Node] = []

    def api(self, name: str = "api1", **env_overrides: str) -> Node:
        port = free_port()
        env = {**self.env, "IOC_NODE_NAME": name, "IOC_PORT": str(port), **env_overrides}
        node = Node(
            name,
            [sys.executable, "-m", "ioc.cli", "serve", "--no-engine"],
            env,
            self.tmp / f"{name}.log",
            port,
        )
        self.nodes.append(node)
        eventually(
            lambda: node.get("/readyz").status_code == 200 if node.health() else False, 60, f"{name} ready"
        )
        return node

    def worker(self, name: str) -> Node:
        port = free_port()
        env = {**self.env, "IOC_NODE_NAME": name, "IOC_WORKER_PORT": str(port)}
        args = [sys.executable, "-m", "tests.cluster.worker_proc"]
        node = Node(name, args, env, self.tmp / f"{name}.log", port)
        self.nodes.append(node)
        eventually(node.health, 60, f"worker {name} health")
        return node

    def stop(self) -> None:
        for node in reversed(self.nodes):
            node.stop()

    def logs(self) -> str:
        return "\n".join(f"--- {n.name}\n" + n.log.read_text()[-3000:] for n in self.nodes)


def admin_token(api: Node) -> str:
    found = eventually(lambda: re.search(r"admin password: (\S+)", api.log.read_text()), 10, "admin password")
    reply = httpx.post(
        f"http://127.0.0.1:{api.port}/api/auth/login",
        json={"username": "admin", "password": found.group(1)},
        timeout=5,
    )
    reply.raise_for_status()
    return str(reply.json()["access_token"])


class WsClient:
    """A wall: one ``/ws`` connection in a thread, every alert message kept in arrival order."""

    def __init__(self, api: Node, token: str) -> None:
        self.alerts: list[dict[str, Any]] = []
        self.seen: list[str] = []  # every message's type (and seq), for failure reports
        self._lock = threading.Lock()
        # last_seq=0: everything stored is replayed first (the API node may publish alerts of its
        # own, e.g. overdue KPIs, before this client connects)
        self._ws = connect(f"ws://127.0.0.1:{api.port}/ws?token={token}&last_seq=0", open_timeout=10)
        welcome = json.loads(self._ws.recv(timeout=10))
        assert welcome["type"] == "welcome"
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            for raw in self._ws:
                message = json.loads(raw)
                self.seen.append(f"{time.monotonic():.1f} {message.get('type')} {message.get('seq', '')}")
                if message.get("type") == "alert":
                    with self._lock:
                        self.alerts.append(message)
        except Exception as exc:  # closed
            self.seen.append(f"{time.monotonic():.1f} closed: {exc!r}")
            return

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.alerts)

    def close(self) -> None:
        self._ws.close()
        self._thread.join(timeout=5)
