"""One ``ioc worker`` node: camera leases, one engine per leased camera, the outbox to Redis.

Every ``tick_seconds`` (1 s, or a third of the lease if that is shorter) the node:

1. says it is alive (the live-worker count the fair share divides by);
2. renews each lease it holds — a lease another node holds now is lost: that camera's engine
   stops at once (its last messages carry the old token, which API nodes drop if stale);
3. releases cameras beyond its fair share or pinned elsewhere (engine stopped first, so the
   alerts it ends still carry a valid token) and tries to acquire the cameras it should run.

A dead node's cameras are therefore running elsewhere within ``lease_seconds`` + one tick + the
camera's start. While Redis cannot be reached the node keeps its cameras running (nobody else can
take them) and the outbox spools what they publish; when Redis is back, renewals re-take the
lapsed leases with new tokens and the spool is sent first. For one lease after such an outage the
node acquires nothing new, so that every worker re-takes its own cameras (with Redis restarted
empty, every lease is free) instead of one taking another's — whose spooled alerts would then
carry a stale token and be dropped.

Each camera runs in its own :class:`~ioc.pipeline.supervisor.Engine` so that cameras come and go
without disturbing the others; cameras with the same model share one loaded detector (calls are
serialised by a lock), so a node loads each model once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt
import redis

from ioc import metrics
from ioc.bus.base import Message
from ioc.bus.redis_bus import RedisBus
from ioc.cluster.leases import CameraLeases
from ioc.cluster.share import CameraSlot, plan_share
from ioc.cluster.spool import Envelope, Outbox, SendFailedError
from ioc.config.models import DetectConfig, IocConfig
from ioc.detect.base import Detector
from ioc.messages import KpiSnapshot
from ioc.settings import Settings
from ioc.types import Detections, LiveTile

logger = logging.getLogger(__name__)

DetectorFactory = Callable[[DetectConfig, Settings], Detector]

HANDOVER_SECONDS = 5.0
"""How long a worker giving a camera up waits for its last messages to reach Redis."""


class CameraRunner(Protocol):
    """What the node starts per leased camera (``Engine`` for one camera)."""

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def live_tile(self, camera_id: str, after_index: int | None = None) -> LiveTile | None:
        """The camera's live picture; None before its first frame or when nothing is newer than
        frame ``after_index`` (``Engine.live_tile``)."""


RunnerFactory = Callable[[IocConfig, Callable[[Message], object]], CameraRunner]


class SerializedDetector:
    """One loaded model used by several cameras' detector loops, one call at a time."""

    def __init__(self, inner: Detector) -> None:
        self._inner = inner
        self._lock = threading.Lock()
        self.name = inner.name
        self.class_names = inner.class_names

    def detect(
        self,
        images: Sequence[npt.NDArray[np.uint8]],
        *,
        imgsz: int,
        confidence: float,
        classes: tuple[str, ...] | None = None,
    ) -> list[Detections]:
        with self._lock:
            return self._inner.detect(images, imgsz=imgsz, confidence=confidence, classes=classes)


class SharedDetectors:
    """A detector factory that loads each (model, iou) once per node."""

    def __init__(self, factory: DetectorFactory) -> None:
        self._factory = factory
        self._lock = threading.Lock()
        self._loaded: dict[tuple[str, float], SerializedDetector] = {}

    def __call__(self, detect: DetectConfig, settings: Settings) -> Detector:
        key = (detect.model, detect.iou)
        with self._lock:
            if key not in self._loaded:
                self._loaded[key] = SerializedDetector(self._factory(detect, settings))
            return self._loaded[key]


@dataclass(slots=True)
class _Held:
    token: int
    runner: CameraRunner


@dataclass(frozen=True, slots=True)
class HeldCamera:
    """A camera this node runs now, with the fencing token of its lease."""

    camera_id: str
    token: int
    runner: CameraRunner


class WorkerNode:
    """Leases, engines and outbox of one worker (see the module docstring)."""

    def __init__(
        self,
        config: IocConfig,
        settings: Settings,
        *,
        bus: RedisBus,
        leases: CameraLeases,
        outbox_factory: Callable[[Callable[[Envelope], None]], Outbox],
        runner_factory: RunnerFactory,
    ) -> None:
        self.node = leases.node
        self._config = config
        self._bus = bus
        self._leases = leases
        self._runner_factory = runner_factory
        self._slots = [CameraSlot(c.id, c.worker) for c in config.cameras if c.enabled]
        self._held: dict[str, _Held] = {}
        self._tokens: dict[str, int] = {}
        self._lock = threading.Lock()
        self._workers = 1
        self.redis_ok = False
        self._outage = False
        self._quiet_until = 0.0
        self.outbox = outbox_factory(self._send)
        self.tick_seconds = min(1.0, leases.ttl_ms / 3000)

    # -- running ----------------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        self.outbox.start()
        self.tick()
        while not stop.wait(self.tick_seconds):
            self.tick()

    def tick(self) -> None:
        try:
            self._workers = self._leases.heartbeat()
            self._note_reachable()
            self._renew_all()
            plan = plan_share(self._slots, list(self._held), self.node, self._workers)
            if plan.acquire:  # now that we know we want some: skip those other workers hold
                taken = [c for c, n in self._leases.holders().items() if n != self.node]
                plan = plan_share(self._slots, list(self._held), self.node, self._workers, taken)
            for camera_id in plan.release:
                self._let_go(camera_id, "released")
                self._renew_all()  # stopping a camera takes seconds: keep the other leases fresh
            quiet = time.monotonic() < self._quiet_until
            for camera_id in () if quiet else plan.acquire:
                if self._try_acquire(camera_id):
                    self._renew_all()  # so does starting one
        except redis.RedisError as exc:
            if self.redis_ok or not self._outage:  # once per outage, and at start
                logger.warning("worker %s: Redis unreachable (%s); cameras keep running", self.node, exc)
                self._outage = True
            self.redis_ok = False
            return
        metrics.LEASES_HELD.set(len(self._held))

    def _note_reachable(self) -> None:
        if self.redis_ok:
            return
        logger.info("worker %s: Redis reachable; %d workers alive", self.node, self._workers)
        self.redis_ok = True
        if self._outage:  # let every worker re-take its own leases before taking free ones
            self._quiet_until = time.monotonic() + self._leases.ttl_ms / 1000

    def shutdown(self) -> None:
        """Stop every camera, give the leases back, send what is queued (spool what cannot go)."""
        for camera_id in sorted(self._held):
            self._let_go(camera_id, "released")
        try:
            self._leases.leave()
        except redis.RedisError as exc:
            logger.warning("worker %s: could not leave the live set (%s); it expires", self.node, exc)
        self.outbox.stop()

    def status(self) -> dict[str, object]:
        """For the worker's ``/healthz``."""
        with self._lock:
            held = {c: h.token for c, h in self._held.items()}
        return {
            "node": self.node,
            "redis": self.redis_ok,
            "workers_alive": self._workers,
            "cameras": dict(sorted(held.items())),
            "spooled": self.outbox.spooled,
        }

    def held_cameras(self) -> list[HeldCamera]:
        """The cameras this node runs now (any thread; e.g. the live-picture publisher)."""
        with self._lock:
            return [HeldCamera(c, h.token, h.runner) for c, h in sorted(self._held.items())]

    # -- leases -----------------------------------------------------------------------------

    def _renew_all(self) -> None:
        for camera_id, held in list(self._held.items()):
            token = self._leases.renew(camera_id, held.token)
            if token is None:
                logger.warning("camera %s: lease lost to another worker; stopping it here", camera_id)
                self._stop_camera(camera_id, "lost")
            elif token != held.token:
                logger.info("camera %s: lease had lapsed; taken again (token %d)", camera_id, token)
                self._set_token(camera_id, token)

    def _try_acquire(self, camera_id: str) -> bool:
        token = self._leases.acquire(camera_id)
        if token is None:
            return False
        logger.info("camera %s: lease acquired by %s (token %d); starting it", camera_id, self.node, token)
        self._set_token(camera_id, token)
        camera = self._config.camera(camera_id)
        runner = self._runner_factory(self._config.model_copy(update={"cameras": (camera,)}), self._publish)
        try:
            runner.start()
        except Exception:
            logger.exception("camera %s: failed to start; giving the lease back", camera_id)
            self._leases.release(camera_id, token)
            return False
        with self._lock:
            self._held[camera_id] = _Held(token, runner)
        metrics.LEASE_EVENTS.labels("acquired").inc()
        return True

    def _let_go(self, camera_id: str, event: str) -> None:
        held = self._stop_camera(camera_id, event)
        if held is not None:
            # the camera's last messages (alerts it ended) go out before another worker may take
            # it; sent later, they would carry a stale token and be dropped
            if self.redis_ok:
                self.outbox.wait_sent(timeout=HANDOVER_SECONDS)
            try:
                self._leases.release(camera_id, held.token)
            except redis.RedisError as exc:
                logger.warning("camera %s: stopped; lease not released (%s): it expires", camera_id, exc)
                return
            logger.info("camera %s: lease released by %s", camera_id, self.node)

    def _stop_camera(self, camera_id: str, event: str) -> _Held | None:
        with self._lock:
            held = self._held.pop(camera_id, None)
        if held is not None:
            held.runner.stop()
            metrics.LEASE_EVENTS.labels(event).inc()
        return held

    def _set_token(self, camera_id: str, token: int) -> None:
        with self._lock:
            self._tokens[camera_id] = token
            if camera_id in self._held:
                self._held[camera_id].token = token

    # -- publishing -------------------------------------------------------------------------

    def _publish(self, message: Message) -> Message:
        """Called from camera threads: stamp the camera's current token and queue."""
        fence = None
        if not isinstance(message, KpiSnapshot):
            with self._lock:
                fence = self._tokens.get(message.camera_id)
        self.outbox.put(Envelope.new(message, fence))
        return message

    def _send(self, envelope: Envelope) -> None:
        try:
            self._bus.send(envelope.message, fence=envelope.fence, delivery=envelope.delivery)
        except redis.RedisError as exc:
            raise SendFailedError(str(exc)) from exc
