"""Traffic flows: counts per class and direction per interval for every line_crossing rule.

``GET /api/flows?camera=&line=&from=&to=`` lists the stored intervals that overlap [from, to),
oldest first, limited like alerts by the caller's role (a traffic user sees traffic cameras).
Without ``from`` the last 24 hours are listed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status

from ioc.api.auth import visible_categories
from ioc.api.deps import Ctx, CurrentUser
from ioc.messages import FlowCount
from ioc.store.base import FlowQuery

router = APIRouter(prefix="/api/flows", tags=["flows"])

DEFAULT_WINDOW = timedelta(hours=24)
MAX_LIMIT = 5000


@router.get("")
def list_flows(
    ctx: Ctx,
    user: CurrentUser,
    camera: Annotated[str | None, Query(description="Camera id")] = None,
    line: Annotated[str | None, Query(description="Line id (of the line_crossing rule)")] = None,
    since: Annotated[
        datetime | None, Query(alias="from", description="Intervals ending after this (ISO 8601)")
    ] = None,
    until: Annotated[
        datetime | None, Query(alias="to", description="Intervals starting before this (ISO 8601)")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 1000,
) -> list[FlowCount]:
    """Flow counts, oldest interval first; the newest ``limit`` when more match."""
    since = _aware(since) if since is not None else datetime.now(UTC) - DEFAULT_WINDOW
    until = _aware(until) if until is not None else None
    if until is not None and until <= since:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"to: {until.isoformat()} is not after from: {since.isoformat()}",
        )
    query = FlowQuery(
        camera_id=camera,
        line_id=line,
        categories=visible_categories(user.role),
        since=since,
        until=until,
        limit=limit,
    )
    return ctx.store.query_flows(query)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
