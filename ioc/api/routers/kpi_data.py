"""KPI tables for the wall and for reports: dossiers, overdue list, field reports, hotline, indicators.

Each needs a login and a role that sees the category (``public_service`` for dossiers, hotline
and indicators; ``field_report`` for field reports). ``period``: ``today``, ``month``, ``year`` or
``YYYY-MM-DD..YYYY-MM-DD`` (site time zone); ``by`` groups the KPIs (dossiers: agency, field,
procedure; field reports: category, agency). An ``agency``-role user gets every table computed
over their own agency's records only (totals, groups, the overdue and open lists, indicators) and
no hotline table (calls are not per agency).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, status

from ioc.api.auth import Role
from ioc.api.deps import CurrentUser, get_principal
from ioc.api.errors import error_responses
from ioc.api.routers.kpi_deps import Kpi, require_category
from ioc.kpi.dossiers import Period
from ioc.kpi.open311 import to_open311
from ioc.kpi.service import KpiService, PeriodError, parse_period
from ioc.messages import Category

router = APIRouter(
    prefix="/api/kpi",
    tags=["kpi"],
    dependencies=[Depends(get_principal)],
    responses=error_responses(401, 403, 404),  # 403: a role that may not see the category; 404: no kpi.yaml
)
PUBLIC = require_category(Category.PUBLIC_SERVICE)
REPORTS = require_category(Category.FIELD_REPORT)
NO_HOTLINE = "role 'agency' may not see the hotline: its calls belong to no agency"
PeriodQuery = Annotated[str, Query(description="today | month | year | YYYY-MM-DD..YYYY-MM-DD")]


def _period(kpi: KpiService, text: str, now: datetime) -> Period:
    try:
        return parse_period(text, now, kpi.calendar)
    except PeriodError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from None


@router.get("/public-service", dependencies=[PUBLIC])
def public_service(
    kpi: Kpi,
    user: CurrentUser,
    period: PeriodQuery = "month",
    by: Literal["agency", "field", "procedure"] | None = None,
) -> dict[str, Any]:
    """Dossier KPIs for the period, overall and per ``by`` (formulas: README, KPIs)."""
    now = datetime.now(UTC)
    return kpi.dossier_kpis(_period(kpi, period, now), now, by, user.agency)


@router.get("/public-service/overdue", dependencies=[PUBLIC])
def overdue(
    kpi: Kpi, user: CurrentUser, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[dict[str, Any]]:
    """Open overdue dossiers, most overdue (working hours) first."""
    return kpi.overdue(datetime.now(UTC), user.agency, limit)


@router.get("/field-reports", dependencies=[REPORTS])
def field_reports(
    kpi: Kpi,
    user: CurrentUser,
    period: PeriodQuery = "month",
    by: Literal["category", "agency"] | None = None,
) -> dict[str, Any]:
    now = datetime.now(UTC)
    return kpi.report_kpis(_period(kpi, period, now), now, by, user.agency)


@router.get("/field-reports/open", dependencies=[REPORTS])
def open_reports(
    kpi: Kpi, user: CurrentUser, limit: Annotated[int, Query(ge=1, le=5000)] = 1000
) -> list[dict[str, Any]]:
    """Open reports with a position (the wall's map layer), public Open311 shape."""
    rows = [
        to_open311(s.record)
        for s in kpi.reports(user.agency)
        if not s.record.is_closed and s.record.lat is not None
    ]
    return rows[:limit]


@router.get("/hotline", dependencies=[PUBLIC])
def hotline(kpi: Kpi, user: CurrentUser, period: PeriodQuery = "today") -> list[dict[str, Any]]:
    if user.role is Role.AGENCY:
        raise HTTPException(status.HTTP_403_FORBIDDEN, NO_HOTLINE)
    rows = kpi.hotline(_period(kpi, period, datetime.now(UTC)))
    return [
        {
            "day": r.day,
            "branch": r.branch,
            "topic": r.topic,
            "calls": r.calls,
            "answered": r.answered,
            "missed": r.missed,
            "answer_rate": r.answer_rate,
        }
        for r in rows
    ]


@router.get("/indicators", dependencies=[PUBLIC])
def indicators(kpi: Kpi, user: CurrentUser) -> list[dict[str, Any]]:
    return [
        {
            "indicator": r.indicator,
            "name": r.name,
            "unit": r.unit,
            "agency": r.agency,
            "period": r.period,
            "value": r.value,
            "target": r.target,
            "vs_target": r.vs_target,
            "trend": list(r.trend),
        }
        for r in kpi.indicators()
        if user.agency is None or r.agency == user.agency
    ]
