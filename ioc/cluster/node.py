"""One ``ioc worker`` node: camera leases, one engine for the leased cameras, the outbox to Redis.

Every ``tick_seconds`` (1 s, or a third of the lease if that is shorter) the node:

1. says it is alive (the live-worker count the fair share divides by);
2. renews each lease it holds — a lease another node holds now is lost: that camera stops at
   once (its last messages carry the old token, which API nodes drop if stale);
3. releases cameras beyond its fair share or pinned elsewhere (camera stopped first, so the
   alerts it ends still carry a valid token) and tries to acquire the cameras it should run.

A dead node's cameras are therefore running elsewhere within ``lease_seconds`` + one tick + the
camera's start. While Redis cannot be reached the node keeps its cameras running (nobody else can
take them) and the outbox spools what they publish; when Redis is back, renewals re-take the
lapsed leases with new tokens and the spool is sent first. For one lease after such an outage the
node acquires nothing new, so that every worker re-takes its own cameras (with Redis restarted
empty, every lease is free) instead of one taking another's — whose spooled alerts would then
carry a stale token and be dropped.

All leased cameras run in ONE :class:`~ioc.pipeline.supervisor.Engine` (the node's *host*), whose
config is the file's config restricted to the cameras the node holds: when the held set changes
the node applies the new restricted config (``Engine.apply``), which starts or stops just those
cameras and keeps the others' state. Cameras with the same model therefore share one detector
loop (busy-first scheduling, batches across cameras), as in ``ioc serve``.

Hot reload (``reconfigure``, called by the worker's config-file watch): held cameras removed from
the file (or disabled) are stopped and their leases released, held cameras that changed are
applied in place, and added cameras become lease candidates from the next tick. The lease loop
and a reload never interleave (one lock).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Protocol

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
from ioc.pipeline.config_diff import diff_configs
from ioc.settings import Settings
from ioc.types import LiveTile

logger = logging.getLogger(__name__)

DetectorFactory = Callable[[DetectConfig, Settings], Detector]

HANDOVER_SECONDS = 5.0
"""How long a worker giving a camera up waits for its last messages to reach Redis."""


class LiveTiles(Protocol):
    """Where the live-picture publisher reads a held camera's picture (an ``Engine``)."""

    def live_tile(self, camera_id: str, after_index: int | None = None) -> LiveTile | None:
        """The camera's live picture; None before its first frame or when nothing is newer than
        frame ``after_index`` (``Engine.live_tile``)."""


class CameraHost(LiveTiles, Protocol):
    """What the node runs its leased cameras in (an ``Engine``)."""

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def apply(self, config: IocConfig, who: str) -> object:
        """Run exactly the enabled cameras of ``config``; raises (changing nothing) when it cannot."""

    def detector_loops(self) -> Mapping[str, tuple[str, ...]]:
        """Each running detector loop (by name) with the cameras it serves."""


HostFactory = Callable[[IocConfig, Callable[[Message], object]], CameraHost]


class SharedDetectors:
    """A detector factory that loads each (model, iou) once per node: loaded before any lease is
    taken (``warm_up``), and kept when the engine's last camera of a model goes and comes back."""

    def __init__(self, factory: DetectorFactory) -> None:
        self._factory = factory
        self._lock = threading.Lock()
        self._loaded: dict[tuple[str, float], Detector] = {}

    def loaded(self, detect: DetectConfig) -> bool:
        with self._lock:
            return (detect.model, detect.iou) in self._loaded

    def __call__(self, detect: DetectConfig, settings: Settings) -> Detector:
        key = (detect.model, detect.iou)
        with self._lock:
            if key not in self._loaded:
                self._loaded[key] = self._factory(detect, settings)
            return self._loaded[key]


@dataclass(frozen=True, slots=True)
class HeldCamera:
    """A camera this node runs now, with the fencing token of its lease."""

    camera_id: str
    token: int
    runner: LiveTiles


def _slots(config: IocConfig) -> list[CameraSlot]:
    return [CameraSlot(c.id, c.worker) for c in config.cameras if c.enabled]


class WorkerNode:
    """Leases, engine and outbox of one worker (see the module docstring)."""

    def __init__(
        self,
        config: IocConfig,
        settings: Settings,
        *,
        bus: RedisBus,
        leases: CameraLeases,
        outbox_factory: Callable[[Callable[[Envelope], None]], Outbox],
        host_factory: HostFactory,
    ) -> None:
        self.node = leases.node
        self._config = config
        self._bus = bus
        self._leases = leases
        self._slots = _slots(config)
        self._held: dict[str, int] = {}  # camera → token of the lease, for the cameras running here
        self._tokens: dict[str, int] = {}  # what messages are stamped with (kept after a stop)
        self._lock = threading.Lock()  # _held and _tokens (publishing threads read them)
        self._busy = threading.Lock()  # one tick or one reload at a time
        self._workers = 1
        self.redis_ok = False
        self._outage = False
        self._quiet_until = 0.0
        self.outbox = outbox_factory(self._send)
        self.tick_seconds = min(1.0, leases.ttl_ms / 3000)
        self.host = host_factory(self._restricted(()), self._publish)
        self.host.start()

    # -- running ----------------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        self.outbox.start()
        self.tick()
        while not stop.wait(self.tick_seconds):
            self.tick()

    def tick(self) -> None:
        with self._busy:
            self._tick()

    def _tick(self) -> None:
        try:
            self._workers = self._leases.heartbeat()
            self._note_reachable()
            self._renew_all()
            plan = plan_share(self._slots, list(self._held), self.node, self._workers)
            if plan.acquire:  # now that we know we want some: skip those other workers hold
                taken = [c for c, n in self._leases.holders().items() if n != self.node]
                plan = plan_share(self._slots, list(self._held), self.node, self._workers, taken)
            if plan.release:
                self._let_go(plan.release, "released")
                self._renew_all()  # stopping cameras takes seconds: keep the other leases fresh
            quiet = time.monotonic() < self._quiet_until
            if plan.acquire and not quiet:
                self._acquire(plan.acquire)
                self._renew_all()  # so does starting them
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
        with self._busy:
            self._let_go(sorted(self._held), "released")
            self.host.stop()
        try:
            self._leases.leave()
        except redis.RedisError as exc:
            logger.warning("worker %s: could not leave the live set (%s); it expires", self.node, exc)
        self.outbox.stop()

    def status(self) -> dict[str, object]:
        """For the worker's ``/healthz``."""
        with self._lock:
            held = dict(self._held)
        loops = {name: list(cameras) for name, cameras in self.host.detector_loops().items()}
        return {
            "node": self.node,
            "redis": self.redis_ok,
            "workers_alive": self._workers,
            "cameras": dict(sorted(held.items())),
            "detector_loops": dict(sorted(loops.items())),
            "spooled": self.outbox.spooled,
        }

    def held_cameras(self) -> list[HeldCamera]:
        """The cameras this node runs now (any thread; e.g. the live-picture publisher)."""
        with self._lock:
            return [HeldCamera(c, token, self.host) for c, token in sorted(self._held.items())]

    # -- hot reload -------------------------------------------------------------------------

    @property
    def config(self) -> IocConfig:
        return self._config

    def reconfigure(self, config: IocConfig, who: str) -> list[str]:
        """Switch to ``config`` (already validated, its models loaded); returns one line per change
        of the file. Held cameras no longer in it (or disabled) stop and are released; changed ones
        are applied in place; new ones are lease candidates from the next tick. Raises (changing
        nothing) when the engine cannot run the new config of the held cameras."""
        with self._busy:
            lines = diff_configs(self._config, config).summary()
            wanted = {c.id for c in config.cameras if c.enabled}
            gone = [c for c in self._held if c not in wanted]
            with self._lock:
                keep = [c for c in self._held if c in wanted]
            self.host.apply(self._restricted(keep, config), who)
            self._config = config
            self._slots = _slots(config)
            if gone:
                self._let_go(gone, "released", applied=True)
            return lines

    # -- leases -----------------------------------------------------------------------------

    def _restricted(self, camera_ids: Collection[str], config: IocConfig | None = None) -> IocConfig:
        """``config`` (the node's) with only the cameras ``camera_ids``, in file order."""
        config = self._config if config is None else config
        cameras = tuple(c for c in config.cameras if c.id in camera_ids)
        return config.model_copy(update={"cameras": cameras})

    def _run_held(self) -> None:
        """Make the host run exactly the held cameras."""
        with self._lock:
            held = list(self._held)
        self.host.apply(self._restricted(held), "lease")

    def _renew_all(self) -> None:
        lost: list[str] = []
        for camera_id, token in list(self._held.items()):
            renewed = self._leases.renew(camera_id, token)
            if renewed is None:
                logger.warning("camera %s: lease lost to another worker; stopping it here", camera_id)
                lost.append(camera_id)
            elif renewed != token:
                logger.info("camera %s: lease had lapsed; taken again (token %d)", camera_id, renewed)
                self._set_token(camera_id, renewed)
        if lost:
            self._stop_cameras(lost, "lost")

    def _acquire(self, camera_ids: Collection[str]) -> None:
        acquired: dict[str, int] = {}
        for camera_id in camera_ids:
            token = self._leases.acquire(camera_id)
            if token is not None:
                logger.info(
                    "camera %s: lease acquired by %s (token %d); starting it", camera_id, self.node, token
                )
                acquired[camera_id] = token
        if not acquired:
            return
        with self._lock:
            self._tokens.update(acquired)
            self._held.update(acquired)
        try:
            self._run_held()
        except Exception:
            logger.exception("cameras %s: failed to start; giving the leases back", ", ".join(acquired))
            with self._lock:
                for camera_id in acquired:
                    self._held.pop(camera_id, None)
            for camera_id, token in acquired.items():
                self._leases.release(camera_id, token)
            return
        metrics.LEASE_EVENTS.labels("acquired").inc(len(acquired))

    def _let_go(self, camera_ids: Collection[str], event: str, *, applied: bool = False) -> None:
        """Stop the cameras (unless the host runs without them already) and release their leases."""
        stopped = self._stop_cameras(camera_ids, event, applied=applied)
        if not stopped:
            return
        # the cameras' last messages (alerts they ended) go out before another worker may take
        # them; sent later, they would carry a stale token and be dropped
        if self.redis_ok:
            self.outbox.wait_sent(timeout=HANDOVER_SECONDS)
        for camera_id, token in stopped.items():
            try:
                self._leases.release(camera_id, token)
            except redis.RedisError as exc:
                logger.warning("camera %s: stopped; lease not released (%s): it expires", camera_id, exc)
                continue
            logger.info("camera %s: lease released by %s", camera_id, self.node)

    def _stop_cameras(
        self, camera_ids: Collection[str], event: str, *, applied: bool = False
    ) -> dict[str, int]:
        """Stop the held cameras among ``camera_ids``; returns them with their tokens. Their tokens
        stay what their last messages are stamped with."""
        with self._lock:
            stopped = {c: self._held.pop(c) for c in camera_ids if c in self._held}
        if stopped and not applied:
            self._run_held()
        if stopped:
            metrics.LEASE_EVENTS.labels(event).inc(len(stopped))
        return stopped

    def _set_token(self, camera_id: str, token: int) -> None:
        with self._lock:
            self._tokens[camera_id] = token
            if camera_id in self._held:
                self._held[camera_id] = token

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
