"""What the API serves from: settings, bus, store, the engine's live view, the current config,
and the latest camera status / KPI snapshot seen on the bus."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from ioc.api.sessions import RevocationWatch, SessionStore
from ioc.api.throttle import LoginThrottle
from ioc.api.wire_cache import WireCache
from ioc.bus.base import ServerBus
from ioc.config.models import IocConfig
from ioc.config.reload import ReloadOutcome, WriteFile
from ioc.messages import CameraStatus, Category, KpiSnapshot
from ioc.settings import Settings
from ioc.store.base import Store


class FrameSource(Protocol):
    """Where ``frame.jpg`` comes from: the engine in this process, or (an API node of a cluster)
    the pictures workers publish to Redis (``ioc.cluster.frames.LiveFrames``)."""

    def latest_frame_jpeg(self, camera_id: str) -> bytes | None:
        """The camera's live picture as JPEG; None when there is none. May raise
        ``ioc.cluster.frames.FramesUnavailableError`` (the API answers 503)."""


class EngineView(FrameSource, Protocol):
    """The part of the pipeline's engine the API reads (ioc.pipeline implements it)."""

    def camera_statuses(self) -> Sequence[CameraStatus]: ...


class ConfigSubmitter(Protocol):
    """Hot reload as the API uses it (``ioc.config.reload.ConfigReloader``)."""

    def submit(self, text: str, config: IocConfig, who: str, write: WriteFile) -> ReloadOutcome: ...

    def on_applied(self, listener: Callable[[IocConfig], object]) -> None: ...


@dataclass(frozen=True, slots=True)
class ApiOptions:
    heartbeat_seconds: float = 10.0
    ws_queue_size: int = 256
    ws_close_timeout_seconds: float = 2.0
    revocation_poll_seconds: float = 0.25
    session_recheck_seconds: float = 30.0


class LiveState:
    """Latest camera status and KPI snapshot per key, fed from the bus; and the current config."""

    def __init__(self, config: IocConfig | None) -> None:
        self._lock = threading.Lock()
        self._config = config
        self._statuses: dict[str, CameraStatus] = {}
        self._kpis: dict[tuple[str, str], KpiSnapshot] = {}  # by (source, agency or "")

    @property
    def config(self) -> IocConfig | None:
        with self._lock:
            return self._config

    def set_config(self, config: IocConfig) -> None:
        with self._lock:
            self._config = config

    def note(self, message: CameraStatus | KpiSnapshot) -> None:
        with self._lock:
            if isinstance(message, CameraStatus):
                self._statuses[message.camera_id] = message
            else:
                self._kpis[(message.source, message.agency or "")] = message

    def statuses(self) -> dict[str, CameraStatus]:
        with self._lock:
            return dict(self._statuses)

    def kpis(self) -> list[KpiSnapshot]:
        with self._lock:
            return [self._kpis[k] for k in sorted(self._kpis)]

    def camera_category(self, camera_id: str) -> Category | None:
        config = self.config
        if config is None:
            return None
        for cam in config.cameras:
            if cam.id == camera_id:
                return cam.alert_category
        return None


@dataclass(frozen=True, slots=True)
class AppContext:
    settings: Settings
    bus: ServerBus
    store: Store
    secret: str
    live: LiveState
    sessions: SessionStore
    throttle: LoginThrottle
    revocations: RevocationWatch
    engine: EngineView | None = None
    frames: FrameSource | None = None
    options: ApiOptions = field(default_factory=ApiOptions)
    reloader: ConfigSubmitter | None = None
    wire: WireCache = field(default_factory=WireCache)

    @property
    def idle_seconds(self) -> float:
        return self.settings.session_idle_minutes * 60.0

    def camera_statuses(self) -> dict[str, CameraStatus]:
        statuses = self.live.statuses()
        if self.engine is not None:
            statuses.update({s.camera_id: s for s in self.engine.camera_statuses()})
        return statuses
