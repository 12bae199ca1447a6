"""The whole OpenAPI contract under generated requests (schemathesis), as admin, operator, police,
traffic and anonymous: no server error, and every response (status, content type, body) is one
the spec declares. Kept small (``MAX_EXAMPLES`` per operation) so the run stays well under two
minutes on a loaded two-core machine."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from ioc.api.app import create_app
from ioc.api.auth import issue_token
from ioc.api.context import ApiOptions
from ioc.bus.memory import MemoryBus
from ioc.config.kpi_models import KpiConfig
from ioc.kpi.service import KpiService
from ioc.settings import load_settings
from ioc.store.sqlite import SqliteStore
from tests.api.conftest import ROLES, seed_users
from tests.factories import make_alert, make_ioc_config

pytestmark = pytest.mark.slow

MAX_EXAMPLES = 12
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    tmp: Path = tmp_path_factory.mktemp("schemathesis")
    settings_ = load_settings(data_dir=tmp / "data", config_path=tmp / "cameras.yaml")
    store = SqliteStore(settings_.data_dir / "ioc.db")
    seed_users(store)
    for i in range(3):
        store.save_alert(make_alert(i + 1).model_copy(update={"seq": i + 1}))
    bus = MemoryBus(store)
    kpi_config = KpiConfig.model_validate({})
    yield create_app(
        settings_,
        bus=bus,
        store=store,
        config=make_ioc_config(retention={"max_age_days": 36500}),
        options=ApiOptions(heartbeat_seconds=30),
        kpi_service=KpiService(kpi_config, kpi_config.working_hours.calendar("Asia/Ho_Chi_Minh"), store),
    )
    bus.close()
    store.close()


def _headers(app: FastAPI, role: str | None) -> dict[str, str]:
    """A fresh token per call: a generated logout may end the session it was given."""
    if role is None:
        return {}
    ctx = app.state.ctx
    name = next(n for n, r in ROLES.items() if r == role)
    user = ctx.store.get_user(name)
    if user is None:  # a generated DELETE removed it: the calls go on anonymous-like
        return {"Authorization": "Bearer removed"}
    return {"Authorization": f"Bearer {issue_token(ctx.secret, ctx.sessions, user, timedelta(minutes=5))}"}


def _run_operation(app: FastAPI, operation: Any) -> None:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        for role in (*sorted(set(ROLES.values())), None):
            case.call_and_validate(headers=_headers(app, role), checks=CHECKS)

    run()


def test_api_contract(app: FastAPI) -> None:
    """Every operation of /openapi.json (hypothesis drives each one; failures are collected so one
    run reports them all)."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    failures = []
    for operation in operations:
        try:
            _run_operation(app, operation)
        except FailureGroup as group:  # keep going: report every operation at the end
            found = "; ".join(f"{type(e).__name__}: {e}" for e in group.exceptions)
            failures.append(f"{operation.method.upper()} {operation.path}: {found}")
    assert not failures, "\n\n".join(failures)
