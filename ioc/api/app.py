"""The FastAPI app factory and its lifespan.

``create_app`` wires routers to a bus, a store and (optionally) the engine's live view; it owns
neither the bus nor the store (``ioc serve`` opens and closes them). The lifespan starts the
live-state follower (latest camera status / KPI per key from the bus), the session revocation
watch and retention, and stops them in reverse order. Sessions are kept in the store (the first
start after an upgrade moves an older ``data_dir/sessions.db`` into it).

Every HTTP response carries the security headers of ``ioc.api.middleware``; bodies over
``max_body_bytes`` are refused with 413 before a route reads them; ``X-Forwarded-For`` /
``X-Forwarded-Proto`` are believed only from ``trusted_proxies``. The dashboard's static files are
served for every path except the API's own (``API_PREFIXES``), so a wrong method on an API path
answers 405 from the API, and an unknown API path 404 in the API's error shape.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Protocol

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.routing import Match, Mount
from starlette.types import Scope
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from ioc.api import ws
from ioc.api.auth import load_or_create_secret
from ioc.api.context import ApiOptions, AppContext, ConfigSubmitter, EngineView, FrameSource, LiveState
from ioc.api.docs import install_docs
from ioc.api.errors import install_errors
from ioc.api.middleware import BodyLimit, RejectNul, SecurityHeaders
from ioc.api.routers import admin, alerts, auth, cameras, flows, health, kpi, site, snapshots
from ioc.api.routers.kpi_routers import KPI_ROUTERS
from ioc.api.sessions import RevocationWatch, SessionStore
from ioc.api.throttle import LoginThrottle
from ioc.bus.base import ServerBus
from ioc.bus.subscription import SlowConsumerError, Subscription
from ioc.config.models import IocConfig
from ioc.kpi.service import KpiService
from ioc.messages import CameraStatus, KpiSnapshot
from ioc.settings import Settings
from ioc.store.base import Store
from ioc.store.retention import RetentionWorker

logger = logging.getLogger(__name__)

DASHBOARD_DIR = Path(__file__).resolve().parents[2] / "dashboard"
PUBLIC_PATHS = frozenset(
    {
        "/healthz",
        "/readyz",
        "/metrics",
        "/api/auth/login",
        "/api/auth/logout",
        "/api/site",
        "/docs",
        "/docs/oauth2-redirect",
        "/docs/swagger-init.js",
        "/docs/oauth2-redirect.js",
        "/openapi.json",
        "/open311/v2/services.json",
        "/open311/v2/requests.json",
        "/open311/v2/requests/{request_id}.json",
    }
)
"""Paths served without a token; everything else under /api, /ws and /snapshots needs one."""

API_PREFIXES = ("/api/", "/ws", "/snapshots/", "/docs/", "/docs-assets/")
API_PATHS = frozenset({"/api", "/healthz", "/readyz", "/metrics", "/openapi.json", "/docs", "/snapshots"})


class DashboardMount(Mount):
    """The dashboard's files at ``/``, but never for the API's paths."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        path = scope.get("path", "")
        if path in API_PATHS or path.startswith(API_PREFIXES):
            return Match.NONE, {}
        return super().matches(scope)


class Service(Protocol):
    """A background thread the app starts after it listens to the bus and stops at shutdown."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


async def follow_live_state(ctx: AppContext, sub: Subscription) -> None:
    """Keep the latest camera status and KPI snapshot from the bus (resubscribes if it lags)."""
    while True:
        try:
            async for message in sub:
                if isinstance(message, CameraStatus | KpiSnapshot):
                    ctx.live.note(message)
        except SlowConsumerError:
            logger.warning("live-state follower fell behind the bus; resubscribing")
        finally:
            sub.close()
        sub = ctx.bus.subscribe()


def _lifespan(
    ctx: AppContext, services: Sequence[Service]
) -> Callable[[FastAPI], contextlib.AbstractAsyncContextManager[None]]:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # subscribed before any service starts, so the first KPI snapshot is not missed
        follower = asyncio.create_task(follow_live_state(ctx, ctx.bus.subscribe()), name="live-state")
        watch = asyncio.create_task(
            ctx.revocations.run(ctx.options.revocation_poll_seconds), name="session-revocations"
        )
        config = ctx.live.config
        started: list[Service] = []
        if config is not None:
            started.append(RetentionWorker(ctx.store, ctx.settings.snapshots_dir, config.retention))
        started.extend(services)
        for service in started:
            service.start()
        try:
            yield
        finally:
            for service in reversed(started):
                service.stop()
            for task in (watch, follower):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    return lifespan


def create_app(
    settings: Settings,
    *,
    bus: ServerBus,
    store: Store,
    engine: EngineView | None = None,
    frames: FrameSource | None = None,
    config: IocConfig | None = None,
    options: ApiOptions | None = None,
    dashboard_dir: Path | None = None,
    services: Sequence[Service] = (),
    reloader: ConfigSubmitter | None = None,
    kpi_service: KpiService | None = None,
) -> FastAPI:
    """The app; ``services`` (e.g. the operations KPI publisher) run while it serves; ``reloader``
    applies ``PUT /api/config`` to the running pipeline (hot reload); ``frames`` serves the live
    pictures (default: the engine's)."""
    sessions = SessionStore.open_for(store, settings.data_dir)
    ctx = AppContext(
        settings=settings,
        bus=bus,
        store=store,
        secret=load_or_create_secret(settings.data_dir),
        live=LiveState(config),
        sessions=sessions,
        throttle=LoginThrottle(
            settings.login_slowdown_after, settings.login_lock_after, settings.login_lock_minutes * 60
        ),
        revocations=RevocationWatch(sessions),
        engine=engine,
        frames=frames if frames is not None else engine,
        options=options or ApiOptions(),
        reloader=reloader,
    )
    if reloader is not None:
        reloader.on_applied(ctx.live.set_config)

    app = FastAPI(
        title="IOC video analytics",
        version="1",
        description="Alerts, cameras and KPIs for the operations centre (README: HTTP and WebSocket API).",
        lifespan=_lifespan(ctx, services),
        docs_url=None,  # FastAPI's pages load Swagger UI and ReDoc from CDNs; ours are local
        redoc_url=None,
    )
    install_docs(app)
    install_errors(app)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(RejectNul)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    app.state.ctx = ctx
    app.state.kpi = kpi_service
    for router in (
        auth.router,
        health.router,
        cameras.router,
        alerts.router,
        flows.router,
        snapshots.router,
        admin.router,
        kpi.router,
        *KPI_ROUTERS,
        site.router,
        ws.router,
    ):
        app.include_router(router)
    static = dashboard_dir if dashboard_dir is not None else DASHBOARD_DIR
    if (static / "index.html").is_file():
        app.router.routes.append(
            DashboardMount("/", app=StaticFiles(directory=static, html=True), name="dashboard")
        )
    return app
