"""Shared pieces of the KPI routers: the KPI service of the app, push-token checks, role gates."""

from __future__ import annotations

import hmac
import os
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status

from ioc.api.auth import can_see_category
from ioc.api.deps import CurrentUser
from ioc.config.kpi_models import PushSource
from ioc.kpi.service import KpiService
from ioc.messages import Category


def get_kpi(request: Request) -> KpiService:
    kpi: KpiService | None = getattr(request.app.state, "kpi", None)
    if kpi is None:
        raise HTTPException(  # absent, like GET /api/config without a cameras.yaml: not a server error
            status.HTTP_404_NOT_FOUND, "no KPI config on this server: create kpi.yaml (README: KPIs)"
        )
    return kpi


Kpi = Annotated[KpiService, Depends(get_kpi)]


def require_category(category: Category) -> Any:
    def check(user: CurrentUser) -> None:
        if not can_see_category(user.role, category):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, f"role {user.role.value!r} may not see {category.value}"
            )

    return Depends(check)


def push_source(kpi: KpiService, source_id: str, token: str | None) -> PushSource:
    """The push source ``source_id`` whose token is ``token``; 401 for a wrong or missing token
    (checked first, so an anonymous caller learns nothing), 404 for an unknown source."""
    if not token:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "missing push token", headers={"WWW-Authenticate": "Bearer"}
        )
    source = kpi.config.source(source_id)
    if not isinstance(source, PushSource):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no push source {source_id!r} in kpi.yaml")
    expected = os.environ.get(source.token_env, "")
    if not expected or not hmac.compare_digest(expected.encode(), token.encode()):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "wrong push token", headers={"WWW-Authenticate": "Bearer"}
        )
    return source
