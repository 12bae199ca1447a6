"""Worker nodes in one process on a private Redis, ticked by hand: pins, fair share when a worker
joins, takeover when one stops renewing, a lost lease stopping the camera, and a config reload.
The node's engine is its own seam (``host_factory``); these tests record which cameras each
node's host is told to run."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from ioc.bus.base import Message
from ioc.bus.redis_bus import RedisBus, connect
from ioc.cluster.leases import CameraLeases
from ioc.cluster.node import CameraHost, WorkerNode
from ioc.cluster.spool import DiskSpool, Envelope, Outbox
from ioc.config.models import IocConfig
from ioc.settings import load_settings
from ioc.types import LiveTile
from tests.cluster.conftest import RedisServer


class Runs:
    """Which cameras run where, as the nodes apply configs to their hosts."""

    def __init__(self) -> None:
        self.running: dict[str, set[str]] = {}
        self.applied: dict[str, list[IocConfig]] = {}

    def factory(self, node: str) -> Callable[[IocConfig, Callable[[Message], object]], CameraHost]:
        runs = self

        class Host:
            def __init__(self, config: IocConfig, _publish: Callable[[Message], object]) -> None:
                self.config = config

            def start(self) -> None:
                runs.running[node] = {c.id for c in self.config.cameras}

            def stop(self) -> None:
                runs.running[node] = set()

            def apply(self, config: IocConfig, who: str) -> object:
                self.config = config
                runs.applied.setdefault(node, []).append(config)
                runs.running[node] = {c.id for c in config.cameras if c.enabled}
                return None

            def live_tile(self, camera_id: str, after_index: int | None = None) -> LiveTile | None:
                return None

            def detector_loops(self) -> Mapping[str, tuple[str, ...]]:
                return {}

        return Host


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
        host_factory=runs.factory(name),
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


def test_every_held_camera_runs_in_one_host(redis_server: RedisServer, tmp_path: Path) -> None:
    runs = Runs()
    hosts: list[object] = []
    factory = runs.factory("node-a")

    def counted(config: IocConfig, publish: Callable[[Message], object]) -> CameraHost:
        hosts.append(host := factory(config, publish))
        return host

    settings = load_settings(data_dir=tmp_path, lease_seconds=1.0)
    node = WorkerNode(
        _config({}),
        settings,
        bus=RedisBus(redis_server.url, None, node="node-a", consume=False, check=False),
        leases=CameraLeases(connect(redis_server.url), "node-a", 1.0),
        outbox_factory=lambda send: Outbox(send, DiskSpool(tmp_path / "a.jsonl", 100)),
        host_factory=counted,
    )
    node.tick()
    assert len(hosts) == 1 and runs.running["node-a"] == {"c1", "c2", "c3", "c4"}
    last = runs.applied["node-a"][-1]
    assert [c.id for c in last.cameras] == ["c1", "c2", "c3", "c4"]  # the file's order


def test_a_reload_stops_and_releases_removed_cameras_and_adds_new_ones(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    runs = Runs()
    a = _node(redis_server, "node-a", _config({}), runs, tmp_path)
    a.tick()
    assert runs.running["node-a"] == {"c1", "c2", "c3", "c4"}
    cameras = [
        {"id": "c1", "source": "rtsp://cam/c1-new"},
        {"id": "c2", "source": "rtsp://cam/c2"},
        {"id": "c3", "source": "rtsp://cam/c3", "enabled": False},
        {"id": "c5", "source": "rtsp://cam/c5"},
    ]
    lines = a.reconfigure(IocConfig.model_validate({"cameras": cameras}), "file")
    assert lines  # what changed in the file, for the log
    assert runs.running["node-a"] == {"c1", "c2"}  # c3 disabled, c4 removed: stopped at once
    holders = CameraLeases(connect(redis_server.url), "observer", 1.0).holders()
    assert holders == {"c1": "node-a", "c2": "node-a"}  # and their leases released
    c1 = next(c for c in runs.applied["node-a"][-1].cameras if c.id == "c1")
    assert c1.source == "rtsp://cam/c1-new"  # a changed camera is applied in place
    a.tick()  # the added camera is a lease candidate now
    assert runs.running["node-a"] == {"c1", "c2", "c5"}
    assert set(a.status()["cameras"]) == {"c1", "c2", "c5"}  # type: ignore[call-overload]


def test_a_reload_the_host_cannot_run_changes_nothing(redis_server: RedisServer, tmp_path: Path) -> None:
    runs = Runs()
    a = _node(redis_server, "node-a", _config({}), runs, tmp_path)
    a.tick()
    before = a.config

    def refuse(config: IocConfig, who: str) -> object:
        raise RuntimeError("model cannot be loaded")

    a.host.apply = refuse  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        a.reconfigure(IocConfig.model_validate({"cameras": [{"id": "c1", "source": "rtsp://x"}]}), "file")
    assert a.config is before and set(a.status()["cameras"]) == {"c1", "c2", "c3", "c4"}  # type: ignore[call-overload]
