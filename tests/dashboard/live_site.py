"""A real ``ioc`` API (create_app + MemoryBus + SQLite) served by uvicorn on a free port, and the
real events stage (AlertLifecycle + SnapshotWriter) turning rule hits on a real photo into Alerts.

The engine is pluggable: pass any ``EngineView`` (the pipeline's ``Engine`` in the end-to-end test)
and the wall's tiles show its frames; without one the API answers 404 for frames and the tiles say
so, exactly as ``ioc serve --no-engine`` does.
"""

from __future__ import annotations

import importlib.util
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import uvicorn
from fastapi import FastAPI

from ioc.api.app import create_app
from ioc.api.auth import hash_password
from ioc.api.context import EngineView
from ioc.bus.memory import MemoryBus
from ioc.config.models import CameraConfig, IocConfig
from ioc.events.lifecycle import AlertLifecycle
from ioc.events.snapshot import SnapshotWriter, annotate
from ioc.ingest.reasons import Reason
from ioc.kpi.service import KpiService
from ioc.messages import Alert, CameraState, CameraStatus, KpiSnapshot, KpiValue, LocalizedText
from ioc.settings import Settings, load_settings
from ioc.store.sqlite import SqliteStore
from ioc.types import Detections, Frame, HitKind, RuleHit

_ULTRALYTICS = importlib.util.find_spec("ultralytics")
_ULTRALYTICS_DIR = Path(_ULTRALYTICS.origin if _ULTRALYTICS and _ULTRALYTICS.origin else ".").parent
PHOTO = _ULTRALYTICS_DIR / "assets" / "bus.jpg"
"""A real street photo (people, a bus) that ships with ultralytics, a dependency of ioc (found
without importing it: that would pull in torch)."""

PASSWORD = "correct-horse-battery"
USERS = {"op1": "operator", "boss": "admin", "cop": "police"}


def site_config() -> IocConfig:
    """Four cameras around Hoàn Kiếm lake, Hanoi: two security, two traffic, one without a location."""
    zone = {
        "id": "restricted",
        "name": "Khu vực cấm",
        "polygon": [[0.05, 0.45], [0.6, 0.45], [0.6, 0.98], [0.05, 0.98]],
    }
    line = {"id": "stop-line", "name": "Vạch dừng", "points": [[0.0, 0.7], [1.0, 0.7]]}
    return IocConfig.model_validate(
        {
            "site": {"name": "IOC Hà Nội — Hoàn Kiếm"},
            "cameras": [
                {
                    "id": "gate-1",
                    "name": "Cổng Đền Ngọc Sơn",
                    "source": "rtsp://10.0.0.11/stream",
                    "category": "security",
                    "location": {"lat": 21.0307, "lon": 105.8524},
                    "zones": [zone],
                    "rules": [
                        {"id": "no-entry", "type": "intrusion", "zone": "restricted", "severity": "critical"},
                        {"id": "linger", "type": "loitering", "zone": "restricted", "min_dwell_seconds": 30},
                    ],
                },
                {
                    "id": "junction-2",
                    "name": "Ngã tư Đinh Tiên Hoàng",
                    "source": "rtsp://10.0.0.12/stream",
                    "category": "traffic",
                    "location": {"lat": 21.0287, "lon": 105.8536},
                    "lines": [line],
                    "rules": [{"id": "stop", "type": "line_crossing", "line": "stop-line"}],
                },
                {
                    "id": "square-3",
                    "name": "Quảng trường Đông Kinh Nghĩa Thục",
                    "source": "rtsp://10.0.0.13/stream",
                    "category": "security",
                    "location": {"lat": 21.0318, "lon": 105.8510},
                },
                {
                    "id": "depot-4",
                    "name": "Bãi xe Hàng Khay",
                    "source": "rtsp://10.0.0.14/stream",
                    "category": "traffic",
                },
            ],
        }
    )


def photo() -> np.ndarray[Any, Any]:
    image = cv2.imread(str(PHOTO))
    if image is None:
        raise FileNotFoundError(f"test photo missing or unreadable: {PHOTO}")
    return image


def person_detections() -> Detections:
    """The people and the bus in bus.jpg (normalised boxes, measured once on the photo)."""
    boxes = [
        (0.06, 0.28, 0.30, 0.86),
        (0.27, 0.29, 0.43, 0.84),
        (0.80, 0.30, 0.99, 0.86),
        (0.02, 0.27, 0.99, 0.78),
    ]
    names = ["person", "person", "person", "bus"]
    return Detections(
        xyxy=np.asarray(boxes, dtype=np.float32),
        confidence=np.asarray([0.91, 0.88, 0.85, 0.87], dtype=np.float32),
        class_id=np.asarray([0, 0, 0, 5], dtype=np.int64),
        class_name=np.asarray(names, dtype=object),
        tracker_id=np.asarray([7, 8, 9, 10], dtype=np.int64),
    )


@dataclass
class LiveSite:
    url: str
    settings: Settings
    config: IocConfig
    bus: MemoryBus
    store: SqliteStore
    snapshots: SnapshotWriter
    http: HttpServer
    lifecycles: dict[str, AlertLifecycle] = field(default_factory=dict)
    frame_index: int = 0

    def camera(self, camera_id: str) -> CameraConfig:
        return self.config.camera(camera_id)

    def raise_alert(self, camera_id: str, rule_id: str, *, track_id: int = 7, **hit: Any) -> Alert:
        """Run one rule hit through the real events stage and publish the start message."""
        camera = self.camera(camera_id)
        rule = next(r for r in camera.rules if r.id == rule_id)
        lifecycle = self.lifecycles.setdefault(camera_id, AlertLifecycle(camera, self.snapshots))
        self.frame_index += 1
        now = time.time()
        frame = Frame(
            camera_id=camera_id,
            image=photo(),
            timestamp=float(self.frame_index),
            wall_time=now,
            index=self.frame_index,
        )
        dets = person_detections()
        row = int(np.flatnonzero(dets.tracker_id == track_id)[0])
        kind = HitKind.EVENT if rule.type == "line_crossing" else HitKind.STATE
        rule_hit = RuleHit(
            rule_id=rule_id,
            rule_type=rule.type,
            kind=kind,
            track_id=track_id,
            object_class=str(dets.class_name[row]),
            confidence=float(dets.confidence[row]),
            bbox=tuple(float(v) for v in dets.xyxy[row]),  # type: ignore[arg-type]
            timestamp=frame.timestamp,
            zone_id=getattr(rule, "zone", None),
            line_id=getattr(rule, "line", None),
            **hit,
        )
        started = [a for a in lifecycle.step([rule_hit], frame, dets) if a.rule_id == rule_id]
        if not started:
            raise AssertionError(f"{camera_id}/{rule_id}: the lifecycle raised no alert for the hit")
        published = self.bus.publish(started[-1])
        assert isinstance(published, Alert)
        return published

    def camera_status(
        self, camera_id: str, state: CameraState, *, reason: Reason | None = None, fps: float | None = None
    ) -> None:
        self.bus.publish(
            CameraStatus(
                camera_id=camera_id,
                state=state,
                **(reason.status_fields() if reason is not None else {}),
                changed_at=datetime.now(UTC),
                fps=fps,
                reconnects=3 if reason else 0,
            )
        )

    def kpi(self, source: str, values: Mapping[str, tuple[str, str, float, str | None, bool]]) -> None:
        self.bus.publish(
            KpiSnapshot(
                source=source,
                at=datetime.now(UTC),
                values=tuple(
                    KpiValue(key=k, label=LocalizedText(vi=vi, en=en), value=v, unit=u, warning=w)
                    for k, (vi, en, v, u, w) in values.items()
                ),
                warnings=(LocalizedText(vi="12 hồ sơ quá hạn", en="12 dossiers overdue"),),
            )
        )

    def wait_seq(self, seq: int, timeout: float = 5.0) -> None:
        """Wait until the bus dispatcher has stored ``seq`` (the REST list reads the store)."""
        deadline = time.monotonic() + timeout
        while self.store.max_seq() < seq:
            if time.monotonic() > deadline:
                raise TimeoutError(f"seq {seq} not stored within {timeout} s")
            time.sleep(0.02)


class StillFrames:
    """An ``EngineView`` that serves one annotated still of the photo per camera, the way the
    pipeline's Engine serves its latest frame; statuses come from the bus instead."""

    def __init__(self, config: IocConfig) -> None:
        image = photo()
        self._jpegs: dict[str, bytes] = {}
        for index, cam in enumerate(config.cameras):
            frame = Frame(camera_id=cam.id, image=image, timestamp=0.0, wall_time=time.time(), index=index)
            ok, buf = cv2.imencode(
                ".jpg", annotate(frame, person_detections(), cam), [cv2.IMWRITE_JPEG_QUALITY, 80]
            )
            assert ok, "JPEG encoder refused the photo"
            self._jpegs[cam.id] = buf.tobytes()

    def camera_statuses(self) -> list[CameraStatus]:
        return []

    def latest_frame_jpeg(self, camera_id: str) -> bytes | None:
        return self._jpegs.get(camera_id)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class HttpServer:
    """uvicorn serving ``app`` on a fixed port in a thread; can be stopped and started again (a
    server restart, as the wall sees it)."""

    def __init__(self, app: FastAPI, port: int) -> None:
        self._app = app
        self.port = port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        config = uvicorn.Config(
            self._app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="uvicorn", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn did not start on port {self.port}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self._server is None or self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(timeout=10)
        if self._thread.is_alive():
            raise RuntimeError(f"uvicorn on port {self.port} did not stop within 10 s")
        self._server = self._thread = None


EngineFactory = Callable[[IocConfig, Settings, MemoryBus], AbstractContextManager[EngineView]]
"""Builds the engine from the site's config, settings and bus, as a context manager that starts
and stops it; e.g. ``lambda config, settings, bus: Engine(config, settings, bus.publish)``."""


@contextmanager
def live_site(
    data_dir: Path,
    engine: EngineView | None = None,
    config: IocConfig | None = None,
    engine_factory: EngineFactory | None = None,
    kpi_factory: Callable[[SqliteStore], KpiService] | None = None,
) -> Iterator[LiveSite]:
    """Start the real API on a free port, with ``engine`` or the one ``engine_factory`` builds (which
    publishes on the site's bus and writes snapshots under its data dir); stop everything on exit,
    in reverse."""
    if engine is not None and engine_factory is not None:
        raise ValueError("pass engine or engine_factory, not both")
    config = config if config is not None else site_config()
    settings = load_settings(data_dir=data_dir, config_path=data_dir / "cameras.yaml")
    with ExitStack() as stack:
        store = SqliteStore(data_dir / "ioc.db")
        stack.callback(store.close)
        for username, role in USERS.items():
            store.add_user(username, role, hash_password(PASSWORD), datetime.now(UTC))
        bus = MemoryBus(store)
        stack.callback(bus.close)
        if engine_factory is not None:
            engine = stack.enter_context(engine_factory(config, settings, bus))
        kpi = kpi_factory(store) if kpi_factory is not None else None
        app = create_app(settings, bus=bus, store=store, engine=engine, config=config, kpi_service=kpi)
        http = HttpServer(app, free_port())
        http.start()
        stack.callback(http.stop)
        yield LiveSite(
            url=f"http://127.0.0.1:{http.port}",
            settings=settings,
            config=config,
            bus=bus,
            store=store,
            snapshots=SnapshotWriter(settings.snapshots_dir),
            http=http,
        )
