"""Sessions shared by two real API nodes (``ioc serve --no-engine``) on one PostgreSQL: a token
from node A works on node B, a logout on B ends it on A and closes A's open ``/ws`` with 4401, and
the ``ioc token`` / ``ioc users passwd`` commands act on both nodes.

Node B gets a data dir of its own holding only a copy of the signing secret, so nothing here can
work through a shared ``sessions`` file: the sessions are in the database.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.cluster.conftest import RedisServer
from tests.cluster.processes import REPO, Cluster, Node, admin_token

pytestmark = pytest.mark.slow


@pytest.fixture
def cluster(tmp_path: Path, redis_server: RedisServer, pg_url: str) -> Iterator[Cluster]:
    running = Cluster(tmp_path, redis_server.url, pg_url, tmp_path / "no-cameras.yaml", lease_seconds=4.0)
    try:
        yield running
    finally:
        running.stop()


def _me(node: Node, token: str) -> int:
    reply = httpx.get(
        f"http://127.0.0.1:{node.port}/api/me", headers={"Authorization": f"Bearer {token}"}, timeout=5
    )
    return reply.status_code


def _cli(cluster: Cluster, data_dir: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "ioc.cli", *args],
        env={**cluster.env, "IOC_DATA_DIR": str(data_dir)},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _close_code(ws_url: str, token: str, end_session: Callable[[], None]) -> int:
    """Open ``/ws``, call ``end_session`` (which ends the session elsewhere), return the close code."""
    with connect(f"{ws_url}?token={token}", open_timeout=10) as ws:
        assert '"welcome"' in str(ws.recv(timeout=10))
        end_session()
        try:
            while True:
                ws.recv(timeout=15)  # heartbeats may come first; the close ends the loop
        except ConnectionClosed as closed:
            assert closed.rcvd is not None, "closed without a close frame"
            return closed.rcvd.code
        except TimeoutError:
            pytest.fail("the websocket of the ended session stayed open")


def test_a_session_is_shared_and_revoked_across_api_nodes(cluster: Cluster, tmp_path: Path) -> None:
    node_a = cluster.api("api-a")
    token = admin_token(node_a)  # login on A
    data_b = tmp_path / "data-b"
    data_b.mkdir()
    shutil.copy(tmp_path / "data" / "jwt-secret", data_b / "jwt-secret")
    node_b = cluster.api("api-b", IOC_DATA_DIR=str(data_b))
    assert _me(node_b, token) == 200  # used on B

    def logout_on_b() -> None:
        reply = httpx.post(
            f"http://127.0.0.1:{node_b.port}/api/auth/logout",
            headers={"Authorization": f"Bearer {token}"},
            timeout=5,
        )
        assert reply.status_code == 204

    assert _close_code(f"ws://127.0.0.1:{node_a.port}/ws", token, logout_on_b) == 4401
    assert _me(node_a, token) == 401
    assert _me(node_b, token) == 401

    # the CLI, with a third data dir of its own: its token works on both nodes, and its
    # password change ends that token (and the /ws open on B with it)
    data_cli = tmp_path / "data-cli"
    data_cli.mkdir()
    shutil.copy(tmp_path / "data" / "jwt-secret", data_cli / "jwt-secret")
    script = _cli(cluster, data_cli, "token", "admin", "--minutes", "30").strip()
    assert (_me(node_a, script), _me(node_b, script)) == (200, 200)

    def passwd() -> None:
        out = _cli(cluster, data_cli, "users", "passwd", "admin", "--password", "new-admin-pass")
        assert "ended 1 session of admin" in out

    assert _close_code(f"ws://127.0.0.1:{node_b.port}/ws", script, passwd) == 4401
    assert (_me(node_a, script), _me(node_b, script)) == (401, 401)
