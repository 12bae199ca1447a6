"""The latest KPI snapshot of every source seen on the bus that the caller's role may see."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from ioc.api.auth import may_receive
from ioc.api.deps import Ctx, CurrentUser, get_principal
from ioc.api.errors import error_responses
from ioc.messages import KpiSnapshot

router = APIRouter(
    prefix="/api", tags=["kpi"], dependencies=[Depends(get_principal)], responses=error_responses(401)
)


@router.get("/kpi")
def kpi(ctx: Ctx, user: CurrentUser) -> list[KpiSnapshot]:
    """Agency staff get none: a snapshot adds up every agency (their tables: /api/kpi/...)."""
    return [k for k in ctx.live.kpis() if may_receive(user, k, None)]
