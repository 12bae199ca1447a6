"""End to end: the engine on two real RTSP cameras with the real model, bus and store.

Two GStreamer RTSP server processes loop generated footage (people cut from Ultralytics' photos,
walking over a real street). The engine reads both cameras, an intrusion on the gate camera comes
out as an alert with a snapshot, and killing and restarting the gate's server takes that camera
offline and back without restarting the engine, while the street camera keeps its frame rate.
Waits poll with generous bounds so a loaded two-core machine passes; what is asserted is the
behaviour, never a timing that only a quiet machine would meet.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import pytest
from prometheus_client import REGISTRY

from ioc.bus.base import Message
from ioc.bus.memory import MemoryBus
from ioc.config import load_config
from ioc.config.models import IocConfig
from ioc.messages import Alert, AlertState, CameraState, CameraStatus
from ioc.pipeline.supervisor import Engine
from ioc.settings import Settings
from ioc.store.sqlite import SqliteStore
from tests.e2e.footage_clips import CLIP_FPS, GATE_ZONE, HEIGHT, WIDTH
from tests.rtsp_fixture import RtspServer

GATE, STREET = "e2e-gate", "e2e-street"
DETECT_FPS = 3
ALERT_TIMEOUT_S = 60.0
OFFLINE_TIMEOUT_S = 15.0  # a killed TCP stream ends at once; a silent one stalls after 5 s
BACK_TIMEOUT_S = 45.0  # reconnect backoff (0.5, 1, 2, 4, 8 … s) plus the server's start-up
WINDOW_S = 5.0  # how long the street camera's rates are measured, before and during the outage
MIN_RATE_RATIO = 0.7
STOP_LIMIT_S = 10.0
DOWN = (CameraState.OFFLINE, CameraState.STALLED)
ONLINE = (CameraState.ONLINE,)

Matcher = Callable[[Message], bool]


class Published:
    """The engine's publish callable: forwards to the real bus and keeps what the bus returned."""

    def __init__(self, bus: MemoryBus) -> None:
        self._bus = bus
        self._messages: list[Message] = []
        self._cond = threading.Condition()

    def __call__(self, message: Message) -> Message:
        out = self._bus.publish(message)
        with self._cond:
            self._messages.append(out)
            self._cond.notify_all()
        return out

    def count(self) -> int:
        with self._cond:
            return len(self._messages)

    def statuses(self, camera_id: str, after: int = 0) -> list[CameraStatus]:
        with self._cond:
            found = self._messages[after:]
        return [m for m in found if isinstance(m, CameraStatus) and m.camera_id == camera_id]

    def wait_for(self, what: str, match: Matcher, timeout: float, after: int = 0) -> Message:
        """The first message since index ``after`` that ``match``es; fails after ``timeout`` s."""

        def found() -> Message | None:
            return next((m for m in self._messages[after:] if match(m)), None)

        with self._cond:
            if not self._cond.wait_for(lambda: found() is not None, timeout):
                seen = [_describe(m) for m in self._messages[after:]]
                raise AssertionError(f"no {what} within {timeout:.0f} s; published since: {seen}")
            message = found()
        assert message is not None
        return message


def _describe(message: Message) -> str:
    if isinstance(message, CameraStatus):
        return f"{message.camera_id}:{message.state.value}({message.reason})"
    if isinstance(message, Alert):
        return f"{message.camera_id}:alert {message.rule_id} {message.state.value}"
    return message.type


@dataclass(frozen=True, slots=True)
class Rates:
    """Frames per second a camera's reader decoded and its worker processed over a window."""

    read_fps: float
    processed_fps: float


def measure(engine: Engine, camera_id: str, seconds: float) -> Rates:
    worker = engine.workers[camera_id]
    read0, processed0, t0 = _frames_read(camera_id), worker.processed, time.monotonic()
    time.sleep(seconds)
    elapsed = time.monotonic() - t0
    read = _frames_read(camera_id) - read0
    return Rates(read_fps=read / elapsed, processed_fps=(worker.processed - processed0) / elapsed)


def _frames_read(camera_id: str) -> float:
    return REGISTRY.get_sample_value("ioc_frames_read_total", {"camera": camera_id}) or 0.0


def write_config(path: Path, gate_url: str, street_url: str) -> IocConfig:
    zone = ", ".join(f"[{x}, {y}]" for x, y in GATE_ZONE)
    path.write_text(
        f"""
cameras:
  - id: {GATE}
    source: {gate_url}
    detect: {{fps: {DETECT_FPS}, classes: [person]}}
    zones:
      - {{id: forecourt, polygon: [{zone}]}}
    rules:
      - {{id: no-entry, type: intrusion, zone: forecourt, severity: critical}}
  - id: {STREET}
    source: {street_url}
    detect: {{fps: {DETECT_FPS}, classes: [person]}}
""",
        encoding="utf-8",
    )
    return load_config(path)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    store = SqliteStore(tmp_path / "data" / "ioc.db")
    yield store
    store.close()


@pytest.fixture
def bus(store: SqliteStore) -> Iterator[MemoryBus]:
    bus = MemoryBus(store)
    yield bus
    bus.close()


def _wait_state(engine: Engine, camera_id: str, states: tuple[CameraState, ...], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while (status := engine.camera_status(camera_id)) is None or status.state not in states:
        assert time.monotonic() < deadline, f"{camera_id} not {states} within {timeout:.0f} s: {status}"
        time.sleep(0.1)


def _is_start(message: Message, camera_id: str) -> bool:
    return isinstance(message, Alert) and message.camera_id == camera_id and message.state is AlertState.START


def _has_state(camera_id: str, states: tuple[CameraState, ...]) -> Matcher:
    def match(m: Message) -> bool:
        return isinstance(m, CameraStatus) and m.camera_id == camera_id and m.state in states

    return match


def check_alert(alert: Alert, settings: Settings, store: SqliteStore) -> None:
    """An intrusion start from the gate whose snapshot is a JPEG of the stream's size, stored."""
    assert (alert.rule_id, alert.rule_type, alert.zone_id) == ("no-entry", "intrusion", "forecourt")
    assert alert.object_class == "person"
    assert alert.seq is not None and alert.seq >= 1
    assert alert.snapshot_url is not None and alert.snapshot_url.startswith(f"/snapshots/{GATE}/")
    path = settings.snapshots_dir / alert.snapshot_url.removeprefix("/snapshots/")
    assert path.resolve().is_relative_to(settings.snapshots_dir.resolve())
    image = cv2.imread(str(path))
    assert image is not None, f"snapshot {path} missing or not a JPEG"
    assert image.shape == (HEIGHT, WIDTH, 3)
    deadline = time.monotonic() + 10.0
    while (stored := store.get_alert(alert.id)) is None:
        assert time.monotonic() < deadline, f"alert {alert.id} never reached the store"
        time.sleep(0.1)
    assert stored.snapshot_url == alert.snapshot_url and stored.camera_id == GATE


@pytest.mark.slow
def test_two_rtsp_cameras_alert_and_ride_out_a_camera_restart(
    rtsp_server_factory: Callable[..., RtspServer],
    footage_clips: dict[str, Path],
    models_dir: Path,
    store: SqliteStore,
    bus: MemoryBus,
    tmp_path: Path,
) -> None:
    gate = rtsp_server_factory({"gate": str(footage_clips["gate"])}, fps=CLIP_FPS)
    street = rtsp_server_factory({"street": str(footage_clips["street"])}, fps=CLIP_FPS)
    config = write_config(tmp_path / "cameras.yaml", gate.url("gate"), street.url("street"))
    settings = Settings(models_dir=models_dir, data_dir=tmp_path / "data", device="cpu")
    published = Published(bus)
    engine = Engine(config, settings, published)
    engine.start()
    try:
        run_scenario(engine, published, gate, settings, store)
    finally:
        started = time.monotonic()
        engine.stop()
        stop_seconds = time.monotonic() - started
    assert stop_seconds < STOP_LIMIT_S, f"Engine.stop() took {stop_seconds:.1f} s"
    left = [t.name for t in threading.enumerate() if t.name.startswith(("ioc-reader-e2e", "ioc-worker-e2e"))]
    assert not left, f"threads still running after stop: {left}"


def run_scenario(
    engine: Engine, published: Published, gate: RtspServer, settings: Settings, store: SqliteStore
) -> None:
    alert = published.wait_for("intrusion alert from the gate", lambda m: _is_start(m, GATE), ALERT_TIMEOUT_S)
    assert isinstance(alert, Alert)
    _wait_state(engine, STREET, ONLINE, 10.0)
    before = measure(engine, STREET, WINDOW_S)
    assert before.read_fps > 0.5 * CLIP_FPS and before.processed_fps > 0, f"street too slow: {before}"

    mark = published.count()
    gate.stop()
    published.wait_for("gate offline", _has_state(GATE, DOWN), OFFLINE_TIMEOUT_S, after=mark)
    during = measure(engine, STREET, WINDOW_S)
    gate_during = engine.camera_status(GATE)
    assert gate_during is not None and gate_during.state is not CameraState.ONLINE
    gate.start()  # same port: the camera comes back at the same URL
    published.wait_for("gate back online", _has_state(GATE, ONLINE), BACK_TIMEOUT_S, after=mark)

    assert during.read_fps >= MIN_RATE_RATIO * before.read_fps, f"before {before}, during outage {during}"
    assert during.processed_fps >= MIN_RATE_RATIO * before.processed_fps, f"before {before}, during {during}"
    assert published.statuses(STREET, after=mark) == [], "the street camera changed state during the outage"
    gate_now = engine.camera_status(GATE)
    assert gate_now is not None and gate_now.state is CameraState.ONLINE and gate_now.reconnects >= 1
    processed = engine.workers[GATE].processed
    deadline = time.monotonic() + 20.0
    while engine.workers[GATE].processed <= processed:
        assert time.monotonic() < deadline, "the gate is online again but none of its frames were processed"
        time.sleep(0.1)
    check_alert(alert, settings, store)
