"""Liveness, readiness and Prometheus metrics (public: probes and scrapers carry no token)."""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ioc.api.deps import Ctx

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "Not ready: a check failed (same body)"}})
def readyz(ctx: Ctx, response: Response) -> dict[str, object]:
    """Ready when the store (and Redis, on a cluster API node) answer; a cluster node also shows
    which worker holds each camera's lease (``leases``; cameras with no holder are missing)."""
    bus = ctx.bus.readiness()
    checks = {"store": ctx.store.ping(), **{k: v for k, v in bus.items() if isinstance(v, bool)}}
    ready = all(checks.values())
    if not ready:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    extra = {k: v for k, v in bus.items() if not isinstance(v, bool)}
    return {
        "status": "ready" if ready else "not ready",
        "checks": checks,
        "last_seq": ctx.bus.last_seq,
    } | extra


@router.get("/metrics", response_class=Response)
def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
