"""``run_worker`` in a thread on a private Redis, with looping file cameras and the blob detector:
one engine serves every leased camera (one detector loop for the three cameras of one model), and
the config file is hot-reloaded: an added camera starts on the running worker, a removed one stops
and its lease is released, an invalid edit (or one naming a model that cannot be loaded) is refused
and the running cameras go on."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from ioc.app.worker import run_worker
from ioc.bus.redis_bus import connect
from ioc.cluster.leases import CameraLeases
from ioc.config.models import DetectConfig
from ioc.settings import Settings, load_settings
from tests.cluster.conftest import RedisServer, free_port
from tests.cluster.processes import eventually
from tests.factories import BlobDetector
from tests.ingest.clips import write_clip

WAIT = 30.0


def _yaml(clip: Path, cameras: list[str]) -> str:
    body = "".join(f"  - id: {c}\n    source: {clip}\n    detect: {{fps: 5}}\n" for c in cameras)
    return "cameras:\n" + body


@dataclass
class Worker:
    settings: Settings
    config: Path
    clip: Path
    redis_url: str

    def health(self) -> dict[str, Any]:
        url = f"http://127.0.0.1:{self.settings.worker_port}/healthz"
        try:
            body: dict[str, Any] = httpx.get(url, timeout=5).json()
        except httpx.HTTPError:
            return {}
        return body

    def cameras(self) -> set[str]:
        return set(self.health().get("cameras", {}))

    def loops(self) -> dict[str, list[str]]:
        loops: dict[str, list[str]] = self.health().get("detector_loops", {})
        return loops

    def write(self, cameras: list[str]) -> None:
        self.config.write_text(_yaml(self.clip, cameras), encoding="utf-8")


def _blob_or_broken(detect: DetectConfig, _settings: Settings) -> BlobDetector:
    if detect.model == "broken":
        raise RuntimeError("model broken cannot be loaded")
    return BlobDetector()


@pytest.fixture
def worker(tmp_path: Path, redis_server: RedisServer) -> Iterator[Worker]:
    clip = write_clip(tmp_path / "sweep.mp4", frames=60)
    config = tmp_path / "cameras.yaml"
    config.write_text(_yaml(clip, ["gate", "dock", "yard"]), encoding="utf-8")
    settings = load_settings(
        config_path=config,
        data_dir=tmp_path / "data",
        redis_url=redis_server.url,
        node_name="node-a",
        worker_port=free_port(),
        lease_seconds=2.0,
        config_poll_seconds=0.2,
        live_frame_seconds=0,
    )
    from ioc.config.loader import load_config

    stop = threading.Event()
    thread = threading.Thread(
        target=run_worker,
        args=(settings, load_config(config)),
        kwargs={"detector_factory": _blob_or_broken, "stop": stop},
        daemon=True,
    )
    thread.start()
    try:
        yield Worker(settings, config, clip, redis_server.url)
    finally:
        stop.set()
        thread.join(timeout=30)
        assert not thread.is_alive(), "the worker did not shut down"


def test_one_detector_loop_serves_every_leased_camera(worker: Worker) -> None:
    eventually(lambda: worker.cameras() == {"gate", "dock", "yard"}, WAIT, "the worker holds the 3 cameras")
    loops = eventually(lambda: worker.loops(), WAIT, "a detector loop runs")
    assert len(loops) == 1
    assert next(iter(loops.values())) == ["gate", "dock", "yard"]


def test_config_edits_reach_the_running_worker(worker: Worker, caplog: pytest.LogCaptureFixture) -> None:
    leases = CameraLeases(connect(worker.redis_url), "observer", 2.0)
    eventually(lambda: worker.cameras() == {"gate", "dock", "yard"}, WAIT, "the worker holds the 3 cameras")

    worker.write(["dock", "yard", "pier"])  # gate removed, pier added
    eventually(lambda: worker.cameras() == {"dock", "yard", "pier"}, WAIT, "pier runs, gate is gone")
    assert "gate" not in leases.holders()  # released, not left to expire
    eventually(
        lambda: list(worker.loops().values()) == [["dock", "yard", "pier"]], WAIT, "one loop for the new set"
    )

    worker.config.write_text("cameras:\n  - id: dock\n", encoding="utf-8")  # no source: invalid
    eventually(lambda: "config reload by file refused" in caplog.text, WAIT, "the invalid edit is refused")
    assert "cameras[0].source" in caplog.text  # the loader's message, naming the field
    assert worker.cameras() == {"dock", "yard", "pier"}
    assert list(worker.loops().values()) == [["dock", "yard", "pier"]]
    assert set(leases.holders()) == {"dock", "yard", "pier"}


def test_a_model_that_cannot_be_loaded_refuses_the_edit(
    worker: Worker, caplog: pytest.LogCaptureFixture
) -> None:
    eventually(lambda: worker.cameras() == {"gate", "dock", "yard"}, WAIT, "the worker holds the 3 cameras")
    text = _yaml(worker.clip, ["gate", "dock", "yard"]).replace("fps: 5}", "fps: 5, model: broken}", 1)
    worker.config.write_text(text, encoding="utf-8")
    eventually(lambda: "failed while applying" in caplog.text, WAIT, "the edit is refused")
    assert "model broken cannot be loaded" in caplog.text
    assert worker.cameras() == {"gate", "dock", "yard"}
    assert list(worker.loops().values()) == [["gate", "dock", "yard"]]
