"""The public-service / field-report routers, in the order the app includes them."""

from __future__ import annotations

from ioc.api.routers import kpi_data, kpi_push, open311

KPI_ROUTERS = (kpi_data.router, kpi_push.router, open311.router)
