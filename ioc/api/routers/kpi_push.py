"""``POST /api/kpi/push/{source}``: a portal or app pushes a batch of records.

Authenticated by the source's own token (``Authorization: Bearer <token>``, the value of the
environment variable named by ``token_env`` in kpi.yaml), not by a user login. The body is a
JSON list of records, or ``{"records": [...]}``; at most 5000 per batch. Each record is validated
on its own: the answer (200) says how many were accepted and lists each refused one with its
position, id and reasons. Sending a record again updates it (idempotent by source and id).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, HTTPException, Request, status

from ioc.api.errors import error_responses
from ioc.api.routers.kpi_deps import push_source
from ioc.kpi.ingest import MAX_BATCH, IngestResult, ingest
from ioc.kpi.service import KpiService

router = APIRouter(prefix="/api/kpi/push", tags=["kpi"], responses=error_responses(401))


def bearer(authorization: Annotated[str | None, Header()] = None) -> str:
    """The Bearer token of the request; 401 before anything else when there is none."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "missing push token", headers={"WWW-Authenticate": "Bearer"}
        )
    return token.strip()


def records_of(body: Any) -> list[Any]:
    items = body.get("records") if isinstance(body, dict) else body
    if not isinstance(items, list):
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, 'expected a JSON list of records, or {"records": [...]}'
        )
    if len(items) > MAX_BATCH:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE,
            f"at most {MAX_BATCH} records per batch, got {len(items)}",
        )
    return items


@router.post("/{source_id}")
def push(
    source_id: str,
    token: Annotated[str, Depends(bearer)],
    request: Request,
    body: Annotated[Any, Body(description='A JSON list of records, or {"records": [...]}')] = None,
) -> IngestResult:
    kpi: KpiService | None = getattr(request.app.state, "kpi", None)
    if kpi is None:  # no kpi.yaml: no token can be right
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong push token (no kpi.yaml: no push source)")
    source = push_source(kpi, source_id, token)
    return ingest(kpi.store, source.id, source.kind, records_of(body))
