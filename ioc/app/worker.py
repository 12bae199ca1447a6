"""``ioc worker``: a camera-worker node of a cluster (no API; ``/healthz`` and ``/metrics`` only).

Start-up is a list of steps: check the settings (``IOC_REDIS_URL`` is required), take the health
port (so a port in use fails at once), load the config, connect to Redis (a Redis that is down is
not fatal: the node waits for it, and spools), load the models, start the node's engine (no
camera yet), start the health server, start the live-picture publisher
(``ioc.cluster.frame_publisher``), start the config-file watch, run the lease loop.

Hot reload: the config file is watched as ``ioc serve`` watches it (``ioc.config.reload``, every
``IOC_CONFIG_POLL_SECONDS``). A valid new version has its models loaded first (one that cannot be
loaded refuses the version), then goes to ``WorkerNode.reconfigure``; an invalid one is logged with
the loader's errors and the running config stays.

Shutdown (SIGINT / SIGTERM) stops the config watch, the live-picture publisher and every camera
(their last alerts still go out), gives the leases back, sends what is queued (what cannot go
stays in the spool for the next start) and stops the health server.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ioc.app.settings_check import SettingsError, checked_settings, print_config_errors
from ioc.bus.redis_bus import RedisBus, connect
from ioc.cluster.frame_publisher import LiveFramePublisher
from ioc.cluster.leases import CameraLeases
from ioc.cluster.node import CameraHost, DetectorFactory, SharedDetectors, WorkerNode
from ioc.cluster.spool import DiskSpool, Outbox
from ioc.config.models import IocConfig
from ioc.config.reload import ConfigReloader
from ioc.settings import Settings

logger = logging.getLogger(__name__)


def settings_from_args(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {}
    for arg, name in (("config", "config_path"), ("data_dir", "data_dir"), ("port", "worker_port")):
        value = getattr(args, arg, None)
        if value is not None:
            overrides[name] = value
    if getattr(args, "node", None):
        overrides["node_name"] = args.node
    return checked_settings(**overrides)


def worker_command(args: argparse.Namespace) -> int:
    from ioc.config.errors import ConfigError
    from ioc.config.loader import load_config

    try:
        settings = settings_from_args(args)
    except SettingsError as exc:
        for line in exc.lines:
            print(f"ioc worker: {line}", file=sys.stderr)
        return 2
    if not settings.redis_url:
        print("ioc worker: IOC_REDIS_URL is not set: a worker publishes to Redis (redis://host:6379/0)",
              file=sys.stderr)  # fmt: skip
        return 2
    try:
        health = bind_health(settings)
    except OSError as exc:
        where = f"{settings.host}:{settings.worker_port}"
        print(f"ioc worker: cannot listen on {where}: {exc.strerror}", file=sys.stderr)
        return 2
    try:
        config = load_config(settings.config_path)
    except ConfigError as exc:
        print_config_errors("worker", "config", settings.config_path, exc)
        health.server_close()
        return 2
    return run_worker(settings, config, health=health)


def bind_health(settings: Settings) -> ThreadingHTTPServer:
    """The ``/healthz`` + ``/metrics`` server, bound (not serving yet)."""
    server = ThreadingHTTPServer((settings.host, settings.worker_port), _HealthHandler)
    server.daemon_threads = True
    return server


def run_worker(
    settings: Settings,
    config: IocConfig,
    *,
    health: ThreadingHTTPServer | None = None,
    detector_factory: DetectorFactory | None = None,
    stop: threading.Event | None = None,
) -> int:
    """Run until SIGINT/SIGTERM (or ``stop``); ``detector_factory`` defaults to the model backend."""
    assert settings.redis_url is not None
    node_name = settings.node_name or _hostname()
    bus = RedisBus(settings.redis_url, None, node=node_name, consume=False, check=False)
    leases = CameraLeases(connect(settings.redis_url, timeout_s=2.0), node_name, settings.lease_seconds)
    detectors = SharedDetectors(detector_factory or _model_detector)
    spool_path = settings.data_dir / "spool" / f"{node_name}.jsonl"

    def outbox(send: Any) -> Outbox:
        return Outbox(send, DiskSpool(spool_path, settings.spool_max_messages))

    def host(held: IocConfig, publish: Any) -> CameraHost:
        from ioc.pipeline.supervisor import Engine

        return Engine(held, settings, publish, detector_factory=detectors)

    warm_up(config, settings, node_name, detectors)
    node = WorkerNode(config, settings, bus=bus, leases=leases, outbox_factory=outbox, host_factory=host)

    def reload(new: IocConfig, who: str) -> list[str]:
        warm_up(new, settings, node_name, detectors)  # a model that cannot be loaded refuses it
        return node.reconfigure(new, who)

    reloader = ConfigReloader(settings.config_path, reload, poll_seconds=settings.config_poll_seconds)
    health = health or bind_health(settings)
    health.RequestHandlerClass = _handler_for(node)
    served = threading.Thread(target=health.serve_forever, name="ioc-worker-health", daemon=True)
    served.start()
    stop = stop or _stop_on_signals()
    pictures = start_live_frames(settings, node, stop)
    if settings.config_poll_seconds > 0:
        reloader.start()
    else:
        logger.info("worker %s: config watch off (IOC_CONFIG_POLL_SECONDS=0)", node_name)
    print(f"ioc: worker {node_name} running; health on http://{settings.host}:{settings.worker_port}/healthz",
          flush=True)  # fmt: skip
    try:
        node.run(stop)
    finally:
        logger.info("worker %s: shutting down: cameras, leases, outbox, health", node_name)
        stop.set()
        reloader.stop()
        if pictures is not None:
            pictures.join(timeout=5)
        node.shutdown()
        health.shutdown()
        health.server_close()
        bus.close()
    return 0


def start_live_frames(settings: Settings, node: WorkerNode, stop: threading.Event) -> threading.Thread | None:
    """The thread that publishes watched cameras' live pictures for API nodes (none when
    ``IOC_LIVE_FRAME_SECONDS`` is 0)."""
    if not settings.live_frame_seconds or settings.redis_url is None:
        return None
    client = connect(settings.redis_url, timeout_s=2.0)
    publisher = LiveFramePublisher(
        client, node.node, node.held_cameras, interval_seconds=settings.live_frame_seconds
    )
    thread = threading.Thread(target=publisher.run, args=(stop,), name="ioc-live-frames", daemon=True)
    thread.start()
    return thread


def warm_up(config: IocConfig, settings: Settings, node_name: str, detectors: SharedDetectors) -> None:
    """Import the pipeline and load every model this node may run before taking any lease, so
    that starting a camera later is quick and never holds up lease renewals."""
    import ioc.pipeline.supervisor  # noqa: F401  (imports the tracker: seconds on a small CPU)

    for camera in config.cameras:
        if camera.enabled and camera.worker in (None, node_name) and not detectors.loaded(camera.detect):
            logger.info("worker %s: loading model %s", node_name, camera.detect.model)
            detectors(camera.detect, settings)


def _model_detector(detect: Any, settings: Settings) -> Any:
    from ioc.detect.ultralytics_backend import load_detector

    return load_detector(detect.model, settings, imgsz=detect.imgsz, iou=detect.iou)


def _hostname() -> str:
    import socket

    return socket.gethostname()


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, handler)
    return stop


class _HealthHandler(BaseHTTPRequestHandler):
    node: WorkerNode | None = None

    def do_GET(self) -> None:
        if self.path == "/metrics":
            self._reply(200, generate_latest(), CONTENT_TYPE_LATEST)
        elif self.path == "/healthz":
            body = self.node.status() if self.node is not None else {"status": "starting"}
            self._reply(200, json.dumps({"status": "ok", **body}).encode(), "application/json")
        else:
            self._reply(404, b'{"detail": "not found: a worker serves only /healthz and /metrics"}',
                        "application/json")  # fmt: skip

    def _reply(self, code: int, body: bytes, content_type: str) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("health: %s", format % args)


def _handler_for(node: WorkerNode) -> type[_HealthHandler]:
    return type("WorkerHealthHandler", (_HealthHandler,), {"node": node})
