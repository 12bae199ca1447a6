"""The latest KPI snapshot of every source seen on the bus that the caller's role may see."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from ioc.api.auth import can_see_category
from ioc.api.deps import Ctx, CurrentUser, get_principal
from ioc.api.errors import error_responses
from ioc.messages import KpiSnapshot

router = APIRouter(
    prefix="/api", tags=["kpi"], dependencies=[Depends(get_principal)], responses=error_responses(401)
)


@router.get("/kpi")
def kpi(ctx: Ctx, user: CurrentUser) -> list[KpiSnapshot]:
    return [k for k in ctx.live.kpis() if can_see_category(user.role, k.category)]
