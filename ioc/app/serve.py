"""``ioc serve``: engine + API (+ dashboard) in one process.

Start-up is a list of steps: check the settings, take the HTTP port (so a port in use fails at
once, before the engine loads), load the config, open the store, make sure an admin exists, open
the bus, start the engine (or, an API node of a cluster, read the live pictures workers publish to
Redis), serve HTTP on the port taken first (the app's lifespan runs retention
and the operations KPIs).
Shutdown (SIGINT / SIGTERM) stops the server and its background threads, then undoes the steps in
reverse: the engine's readers and workers stop (their last alerts still go out), the bus stores
what is pending, the store closes.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import logging
import signal
import socket
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any

from ioc.api.auth import ADMIN_PASSWORD_FILE, ensure_admin
from ioc.app.settings_check import SettingsError, checked_settings, print_config_errors
from ioc.bus import open_bus
from ioc.bus.redis_bus import RedisBusError
from ioc.cluster.frames import LiveFrames, first_wait_seconds
from ioc.config.kpi_models import KpiConfig
from ioc.config.models import IocConfig
from ioc.config.reload import ConfigReloader
from ioc.kpi.operations import OperationsKpiPublisher
from ioc.kpi.wiring import build_kpi, load_optional_kpi_config
from ioc.redact import redact_text
from ioc.settings import Settings
from ioc.store import StoreError, open_store

logger = logging.getLogger(__name__)


class RedactTokens(logging.Filter):
    """Uvicorn logs request paths with their query string (``/ws?token=…``) and errors may quote
    URLs: every string argument goes through :func:`ioc.redact.redact_text`."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact_text(record.msg)
        if record.args:
            args = record.args if isinstance(record.args, tuple) else (record.args,)
            record.args = tuple(redact_text(a) if isinstance(a, str) else a for a in args)
        return True


class _Stopped(Exception):
    """Raised by our signal handler once uvicorn has finished its graceful shutdown."""


def settings_from_args(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {}
    for arg, name in (
        ("config", "config_path"),
        ("host", "host"),
        ("port", "port"),
        ("data_dir", "data_dir"),
        ("tls_cert", "tls_cert"),
        ("tls_key", "tls_key"),
    ):
        value = getattr(args, arg, None)
        if value is not None:
            overrides[name] = value
    return checked_settings(**overrides)


def check_tls(settings: Settings) -> None:
    """Both or neither of tls_cert / tls_key, each a readable PEM file with the right content, and
    the pair matching; raises ``SettingsError`` naming the problem (never a traceback at start)."""
    cert, key = settings.tls_cert, settings.tls_key
    if cert is None and key is None:
        return
    if cert is None or key is None:
        raise SettingsError(["--tls-cert and --tls-key (IOC_TLS_CERT, IOC_TLS_KEY) go together: give both"])
    import ssl

    for flag, path in (("--tls-cert", cert), ("--tls-key", key)):
        if not path.is_file():
            raise SettingsError([f"{flag} {path}: no such file"])
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert, key)
    except (ssl.SSLError, OSError) as exc:
        raise SettingsError(
            [f"--tls-cert {cert} / --tls-key {key}: not a matching PEM certificate and key ({exc})"]
        ) from None


def load_optional_config(path: Path, required: bool) -> IocConfig | None:
    """The validated config; None when the file is absent and not ``required``.
    Raises ``ConfigError`` with every problem and its line."""
    from ioc.config.errors import ConfigError
    from ioc.config.loader import load_config

    if not path.exists():
        if required:
            raise ConfigError([f"{path}: file not found (pass --config, or --no-engine to run the API only)"])
        logger.info("no config at %s: serving the API without cameras", path)
        return None
    return load_config(path)


def bind_http(host: str, port: int) -> socket.socket:
    """The listening socket uvicorn will serve on, taken before anything slow loads.
    Raises ``OSError`` with a one-line reason naming host:port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        reason = "address already in use" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc))
        raise OSError(exc.errno, f"cannot listen on {where}: {reason}") from None
    sock.set_inheritable(True)
    return sock


def serve_command(args: argparse.Namespace) -> int:
    from ioc.config.errors import ConfigError

    try:
        settings = settings_from_args(args)
        check_tls(settings)
    except SettingsError as exc:
        for line in exc.lines:
            print(f"ioc serve: {line}", file=sys.stderr)
        return 2
    try:
        sock = bind_http(settings.host, settings.port)
    except OSError as exc:
        print(f"ioc serve: {exc.strerror}", file=sys.stderr)
        return 2
    with sock:
        try:
            config = load_optional_config(settings.config_path, required=not args.no_engine)
        except ConfigError as exc:
            print_config_errors("serve", "config", settings.config_path, exc)
            return 2
        try:
            kpi_config = load_optional_kpi_config(settings.kpi_config_path)
        except ConfigError as exc:
            print_config_errors("serve", "KPI config", settings.kpi_config_path, exc)
            return 2
        try:
            return serve(
                settings, config, engine_enabled=not args.no_engine, sock=sock, kpi_config=kpi_config
            )
        except (StoreError, RedisBusError) as exc:
            print(f"ioc serve: {exc}", file=sys.stderr)
            return 2


def serve(
    settings: Settings,
    config: IocConfig | None,
    *,
    engine_enabled: bool,
    sock: socket.socket | None = None,
    kpi_config: KpiConfig | None = None,
) -> int:
    """Run until SIGINT/SIGTERM; ``sock`` is the port taken by :func:`bind_http` (bound here if None)."""
    with contextlib.ExitStack() as undo:
        if sock is None:
            sock = undo.enter_context(bind_http(settings.host, settings.port))
        store = open_store(settings)
        undo.callback(store.close)
        _announce_admin(settings, ensure_admin(store, settings.data_dir))
        bus = open_bus(settings, store)
        undo.callback(bus.close)
        engine = None
        if engine_enabled and config is not None:
            engine = start_engine(config, settings, bus.publish)
            undo.callback(engine.stop)
        frames = cluster_frames(settings) if engine is None else None
        if frames is not None:
            undo.callback(frames.close)
        from ioc.api.app import create_app

        reloader = config_reloader(settings, config, engine)
        categories = {c.alert_category for c in config.cameras} if config is not None else set()
        services: list[Any] = [OperationsKpiPublisher(store, bus.publish, categories=categories)]
        kpi_service = None
        if kpi_config is not None:
            kpi_service, kpi_threads = build_kpi(kpi_config, config, store, bus.publish)
            services.extend(kpi_threads)
        if reloader:
            services.append(reloader)

        app = create_app(
            settings,
            bus=bus,
            store=store,
            engine=engine,
            frames=frames,
            config=config,
            services=services,
            reloader=reloader,
            kpi_service=kpi_service,
        )
        run_server(app, settings, sock)
        logger.info("shutting down: engine, bus, store")
    return 0


def start_engine(config: IocConfig, settings: Settings, publish: Any) -> Any:
    """The camera pipeline (ioc.pipeline), imported only when cameras run in this process."""
    from ioc.pipeline.supervisor import Engine

    engine = Engine(config, settings, publish)
    engine.start()
    return engine


def cluster_frames(settings: Settings) -> LiveFrames | None:
    """An API node without an engine serves the live pictures workers publish to Redis."""
    if not settings.redis_url:
        return None
    return LiveFrames(settings.redis_url, first_wait_seconds=first_wait_seconds(settings.live_frame_seconds))


def config_reloader(settings: Settings, config: IocConfig | None, engine: Any) -> ConfigReloader | None:
    """Hot reload of the config file and of ``PUT /api/config``; None without a config file."""
    if config is None:
        return None
    if engine is not None:

        def apply(new: IocConfig, who: str) -> list[str]:
            lines: list[str] = engine.apply(new, who).summary()
            return lines

    else:
        current = [config]

        def apply(new: IocConfig, who: str) -> list[str]:
            from ioc.pipeline.config_diff import diff_configs

            lines = diff_configs(current[0], new).summary()
            current[0] = new
            return lines

    return ConfigReloader(settings.config_path, apply, poll_seconds=settings.config_poll_seconds)


def run_server(app: Any, settings: Settings, sock: socket.socket) -> None:
    """Serve ``app`` on ``sock``; prints ``ioc: serving http://…`` once the app has started."""
    import uvicorn

    for name in ("uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).addFilter(RedactTokens())
    for log_handler in logging.getLogger().handlers:  # every line ioc logs, whichever logger wrote it
        log_handler.addFilter(RedactTokens())
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=settings.host,
            port=settings.port,
            log_level="info",
            lifespan="on",
            timeout_graceful_shutdown=5,
            proxy_headers=False,  # the app applies X-Forwarded-* from IOC_TRUSTED_PROXIES itself
            ws_max_size=65_536,
            ws_per_message_deflate=settings.ws_compression,
            ssl_certfile=settings.tls_cert,
            ssl_keyfile=settings.tls_key,
        )
    )

    def stop(signum: int, frame: FrameType | None) -> None:
        raise _Stopped(signum)

    scheme = "https" if settings.tls_cert is not None else "http"
    url = f"{scheme}://{_display_host(settings.host)}:{settings.port}/"
    finished = threading.Event()
    announcer = threading.Thread(
        target=_announce_when_started, args=(server, url, finished), name="serve-announce", daemon=True
    )
    main = threading.current_thread() is threading.main_thread()
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)} if main else {}
    announcer.start()
    try:
        server.run(sockets=[sock])
    except _Stopped:
        pass
    finally:
        finished.set()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _announce_when_started(server: Any, url: str, done: threading.Event) -> None:
    while not done.wait(0.05):
        if server.started:
            print(f"ioc: serving {url}", flush=True)
            return


def _announce_admin(settings: Settings, password: str | None) -> None:
    if password is None:
        return
    path = settings.data_dir / ADMIN_PASSWORD_FILE
    print("ioc: first start: created user 'admin'", flush=True)
    print(f"ioc: admin password: {password}", flush=True)
    print(f"ioc: (also written to {path}, readable by this user only)", flush=True)


def _display_host(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "") else (f"[{host}]" if ":" in host else host)
