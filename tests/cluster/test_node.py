"""Worker nodes in one process on a private Redis, ticked by hand: pins, fair share when a worker
joins, takeover when one stops renewing, and a lost lease stopping the camera. The camera runner
is the node's own seam (``runner_factory``); these tests record starts and stops through it."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from ioc.bus.base import Message
from ioc.bus.redis_bus import RedisBus, connect
from ioc.cluster.leases import CameraLeases
from ioc.cluster.node import CameraRunner, WorkerNode
from ioc.cluster.spool import DiskSpool, Envelope, Outbox
from ioc.config.models import IocConfig
from ioc.settings import load_settings
from ioc.types import LiveTile
from tests.cluster.conftest import RedisServer


class Runs:
    """Which cameras run where, as the nodes start and stop them."""

    def __init__(self) -> None:
        self.running: dict[str, set[str]] = {}

    def factory(self, node: str) -> Callable[[IocConfig, Callable[[Message], object]], CameraRunner]:
        runs = self

        class Runner:
            def __init__(self, config: IocConfig, _publish: Callable[[Message], object]) -> None:
                self.camera = config.cameras[0].id

            def start(self) -> None:
                runs.running.setdefault(node, set()).add(self.camera)

            def stop(self) -> None:
                runs.running[node].discard(self.camera)

            def live_tile(self, camera_id: str, after_index: int | None = None) -> LiveTile | None:
                return None

        return Runner


def _config(pins: dict[str, str]) -> IocConfig:
    cameras = [
        {"id": c, "source": f"rtsp://cam/{c}", "worker": pins.get(c)} for c in ("c1", "c2", "c3", "c4")
    ]
    return IocConfig.model_validate({"cameras": cameras})


def _node(server: RedisServer, name: str, config: IocConfig, runs: Runs, tmp: Path) -> WorkerNode:
    settings = load_settings(data_dir=tmp, lease_seconds=1.0)

    def outbox(send: Callable[[Envelope], None]) -> Outbox:
        return Outbox(send, DiskSpool(tmp / f"{name}.jsonl", 100))

    return WorkerNode(
        config,
        settings,
        bus=RedisBus(server.url, None, node=name, consume=False, check=False),
        leases=CameraLeases(connect(server.url), name, 1.0),
        outbox_factory=outbox,
        runner_factory=runs.factory(name),
    )


def test_pins_fair_share_and_takeover(redis_server: RedisServer, tmp_path: Path) -> None:
    runs = Runs()
    config = _config({"c4": "node-b"})
    a = _node(redis_server, "node-a", config, runs, tmp_path)
    a.tick()
    assert runs.running["node-a"] == {"c1", "c2", "c3"}  # alone: every unpinned camera, never c4
    b = _node(redis_server, "node-b", config, runs, tmp_path)
    b.tick()  # b registers; a still holds the three
    assert runs.running["node-b"] == {"c4"}
    a.tick()  # two workers now: a keeps ceil(3/2) = 2 and releases c3
    assert runs.running["node-a"] == {"c1", "c2"}
    b.tick()
    assert runs.running["node-b"] == {"c3", "c4"}
    assert a.status()["cameras"].keys() == {"c1", "c2"}  # type: ignore[attr-defined]
    held = {h.camera_id: h.token for h in a.held_cameras()}  # what the live-picture publisher sees
    assert held == a.status()["cameras"]


def test_a_node_that_stops_renewing_loses_its_cameras(redis_server: RedisServer, tmp_path: Path) -> None:
    runs = Runs()
    config = _config({})
    a = _node(redis_server, "node-a", config, runs, tmp_path)
    b = _node(redis_server, "node-b", config, runs, tmp_path)
    a.tick()
    b.tick()
    a.tick()
    b.tick()
    assert runs.running["node-a"] == {"c1", "c2"} and runs.running["node-b"] == {"c3", "c4"}
    time.sleep(1.2)  # node-a is frozen past its lease (and heartbeat)
    b.tick()
    assert runs.running["node-b"] == {"c1", "c2", "c3", "c4"}
    a.tick()  # a wakes up: renewals find b holding its cameras → it stops them
    assert runs.running["node-a"] == set()


def test_a_node_started_while_redis_is_down_waits_and_then_takes_its_cameras(
    redis_server: RedisServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    runs = Runs()
    redis_server.stop()
    a = _node(redis_server, "node-a", _config({}), runs, tmp_path)
    a.tick()
    assert a.status()["redis"] is False
    assert "Redis unreachable" in caplog.text
    redis_server.start()
    a.tick()  # back, but for one lease it takes nothing (others re-take their own first)
    assert a.status()["redis"] is True and runs.running.get("node-a", set()) == set()
    time.sleep(1.1)
    a.tick()
    assert runs.running["node-a"] == {"c1", "c2", "c3", "c4"}


def test_shutdown_while_redis_is_down_still_stops_every_camera(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    runs = Runs()
    a = _node(redis_server, "node-a", _config({}), runs, tmp_path)
    a.outbox.start()
    a.tick()
    assert runs.running["node-a"] == {"c1", "c2", "c3", "c4"}
    redis_server.stop()
    started = time.monotonic()
    a.shutdown()
    assert runs.running["node-a"] == set()
    assert time.monotonic() - started < 10
