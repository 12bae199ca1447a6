"""The latest KPI snapshot of every source seen on the bus."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from ioc.api.deps import Ctx, get_principal
from ioc.api.errors import error_responses
from ioc.messages import KpiSnapshot

router = APIRouter(
    prefix="/api", tags=["kpi"], dependencies=[Depends(get_principal)], responses=error_responses(401)
)


@router.get("/kpi")
def kpi(ctx: Ctx) -> list[KpiSnapshot]:
    return ctx.live.kpis()
